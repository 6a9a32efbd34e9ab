//! The logs screen on a real lab, in tmux: a container printing numbered lines (every
//! fifth on stderr, one with escape sequences); `l` on its row in the host view opens its
//! logs and new lines arrive; `/` highlights the matches in reverse video, the hostile
//! line shows inert; wrap on with a 90,000-character line keeps taking lines; `p` pauses and counts what waits; esc goes back to the host view;
//! the container removed by hand is said so while its lines stay. With `[logs] lines = 3`
//! the view opens on the last three lines however many engine messages they took.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::follow::{AROUND_A_LONG_LINE, last_number};
use common::lab::shell;
use common::tmux::Tmux;
use std::time::Duration;
use wheelhouse::lab::TestLab;

/// A hostile line and a 90,000-character one, then `tick N` every 200 ms, `oops N` on
/// stderr every fifth.
const PRINTER: &str = "printf 'evil \\033[2J\\033]0;pwned\\007 end\\n'; \
    s=xxxxxxxxxx; s=$s$s$s$s$s$s$s$s$s$s; s=$s$s$s$s$s$s$s$s$s$s; t=; \
    for i in 1 2 3 4 5 6 7 8 9; do t=$t$s$s$s$s$s$s$s$s$s$s; done; echo \"$t\"; n=0; while true; do \
    n=$((n+1)); if [ $((n % 5)) -eq 0 ]; then echo \"oops $n\" >&2; else echo \"tick $n\"; fi; \
    sleep 0.2; done";

fn last_tick(screen: &str) -> u64 {
    last_number(screen.lines(), "tick ")
}

/// With `[logs] lines = 3`, the view opens on the last three lines, counted as lines: the
/// 40,004-byte one (three of the engine's messages) whole from its head, then s3 and s4.
#[test]
fn the_view_opens_on_the_last_lines_however_long() {
    let lab = TestLab::up(1).expect("lab up");
    lab.engine(0)
        .run("around", shell(AROUND_A_LONG_LINE, &[], false))
        .expect("run");
    let mut config = std::fs::read_to_string(lab.config_path()).expect("lab config");
    config.push_str("\n[logs]\nlines = 3\n");
    let path = lab.dir().join("three-lines.toml");
    std::fs::write(&path, config).expect("write config");
    let tmux = Tmux::start("logs-tail", 120, 30);
    tmux.run_cockpit(&path, &lab.dir().join("e2e-logs-tail.log"));
    tmux.open_lab_1("around");
    tmux.keys(&["l"]);
    let screen = tmux.wait_for("the last three lines", Duration::from_secs(10), |s| {
        s.contains("s4")
    });
    let body: Vec<&str> = (screen.lines().skip(2))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(body[0].starts_with("HEADxxxx"), "{screen}");
    assert_eq!(body[1..3], ["s3", "s4"], "{screen}");
    assert!(!screen.contains("s2"), "{screen}");
    tmux.keys(&["Escape", "q"]);
}

#[test]
fn logs_of_a_container_from_the_host_view() {
    let lab = TestLab::up(1).expect("lab up");
    lab.engine(0)
        .run("printer", shell(PRINTER, &[], false))
        .expect("run");
    let tmux = Tmux::start("logs", 120, 30);
    tmux.run_cockpit(&lab.config_path(), &lab.dir().join("e2e-logs.log"));
    tmux.open_lab_1("printer");
    let title = tmux.display("#{pane_title}");

    // The only container: l opens its logs, and lines keep arriving.
    tmux.keys(&["l"]);
    let screen = tmux.wait_text("logs printer", Duration::from_secs(5));
    assert!(screen.contains("following"), "{screen}");
    let first = tmux.wait_for("ticks", Duration::from_secs(10), |s| last_tick(s) > 0);
    let seen = last_tick(&first);
    let screen = tmux.wait_for("newer ticks", Duration::from_secs(10), |s| {
        last_tick(s) > seen + 3
    });
    assert!(screen.contains("! oops"), "stderr marked:\n{screen}");
    // The hostile line is text: nothing cleared the screen or named the pane.
    assert!(
        screen.contains("evil") && screen.contains(" end"),
        "{screen}"
    );
    assert_eq!(tmux.display("#{pane_title}"), title);

    // Search: the matches are in reverse video (SGR 7) on the captured pane.
    tmux.keys(&["/"]);
    for key in ["o", "o", "p", "s", "Enter"] {
        tmux.keys(&[key]);
    }
    tmux.wait_text("/oops", Duration::from_secs(5));
    let capture = tmux.capture();
    let marked = capture
        .lines()
        .filter(|l| l.contains("oops"))
        .any(|l| l.contains("\u{1b}[7m") || l.contains(";7m") || l.contains("[1;7m"));
    assert!(marked, "matches reversed:\n{capture}");

    // Wrap with the 90,000-character line (cut to 16 KiB by the core) in the buffer: the
    // view goes on taking lines.
    tmux.keys(&["G", "w"]);
    let wrapped = tmux.wait_text("wrap", Duration::from_secs(5));
    let seen = last_tick(&wrapped);
    tmux.wait_for("ticks while wrapped", Duration::from_secs(10), |s| {
        last_tick(s) > seen + 3
    });
    tmux.keys(&["g", "g"]);
    tmux.wait_for(
        "the long line wrapped at the top",
        Duration::from_secs(5),
        |s| s.lines().filter(|l| l.contains(&"x".repeat(100))).count() > 5,
    );
    tmux.keys(&["w"]);

    // Pause: the lines stop moving and the waiting ones are counted.
    tmux.keys(&["G", "p"]);
    tmux.wait_for("paused with lines waiting", Duration::from_secs(10), |s| {
        s.contains("paused, ") && !s.contains("paused, 0 new")
    });
    tmux.keys(&["p"]);

    // The container goes: the view says so and keeps its lines.
    lab.engine(0).remove_container("printer").expect("remove");
    let screen = tmux.wait_text("stopped or went away", Duration::from_secs(30));
    assert!(last_tick(&screen) > 0, "{screen}");

    // Esc: back to the host view.
    tmux.keys(&["Escape"]);
    tmux.wait_for("the host view", Duration::from_secs(5), |s| {
        s.contains("┌ lab-1") && !s.contains("logs printer")
    });
    tmux.keys(&["q"]);
}
