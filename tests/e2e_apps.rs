//! The real binary in tmux against a real lab: an app applied with `ctl` shows in the Apps
//! panel, and `s 5 Enter y` scales it, with the result in the status line and in etcd; a
//! controller then starts the instances, which the panel and `ctl status` count.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::lab::{BIN, Controller, apply_web, ctl_ok as ctl};
use common::tmux::{Tmux, quote};
use std::time::Duration;
use wheelhouse::lab::TestLab;

#[test]
fn scale_an_app_from_the_apps_panel() {
    let lab = TestLab::up(3).expect("lab up");
    let config = lab.config_path();
    apply_web(&lab);

    let log = lab.dir().join("e2e-apps.log");
    let tmux = Tmux::start("apps", 120, 30);
    tmux.run_line(&format!(
        "{} --config {} --log-file {}",
        quote(BIN.as_ref()),
        quote(&config),
        quote(&log),
    ));
    // The panel lists the app with its image and desired count.
    let screen = tmux.wait_for("web in the apps panel", Duration::from_secs(20), |s| {
        s.contains("3/3") && s.contains("apps (1)") && s.contains(" web ")
    });
    assert!(screen.contains("wheelhouse/demo:1"), "{screen}");

    // Tab to the panel (its title then shows the scale keys), s, type 5, Enter, y.
    tmux.keys(&["Tab"]);
    tmux.wait_text("s scale", Duration::from_secs(5));
    tmux.keys(&["s"]);
    tmux.wait_text("instances for web (now 2", Duration::from_secs(5));
    tmux.keys(&["5", "Enter"]);
    tmux.wait_text("scale web 2 → 5?", Duration::from_secs(5));
    tmux.keys(&["y"]);
    let screen = tmux.wait_text("web scaled to 5", Duration::from_secs(10));
    assert!(
        !screen.contains("scale web 2 → 5?"),
        "the question closed:\n{screen}"
    );
    let got = ctl(&config, &["get", "web"]);
    assert!(got.contains("instances = 5\n"), "{got}");
    // The watcher brings the new count into the panel.
    // The panel's row (it names the image), not the "web scaled to 5" message.
    tmux.wait_for("desired 5 in the panel", Duration::from_secs(10), |s| {
        s.lines().any(|l| {
            l.contains(" web ")
                && l.contains("wheelhouse/demo:1")
                && l.split_whitespace().any(|w| w == "5")
        })
    });

    // - asks too, and n leaves etcd alone.
    tmux.keys(&["-"]);
    tmux.wait_text("scale web 5 → 4?", Duration::from_secs(5));
    tmux.keys(&["n"]);
    tmux.wait_text("cancelled: scale web 5 → 4", Duration::from_secs(5));
    assert!(ctl(&config, &["get", "web"]).contains("instances = 5\n"));

    // With a controller running, the panel counts the containers it starts (from their
    // labels) and marks their hosts in the grid; `ctl status` counts the same.
    let _controller = Controller::start(&config, &lab.dir().join("controller.log"));
    tmux.wait_for("5 running, 5 healthy", Duration::from_secs(60), |s| {
        s.lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            l.contains(" web ") && words.windows(3).any(|w| w == ["5", "5", "5"])
        })
    });
    let screen = tmux.screen();
    let marks = screen
        .lines()
        .take(3)
        .map(|l| l.matches('◆').count())
        .sum::<usize>();
    assert!(
        marks >= 2,
        "the app's hosts are marked in the grid:\n{screen}"
    );
    let status = ctl(&config, &["status"]);
    let row = status
        .lines()
        .find(|l| l.starts_with("web "))
        .unwrap_or_default();
    let words: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(words.get(2..5), Some(&["5", "5", "5"][..]), "{status}");
    tmux.keys(&["q"]);

    // A read-only cockpit refuses the same keys.
    let tmux = Tmux::start("apps-ro", 120, 30);
    tmux.run_line(&format!(
        "{} --readonly --config {} --log-file {}",
        quote(BIN.as_ref()),
        quote(&config),
        quote(&log),
    ));
    tmux.wait_text("apps (1)", Duration::from_secs(20));
    tmux.keys(&["Tab", "+"]);
    tmux.wait_text(
        "read-only: one more instance is refused",
        Duration::from_secs(5),
    );
    // The refusal goes to the audit trail (off the loop), typed, with its reason.
    let refused = || {
        let audit = ctl(&config, &["audit", "-o", "json"]);
        let audit: serde_json::Value = serde_json::from_str(&audit).expect("audit JSON");
        audit.as_array().into_iter().flatten().any(|e| {
            e["action"] == "scale"
                && e["target"] == "web"
                && e["outcome"] == "refused"
                && e["result"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("read-only: one more instance"))
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !refused() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(refused(), "no refused scale in the audit trail");
    tmux.keys(&["q"]);
    assert!(ctl(&config, &["get", "web"]).contains("instances = 5\n"));
}
