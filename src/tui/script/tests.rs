use super::*;
use crate::model::app::AppSpec;
use crate::model::{AppRecord, Health, Host, HostSource};
use crate::tui::keymap::Key;
use crate::update::tests::support::web_container;

fn parse_ok(source: &str) -> Vec<Step> {
    parse(Path::new("s.keys"), source)
        .unwrap_or_else(|e| panic!("{e}"))
        .steps
}

fn parse_err(source: &str) -> String {
    match parse(Path::new("s.keys"), source) {
        Ok(s) => panic!("parsed: {s:?}"),
        Err(e) => e.to_string(),
    }
}

fn key(text: &str) -> Step {
    Step::Key(key_event(text).unwrap_or_else(|e| panic!("{text}: {e}")))
}

#[test]
fn parses_keys_text_waits_comments_and_quit() {
    let steps = parse_ok(
        "# open the second host\n\n  l\nenter\nctrl-c\n+\ntype web 5\nwait 2s\nwait 500ms\n\
         wait app web healthy 6\nwait host lab-1 online\nwait host lab-2 offline\nquit\n",
    );
    assert_eq!(
        steps,
        [
            key("l"),
            key("enter"),
            key("ctrl-c"),
            key("+"),
            Step::Type("web 5".into()),
            Step::Wait(Wait::For(Duration::from_secs(2))),
            Step::Wait(Wait::For(Duration::from_millis(500))),
            Step::Wait(Wait::AppHealthy {
                app: "web".into(),
                count: 6
            }),
            Step::Wait(Wait::Host {
                host: "lab-1".into(),
                online: true
            }),
            Step::Wait(Wait::Host {
                host: "lab-2".into(),
                online: false
            }),
            Step::Quit,
        ]
    );
}

#[test]
fn key_names_mean_what_the_keymap_means() {
    for name in [
        "j",
        "G",
        "?",
        "+",
        "-",
        "enter",
        "esc",
        "tab",
        "backtab",
        "space",
        "up",
        "pagedown",
        "f5",
        "ctrl-c",
        "alt-x",
        "ctrl-alt-d",
        "shift-up",
        "CTRL-C",
        "Enter",
    ] {
        let event = key_event(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            Key::from_event(event),
            Key::parse(name).unwrap_or_else(|e| panic!("{name}: {e}")),
            "{name}"
        );
    }
}

#[test]
fn errors_name_line_and_column() {
    let pgup = Key::parse("pgup").err().unwrap_or_default();
    assert!(!pgup.is_empty());
    assert_eq!(parse_err("j\n  pgup\n"), format!("s.keys:2:3: {pgup}"));
    assert_eq!(
        parse_err("j\nwait 2 parsecs\n"),
        format!("s.keys:2:6: unknown wait: expected {WAIT_FORMS}")
    );
    assert_eq!(
        parse_err("wait soon\n"),
        "s.keys:1:6: \"soon\" is not a duration like 2s or 500ms"
    );
    assert_eq!(
        parse_err("wait app web healthy many\n"),
        "s.keys:1:22: \"many\" is not an instance count"
    );
    assert_eq!(
        parse_err("\n\nwait host lab-1 asleep"),
        "s.keys:3:17: \"asleep\": expected online or offline"
    );
    assert_eq!(
        parse_err("j k\n"),
        "s.keys:1:3: one key per line (or `type TEXT`)"
    );
    assert!(parse_err("type\n").starts_with("s.keys:1:1: `type` needs"));
}

fn model() -> Model {
    let spec = crate::update::tests::support::host_spec;
    Model::with_hosts(
        Instant::now(),
        vec![
            Host::new(spec("lab-1"), HostSource::Config),
            Host::new(spec("lab-2"), HostSource::Config),
        ],
    )
}

#[test]
fn waits_are_answered_from_the_model() {
    let mut m = model();
    let t0 = Instant::now();
    let healthy2 = Wait::AppHealthy {
        app: "web".into(),
        count: 2,
    };
    let online = Wait::Host {
        host: "lab-1".into(),
        online: true,
    };
    let offline = Wait::Host {
        host: "lab-1".into(),
        online: false,
    };
    // Not yet heard from: neither online nor offline.
    assert!(!satisfied(&online, &m, t0, t0));
    assert!(!satisfied(&offline, &m, t0, t0));
    assert!(!satisfied(&healthy2, &m, t0, t0));
    if let Some(h) = m.host_mut("lab-1") {
        h.state = HostState::Online;
        h.containers = vec![
            web_container("x", Health::Healthy),
            web_container("x", Health::Unhealthy),
        ];
    }
    assert!(satisfied(&online, &m, t0, t0));
    assert!(!satisfied(&healthy2, &m, t0, t0), "one of two is unhealthy");
    if let Some(h) = m.host_mut("lab-1") {
        h.containers[1].health = Health::None;
    }
    m.apps.insert(
        "web".into(),
        AppRecord {
            spec: AppSpec::new("web", "wheelhouse/demo:1"),
            revision: 1,
        },
    );
    assert!(satisfied(&healthy2, &m, t0, t0));
    if let Some(h) = m.host_mut("lab-1") {
        h.state = HostState::Offline {
            error: "gone".into(),
            since: t0,
        };
    }
    assert!(satisfied(&offline, &m, t0, t0));
    assert!(
        !satisfied(&healthy2, &m, t0, t0),
        "offline hosts count nothing"
    );
    let two = Wait::For(Duration::from_secs(2));
    assert!(!satisfied(&two, &m, t0, t0 + Duration::from_millis(1999)));
    assert!(satisfied(&two, &m, t0, t0 + Duration::from_secs(2)));
    let unknown = Wait::Host {
        host: "nope".into(),
        online: true,
    };
    assert!(!satisfied(&unknown, &m, t0, t0));
}

#[test]
fn the_player_types_waits_and_ends() {
    let script = Script {
        steps: parse_ok("type ab\nwait 1s\nwait host lab-2 online\nenter\nquit\nj\n"),
    };
    let mut m = model();
    let mut p = Player::new(script);
    let t0 = Instant::now();
    let ch = |c| Next::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    assert_eq!(p.next(&m, t0), ch('a'));
    assert_eq!(p.next(&m, t0), ch('b'));
    assert_eq!(p.next(&m, t0), Next::Wait);
    // The wait counts from when it was first asked about.
    assert_eq!(p.next(&m, t0 + Duration::from_millis(900)), Next::Wait);
    assert_eq!(
        p.next(&m, t0 + Duration::from_secs(1)),
        Next::Wait,
        "lab-2 not online"
    );
    if let Some(h) = m.host_mut("lab-2") {
        h.state = HostState::Online;
    }
    let t1 = t0 + Duration::from_secs(2);
    assert_eq!(
        p.next(&m, t1),
        Next::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
    );
    assert_eq!(p.next(&m, t1), Next::Quit);
    assert_eq!(p.next(&m, t1), ch('j'));
    assert_eq!(p.next(&m, t1), Next::Done);
    assert_eq!(p.next(&m, t1), Next::Done);
}
