use crate::cluster::ClusterEvent;
use crate::cluster::DataEvent;
use crate::cluster::{AppRecord, EtcdState, changing_hosts};
use crate::cluster::{Rollout, RolloutEvent};
use crate::cluster::{RolloutChange, RolloutListing};
use crate::domain::app::{AppSpec, UpdatePolicy};
use crate::domain::{Container, Health};
use crate::ops::{Command, HistoryEntry};
use crate::plan::labels;
use crate::plan::rollout::{Phase, RolloutState};
use crate::tui::action::Action;
use crate::tui::screen::{Dialog, Focus, Screen, View};
use crate::tui::update::hear;
use crate::tui::update::tests::support::{act, message, screen};
use crate::tui::update::{Effect, Msg, update};

fn spec(image: &str) -> AppSpec {
    let mut spec = AppSpec::new("web", image);
    spec.instances = 4;
    spec
}

/// Hosts a and b online; web (demo:1, 4 instances) selected in the Apps panel.
fn cluster() -> Screen {
    let mut m = screen(&["a", "b"]);
    m.cluster_mut().etcd = EtcdState::Connected { revision: 20 };
    m.cluster_mut().apps = [(
        "web".to_owned(),
        AppRecord {
            spec: spec("wheelhouse/demo:1"),
            revision: 11,
        },
    )]
    .into_iter()
    .collect();
    for name in ["a", "b"] {
        let info = Default::default();
        hear(
            &mut m,
            ClusterEvent::Engine(DataEvent::Up {
                host: name.into(),
                info,
            }),
        );
    }
    act(&mut m, Action::FocusNext);
    assert_eq!(m.ui.focus, Focus::Apps);
    m
}

fn confirm_action(m: &Screen) -> Option<Action> {
    match &m.ui.dialog {
        Some(Dialog::Confirm { action, .. }) => Some(action.clone()),
        _ => None,
    }
}

fn question(m: &Screen) -> String {
    match &m.ui.dialog {
        Some(Dialog::Confirm { question, .. }) => question.clone(),
        _ => String::new(),
    }
}

/// web rolling from demo:1 to demo:2 in `phase`.
/// The y/n open on the screen rolls web back to `revision`, asking `asked`.
fn asks_rollback_of_web(m: &Screen, revision: i64, asked: &str) {
    assert_eq!(
        confirm_action(m),
        Some(Action::Run(Command::Rollback {
            app: "web".into(),
            revision: Some(revision)
        }))
    );
    assert_eq!(question(m), asked);
}

fn rolling(m: &mut Screen, phase: Phase) {
    let (from, to) = (spec("wheelhouse/demo:1"), spec("wheelhouse/demo:2"));
    let mut state = RolloutState::new(
        "web",
        labels::revision(&from),
        labels::revision(&to),
        4,
        UpdatePolicy::default(),
        &Default::default(),
        0,
    );
    state.phase = phase;
    let rollout = Rollout {
        state,
        from_spec: Some(from),
        to_spec: to,
    };
    hear(
        m,
        ClusterEvent::Rollouts(RolloutEvent::Change(RolloutChange::Put(Box::new(rollout)))),
    );
}

#[test]
fn u_prompts_for_an_image_offers_the_hosts_tags_and_confirms() {
    let mut m = cluster();
    assert_eq!(act(&mut m, Action::RolloutPrompt), [Effect::ReadImages]);
    let prompt = m.ui.image_prompt.clone().expect("prompt open");
    assert_eq!((prompt.app.as_str(), prompt.choices), ("web", None));
    let tags = [
        "busybox:latest",
        "wheelhouse/demo:2",
        "<none>:<none>",
        "wheelhouse/demo:1",
    ];
    update(
        &mut m,
        Msg::Images(Ok(tags.iter().map(|t| (*t).to_owned()).collect())),
    );
    let choices = m.ui.image_prompt.as_ref().and_then(|p| p.choices.clone());
    // The current image's repository first; untagged images left out.
    assert_eq!(
        choices,
        Some(Ok(vec![
            "wheelhouse/demo:1".to_owned(),
            "wheelhouse/demo:2".to_owned(),
            "busybox:latest".to_owned()
        ]))
    );
    // Tab, down and up cycle through them, wrapping.
    act(&mut m, Action::FocusNext);
    act(&mut m, Action::MoveDown);
    let input = |m: &Screen| m.ui.image_prompt.as_ref().map(|p| p.input.clone());
    assert_eq!(input(&m).as_deref(), Some("wheelhouse/demo:2"));
    act(&mut m, Action::MoveUp);
    act(&mut m, Action::MoveUp);
    assert_eq!(input(&m).as_deref(), Some("busybox:latest"));
    act(&mut m, Action::MoveDown);
    act(&mut m, Action::MoveDown);
    // Enter: y/n, then the action runs.
    assert!(act(&mut m, Action::Confirm).is_empty());
    assert!(m.ui.image_prompt.is_none());
    let rollout = Command::Rollout {
        app: "web".into(),
        image: "wheelhouse/demo:2".into(),
    };
    assert_eq!(confirm_action(&m), Some(Action::Run(rollout.clone())));
    assert_eq!(
        question(&m),
        "roll web out: wheelhouse/demo:1 → wheelhouse/demo:2?"
    );
    assert_eq!(act(&mut m, Action::Confirm), vec![Effect::Execute(rollout)]);
    assert_eq!(message(&m), "rolling web out to wheelhouse/demo:2 …");
}

#[test]
fn the_image_prompt_refuses_empty_unchanged_and_unknown_images() {
    let mut m = cluster();
    act(&mut m, Action::RolloutPrompt);
    let error = |m: &Screen| m.ui.image_prompt.as_ref().and_then(|p| p.error.clone());
    act(&mut m, Action::Confirm);
    assert!(error(&m).is_some_and(|e| e.starts_with("type an image")));
    for c in "wheelhouse/demo:1".chars() {
        act(&mut m, Action::Input(c));
    }
    act(&mut m, Action::Confirm);
    assert_eq!(
        error(&m).as_deref(),
        Some("web runs wheelhouse/demo:1 already")
    );
    act(&mut m, Action::Erase);
    act(&mut m, Action::Input('9'));
    assert_eq!(error(&m), None, "typing clears the error");
    // Before the hosts answer the typed image goes through (ops checks it again) ...
    let unchecked = m.clone();
    // ... once they have, one they do not hold is refused in the prompt.
    update(&mut m, Msg::Images(Ok(vec!["wheelhouse/demo:1".into()])));
    act(&mut m, Action::Confirm);
    assert!(
        error(&m).is_some_and(|e| e.starts_with("image wheelhouse/demo:9 is on no host")),
        "{:?}",
        error(&m)
    );
    assert!(m.ui.dialog.is_none());
    let mut m = unchecked;
    act(&mut m, Action::Confirm);
    assert!(confirm_action(&m).is_some());
    // Esc closes the prompt and says so.
    let mut m = cluster();
    act(&mut m, Action::RolloutPrompt);
    act(&mut m, Action::Cancel);
    assert!(m.ui.image_prompt.is_none() && m.ui.dialog.is_none());
    assert_eq!(message(&m), "rollout of web cancelled");
}

#[test]
fn a_running_rollout_refuses_another_until_paused() {
    let mut m = cluster();
    rolling(&mut m, Phase::Progressing);
    act(&mut m, Action::RolloutPrompt);
    assert!(m.ui.image_prompt.is_none());
    assert!(
        message(&m).contains("wait for it to finish, roll it back or pause it first"),
        "{}",
        message(&m)
    );
    act(&mut m, Action::RollingRestart);
    assert!(m.ui.dialog.is_none() && message(&m).contains("pause it first"));
    rolling(
        &mut m,
        Phase::Paused {
            reason: "instance failed".into(),
        },
    );
    act(&mut m, Action::RolloutPrompt);
    assert!(
        m.ui.image_prompt.is_some(),
        "a paused rollout may be replaced"
    );
}

#[test]
fn p_pauses_and_resumes_and_shift_p_promotes_only_a_canary() {
    let mut m = cluster();
    act(&mut m, Action::PauseResume);
    assert_eq!(message(&m), "web has no rollout running");
    act(&mut m, Action::Promote);
    assert_eq!(message(&m), "web has no rollout running");
    rolling(&mut m, Phase::Progressing);
    act(&mut m, Action::PauseResume);
    let run = |command: fn(String) -> Command| Action::Run(command("web".into()));
    assert_eq!(confirm_action(&m), Some(run(|app| Command::Pause { app })));
    assert_eq!(question(&m), "pause web's rollout?");
    act(&mut m, Action::Cancel);
    act(&mut m, Action::Promote);
    assert_eq!(
        message(&m),
        "web's rollout is not waiting for a promote (it is progressing)"
    );
    rolling(&mut m, Phase::Paused { reason: "x".into() });
    act(&mut m, Action::PauseResume);
    assert_eq!(confirm_action(&m), Some(run(|app| Command::Resume { app })));
    act(&mut m, Action::Cancel);
    rolling(&mut m, Phase::Canary);
    act(&mut m, Action::Promote);
    assert_eq!(
        confirm_action(&m),
        Some(run(|app| Command::Promote { app }))
    );
    // A finished rollout is no rollout.
    act(&mut m, Action::Cancel);
    rolling(&mut m, Phase::Succeeded);
    act(&mut m, Action::PauseResume);
    assert_eq!(message(&m), "web has no rollout running");
}

#[test]
fn b_rolls_back_and_r_restarts_through_y_n() {
    let mut m = cluster();
    // The y/n says what the previous revision holds: the history is read first.
    assert_eq!(
        act(&mut m, Action::RollbackPrevious),
        [Effect::ReadHistory("web".into())]
    );
    assert!(m.ui.dialog.is_none(), "no y/n before the history is known");
    assert!(m.ui.history.is_none(), "the list does not open");
    history(
        &mut m,
        vec![
            entry(30, "wheelhouse/demo:2", true),
            entry(20, "wheelhouse/demo:1", false),
        ],
    );
    asks_rollback_of_web(
        &m,
        20,
        "roll web back to revision 20: wheelhouse/demo:1, 4 instances?",
    );
    act(&mut m, Action::Cancel);
    // Nothing earlier: said, not asked.
    act(&mut m, Action::RollbackPrevious);
    history(&mut m, vec![entry(30, "wheelhouse/demo:2", true)]);
    assert!(m.ui.dialog.is_none());
    assert_eq!(message(&m), "web has no earlier revision to roll back to");
    rolling(&mut m, Phase::Progressing);
    act(&mut m, Action::RollbackPrevious);
    assert_eq!(
        question(&m),
        "turn web's rollout around, back to wheelhouse/demo:1, 4 instances?"
    );
    act(&mut m, Action::Cancel);
    rolling(&mut m, Phase::Succeeded);
    act(&mut m, Action::RollingRestart);
    assert_eq!(
        confirm_action(&m),
        Some(Action::Run(Command::Restart { app: "web".into() }))
    );
    assert_eq!(
        question(&m),
        "restart every web instance (rolling, same spec)?"
    );
}

fn entry(revision: i64, image: &str, same: bool) -> HistoryEntry {
    HistoryEntry {
        revision,
        image: image.into(),
        instances: 4,
        when: None,
        same_as_current: same,
    }
}

/// web's history arrives.
fn history(m: &mut Screen, entries: Vec<HistoryEntry>) {
    let result = Ok(entries);
    update(
        m,
        Msg::History {
            app: "web".into(),
            result,
        },
    );
}

#[test]
fn h_lists_the_history_and_enter_rolls_back_to_the_pick() {
    let mut m = cluster();
    assert_eq!(
        act(&mut m, Action::ShowHistory),
        [Effect::ReadHistory("web".into())]
    );
    let list = m.ui.history.clone().expect("history open");
    assert_eq!((list.app.as_str(), list.entries), ("web", None));
    // An answer for another app is not this list's.
    let other = Msg::History {
        app: "api".into(),
        result: Ok(vec![]),
    };
    update(&mut m, other);
    assert!(m.ui.history.as_ref().is_some_and(|l| l.entries.is_none()));
    let entries = vec![
        entry(30, "wheelhouse/demo:1", true),
        entry(20, "wheelhouse/demo:2", false),
    ];
    history(&mut m, entries);
    // The running revision is not a target.
    act(&mut m, Action::Open);
    assert!(m.ui.dialog.is_none());
    assert!(
        message(&m).contains("nothing to roll back"),
        "{}",
        message(&m)
    );
    // App keys do nothing while the list is open; moving picks.
    act(&mut m, Action::RolloutPrompt);
    assert!(m.ui.image_prompt.is_none());
    act(&mut m, Action::MoveDown);
    act(&mut m, Action::Open);
    assert!(m.ui.history.is_none());
    asks_rollback_of_web(
        &m,
        20,
        "roll web back to revision 20: wheelhouse/demo:2, 4 instances?",
    );
    // Esc closes the list.
    let mut m = cluster();
    act(&mut m, Action::ShowHistory);
    act(&mut m, Action::Back);
    assert!(m.ui.history.is_none());
    assert_eq!(m.ui.focus, Focus::Apps);
}

fn container(name: &str, revision: i64, health: Health) -> Container {
    Container {
        id: format!("id-{name}"),
        name: name.into(),
        image: "wheelhouse/demo:1".into(),
        state: "running".into(),
        status: String::new(),
        health,
        labels: [
            (labels::APP.to_owned(), "web".to_owned()),
            (labels::REVISION.to_owned(), revision.to_string()),
            (labels::INSTANCE.to_owned(), "1".to_owned()),
        ]
        .into(),
        cpu_percent: None,
        mem_bytes: None,
        ports: Vec::new(),
        restarts: None,
        last_check: None,
    }
}

#[test]
fn shift_r_restarts_the_selected_container_in_the_host_view() {
    let mut m = cluster();
    let containers = vec![
        container("web.1", 1, Health::None),
        container("web.2", 1, Health::None),
    ];
    hear(
        &mut m,
        ClusterEvent::Engine(DataEvent::Containers {
            host: "b".into(),
            containers,
        }),
    );
    m.ui.view = View::Host("b".into());
    act(&mut m, Action::MoveDown);
    act(&mut m, Action::RestartOne);
    assert_eq!(
        confirm_action(&m),
        Some(Action::Run(Command::RestartContainer {
            host: "b".into(),
            container: "web.2".into()
        }))
    );
    assert_eq!(question(&m), "restart container web.2 on b?");
    m.ui.dialog = None;
    m.ui.view = View::Host("a".into());
    act(&mut m, Action::RestartOne);
    assert_eq!(message(&m), "a has no container selected");
}

#[test]
fn hosts_a_rollout_is_changing_are_the_ones_not_yet_on_target_and_healthy() {
    let mut m = cluster();
    let to = labels::revision(&spec("wheelhouse/demo:2"));
    let from = labels::revision(&spec("wheelhouse/demo:1"));
    let on = |m: &mut Screen, host: &str, c: Container| {
        let containers = vec![c];
        hear(
            m,
            ClusterEvent::Engine(DataEvent::Containers {
                host: host.into(),
                containers,
            }),
        );
    };
    on(&mut m, "a", container("web.1", to, Health::None));
    on(&mut m, "b", container("web.2", from, Health::None));
    assert!(
        changing_hosts(&m.cluster).is_empty(),
        "no rollout, nothing changing"
    );
    rolling(&mut m, Phase::Progressing);
    assert_eq!(changing_hosts(&m.cluster), ["b"]);
    on(&mut m, "a", container("web.1", to, Health::Starting));
    assert_eq!(changing_hosts(&m.cluster), ["a", "b"]);
    rolling(&mut m, Phase::Succeeded);
    assert!(changing_hosts(&m.cluster).is_empty());
}

#[test]
fn a_refused_p_is_audited_as_what_it_would_have_done() {
    let mut m = cluster();
    m.principal.mode = crate::ops::Mode::ReadOnly;
    for (phase, verb) in [
        (Phase::Progressing, "pause"),
        (Phase::Paused { reason: "x".into() }, "resume"),
    ] {
        rolling(&mut m, phase);
        let effects = act(&mut m, Action::PauseResume);
        assert!(
            matches!(effects.as_slice(), [Effect::AuditRefusal(r)] if r.verb == verb && r.target == "web"),
            "{verb}: {effects:?}"
        );
    }
}

#[test]
fn read_only_refuses_every_rollout_action_and_lets_history_be_looked_at() {
    let mut m = cluster();
    m.principal.mode = crate::ops::Mode::ReadOnly;
    rolling(&mut m, Phase::Canary);
    m.ui.view = View::Grid;
    let data = [
        Action::Run(Command::Rollout {
            app: "web".into(),
            image: "wheelhouse/demo:2".into(),
        }),
        Action::Run(Command::Rollback {
            app: "web".into(),
            revision: None,
        }),
        Action::Run(Command::Restart { app: "web".into() }),
        Action::Run(Command::RestartContainer {
            host: "a".into(),
            container: "web.1".into(),
        }),
        Action::Run(Command::Promote { app: "web".into() }),
    ];
    let keys = [
        Action::RolloutPrompt,
        Action::PauseResume,
        Action::RollbackPrevious,
        Action::RollingRestart,
        Action::Promote,
        Action::RestartOne,
    ];
    for a in keys.into_iter().chain(data) {
        // The only effect is the refusal's audit record.
        let effects = act(&mut m, a.clone());
        assert!(
            effects
                .iter()
                .all(|e| matches!(e, Effect::AuditRefusal { .. })),
            "{a:?}: {effects:?}"
        );
        assert!(
            message(&m).starts_with("read-only:"),
            "{a:?}: {}",
            message(&m)
        );
        assert!(
            m.ui.dialog.is_none() && m.ui.image_prompt.is_none(),
            "{a:?}"
        );
    }
    // Looking at the history is fine; rolling back from it is not.
    act(&mut m, Action::ShowHistory);
    assert!(m.ui.history.is_some());
    let entries = vec![entry(20, "wheelhouse/demo:2", false)];
    history(&mut m, entries);
    act(&mut m, Action::Open);
    assert!(m.ui.dialog.is_none());
    assert!(
        message(&m).starts_with("read-only: rollback is refused"),
        "{}",
        message(&m)
    );
}

mod lifecycle;
