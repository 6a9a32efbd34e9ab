//! Logs resume after an engine drop without a line twice, on a real lab: a container
//! (restarted by its engine) prints `tick N` every 100 ms, N counting on across its
//! restarts; `ctl logs -f` and the cockpit's logs view follow it; the lab's dockerd is
//! killed (SIGKILL) and started again. Both say the engine was lost, both go on past it,
//! their numbers only ever grow, and what -f printed is what the engine kept, line for line.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::follow::{Follow, last_number, ticker, ticks};
use common::lab::{ctl_ok, shell};
use common::tmux::Tmux;
use std::time::Duration;
use wheelhouse::lab::TestLab;

/// The `tick N` numbers on a screen, top to bottom.
fn screen_ticks(screen: &str) -> Vec<u64> {
    let lines: Vec<String> = (screen.lines())
        .filter(|l| l.trim_start().starts_with("tick "))
        .map(str::to_owned)
        .collect();
    ticks(&lines)
}

fn strictly_increasing(numbers: &[u64]) -> bool {
    numbers.windows(2).all(|w| w[0] < w[1])
}

#[test]
fn an_engine_drop_during_follow_repeats_nothing() {
    let mut lab = TestLab::up(1).expect("lab up");
    let config = lab.config_path();
    lab.engine(0)
        .run("ticker", shell(&ticker("0.1"), &[], true))
        .expect("run");
    let follow = Follow::start(&config, &["ticker"]);
    follow.wait_line("ten ticks", Duration::from_secs(15), |l| l == "tick 10");
    let tmux = Tmux::start("logs-resume", 100, 30);
    tmux.run_cockpit(&config, &lab.dir().join("e2e-logs-resume.log"));
    tmux.open_lab_1("ticker");
    tmux.keys(&["l"]);
    tmux.wait_text("logs ticker", Duration::from_secs(5));
    let before = tmux.wait_for("ticks in the view", Duration::from_secs(10), |s| {
        screen_ticks(s).len() > 5
    });
    assert!(strictly_increasing(&screen_ticks(&before)), "{before}");

    lab.kill_host(0).expect("kill dockerd");
    tmux.wait_text("retrying", Duration::from_secs(15));
    lab.start_host(0).expect("start dockerd");
    let followed_before = ticks(&follow.lines()).last().copied().unwrap_or(0);
    let viewed_before = last_number(tmux.screen().lines(), "tick ");

    // Both go on well past where they were, and never back.
    follow.wait_line("-f after the restart", Duration::from_secs(40), |l| {
        ticks(&[l.to_owned()])
            .first()
            .is_some_and(|&n| n > followed_before + 20)
    });
    // Taken soon after it resumed, the view shows lines from both sides of the drop.
    let after = tmux.wait_for("the view after the restart", Duration::from_secs(40), |s| {
        screen_ticks(s)
            .last()
            .is_some_and(|&n| n > viewed_before + 5)
    });
    let shown = screen_ticks(&after);
    assert!(shown.len() > 20, "{after}");
    assert!(strictly_increasing(&shown), "{after}");
    tmux.keys(&["Escape", "q"]);

    let followed = ticks(&follow.lines());
    assert!(follow.said("retrying"), "-f did not notice the drop");
    drop(follow);
    assert!(strictly_increasing(&followed), "{followed:?}");
    let gap = followed.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    println!(
        "-f: {} lines, ticks {}..={}, largest step {gap} (lines the engine lost while down)",
        followed.len(),
        followed[0],
        followed.last().unwrap()
    );
    // What the engine itself kept (lines printed while no engine ran are lost there too).
    let kept: Vec<String> = (ctl_ok(&config, &["logs", "ticker"]).lines())
        .map(str::to_owned)
        .collect();
    let (first, last) = (followed[0], *followed.last().unwrap());
    let expected: Vec<u64> = (ticks(&kept).into_iter())
        .filter(|n| (first..=last).contains(n))
        .collect();
    assert_eq!(
        followed, expected,
        "followed lines differ from the engine's"
    );
}
