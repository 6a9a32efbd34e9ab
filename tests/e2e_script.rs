//! Key scripts (`--keys`) driving the real binary in tmux against a real lab: a script
//! opens a host and exits 0 (and one whose wait is never met exits with an error naming the
//! line); a macro recorded and replayed from a script (read from
//! stdin) does the same; a script scales, rolls out and rolls back an app (checked in
//! etcd through `ctl`); the cockpit draws and leaves cleanly under TERM=screen and
//! tmux-256color; a script with a syntax error stops before the terminal is touched.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::lab::{apply_web, ctl_ok};
use common::tmux::{Tmux, quote};
use std::process::Command;
use std::time::Duration;
use wheelhouse::lab::TestLab;

const BIN: &str = env!("CARGO_BIN_EXE_wheelhouse");

/// The exit status the shell printed after `EX''IT=`, once it has.
fn exit_status(tmux: &Tmux) -> String {
    let screen = tmux.wait_for("the exit status", Duration::from_secs(15), |s| {
        s.contains("EXIT=")
    });
    screen
        .split("EXIT=")
        .nth(1)
        .and_then(|after| after.split_whitespace().next())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_key_script_opens_a_host_and_exits_zero() {
    let lab = TestLab::up(3).expect("lab up");
    let config = lab.config_path();
    let script = lab.dir().join("open.keys");
    std::fs::write(
        &script,
        "# open the second host, look, and leave\nwait host lab-2 online\nl\nenter\nwait 3s\nquit\n",
    )
    .expect("write script");
    let tmux = Tmux::start("script", 120, 30);
    tmux.run_line(&format!(
        "{} --config {} --log-file /dev/null --keys {}; echo EX''IT=$?",
        quote(BIN.as_ref()),
        quote(&config),
        quote(&script),
    ));
    // The host view of lab-2 shows its engine's address.
    let address = &lab.hosts()[1].address;
    let screen = tmux.wait_text(address, Duration::from_secs(20));
    assert!(screen.contains("lab-2"), "{screen}");
    assert_eq!(exit_status(&tmux), "0");

    // From stdin, with a macro: `Qa l Q` records one move right (and makes it), `@a`
    // replays it, so enter opens lab-3; the script then ends and --exit-after-keys leaves.
    let tmux = Tmux::start("macro", 120, 30);
    tmux.run_line(&format!(
        "printf 'wait host lab-3 online\\nQ\\na\\nl\\nQ\\n@\\na\\nenter\\nwait 3s\\n' | {} --config {} \
         --log-file /dev/null --keys - --exit-after-keys; echo EX''IT=$?",
        quote(BIN.as_ref()),
        quote(&config),
    ));
    let address = &lab.hosts()[2].address;
    let screen = tmux.wait_text(address, Duration::from_secs(20));
    assert!(screen.contains("lab-3"), "{screen}");
    assert_eq!(exit_status(&tmux), "0");

    // A wait that is never met gives up after its `within`; the keys after it are not
    // played (enter would open lab-1) and the exit says why, with an error status.
    let tmux = Tmux::start("gives-up", 120, 30);
    tmux.run_line(&format!(
        "printf '# lab-1 stays up\nwait host lab-1 offline within 2s\nenter\n' | {} --config {} \
         --log-file /dev/null --keys - --exit-after-keys; echo EX''IT=$?",
        quote(BIN.as_ref()),
        quote(&config),
    ));
    assert_eq!(exit_status(&tmux), "2");
    let screen = tmux.screen();
    assert!(
        screen.contains("key script line 2: gave up after 2s waiting for lab-1 to go offline"),
        "{screen}"
    );
}

#[test]
fn a_script_syntax_error_exits_2_with_file_line_col() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("wheelhouse.toml");
    std::fs::write(&config, "").expect("write config");
    let script = dir.path().join("bad.keys");
    std::fs::write(&script, "# fine so far\nj\nwait 2 parsecs\n").expect("write script");
    // No terminal at all: the error must come before the cockpit needs one.
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--keys")
        .arg(&script)
        .output()
        .expect("run wheelhouse");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let want = format!("{}:3:6: unknown wait", script.display());
    assert!(stderr.contains(&want), "want {want:?} in:\n{stderr}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("\u{1b}["),
        "nothing was drawn"
    );
}

/// After the command: its exit status, and whether the terminal is back in cooked mode
/// (`MODE=icanon`, not `MODE=-icanon`).
fn then_status_and_mode(command: &str) -> String {
    format!(
        "{command}; echo EX''IT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\?icanon' | sed 's/^/MO''DE=/'"
    )
}

#[test]
fn a_key_script_scales_rolls_out_and_rolls_back() {
    let lab = TestLab::up(1).expect("lab up");
    let config = lab.config_path();
    apply_web(&lab);
    // `wait app web healthy 0`: until web is in the Apps panel (no controller runs it).
    let script = lab.dir().join("ops.keys");
    std::fs::write(
        &script,
        "wait app web healthy 0\ntab\n\
         # scale to 4\ns\ntype 4\nenter\ny\nwait 1s\n\
         # roll out demo:2 (the prompt checks the hosts hold it: give their tags time)\n\
         u\nwait 2s\ntype wheelhouse/demo:2\nenter\ny\nwait 2s\n\
         # back to the previous revision (its y/n waits for the history)\nb\nwait 1s\ny\nwait 2s\nquit\n",
    )
    .expect("write script");
    let log = lab.dir().join("ops.log");
    let tmux = Tmux::start("ops", 120, 32);
    tmux.run_line(&then_status_and_mode(&format!(
        "{} --config {} --log-file {} --keys {}",
        quote(BIN.as_ref()),
        quote(&config),
        quote(&log),
        quote(&script),
    )));
    let status = tmux.wait_for("the exit status", Duration::from_secs(40), |s| {
        s.contains("MODE=")
    });
    assert!(status.contains("EXIT=0"), "{status}");
    assert!(status.contains("MODE=icanon"), "{status}");

    let got = ctl_ok(&config, &["get", "web"]);
    assert!(
        got.contains("image = \"wheelhouse/demo:1\""),
        "rolled back:\n{got}"
    );
    let history = ctl_ok(&config, &["history", "web"]);
    assert!(
        history.contains("wheelhouse/demo:2"),
        "the rollout happened:\n{history}"
    );
    // Rolled back to the revision filed after the scale: 4 instances of demo:1.
    assert!(got.contains("instances = 4"), "scaled to 4:\n{got}");
}

/// The cockpit under `term` in tmux: the grid is drawn, the script's quit leaves with 0
/// and the terminal is cooked again.
fn draws_and_quits_under(term: &str, lab: &TestLab) {
    let script = lab.dir().join("look.keys");
    std::fs::write(&script, "wait host lab-1 online\nwait 3s\nquit\n").expect("write script");
    let tmux = Tmux::start(&format!("term-{}", term.replace('-', "")), 100, 24);
    tmux.run_line(&then_status_and_mode(&format!(
        "env TERM={term} {} --config {} --log-file /dev/null --keys {}",
        quote(BIN.as_ref()),
        quote(&lab.config_path()),
        quote(&script),
    )));
    let screen = tmux.wait_for("the grid", Duration::from_secs(20), |s| {
        s.contains("lab-1") && s.contains("1/1 online")
    });
    assert!(screen.contains("containers"), "{screen}");
    let status = tmux.wait_for("the exit status", Duration::from_secs(20), |s| {
        s.contains("MODE=")
    });
    assert!(status.contains("EXIT=0"), "TERM={term}:\n{status}");
    assert!(status.contains("MODE=icanon"), "TERM={term}:\n{status}");
}

#[test]
fn the_cockpit_draws_and_quits_cleanly_under_screen_and_tmux_terms() {
    let lab = TestLab::up(1).expect("lab up");
    draws_and_quits_under("screen", &lab);
    draws_and_quits_under("tmux-256color", &lab);
}
