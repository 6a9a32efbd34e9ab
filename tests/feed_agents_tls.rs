//! A screen's feed on a lab whose engines and agents speak mutual TLS (`lab up --tls`):
//! each agent is read with its host's TLS files, so the engines serve no stats streams;
//! a config that names no files for an https agent falls back to the engine's stats and
//! says why.
//! The stream count is the whole process's: keep this the binary's only test.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::lab::{BIN, IDLE, shell};
use common::pictures::{until, wait_for};
use std::path::Path;
use wheelhouse::agent::client::{self, Clients};
use wheelhouse::cluster::Metrics;
use wheelhouse::config::Config;
use wheelhouse::docker::Supervisor;
use wheelhouse::feed::{Feed, Stats};
use wheelhouse::lab::TestLab;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_agents_are_read_with_the_hosts_files_and_without_them_the_reason_shows() {
    let lab = tokio::task::block_in_place(|| TestLab::up_tls_with_agents(2, Path::new(BIN)))
        .unwrap_or_else(|e| panic!("lab up: {e}"));
    for (i, name) in [(0, "idle-1"), (1, "idle-2")] {
        let idle = shell(IDLE, &[], false);
        tokio::task::block_in_place(|| lab.engine(i).run(name, idle)).unwrap();
    }
    let config = Config::load(Some(&lab.config_path())).expect("lab config");
    assert!(config.hosts.iter().all(|h| h.tls.is_some()), "{config:?}");

    // The client files of the engine connection read the agent's summary.
    let base = lab.agent_url(0).expect("lab-1's agent");
    assert!(base.starts_with("https://"), "{base}");
    let clients = Clients::default();
    let http = clients
        .for_agent(&base, config.hosts[0].tls.as_ref())
        .unwrap();
    let summary = client::summary(&http, &base).await.unwrap();
    assert!(summary.source.starts_with("cgroup"), "{}", summary.source);

    let feed = Feed::start(&config, Stats::With);
    let mut pictures = feed.snapshots().await.expect("snapshots");
    let picture = until(&mut pictures, "both hosts on their TLS agents", |c| {
        c.hosts.iter().all(|h| {
            matches!(&h.metrics, Metrics::Agent { source } if source.starts_with("cgroup"))
                && h.containers
                    .iter()
                    .any(|c| c.mem_bytes.is_some_and(|m| m > 0))
        })
    })
    .await;
    assert_eq!(picture.hosts.len(), 2);
    wait_for("no stats streams while the TLS agents answer", || {
        Supervisor::stats_streams() == 0
    })
    .await;
    drop(feed);
    wait_for("the first feed's supervisors gone", || {
        Supervisor::stats_streams() == 0
    })
    .await;

    // The same lab with lab-1 reached on its unix socket and no TLS files: its https agent
    // cannot be read, the engine's stats stand in and the reason names the missing files.
    let mut plain = config.clone();
    plain.hosts[0].engine = lab.hosts()[0].engine.clone();
    plain.hosts[0].tls = None;
    let feed = Feed::start(&plain, Stats::With);
    let mut pictures = feed.snapshots().await.expect("snapshots");
    until(&mut pictures, "lab-1 on engine stats saying why, lab-2 on its agent", |c| {
        let lab1 = c.host("lab-1").expect("lab-1");
        let lab2 = c.host("lab-2").expect("lab-2");
        matches!(&lab1.metrics, Metrics::Fallback { error } if error.contains("names no TLS files"))
            && lab1.containers.iter().all(|c| c.cpu_percent.is_some())
            && matches!(lab2.metrics, Metrics::Agent { .. })
    })
    .await;
    wait_for("one stats stream, for lab-1's container", || {
        Supervisor::stats_streams() == 1
    })
    .await;
    drop(feed);
    drop(lab);
}
