//! An app's merged logs follow scaling, on a real lab (etcd, two dockerd, a controller):
//! `talk` prints numbered lines; its logs open in the cockpit in tmux (`l` on the app) and
//! in `ctl logs talk -f`; scaled to 2 through `ctl`, the new instance joins both streams
//! under its own tag; scaled back to 1, the one removed is said to leave and the other's
//! lines go on.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::follow::{Follow, last_number};
use common::lab::{Controller, ctl, ctl_ok, spec_file, wait_until};
use common::tmux::Tmux;
use std::time::Duration;
use wheelhouse::lab::TestLab;

/// `talk`: one instance printing `said N` every 300 ms; a check that always passes stands
/// in for the demo image's HTTP one (it serves nothing).
const TALK: &str = r#"name = "talk"
image = "wheelhouse/demo:1"
instances = 1
command = ["/bin/sh", "-c", "trap 'exit 0' TERM; n=0; while true; do n=$((n+1)); echo \"said $n\"; sleep 0.3; done"]
[health]
command = ["/bin/true"]
"#;

/// The highest `said N` of instance `tag`, in lines that start with its tag: `ctl logs`
/// writes "talk.1 | said 3", the cockpit "talk.1   said 3" (the tag in its colour).
fn last_said(text: &str, tag: &str) -> u64 {
    let own = (text.lines()).filter(|l| l.trim_start().starts_with(&format!("{tag} ")));
    last_number(own, "said ")
}

#[test]
fn instances_join_and_leave_the_merged_logs_as_the_app_scales() {
    let lab = TestLab::up(2).expect("lab up");
    let config = lab.config_path();
    let spec = spec_file(lab.dir(), "talk.toml", TALK);
    ctl_ok(&config, &["apply", "-f", &spec.to_string_lossy()]);
    let _controller = Controller::start(&config, &lab.dir().join("controller.log"));
    wait_until("talk.1 prints", Duration::from_secs(60), || {
        // Until its container exists, talk is no name ctl logs knows.
        let out = ctl(&config, &["logs", "talk"]);
        (last_said(&out.stdout, "talk.1") < 2).then(|| out.stdout + &out.stderr)
    });

    let follow = Follow::start(&config, &["talk"]);
    let tmux = Tmux::start("logs-scale", 120, 30);
    tmux.run_cockpit(&config, &lab.dir().join("e2e-logs-scale.log"));
    tmux.wait_text("apps (1)", Duration::from_secs(20));
    // Tab to the Apps panel (talk, the only app), l: its instances merged.
    tmux.keys(&["Tab", "l"]);
    tmux.wait_text("logs talk", Duration::from_secs(5));
    let first = tmux.wait_for("talk.1's lines", Duration::from_secs(10), |s| {
        last_said(s, "talk.1") > 0
    });
    assert_eq!(last_said(&first, "talk.2"), 0, "{first}");

    // Scaled to 2: the new instance joins under its own tag, in the cockpit and in -f.
    ctl_ok(&config, &["scale", "talk", "2"]);
    let both = tmux.wait_for("talk.2's lines", Duration::from_secs(60), |s| {
        last_said(s, "talk.2") > 2
    });
    assert!(last_said(&both, "talk.1") > 0, "{both}");
    follow.wait_line("talk.2 in -f", Duration::from_secs(20), |l| {
        l.starts_with("talk.2 | said ")
    });
    assert!(follow.said("talk.2 joined ("), "{:?}", follow.err);

    // Back to 1: the one removed leaves, and the one kept goes on.
    ctl_ok(&config, &["scale", "talk", "1"]);
    let left = tmux.wait_for("an instance leaves", Duration::from_secs(60), |s| {
        s.contains(" left (talk.")
    });
    let (gone, kept) = if left.contains("talk.2 left") {
        ("talk.2", "talk.1")
    } else {
        ("talk.1", "talk.2")
    };
    let seen = last_said(&left, kept);
    let screen = tmux.wait_for("the kept instance goes on", Duration::from_secs(20), |s| {
        last_said(s, kept) > seen + 3
    });
    let gone_last = last_said(&screen, gone);
    wait_until("-f says it left", Duration::from_secs(20), || {
        (!follow.said(&format!("{gone} left ("))).then(|| follow.err.lock().unwrap().join("\n"))
    });
    let kept_now = last_said(&follow.lines().join("\n"), kept);
    follow.wait_line("-f goes on", Duration::from_secs(20), |l| {
        (l.strip_prefix(&format!("{kept} | said ")))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .is_some_and(|n| n > kept_now + 3)
    });
    // Nothing of the removed one comes after it left.
    std::thread::sleep(Duration::from_secs(2));
    assert!(last_said(&tmux.screen(), gone) <= gone_last);
    tmux.keys(&["Escape", "q"]);
}
