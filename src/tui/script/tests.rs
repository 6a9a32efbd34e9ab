use super::*;
use crate::cluster::AppRecord;
use crate::cluster::{Host, HostSource};
use crate::domain::Health;
use crate::domain::app::AppSpec;
use crate::tui::keymap::Key;
use crate::tui::update::tests::support::web_container;

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

fn wait(until: Wait, within: Duration, line: usize) -> Step {
    Step::Wait {
        until,
        within,
        line,
    }
}

fn key(text: &str) -> Step {
    Step::Key(key_event(text).unwrap_or_else(|e| panic!("{text}: {e}")))
}

#[test]
fn parses_keys_text_waits_comments_and_quit() {
    let steps = parse_ok(
        "# open the second host\n\n  l\nenter\nctrl-c\n+\ntype web 5\nwait 2s\nwait 500ms\n\
         wait app web healthy 6\nwait host lab-1 online\nwait host lab-2 offline within 90s\nquit\n",
    );
    assert_eq!(
        steps,
        [
            key("l"),
            key("enter"),
            key("ctrl-c"),
            key("+"),
            Step::Type("web 5".into()),
            Step::Pause(Duration::from_secs(2)),
            Step::Pause(Duration::from_millis(500)),
            wait(
                Wait::AppHealthy {
                    app: "web".into(),
                    count: 6
                },
                DEFAULT_WITHIN,
                10
            ),
            wait(
                Wait::Host {
                    host: "lab-1".into(),
                    online: true
                },
                DEFAULT_WITHIN,
                11
            ),
            wait(
                Wait::Host {
                    host: "lab-2".into(),
                    online: false
                },
                Duration::from_secs(90),
                12
            ),
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
        "s.keys:1:6: wait \"soon\" is not a duration like \"2s\", \"500ms\" or \"5m\""
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
    assert_eq!(
        parse_err("wait host lab-1 online within ages\n"),
        "s.keys:1:31: within \"ages\" is not a duration like \"2s\", \"500ms\" or \"5m\""
    );
    assert_eq!(
        parse_err("wait 2s within 5s\n"),
        "s.keys:1:9: `within` bounds a wait for an app or a host, not `wait DURATION`"
    );
}

/// Issue 9 item 1: these panicked ("cannot convert float seconds to Duration").
#[test]
fn huge_waits_are_errors_at_their_word() {
    assert_eq!(
        parse_err("j\nwait app web healthy 2 within 99999999999999999999h\n"),
        "s.keys:2:31: within \"99999999999999999999h\" must be between 0s and 24h"
    );
    assert_eq!(
        parse_err("wait 99999999999999999999999h\n"),
        "s.keys:1:6: wait \"99999999999999999999999h\" must be between 0s and 24h"
    );
    assert_eq!(
        parse_ok("wait 24h\n"),
        vec![Step::Pause(Duration::from_secs(24 * 3600))]
    );
}

fn screen() -> Screen {
    let spec = crate::tui::update::tests::support::host_spec;
    Screen::with_hosts(
        Instant::now(),
        vec![
            Host::new(spec("lab-1"), HostSource::Config),
            Host::new(spec("lab-2"), HostSource::Config),
        ],
    )
}

#[test]
fn waits_are_answered_from_the_model() {
    let mut m = screen();
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
    assert!(!satisfied(&online, &m));
    assert!(!satisfied(&offline, &m));
    assert!(!satisfied(&healthy2, &m));
    if let Some(h) = m.cluster_mut().host_mut("lab-1") {
        h.state = HostState::Online;
        h.containers = vec![
            web_container("x", Health::Healthy),
            web_container("x", Health::Unhealthy),
        ];
    }
    assert!(satisfied(&online, &m));
    assert!(!satisfied(&healthy2, &m), "one of two is unhealthy");
    if let Some(h) = m.cluster_mut().host_mut("lab-1") {
        h.containers[1].health = Health::None;
    }
    m.cluster_mut().apps.insert(
        "web".into(),
        AppRecord {
            spec: AppSpec::new("web", "wheelhouse/demo:1"),
            revision: 1,
        },
    );
    assert!(satisfied(&healthy2, &m));
    if let Some(h) = m.cluster_mut().host_mut("lab-1") {
        h.state = HostState::Offline {
            error: "gone".into(),
            since: t0,
        };
    }
    assert!(satisfied(&offline, &m));
    assert!(!satisfied(&healthy2, &m), "offline hosts count nothing");
    let unknown = Wait::Host {
        host: "nope".into(),
        online: true,
    };
    assert!(!satisfied(&unknown, &m));
}

#[test]
fn the_player_types_waits_and_ends() {
    let script = Script {
        steps: parse_ok("type ab\nwait 1s\nwait host lab-2 online\nenter\nquit\nj\n"),
    };
    let mut m = screen();
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
    if let Some(h) = m.cluster_mut().host_mut("lab-2") {
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

#[test]
fn a_condition_not_met_in_time_stops_the_script_naming_its_line() {
    let script = Script {
        steps: parse_ok("# waits\nwait app web healthy 2 within 30s\nenter\n"),
    };
    let m = screen();
    let mut p = Player::new(script);
    let t0 = Instant::now();
    assert_eq!(p.next(&m, t0), Next::Wait);
    assert_eq!(p.next(&m, t0 + Duration::from_secs(29)), Next::Wait);
    assert_eq!(
        p.next(&m, t0 + Duration::from_secs(30)),
        Next::Failed(
            "key script line 2: gave up after 30s waiting for web to have 2 healthy instances"
                .into()
        )
    );
    assert_eq!(
        p.next(&m, t0 + Duration::from_secs(31)),
        Next::Done,
        "nothing after it runs"
    );
}
