use crate::cluster::AppListing;
use crate::cluster::ClusterEvent;
use crate::cluster::DataEvent;
use crate::cluster::{AppChange, PlacementChange};
use crate::cluster::{AppRecord, EtcdEvent, EtcdState, app_statuses};
use crate::domain::app::AppSpec;
use crate::domain::{Container, Health, HostInfo};
use crate::ops::{Command, Outcome};
use crate::tui::action::Action;
use crate::tui::screen::{Dialog, Focus, Screen, View};
use crate::tui::update::hear;
use crate::tui::update::tests::support::{act, message, screen};
use crate::tui::update::{Effect, Msg, update};

fn managed(app: &str, i: u32, state: &str, health: Health) -> Container {
    Container {
        id: format!("{app}-{i}"),
        name: format!("{app}.{i}"),
        image: "wheelhouse/demo:1".into(),
        state: state.into(),
        status: String::new(),
        health,
        labels: crate::tui::update::tests::support::owned_labels(app),
        cpu_percent: None,
        mem_bytes: None,
        ports: Vec::new(),
        restarts: None,
        last_check: None,
    }
}

fn record(name: &str, instances: u32, revision: i64) -> (String, AppRecord) {
    let mut spec = AppSpec::new(name, "wheelhouse/demo:1");
    spec.instances = instances;
    (name.to_owned(), AppRecord { spec, revision })
}

/// Hosts a, b, c online; web wants 4 (revision 11), api wants 0 (revision 5).
fn cluster() -> Screen {
    let mut m = screen(&["a", "b", "c"]);
    m.cluster_mut().etcd = EtcdState::Connected { revision: 20 };
    m.cluster_mut().apps = [record("web", 4, 11), record("api", 0, 5)]
        .into_iter()
        .collect();
    for name in ["a", "b", "c"] {
        let info = HostInfo {
            ncpu: 2,
            mem_total: 1 << 30,
            ..Default::default()
        };
        let host = name.to_owned();
        hear(&mut m, ClusterEvent::Engine(DataEvent::Up { host, info }));
    }
    m
}

fn containers(m: &mut Screen, host: &str, containers: Vec<Container>) {
    let host = host.to_owned();
    hear(
        m,
        ClusterEvent::Engine(DataEvent::Containers { host, containers }),
    );
}

fn typed(m: &mut Screen, text: &str) {
    for c in text.chars() {
        act(m, Action::Input(c));
    }
}

/// Tab to the apps panel and select `app`.
fn select(m: &mut Screen, app: &str) {
    if m.ui.focus != Focus::Apps {
        act(m, Action::FocusNext);
    }
    assert_eq!(m.ui.focus, Focus::Apps);
    act(m, Action::First);
    while m.ui.selected_app.as_deref() != Some(app) {
        let before = m.ui.selected_app.clone();
        act(m, Action::MoveDown);
        assert_ne!(before, m.ui.selected_app, "{app} not in the list");
    }
}

#[test]
fn counts_come_from_labels_on_online_hosts() {
    let mut m = cluster();
    containers(
        &mut m,
        "a",
        vec![
            managed("web", 1, "running", Health::Healthy),
            managed("web", 2, "running", Health::Unhealthy),
            managed("web", 3, "exited", Health::None),
        ],
    );
    containers(
        &mut m,
        "c",
        vec![
            managed("web", 4, "running", Health::None),
            managed("old", 1, "restarting", Health::None),
        ],
    );
    let statuses = app_statuses(&m.cluster);
    let names: Vec<&str> = statuses.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["api", "old", "web"]);
    let web = &statuses[2];
    assert_eq!((web.desired, web.running, web.healthy), (Some(4), 3, 2));
    assert_eq!(web.hosts, ["a", "c"]);
    assert_eq!(web.revision, Some(11));
    let old = &statuses[1];
    assert_eq!((old.desired, old.running), (None, 0), "no spec: no desired");
    assert_eq!(
        old.hosts,
        ["c"],
        "a restarting container still holds its host"
    );

    // What an offline engine last said does not count.
    hear(
        &mut m,
        ClusterEvent::Engine(DataEvent::Down {
            host: "c".into(),
            error: "refused".into(),
        }),
    );
    let web = app_statuses(&m.cluster)
        .into_iter()
        .find(|s| s.name == "web");
    assert_eq!(
        web.map(|w| (w.running, w.hosts)),
        Some((2, vec!["a".into()]))
    );
}

#[test]
fn tab_switches_focus_and_arrows_move_in_the_focused_panel() {
    let mut m = cluster();
    act(&mut m, Action::FocusNext);
    assert_eq!(m.ui.focus, Focus::Apps);
    assert_eq!(
        m.ui.selected_app.as_deref(),
        Some("api"),
        "first app selected"
    );
    act(&mut m, Action::MoveDown);
    assert_eq!(m.ui.selected_app.as_deref(), Some("web"));
    act(&mut m, Action::MoveDown);
    assert_eq!(
        m.ui.selected_app.as_deref(),
        Some("web"),
        "stops at the end"
    );
    assert_eq!(m.ui.selected, 0, "the grid selection did not move");
    act(&mut m, Action::Open);
    assert!(
        matches!(&m.ui.view, View::Trace(nav) if nav.app == "web"),
        "enter opens the app's trace from the apps panel, not a host"
    );
    act(&mut m, Action::Back);
    assert_eq!(m.ui.view, View::Grid, "esc leaves the trace");
    act(&mut m, Action::Back);
    assert_eq!(m.ui.focus, Focus::Grid, "esc returns to the grid");
    act(&mut m, Action::MoveRight);
    assert_eq!(m.ui.selected, 1);
    act(&mut m, Action::FocusNext);
    act(&mut m, Action::FocusNext);
    assert_eq!(m.ui.focus, Focus::Grid);
}

#[test]
fn the_selection_follows_the_name_when_rows_come_and_go() {
    let mut m = cluster();
    select(&mut m, "web");
    m.cluster_mut().apps.extend([record("cache", 2, 7)]);
    assert_eq!(m.ui.selected_app.as_deref(), Some("web"));
    act(&mut m, Action::MoveUp);
    assert_eq!(m.ui.selected_app.as_deref(), Some("cache"));
}

#[test]
fn scale_prompt_then_confirm_executes_with_the_revision_seen() {
    let mut m = cluster();
    select(&mut m, "web");
    act(&mut m, Action::ScalePrompt);
    assert!(matches!(
        &m.ui.dialog,
        Some(Dialog::ScalePrompt { app, current: 4, seen: 11, .. }) if app == "web"
    ));
    typed(&mut m, "329");
    act(&mut m, Action::Erase);
    assert!(matches!(&m.ui.dialog, Some(Dialog::ScalePrompt { input, .. }) if input == "32"));
    // Keys that mean something elsewhere do nothing inside the prompt.
    assert!(act(&mut m, Action::Quit).is_empty());
    assert!(!m.quit);
    assert!(act(&mut m, Action::Confirm).is_empty(), "y/n comes first");
    match &m.ui.dialog {
        Some(Dialog::Confirm { question, .. }) => assert_eq!(question, "scale web 4 → 32?"),
        other => panic!("expected the y/n question, got {other:?}"),
    }
    let effects = act(&mut m, Action::Confirm);
    assert_eq!(
        effects,
        vec![Effect::Execute(Command::Scale {
            app: "web".into(),
            count: 32,
            seen: Some(11),
        })]
    );
    assert!(m.ui.dialog.is_none());
    assert_eq!(message(&m), "scaling web to 32 …");

    let done = Outcome::Scaled {
        app: "web".into(),
        from: 4,
        to: 32,
        revision: 21,
    };
    update(&mut m, Msg::Done(Ok(done)));
    assert_eq!(message(&m), "web scaled to 32 (was 4, revision 21)");
    let conflict =
        "web was changed by someone else (revision 12, you read 11): reload and try again";
    update(&mut m, Msg::Done(Err(conflict.to_owned())));
    assert_eq!(message(&m), conflict);
}

#[test]
fn cancel_closes_each_dialog_without_effects() {
    let mut m = cluster();
    select(&mut m, "web");
    act(&mut m, Action::ScalePrompt);
    typed(&mut m, "7");
    assert!(act(&mut m, Action::Cancel).is_empty());
    assert!(m.ui.dialog.is_none());
    assert_eq!(message(&m), "scale cancelled");
    act(&mut m, Action::ScaleUp);
    assert!(
        matches!(&m.ui.dialog, Some(Dialog::Confirm { question, .. }) if question == "scale web 4 → 5?")
    );
    assert!(act(&mut m, Action::Cancel).is_empty());
    assert!(m.ui.dialog.is_none());
    assert_eq!(message(&m), "cancelled: scale web 4 → 5");
}

#[test]
fn bad_counts_keep_the_prompt_open_with_the_reason() {
    let mut m = cluster();
    m.max_instances = 50;
    select(&mut m, "web");
    act(&mut m, Action::ScalePrompt);
    for (input, why) in [
        ("-3", "must not be negative"),
        ("lots", "not a whole number"),
        ("", "not a whole number"),
        ("51", "above the maximum of 50"),
        ("99999999999", "above the maximum of 50"),
    ] {
        while let Some(Dialog::ScalePrompt { input, .. }) = &m.ui.dialog
            && !input.is_empty()
        {
            act(&mut m, Action::Erase);
        }
        typed(&mut m, input);
        // Refused input goes to the audit trail as a refusal.
        let effects = act(&mut m, Action::Confirm);
        assert!(
            matches!(effects.as_slice(), [Effect::AuditRefusal(r)]
                if r.verb == "scale" && r.target == "web" && r.reason.contains(why)),
            "{input}: {effects:?}"
        );
        match &m.ui.dialog {
            Some(Dialog::ScalePrompt { error: Some(e), .. }) => {
                assert!(e.contains(why), "{input}: {e}")
            }
            other => panic!("{input}: prompt should stay open with an error, got {other:?}"),
        }
    }
    // Typing again clears the complaint; the same count as now is no change.
    act(&mut m, Action::Erase);
    assert!(matches!(
        &m.ui.dialog,
        Some(Dialog::ScalePrompt { error: None, .. })
    ));
    while let Some(Dialog::ScalePrompt { input, .. }) = &m.ui.dialog
        && !input.is_empty()
    {
        act(&mut m, Action::Erase);
    }
    typed(&mut m, "4");
    assert!(act(&mut m, Action::Confirm).is_empty());
    assert!(m.ui.dialog.is_none());
    assert_eq!(message(&m), "web has 4 instances already");
}

#[test]
fn plus_and_minus_stop_at_the_bounds() {
    let mut m = cluster();
    select(&mut m, "api");
    act(&mut m, Action::ScaleDown);
    assert!(m.ui.dialog.is_none());
    assert_eq!(message(&m), "api has 0 instances already");
    m.max_instances = 4;
    select(&mut m, "web");
    act(&mut m, Action::ScaleUp);
    assert!(m.ui.dialog.is_none());
    assert!(
        message(&m).contains("above the maximum of 4"),
        "{}",
        message(&m)
    );
    act(&mut m, Action::ScaleDown);
    assert!(matches!(
        &m.ui.dialog,
        Some(Dialog::Confirm {
            action: Action::Run(Command::Scale { count: 3, .. }),
            ..
        })
    ));
}

#[test]
fn read_only_refuses_every_mutation_in_one_place() {
    let mut m = cluster();
    m.principal.mode = crate::ops::Mode::ReadOnly;
    select(&mut m, "web");
    // Each refusal is shown, and handed to the loop for the audit trail.
    let audited = |effects: &[Effect]| {
        matches!(effects, [Effect::AuditRefusal(r)]
            if r.reason.starts_with("read-only:") && r.verb == "scale" && r.target == "web")
    };
    for a in [Action::ScalePrompt, Action::ScaleUp, Action::ScaleDown] {
        let effects = act(&mut m, a.clone());
        assert!(audited(&effects), "{a:?}: {effects:?}");
        assert!(m.ui.dialog.is_none(), "{a:?}");
        assert!(
            message(&m).starts_with("read-only:"),
            "{a:?}: {}",
            message(&m)
        );
    }
    let direct = Action::Run(Command::Scale {
        app: "web".into(),
        count: 9,
        seen: None,
    });
    let effects = act(&mut m, direct);
    assert!(
        matches!(effects.as_slice(), [Effect::AuditRefusal(r)] if r.verb == "scale" && r.target == "web"),
        "{effects:?}"
    );
    assert!(m.ui.dialog.is_none());
    assert!(message(&m).contains("nothing was changed"));
    // Looking around still works.
    act(&mut m, Action::MoveUp);
    assert_eq!(m.ui.selected_app.as_deref(), Some("api"));
}

#[test]
fn etcd_down_or_absent_refuses_before_asking() {
    let mut m = cluster();
    select(&mut m, "web");
    m.cluster_mut().etcd = EtcdState::Unreachable {
        error: "connection refused".into(),
        since: m.now,
    };
    act(&mut m, Action::ScaleUp);
    assert!(m.ui.dialog.is_none());
    assert!(
        message(&m).starts_with("etcd unreachable (connection refused)"),
        "{}",
        message(&m)
    );
    m.cluster_mut().etcd = EtcdState::Disabled;
    act(&mut m, Action::ScalePrompt);
    assert!(m.ui.dialog.is_none());
    assert!(message(&m).contains("not configured"));
}

#[test]
fn apps_without_a_spec_cannot_be_scaled() {
    let mut m = cluster();
    containers(
        &mut m,
        "b",
        vec![managed("ghost", 1, "running", Health::None)],
    );
    select(&mut m, "ghost");
    act(&mut m, Action::ScalePrompt);
    assert!(m.ui.dialog.is_none());
    assert!(message(&m).contains("no spec in etcd"), "{}", message(&m));
}

#[test]
fn a_command_run_on_the_screen_asks_first() {
    let mut m = cluster();
    let delete = Command::Delete { app: "web".into() };
    let run = Action::Run(delete.clone());
    assert!(act(&mut m, run.clone()).is_empty());
    assert!(matches!(&m.ui.dialog, Some(Dialog::Confirm { action, .. }) if *action == run));
    assert_eq!(act(&mut m, Action::Confirm), vec![Effect::Execute(delete)]);
}

#[test]
fn an_etcd_unreachable_message_goes_when_etcd_is_back() {
    let mut m = cluster();
    hear(
        &mut m,
        ClusterEvent::Etcd(EtcdEvent::Unreachable {
            error: "connection refused".into(),
        }),
    );
    select(&mut m, "web");
    act(&mut m, Action::ScaleUp);
    assert!(
        message(&m).starts_with("etcd unreachable"),
        "{}",
        message(&m)
    );
    hear(
        &mut m,
        ClusterEvent::Etcd(EtcdEvent::Connected { revision: 30 }),
    );
    assert_eq!(m.ui.message, None, "cleared without a key");
    // Other news stays.
    m.ui.message = Some("scaled web".into());
    hear(
        &mut m,
        ClusterEvent::Etcd(EtcdEvent::Connected { revision: 31 }),
    );
    assert_eq!(message(&m), "scaled web");
}

mod records;
