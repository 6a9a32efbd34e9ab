//! The real binary in tmux on a lab whose hosts run agents: a host's view says its figures
//! come from the agent, draws the CPU sparkline and the selected container's charts from
//! the agent's history, switches the chart's window with `c`, and says so when the agent
//! stops answering (the engine's stats stand in).

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::lab::BIN;
use common::tmux::{Tmux, quote};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use wheelhouse::lab::TestLab;

#[test]
fn a_hosts_view_draws_its_agents_history_and_falls_back_when_it_stops() {
    let lab = TestLab::up_with_agents(1, Path::new(BIN)).expect("lab up");
    let socket = lab.hosts()[0].socket.display().to_string();
    let docker = |args: &[&str]| {
        let out = Command::new("docker")
            .args(["--host", &format!("unix://{socket}")])
            .args(args)
            .output()
            .expect("docker CLI");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let image = format!("{}:1", wheelhouse::lab::DEMO_REPO);
    docker(&[
        "run",
        "-d",
        "--name",
        "spinner",
        "--network",
        "none",
        "--entrypoint",
        "/bin/sh",
        &image,
        "-c",
        "while :; do :; done",
    ]);

    let tmux = Tmux::start("host-charts", 160, 40);
    tmux.run_line(&format!(
        "{} --config {} --log-file {}",
        quote(BIN.as_ref()),
        quote(&lab.config_path()),
        quote(&lab.dir().join("e2e-host-charts.log")),
    ));
    tmux.wait_for("the grid", Duration::from_secs(30), |s| s.contains("lab-1"));
    tmux.keys(&["Enter"]);
    // The spinner keeps a core as busy as the machine lets it: its CPU sparkline (the
    // row's last column, a full bar at one core) rises above the idle bars (▁▂), which is
    // all an idle container draws.
    let busy_row = |s: &str| {
        let high = ['▃', '▄', '▅', '▆', '▇', '█'];
        (s.lines()).any(|l| l.contains("▶ spinner") && l.contains(high))
    };
    tmux.wait_for("the agent's charts", Duration::from_secs(60), |s| {
        s.contains("metrics agent (cgroup-v1)") && s.contains("spinner CPU, 1 m") && busy_row(s)
    });
    tmux.keys(&["c"]);
    tmux.wait_for("the 10-minute window", Duration::from_secs(15), |s| {
        s.contains("spinner CPU, 10 m")
    });

    // The agent stops: the view says the engine's stats stand in.
    let agent = lab.agent(0).expect("lab-1's agent");
    let killed = Command::new("kill")
        .arg(agent.pid.to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    tmux.wait_for("the fallback", Duration::from_secs(40), |s| {
        s.contains("metrics engine stats") && !s.contains("spinner CPU, 10 m")
    });
    tmux.keys(&["q"]);
}
