//! The real binary in tmux on a `lab up --tls` lab whose hosts run agents: `m` on an app
//! in the Apps panel shows its instances side by side, each titled instance@host with a
//! CPU and a memory chart read from its own host's agent over mutual TLS (with the host's
//! engine files); `c` switches their window and esc goes back to the grid. Scaled to 6
//! on a small terminal, the cells come a page at a time and the move keys scroll them.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::lab::{BIN, ctl_ok, running_images, wait_until, web_under_controller};
use common::tmux::{Tmux, quote};
use std::path::Path;
use std::time::Duration;
use wheelhouse::lab::TestLab;

/// How many charts on screen have figures: "CPU  now 3%", not "CPU  now —".
fn charts_with_figures(screen: &str, what: &str) -> usize {
    let title = format!("{what}  now ");
    (screen.match_indices(&title))
        .filter(|(at, _)| {
            let rest = &screen[at + title.len()..];
            rest.starts_with(|c: char| c.is_ascii_digit())
        })
        .count()
}

#[test]
fn an_apps_instances_side_by_side_each_with_its_agents_charts() {
    let lab = TestLab::up_tls_with_agents(2, Path::new(BIN)).expect("lab up");
    let _controller = web_under_controller(&lab, 2, "1s");
    wait_until("web's 2 instances running", Duration::from_secs(60), || {
        let images = running_images(&lab, "web");
        (images.len() != 2).then(|| format!("{images:?}"))
    });

    let tmux = Tmux::start("instances", 160, 40);
    tmux.run_line(&format!(
        "{} --config {} --log-file {}",
        quote(BIN.as_ref()),
        quote(&lab.config_path()),
        quote(&lab.dir().join("e2e-instances.log")),
    ));
    tmux.wait_for("web in the apps panel", Duration::from_secs(30), |s| {
        s.contains("apps (1)") && s.contains(" web ")
    });
    tmux.keys(&["Tab", "m"]);
    let screen = tmux.wait_for("both instances charted", Duration::from_secs(60), |s| {
        s.contains("web: 2 instances, CPU and memory over 1 m")
            && s.contains("web.1@lab-")
            && s.contains("web.2@lab-")
            && charts_with_figures(s, "CPU") == 2
            && charts_with_figures(s, "memory") == 2
    });
    assert!(!screen.contains("no agent on"), "{screen}");
    // Side by side: both names on one line.
    assert!(
        (screen.lines()).any(|l| l.contains("web.1@lab-") && l.contains("web.2@lab-")),
        "{screen}"
    );
    tmux.keys(&["c"]);
    tmux.wait_for("the 10-minute window", Duration::from_secs(15), |s| {
        s.contains("over 10 m") && charts_with_figures(s, "CPU") == 2
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("back on the grid", Duration::from_secs(10), |s| {
        s.contains("apps (1)") && !s.contains("web: 2 instances")
    });
    tmux.keys(&["q"]);

    // Scaled to 6, on an 80x24 terminal the cells come a page (2 rows of 2) at a time,
    // and the move keys scroll them.
    ctl_ok(&lab.config_path(), &["scale", "web", "6"]);
    wait_until("web's 6 instances running", Duration::from_secs(60), || {
        let images = running_images(&lab, "web");
        (images.len() != 6).then(|| format!("{images:?}"))
    });
    let small = Tmux::start("instances-small", 80, 24);
    small.run_cockpit(
        &lab.config_path(),
        &lab.dir().join("e2e-instances-small.log"),
    );
    small.wait_for("web in the apps panel", Duration::from_secs(30), |s| {
        s.contains("apps (1)") && s.contains(" web ")
    });
    small.keys(&["Tab", "m"]);
    let first = small.wait_text("instances 1–4 of 6", Duration::from_secs(30));
    assert!(
        first.contains("web.1@lab-") && !first.contains("web.6@lab-"),
        "{first}"
    );
    small.keys(&["j"]);
    let scrolled = small.wait_text("instances 3–6 of 6", Duration::from_secs(10));
    assert!(
        scrolled.contains("web.6@lab-") && !scrolled.contains("web.1@lab-"),
        "{scrolled}"
    );
    small.keys(&["Escape", "q"]);
}
