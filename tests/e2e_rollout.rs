//! The real binary in tmux against a real lab: `u` offers the hosts' tags, tab picks
//! wheelhouse/demo:2, Enter and y roll it out (status line and etcd agree); `H` lists the
//! history; `b` and y roll the spec back. Then, with a controller, a rollout shows its
//! progress bar in the Apps panel while it runs.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::lab::{BIN, Controller, ctl_ok as ctl};
use common::tmux::{Tmux, quote};
use std::time::Duration;
use wheelhouse::lab::TestLab;

#[test]
fn roll_out_and_back_from_the_apps_panel() {
    let lab = TestLab::up(2).expect("lab up");
    let config = lab.config_path();
    let spec = lab.dir().join("web.toml");
    std::fs::write(
        &spec,
        "name = \"web\"\nimage = \"wheelhouse/demo:1\"\ninstances = 2\nports = [\"http\"]\n\
         [update]\nmax_surge = 1\nmax_unavailable = 0\nmin_ready = \"4s\"\n",
    )
    .expect("write spec");
    assert!(ctl(&config, &["apply", "-f", &spec.to_string_lossy()]).starts_with("web created"));

    let log = lab.dir().join("e2e-rollout.log");
    let tmux = Tmux::start("rollout", 120, 32);
    tmux.run_line(&format!(
        "{} --config {} --log-file {}",
        quote(BIN.as_ref()),
        quote(&config),
        quote(&log),
    ));
    tmux.wait_for("web in the apps panel", Duration::from_secs(20), |s| {
        s.contains("2/2") && s.contains("apps (1)") && s.contains(" web ")
    });
    tmux.keys(&["Tab"]);
    tmux.wait_text("u roll out", Duration::from_secs(5));

    // u: the prompt lists the tags the hosts hold; tab picks the next one.
    tmux.keys(&["u"]);
    tmux.wait_text(
        "image for web (now wheelhouse/demo:1)",
        Duration::from_secs(5),
    );
    let screen = tmux.wait_text("the hosts hold:", Duration::from_secs(10));
    assert!(screen.contains("wheelhouse/demo:broken"), "{screen}");
    tmux.keys(&["Tab", "Tab"]);
    tmux.wait_text("> wheelhouse/demo:2", Duration::from_secs(5));
    tmux.keys(&["Enter"]);
    tmux.wait_text(
        "roll web out: wheelhouse/demo:1 → wheelhouse/demo:2?",
        Duration::from_secs(5),
    );
    tmux.keys(&["y"]);
    // The status line says so (its tail may be cut at this width).
    tmux.wait_text(
        "web rolling out: wheelhouse/demo:1 →",
        Duration::from_secs(10),
    );
    let got = ctl(&config, &["get", "web"]);
    assert!(got.contains("image = \"wheelhouse/demo:2\""), "{got}");

    // An image no host holds is refused in the prompt, before any y/n.
    tmux.keys(&["u"]);
    tmux.wait_text("the hosts hold:", Duration::from_secs(10));
    tmux.keys(&["w", "h", ":", "9", "Enter"]);
    tmux.wait_text("image wh:9 is on no host", Duration::from_secs(5));
    tmux.keys(&["Escape"]);
    tmux.wait_text("rollout of web cancelled", Duration::from_secs(5));

    // H: the history, with the spec the rollout replaced.
    tmux.keys(&["H"]);
    let screen = tmux.wait_text("history of web", Duration::from_secs(5));
    assert!(screen.contains("enter roll back"), "{screen}");
    tmux.wait_text("wheelhouse/demo:1", Duration::from_secs(10));
    tmux.keys(&["Escape"]);
    tmux.wait_text("apps (1)", Duration::from_secs(5));

    // b then y: the previous revision's spec is back. The y/n says what it holds.
    tmux.keys(&["b"]);
    let screen = tmux.wait_text("roll web back to revision", Duration::from_secs(5));
    assert!(
        screen.contains(": wheelhouse/demo:1, 2 instances?"),
        "{screen}"
    );
    tmux.keys(&["y"]);
    tmux.wait_text(
        "web rolling back to wheelhouse/demo:1",
        Duration::from_secs(10),
    );
    let got = ctl(&config, &["get", "web"]);
    assert!(got.contains("image = \"wheelhouse/demo:1\""), "{got}");

    // With a controller: the instances start, then a rollout shows its bar while it runs.
    let _controller = Controller::start(&config, &lab.dir().join("controller.log"));
    tmux.wait_for("2 running, 2 healthy", Duration::from_secs(60), |s| {
        s.lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            l.contains(" web ") && words.windows(3).any(|w| w == ["2", "2", "2"])
        })
    });
    ctl(&config, &["rollout", "web", "wheelhouse/demo:2"]);
    let screen = tmux.wait_for("the rollout's bar", Duration::from_secs(20), |s| {
        s.contains("rollouts (1)") && s.contains("progressing")
    });
    assert!(
        screen.contains("wheelhouse/demo:1 → wheelhouse/demo:2"),
        "{screen}"
    );
    assert!(screen.contains("healthy)"), "{screen}");
    // q while it runs asks first, and says the rollout goes on without the cockpit.
    tmux.keys(&["q"]);
    tmux.wait_text(
        "the rollout of web keeps running in the controller: quit?",
        Duration::from_secs(5),
    );
    tmux.keys(&["n"]);
    tmux.wait_text("cancelled:", Duration::from_secs(5));
    // It ends: a succeeded rollout needs no bar.
    tmux.wait_for("the bar gone", Duration::from_secs(90), |s| {
        !s.contains("rollouts (1)")
    });
    tmux.keys(&["q"]);
}
