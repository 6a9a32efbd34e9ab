//! `wheelhouse wallboard` in tmux against a real lab: the alerts banner (an app below its
//! count, then a killed host), pages cycling, and mutations refused by keys and by the
//! command line, with etcd's spec unchanged.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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

/// The status bar: the screen's last non-empty line.
fn status_line(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

/// The banner's clock reads "HH:MM:SS WHX", the time 5:30 east of UTC (within a minute).
fn assert_clock_in_local_time(screen: &str) {
    let shown = screen
        .split(" WHX")
        .next()
        .and_then(|before| before.get(before.len().saturating_sub(8)..))
        .unwrap_or_default();
    let minutes = |hh: &str, mm: &str| Some(hh.parse::<i64>().ok()? * 60 + mm.parse::<i64>().ok()?);
    let parts: Vec<&str> = shown.split(':').collect();
    let Some(shown) = parts.get(..2).and_then(|p| minutes(p[0], p[1])) else {
        panic!("no WHX clock on the banner:\n{screen}");
    };
    let utc = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let want = (utc / 60 + 5 * 60 + 30).rem_euclid(24 * 60);
    let off = (shown - want).rem_euclid(24 * 60);
    assert!(
        off <= 1 || off == 24 * 60 - 1,
        "clock {shown} min, want {want}:\n{screen}"
    );
}

#[test]
fn the_wallboard_alerts_cycles_and_refuses_changes() {
    let mut lab = TestLab::up(3).expect("lab up");
    let config = lab.config_path();
    let spec = lab.dir().join("web.toml");
    // No controller runs: web stays at 0 of its 2 instances, which is an alert.
    std::fs::write(
        &spec,
        "name = \"web\"\nimage = \"wheelhouse/demo:1\"\ninstances = 2\n",
    )
    .expect("write spec");
    ctl(&config, &["apply", "-f", &spec.to_string_lossy()]);

    let tmux = Tmux::start("wall", 160, 40);
    // A POSIX TZ needs no zone database: "WHX", 5:30 east of UTC.
    tmux.run_line(&format!(
        "TZ=WHX-5:30 {} --config {} --refresh 1s --log-file /dev/null wallboard --page-interval 3s; echo EX''IT=$?",
        quote(BIN.as_ref()),
        quote(&config),
    ));
    let screen = tmux.wait_for("banner with web 0/2", Duration::from_secs(20), |s| {
        s.contains("ALERT: web 0/2") && s.contains("3/3")
    });
    assert_clock_in_local_time(&screen);

    // Pages cycle: hosts, apps (with desired, running, healthy), alerts.
    let screen = tmux.wait_text("page apps", Duration::from_secs(10));
    assert!(
        screen.contains("DESIRED") && screen.contains("HEALTHY"),
        "{screen}"
    );
    let screen = tmux.wait_text("page alerts", Duration::from_secs(10));
    assert!(screen.contains("app web: 0/2 healthy"), "{screen}");
    tmux.wait_text("page hosts", Duration::from_secs(10));

    // A killed engine shows in the banner.
    lab.kill_host(0).expect("kill dockerd");
    tmux.wait_text("ALERT: 1 host offline · web 0/2", Duration::from_secs(15));

    // Keys that would change the cluster are refused where actions are checked.
    tmux.keys(&["Tab", "+"]);
    let screen = tmux.wait_text("read-only: one more instance", Duration::from_secs(5));
    assert!(status_line(&screen).contains("read-only"), "{screen}");
    tmux.keys(&["s"]);
    let screen = tmux.wait_text("read-only: scale to a number", Duration::from_secs(5));
    assert!(
        !screen.contains("instances for web"),
        "no prompt:\n{screen}"
    );
    // So is the command line.
    tmux.keys(&[":"]);
    std::thread::sleep(Duration::from_millis(300));
    for key in [
        "s", "c", "a", "l", "e", "Space", "w", "e", "b", "Space", "5", "Enter",
    ] {
        tmux.keys(&[key]);
    }
    // `:scale web 5` makes the same Scale action a dialog would, refused the same way.
    let screen = tmux.wait_text("read-only: scale is refused", Duration::from_secs(5));
    assert!(!screen.contains("scale web 2 → 5?"), "{screen}");

    let got = ctl(&config, &["get", "web"]);
    assert!(got.contains("instances = 2\n"), "spec unchanged:\n{got}");
    // A lone q still quits (after the short wait for a macro register letter).
    tmux.keys(&["q"]);
    let screen = tmux.wait_text("EXIT=", Duration::from_secs(5));
    assert!(screen.contains("EXIT=0"), "{screen}");
}
