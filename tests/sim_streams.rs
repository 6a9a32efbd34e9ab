//! At start a screen's feed opens no per-container stats stream for hosts whose agents
//! are registered: it reads the agents' records first. Shown on the fleet simulator,
//! whose 200 engines answer their first list before etcd's records are read (on a real
//! lab of two engines the order is the other way round, so the check could not fail
//! there). The stream count is the whole process's: keep this the binary's only test.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::pictures::until;
use common::sim::Sim;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use wheelhouse::cluster::Metrics;
use wheelhouse::config::Config;
use wheelhouse::docker::Supervisor;
use wheelhouse::feed::{Feed, Stats};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_stats_stream_opens_for_hosts_whose_agents_are_registered() {
    let sim = tokio::task::block_in_place(|| Sim::up(200, 400));
    let most = Arc::new(AtomicUsize::new(0));
    let sampler = tokio::spawn({
        let most = Arc::clone(&most);
        async move {
            loop {
                most.fetch_max(Supervisor::stats_streams(), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    });
    let config = Config::load(Some(&sim.config())).unwrap();
    let feed = Feed::start(&config, Stats::With);
    let mut pictures = feed.snapshots().await.unwrap();
    until(&mut pictures, "every host on its agent with figures", |c| {
        c.hosts.len() == 200
            && c.hosts.iter().all(|h| {
                matches!(h.metrics, Metrics::Agent { .. })
                    && h.containers.len() == 2
                    && h.containers.iter().all(|c| c.cpu_percent.is_some())
            })
    })
    .await;
    sampler.abort();
    drop(feed);
    drop(sim);
    assert_eq!(
        most.load(Ordering::SeqCst),
        0,
        "stats streams opened at start"
    );
}
