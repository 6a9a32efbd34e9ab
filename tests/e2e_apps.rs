//! The real binary in tmux against a real lab: an app applied with `ctl` shows in the Apps
//! panel, and `s 5 Enter y` scales it, with the result in the status line and in etcd.

mod common;

use common::tmux::{Tmux, quote};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use wheelhouse::lab::TestLab;

const BIN: &str = env!("CARGO_BIN_EXE_wheelhouse");

/// `wheelhouse --config CONFIG ctl ARGS`: stdout, after checking it exited 0.
fn ctl(config: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("ctl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {BIN}: {e}"));
    assert!(
        out.status.success(),
        "ctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn scale_an_app_from_the_apps_panel() {
    let lab = TestLab::up(3, 73).expect("lab up");
    let config = lab.config_path();
    let spec = lab.dir().join("web.toml");
    std::fs::write(
        &spec,
        "name = \"web\"\nimage = \"wheelhouse/demo:1\"\ninstances = 2\n",
    )
    .expect("write spec");
    let applied = ctl(&config, &["apply", "-f", &spec.to_string_lossy()]);
    assert!(applied.starts_with("web created"), "{applied}");

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
    assert!(!screen.contains("scale web 2 → 5?"), "the question closed:\n{screen}");
    let got = ctl(&config, &["get", "web"]);
    assert!(got.contains("instances = 5\n"), "{got}");
    // The watcher brings the new count into the panel.
    tmux.wait_for("desired 5 in the panel", Duration::from_secs(10), |s| {
        s.lines()
            .any(|l| l.contains(" web ") && l.split_whitespace().any(|w| w == "5"))
    });

    // - asks too, and n leaves etcd alone.
    tmux.keys(&["-"]);
    tmux.wait_text("scale web 5 → 4?", Duration::from_secs(5));
    tmux.keys(&["n"]);
    tmux.wait_text("cancelled: scale web 5 → 4", Duration::from_secs(5));
    assert!(ctl(&config, &["get", "web"]).contains("instances = 5\n"));
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
    tmux.wait_text("read-only: one more instance is refused", Duration::from_secs(5));
    tmux.keys(&["q"]);
    assert!(ctl(&config, &["get", "web"]).contains("instances = 5\n"));
}
