//! The real binary in tmux against a real lab: the `:` command line opens a host, `/`
//! filters the grid, and a broken keymap file stops wheelhouse at start.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tmux::{Tmux, quote};
use std::process::{Command, Stdio};
use std::time::Duration;
use wheelhouse::lab::TestLab;

const BIN: &str = env!("CARGO_BIN_EXE_wheelhouse");

/// Types text key by key, as an operator would.
fn type_text(tmux: &Tmux, text: &str) {
    let keys: Vec<String> = text
        .chars()
        .map(|c| match c {
            ' ' => "Space".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    tmux.keys(&keys);
}

#[test]
fn colon_host_opens_it_and_slash_filters_the_grid() {
    let lab = TestLab::up(3).expect("lab up");
    let tmux = Tmux::start("command", 120, 30);
    tmux.run_line(&format!(
        "{} --config {} --log-file /dev/null; echo EX''IT=$?",
        quote(BIN.as_ref()),
        quote(&lab.config_path()),
    ));
    tmux.wait_for("3/3 hosts online", Duration::from_secs(20), |s| {
        s.contains("3/3") && s.contains("lab-1") && s.contains("lab-3")
    });

    // `:host lab-2` with tab completing the command name: lab-2's view opens.
    tmux.keys(&[":"]);
    type_text(&tmux, "ho");
    tmux.keys(&["Tab"]);
    tmux.wait_text(":host", Duration::from_secs(5));
    type_text(&tmux, "lab-2");
    tmux.keys(&["Enter"]);
    let address = &lab.hosts()[1].address;
    let screen = tmux.wait_text(address, Duration::from_secs(5));
    assert!(
        screen.contains("lab-2"),
        "host view names the host:\n{screen}"
    );

    // A mistake is explained in the status line.
    tmux.keys(&[":"]);
    type_text(&tmux, "scal web 5");
    tmux.keys(&["Enter"]);
    tmux.wait_text("did you mean :scale?", Duration::from_secs(5));

    // Back on the grid, `/lab-3` leaves only lab-3.
    tmux.keys(&["Escape"]);
    tmux.wait_for("back on the grid", Duration::from_secs(5), |s| {
        s.contains("3 hosts") && !s.contains(address.as_str())
    });
    tmux.keys(&["/"]);
    type_text(&tmux, "lab-3");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_text("1/3 hosts", Duration::from_secs(5));
    assert!(screen.contains("lab-3"), "{screen}");
    assert!(
        !screen.contains("lab-1") && !screen.contains("lab-2"),
        "other hosts hidden:\n{screen}"
    );
    assert!(screen.contains("/lab-3"), "the filter is shown:\n{screen}");

    // Esc clears it.
    tmux.keys(&["Escape"]);
    tmux.wait_for("all hosts again", Duration::from_secs(5), |s| {
        s.contains("lab-1") && s.contains("lab-2") && !s.contains("1/3 hosts")
    });
    tmux.keys(&["q"]);
    let screen = tmux.wait_text("EXIT=", Duration::from_secs(5));
    assert!(screen.contains("EXIT=0"), "{screen}");
}

#[test]
fn a_keymap_with_an_unknown_action_is_rejected_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = dir.path().join("keys.toml");
    std::fs::write(&keys, "[grid]\nmove_up = [\"up\"]\nfly_away = [\"x\"]\n").expect("write");
    let out = Command::new(BIN)
        .args(["--keymap".as_ref(), keys.as_os_str()])
        .stdin(Stdio::null())
        .output()
        .expect("run wheelhouse");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3:1", keys.display())),
        "names file, line and column:\n{stderr}"
    );
    assert!(stderr.contains("unknown action `fly_away`"), "{stderr}");
}

#[test]
fn the_arrows_keymap_starts_and_answers_function_keys() {
    let lab = TestLab::up(3).expect("lab up");
    let tmux = Tmux::start("arrows", 120, 30);
    tmux.run_line(&format!(
        "{} --config {} --keymap arrows --log-file /dev/null; echo EX''IT=$?",
        quote(BIN.as_ref()),
        quote(&lab.config_path()),
    ));
    tmux.wait_for("3/3 hosts online", Duration::from_secs(20), |s| {
        s.contains("3/3")
    });
    // F1 opens help listing the function keys, F10 quits.
    tmux.keys(&["F1"]);
    let screen = tmux.wait_text("open the selected host", Duration::from_secs(5));
    assert!(
        screen.contains("f10"),
        "help comes from the arrows keymap:\n{screen}"
    );
    // Esc and F10 (itself ESC [ 2 1 ~) read together would parse as ESC ESC plus text:
    // let help close first.
    tmux.keys(&["Escape"]);
    tmux.wait_for("help closed", Duration::from_secs(5), |s| {
        !s.contains("open the selected host")
    });
    tmux.keys(&["F10"]);
    let screen = tmux.wait_text("EXIT=", Duration::from_secs(5));
    assert!(screen.contains("EXIT=0"), "{screen}");
}
