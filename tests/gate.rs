//! The one gate. Every mutating command, listed from its one declaration (`Kind::ALL`), is
//! refused for a read-only principal from every way in — its keys, a macro replaying them,
//! the `:` line, `ctl --readonly` and `ops::execute` itself — and nothing reaches etcd but
//! the refusals' audit records.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::etcd::{cfg, client, lab};
use common::lab::{ctl_with, spec_file};
use common::models::five_hosts;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use etcd_client::GetOptions;
use std::collections::BTreeMap;
use wheelhouse::cluster::AppRecord;
use wheelhouse::domain::app::AppSpec;
use wheelhouse::ops::{self, Command, Kind, Mode, Ops, OpsError, Principal};
use wheelhouse::store::{self, AuditOutcome, AuditReason};
use wheelhouse::tui::action::Action;
use wheelhouse::tui::keymap::{KeySeq, Keymap, Section};
use wheelhouse::tui::macros::Macros;
use wheelhouse::tui::screen::{Dialog, Focus, Screen};
use wheelhouse::tui::update::{Effect, Msg, update};

const PREFIX: &str = "/wheelhouse";

/// One command of `kind` on the app `web`, and how it is typed on the `:` line and as a
/// `ctl` verb, where it can be. Exhaustive: a new command does not compile here until it
/// says how it is reached.
fn ways(kind: Kind, spec_file: &str) -> (Command, Option<&'static str>, Option<Vec<String>>) {
    let web = || "web".to_owned();
    let words = |line: &str| Some(line.split(' ').map(str::to_owned).collect());
    match kind {
        Kind::Scale => (
            Command::Scale {
                app: web(),
                count: 3,
                seen: None,
            },
            Some("scale web 3"),
            words("scale web 3"),
        ),
        Kind::Apply => (
            Command::Apply {
                spec: Box::new(AppSpec::new("web", "wheelhouse/demo:2")),
            },
            None,
            words(&format!("apply -f {spec_file}")),
        ),
        Kind::Delete => (Command::Delete { app: web() }, None, words("delete web")),
        Kind::Rollout => (
            Command::Rollout {
                app: web(),
                image: "wheelhouse/demo:2".into(),
            },
            Some("rollout web wheelhouse/demo:2"),
            words("rollout web wheelhouse/demo:2"),
        ),
        Kind::Rollback => (
            Command::Rollback {
                app: web(),
                revision: None,
            },
            Some("rollback web"),
            words("rollback web"),
        ),
        Kind::Restart => (
            Command::Restart { app: web() },
            Some("restart web"),
            words("restart web"),
        ),
        // No verb nor line: only the host view's key.
        Kind::RestartContainer => (
            Command::RestartContainer {
                host: "alpha".into(),
                container: "web.1".into(),
            },
            None,
            None,
        ),
        Kind::Pause => (
            Command::Pause { app: web() },
            Some("pause web"),
            words("pause web"),
        ),
        Kind::Resume => (
            Command::Resume { app: web() },
            Some("resume web"),
            words("resume web"),
        ),
        Kind::Promote => (
            Command::Promote { app: web() },
            Some("promote web"),
            words("promote web"),
        ),
        Kind::ResetRollout => (
            Command::ResetRollout { app: web() },
            None,
            words("rollout-status web --reset"),
        ),
    }
}

/// Every key in etcd but the audit trail's, with the revision it was last written at.
async fn written(client: &mut etcd_client::Client) -> BTreeMap<String, i64> {
    let all = client
        .get("", Some(GetOptions::new().with_all_keys()))
        .await
        .expect("read etcd");
    let audit = store::audit_dir(PREFIX);
    (all.kvs().iter())
        .map(|kv| {
            (
                String::from_utf8_lossy(kv.key()).into_owned(),
                kv.mod_revision(),
            )
        })
        .filter(|(key, _)| !key.starts_with(&audit))
        .collect()
}

/// A screen over five hosts and the app `web`, in a mode that changes nothing.
fn screen(mode: Mode) -> Screen {
    let mut m = five_hosts();
    m.ui.geometry = wheelhouse::tui::geometry(160, 48);
    let spec = AppSpec::new("web", "wheelhouse/demo:1");
    m.cluster_mut()
        .apps
        .insert("web".into(), AppRecord { spec, revision: 5 });
    m.principal = Principal::local(mode);
    m
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn enter() -> KeyEvent {
    KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)
}

/// Presses `keys` as the loop does (macros, then the keymap, then `update`): what
/// `update` asked of the loop.
fn keys_in(m: &mut Screen, macros: &mut Macros, keys: &[KeyEvent]) -> Vec<Effect> {
    let keymap = Keymap::default_keymap();
    let mut effects = Vec::new();
    for k in keys {
        macros.press(m, &keymap, *k, &mut |m, msg| effects.extend(update(m, msg)));
    }
    effects
}

/// `keys` pressed on a fresh screen that `place` puts where they belong; with `replay`,
/// recorded into register a (refused as typed, too), then replayed from there.
fn press(
    mode: Mode,
    place: impl Fn(&mut Screen),
    keys: &[KeyEvent],
    replay: bool,
) -> (Screen, Vec<Effect>) {
    let (mut m, mut macros) = (screen(mode), Macros::default());
    place(&mut m);
    if !replay {
        let effects = keys_in(&mut m, &mut macros, keys);
        return (m, effects);
    }
    let mut recording = vec![key('Q'), key('a')];
    recording.extend(keys);
    recording.push(key('Q'));
    keys_in(&mut m, &mut macros, &recording);
    place(&mut m);
    m.ui.message = None;
    let effects = keys_in(&mut m, &mut macros, &[key('@'), key('a')]);
    (m, effects)
}

/// What a screen did with a change it must refuse: told why, asked nothing, ran nothing,
/// and handed the refusal to the audit under the command's name.
fn assert_refused(kind: Kind, how: &str, (m, effects): (Screen, Vec<Effect>)) {
    let said = m.ui.message.clone().unwrap_or_default();
    assert!(said.contains("read-only: "), "{kind:?} by {how}: {said:?}");
    assert!(
        !matches!(m.ui.dialog, Some(Dialog::Confirm { .. })),
        "{kind:?} by {how}: asked y/n"
    );
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Execute(_))),
        "{kind:?} by {how}: executed {effects:?}"
    );
    let audited = effects.iter().any(|e| {
        matches!(e, Effect::AuditRefusal(r) if r.verb == kind.name() && r.cause == AuditReason::ReadOnly)
    });
    assert!(
        audited,
        "{kind:?} by {how}: no refusal to audit in {effects:?}"
    );
}

/// The screen's ways to `kind`: the keys the Action declaration says lead to it (pressed
/// where the default keymap binds them), the `:` line, a macro of each, and the
/// `Action::Run` a dialog ends in.
fn screen_refuses(mode: Mode, kind: Kind, command: &Command, line: Option<&str>) {
    let keymap = Keymap::default_keymap();
    let mut ways = 0;
    for action in Action::ALL.iter().filter(|a| a.leads_to() == Some(kind)) {
        let (section, keys) = [Section::Apps, Section::Host]
            .into_iter()
            .find_map(|s| {
                let hints = keymap.section_hints(s);
                let (keys, _) = hints.into_iter().find(|(_, a)| a == action)?;
                Some((s, keys))
            })
            .unwrap_or_else(|| panic!("{action:?} has no key in apps nor host"));
        let first = keys.split('/').next().unwrap_or_default();
        let seq = KeySeq::parse(first).expect("a key the keymap wrote");
        let events: Vec<KeyEvent> = seq.keys().iter().map(|k| k.event()).collect();
        let place = |m: &mut Screen| match section {
            Section::Host => m.ui.show_host("alpha"),
            _ => m.ui.focus = Focus::Apps,
        };
        let how = format!("key {first} ({})", action.name());
        assert_refused(kind, &how, press(mode, place, &events, false));
        assert_refused(
            kind,
            &format!("macro of {how}"),
            press(mode, place, &events, true),
        );
        ways += 1;
    }
    if let Some(line) = line {
        let mut keys = vec![key(':')];
        keys.extend(line.chars().map(key));
        keys.push(enter());
        assert_refused(kind, &format!(":{line}"), press(mode, |_| {}, &keys, false));
        assert_refused(
            kind,
            &format!("macro of :{line}"),
            press(mode, |_| {}, &keys, true),
        );
        ways += 1;
    }
    let mut m = screen(mode);
    let effects = update(&mut m, Msg::Action(Action::Run(command.clone())));
    assert_refused(kind, "a dialog's Run", (m, effects));
    println!("{kind:?} as {mode:?}: {ways} screen way(s) besides Run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutating_command_is_refused_read_only_from_every_way_in_and_writes_nothing() {
    let lab = lab();
    let ops = Ops {
        etcd: Some(wheelhouse::store::EtcdLink::new(cfg(&lab.etcd_endpoint()))),
        prefix: PREFIX.to_owned(),
        max_instances: 100,
        hosts: Vec::new(),
    };
    let mut client = client(&lab.etcd_endpoint()).await;
    let seed = Command::Apply {
        spec: Box::new(AppSpec::new("web", "wheelhouse/demo:1")),
    };
    let me = Principal::local(Mode::ReadWrite);
    ops::execute(&ops, &me, seed).await.expect("web applied");
    let before = written(&mut client).await;
    assert!(
        before.keys().any(|k| k.ends_with("/apps/web")),
        "{before:?}"
    );

    let file = spec_file(
        lab.dir(),
        "web.toml",
        "name = \"web\"\nimage = \"wheelhouse/demo:2\"\n",
    );
    let file = file.to_str().expect("utf-8 path");
    let config = lab.config_path();
    let mutating: Vec<Kind> = Kind::ALL
        .iter()
        .copied()
        .filter(|k| k.is_mutating())
        .collect();
    assert_eq!(
        mutating.len(),
        Kind::ALL.len(),
        "every command today changes the cluster"
    );
    for &kind in &mutating {
        let (command, line, verb) = ways(kind, file);
        assert_eq!(command.kind(), kind);
        for mode in [Mode::ReadOnly, Mode::Wallboard] {
            screen_refuses(mode, kind, &command, line);
            let result = ops::execute(&ops, &Principal::local(mode), command.clone()).await;
            assert!(
                matches!(&result, Err(OpsError::Refused(why)) if why.starts_with("read-only: ")),
                "{kind:?} as {mode:?}: {result:?}"
            );
        }
        if let Some(args) = verb {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = tokio::task::block_in_place(|| ctl_with(&config, &["--readonly"], &args));
            run.fails(2, "read-only: ");
        }
    }

    assert_eq!(
        written(&mut client).await,
        before,
        "nothing but audit records was written"
    );
    let trail = store::list_audit(&mut client, PREFIX, 500)
        .await
        .expect("audit");
    for &kind in &mutating {
        let refusals = (trail.iter())
            .filter(|e| e.command == kind.name() && e.outcome == Some(AuditOutcome::Refused))
            .filter(|e| e.reason == Some(AuditReason::ReadOnly))
            .count();
        let ctl = usize::from(ways(kind, file).2.is_some());
        assert_eq!(refusals, 2 + ctl, "{kind:?}: {trail:#?}");
    }
}
