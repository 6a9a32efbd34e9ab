//! The trace on a real lab (etcd, two dockerd, a controller): `web` depends on `api`.
//! `ctl trace` names the worst hop before the controller has registered anything, then
//! every hop healthy with each endpoint (JSON, probe figures marked not measured), and
//! each instance's last health check as its engine ran it (`sick`'s fails: exit code and
//! output); in the cockpit in tmux, enter on web opens its trace (its check's age,
//! figures that follow a scale of api), enter on api follows it, esc walks back.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::lab::{Controller, apply_demo_apps, ctl, ctl_ok, wait_until};
use common::tmux::Tmux;
use std::time::Duration;
use wheelhouse::domain::logs::parse_timestamp;
use wheelhouse::lab::TestLab;

/// The age in seconds of the passed check on an instance's row ("✓ 2s ago").
fn check_age(screen: &str) -> Option<u64> {
    (screen.lines())
        .filter(|l| l.contains("lab-"))
        .find_map(|l| l.split("✓ ").nth(1)?.split("s ago").next()?.parse().ok())
}

#[test]
fn trace_web_and_api_through_ctl_and_in_the_cockpit() {
    let lab = TestLab::up(2).expect("lab up");
    let config = lab.config_path();
    apply_demo_apps(
        &lab,
        &[
            ("api", "instances = 2\n"),
            (
                "web",
                "instances = 1\ndepends_on = [\"api\"]\n[health]\n\
                 command = [\"/bin/sh\", \"-c\", \"echo checked by docker\"]\n\
                 interval = \"1s\"\n",
            ),
            // Never healthy (and, with 100 retries, not unhealthy before the test ends).
            (
                "sick",
                "instances = 1\n[health]\n\
                 command = [\"/bin/sh\", \"-c\", \"echo not ready; exit 1\"]\n\
                 interval = \"1s\"\nretries = 100\n",
            ),
        ],
    );

    // Nothing runs yet: the hop to api is the worst, and says why.
    let text = ctl_ok(&config, &["trace", "web"]);
    assert!(
        text.contains("✗ web → api: no registered endpoint (api has no instance)"),
        "{text}"
    );
    ctl(&config, &["trace", "nope"]).fails(2, "no app named \"nope\"");
    ctl(&config, &["trace", "Bad/Name"]).fails(2, "app name");

    let _controller = Controller::start(&config, &lab.dir().join("controller.log"));
    let trace = |app: &str| -> serde_json::Value {
        let out = ctl_ok(&config, &["trace", app, "-o", "json"]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    };
    wait_until("every hop healthy", Duration::from_secs(90), || {
        let web = trace("web");
        let registered = web["instances"][0]["endpoint"]["port"].is_u64();
        (web["summary"] != "✓ all hops healthy" || !registered).then(|| web.to_string())
    });
    let web = trace("web");
    let api = &web["dependencies"][0];
    assert_eq!(
        (
            &api["callee"],
            &api["endpoints_registered"],
            &api["instances"]
        ),
        (&"api".into(), &2.into(), &2.into()),
        "{web}"
    );
    assert_eq!(api["verdict"], "healthy");
    assert_eq!(api["probes"]["state"], "not_measured");
    assert_eq!(api["probes"]["reason"], "no agent probes yet");
    let callers = &trace("api")["callers"];
    assert_eq!(callers[0]["caller"], "web", "{callers}");

    // web's last check, from its engine's inspect: passed, seconds ago, its output's line.
    wait_until("web's last check", Duration::from_secs(30), || {
        let web = trace("web");
        let check = &web["instances"][0]["last_check"];
        let recent = check["age_seconds"].as_u64().is_some_and(|a| a < 10);
        (check["ok"] != true || check["output"] != "checked by docker" || !recent)
            .then(|| web.to_string())
    });
    let check = &trace("web")["instances"][0]["last_check"];
    assert_eq!(check["exit_code"], 0, "{check}");
    let (start, end) = (check["start"].as_str(), check["end"].as_str());
    let (start, end) = (
        start.and_then(parse_timestamp),
        end.and_then(parse_timestamp),
    );
    assert!(
        start.is_some_and(|s| end.is_some_and(|e| s <= e)),
        "{check}"
    );
    // api keeps the demo image's own check: each instance has its last run too.
    let api = trace("api");
    let checks: Vec<_> = (api["instances"].as_array().into_iter().flatten())
        .map(|i| i["last_check"]["ok"].as_bool())
        .collect();
    assert_eq!(checks, [Some(true), Some(true)], "{api}");
    let text = ctl_ok(&config, &["trace", "web"]);
    assert!(
        text.contains("LAST CHECK") && text.contains("s ago"),
        "{text}"
    );
    // sick's check fails: its exit code and what it printed, in JSON and in words.
    wait_until("sick's failed check", Duration::from_secs(30), || {
        let sick = trace("sick");
        let check = &sick["instances"][0]["last_check"];
        (check["exit_code"] != 1 || check["output"] != "not ready").then(|| sick.to_string())
    });
    assert_eq!(trace("sick")["instances"][0]["last_check"]["ok"], false);
    let text = ctl_ok(&config, &["trace", "sick"]);
    assert!(text.contains("s ago: exit 1 not ready"), "{text}");

    let tmux = Tmux::start("trace", 120, 30);
    tmux.run_cockpit(&config, &lab.dir().join("e2e-trace.log"));
    tmux.wait_text("apps (3)", Duration::from_secs(20));
    // Tab to the Apps panel (api first, then sick), down to web, enter.
    tmux.keys(&["Tab", "Down", "Down", "Enter"]);
    let screen = tmux.wait_text("trace web", Duration::from_secs(5));
    assert!(screen.contains("all hops healthy"), "{screen}");
    // The instance's row shows its last check's age, and the cockpit reads each new run
    // (one a second): seconds later the age is still small, not growing from the first.
    tmux.wait_for("web's check seconds ago", Duration::from_secs(10), |s| {
        check_age(s).is_some()
    });
    std::thread::sleep(Duration::from_secs(8));
    let screen = tmux.screen();
    assert!(check_age(&screen).is_some_and(|age| age <= 5), "{screen}");
    // Figures are live: a third api instance, once registered, shows on web's hop.
    ctl_ok(&config, &["scale", "api", "3"]);
    tmux.wait_for("api's hop at 3/3", Duration::from_secs(60), |s| {
        s.lines().any(|l| l.contains("✓ api") && l.contains("3/3"))
    });
    // web's rows: its instance, then api; enter on api follows it.
    tmux.keys(&["Down", "Enter"]);
    let screen = tmux.wait_text("trace web → api", Duration::from_secs(5));
    assert!(screen.contains("api instances (3)"), "{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("back on web", Duration::from_secs(5), |s| {
        s.contains("web instances (1)") && !s.contains("web → api")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("back on the grid", Duration::from_secs(5), |s| {
        s.contains("apps (3)") && !s.contains("trace web")
    });
    tmux.keys(&["q"]);
}
