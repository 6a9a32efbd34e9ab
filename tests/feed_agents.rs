//! A screen's feed on a lab whose hosts run agents: the figures come from the agents
//! (cgroups), the engines serve no stats streams for them (restart counts still come from
//! an inspect), and when a host's agent stops its engine's stats take over again, the
//! screen saying which source each host uses.
//! The stream count is the whole process's: keep this the binary's only test.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::lab::{BIN, IDLE, shell};
use common::pictures::{until, wait_for};
use std::path::Path;
use wheelhouse::cluster::Metrics;
use wheelhouse::config::Config;
use wheelhouse::docker::Supervisor;
use wheelhouse::feed::{Feed, Stats};
use wheelhouse::lab::TestLab;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_come_from_the_agents_and_the_engines_stand_in_when_one_stops() {
    let lab = tokio::task::block_in_place(|| TestLab::up_with_agents(2, Path::new(BIN)))
        .unwrap_or_else(|e| panic!("lab up: {e}"));
    for (i, name) in [(0, "idle-1"), (1, "idle-2")] {
        let idle = shell(IDLE, &[], false);
        tokio::task::block_in_place(|| lab.engine(i).run(name, idle)).unwrap();
    }
    let config = Config::load(Some(&lab.config_path())).expect("lab config");
    let feed = Feed::start(&config, Stats::With);
    let mut pictures = feed.snapshots().await.expect("snapshots");

    // Both hosts read through their agents: figures for each container, no stats streams.
    let picture = until(
        &mut pictures,
        "both hosts on their agents with figures",
        |c| {
            c.hosts.iter().all(|h| {
                matches!(&h.metrics, Metrics::Agent { source } if source.starts_with("cgroup"))
                    && h.containers
                        .iter()
                        .any(|c| c.mem_bytes.is_some_and(|m| m > 0))
                    && h.containers.iter().all(|c| h.agent.contains_key(&c.id))
                // Restart counts still come from the engine (an inspect, no stream).
                && h.containers.iter().all(|c| c.restarts.is_some())
            })
        },
    )
    .await;
    assert_eq!(picture.hosts.len(), 2);
    wait_for("no stats streams while agents answer", || {
        Supervisor::stats_streams() == 0
    })
    .await;

    // lab-2's agent stops: its engine's stats take over, lab-1 stays on its agent.
    let agent = lab.agent(1).expect("lab-2's agent");
    let killed = std::process::Command::new("kill")
        .arg(agent.pid.to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let picture = until(&mut pictures, "lab-2 back on its engine's stats", |c| {
        let lab2 = c.host("lab-2").expect("lab-2");
        matches!(lab2.metrics, Metrics::Engine | Metrics::Fallback { .. })
            && lab2.containers.iter().all(|c| c.cpu_percent.is_some())
    })
    .await;
    assert!(matches!(
        picture.host("lab-1").expect("lab-1").metrics,
        Metrics::Agent { .. }
    ));
    wait_for("one stats stream, for lab-2's container", || {
        Supervisor::stats_streams() == 1
    })
    .await;
    drop(feed);
    drop(lab);
}
