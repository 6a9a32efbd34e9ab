//! The real binary in tmux, without a lab: signals give the terminal back, `q` quits at
//! once and `Q` records macros.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tmux::{Tmux, quote};
use std::path::Path;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_wheelhouse");

/// The cockpit started from the pane's shell with a home of its own; its pid is written to
/// `dir/pid`.
fn start(name: &str, dir: &Path) -> Tmux {
    let tmux = Tmux::start(name, 100, 30);
    let pid = dir.join("pid");
    tmux.run_line(&format!(
        "HOME={home} XDG_DATA_HOME={home}/data sh -c 'echo $$ > {pid}; exec {bin} --log-file /dev/null'",
        home = quote(dir),
        pid = quote(&pid),
        bin = quote(BIN.as_ref()),
    ));
    tmux.wait_text("online", Duration::from_secs(20));
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "1",
        "the cockpit is on the alternate screen"
    );
    tmux
}

fn pid(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("pid"))
        .expect("pid file")
        .trim()
        .to_owned()
}

fn alive(pid: &str) -> bool {
    std::process::Command::new("kill")
        .args(["-0", pid])
        .status()
        .is_ok_and(|s| s.success())
}

/// Waits until the cockpit has exited and the pane is back on the main screen.
fn wait_gone(tmux: &Tmux, pid: &str) {
    let start = Instant::now();
    while alive(pid) || tmux.display("#{alternate_on}") != "0" {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still running or on the alternate screen:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The shell's view of the terminal after the cockpit: canonical mode and echo on.
fn assert_terminal_restored(tmux: &Tmux, signal: &str) {
    tmux.run_line("clear; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo DO\"\"NE");
    // The command line reads DO""NE, its output DONE.
    let screen = tmux.wait_text("DONE", Duration::from_secs(5));
    let line = (screen.lines())
        .find(|l| l.trim_end().ends_with("DONE"))
        .unwrap_or_default();
    assert_eq!(
        line.trim(),
        "icanon echo DONE",
        "after SIG{signal}:\n{screen}"
    );
}

#[test]
fn sigint_and_sigquit_give_the_terminal_back() {
    for signal in ["INT", "QUIT", "TERM", "HUP"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let tmux = start(&format!("sig{signal}"), dir.path());
        let pid = pid(dir.path());
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), pid.as_str()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        wait_gone(&tmux, &pid);
        assert_terminal_restored(&tmux, signal);
    }
}

#[test]
fn q_quits_at_once_shift_q_records_however_slowly_typed_and_ctrl_s_saves_in_the_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tmux = start("keys", dir.path());
    // Slower than the old 400 ms hold: the register letter still names the register.
    tmux.keys(&["Q"]);
    std::thread::sleep(Duration::from_millis(700));
    tmux.keys(&["a"]);
    tmux.wait_text("recording @a (Q stops)", Duration::from_secs(5));
    tmux.keys(&["l", "Q"]);
    tmux.wait_text("macro @a recorded (1 keys)", Duration::from_secs(5));
    // ctrl-s saves into the XDG data dir (not the current one) and says where.
    tmux.keys(&["C-s"]);
    let screens = dir.path().join("data/wheelhouse/screens");
    let screen = tmux.wait_text("screen saved in", Duration::from_secs(10));
    let saved: Vec<_> = std::fs::read_dir(&screens)
        .unwrap_or_else(|e| panic!("{}: {e}\n{screen}", screens.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    assert_eq!(saved.len(), 3, "txt, svg and png: {saved:?}");
    let pid = pid(dir.path());
    assert!(alive(&pid));
    tmux.keys(&["q"]);
    wait_gone(&tmux, &pid);
    assert_terminal_restored(&tmux, "none: q");
}
