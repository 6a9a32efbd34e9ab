//! An agent across an etcd outage longer than its lease (10 s): it keeps serving its API
//! meanwhile, registers `/agents/<host>` again under a new lease once etcd is back (the
//! record outlives the old lease's expiry), and a screen's feed stays on it throughout.
//! The stream count is the whole process's: keep this the binary's only test.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::etcd::client;
use common::lab::{BIN, IDLE, shell};
use common::pictures::{until, wait_for};
use std::path::Path;
use std::time::{Duration, Instant};
use wheelhouse::agent::client::{self as agent, Clients};
use wheelhouse::cluster::{EtcdState, Metrics};
use wheelhouse::config::Config;
use wheelhouse::feed::{Feed, Stats};
use wheelhouse::lab::TestLab;
use wheelhouse::store;

/// The lease `/agents/lab-1` is held under now, if the key is there.
async fn agent_lease(etcd: &mut etcd_client::Client, key: &str) -> Option<i64> {
    let resp = etcd.get(key, None).await.ok()?;
    resp.kvs().first().map(|kv| kv.lease())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_registers_again_after_etcd_was_gone_longer_than_its_lease() {
    let mut lab = tokio::task::block_in_place(|| TestLab::up_with_agents(1, Path::new(BIN)))
        .unwrap_or_else(|e| panic!("lab up: {e}"));
    let idle = shell(IDLE, &[], false);
    tokio::task::block_in_place(|| lab.engine(0).run("idle-1", idle)).unwrap();
    let config = Config::load(Some(&lab.config_path())).expect("lab config");
    let key = format!("{}lab-1", store::agents_dir(&config.prefix));
    let mut etcd = client(&lab.etcd_endpoint()).await;
    let first = agent_lease(&mut etcd, &key)
        .await
        .expect("registered at lab up");

    let feed = Feed::start(&config, Stats::With);
    let mut pictures = feed.snapshots().await.expect("snapshots");
    let on_agent = |c: &wheelhouse::cluster::ClusterState| {
        let lab1 = c.host("lab-1").expect("lab-1");
        matches!(lab1.metrics, Metrics::Agent { .. })
            && lab1.containers.iter().any(|c| c.mem_bytes.is_some())
    };
    until(&mut pictures, "lab-1 on its agent", on_agent).await;

    // etcd stops for 15 s, past the agent's 10 s lease: the agent serves all along.
    let base = lab.agent_url(0).expect("lab-1's agent");
    let http = Clients::default().for_agent(&base, None).unwrap();
    let stopped = Instant::now();
    tokio::task::block_in_place(|| lab.stop_etcd()).expect("stop etcd");
    until(&mut pictures, "the feed seeing etcd gone", |c| {
        matches!(c.etcd, EtcdState::Unreachable { .. })
    })
    .await;
    while stopped.elapsed() < Duration::from_secs(15) {
        let summary = agent::summary(&http, &base).await;
        assert!(summary.is_ok(), "the agent stopped serving: {summary:?}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(
        on_agent(&pictures.borrow()),
        "the feed left the agent during the outage"
    );

    // `lab up` brings etcd back: the agent registers again, under a new lease.
    let repaired = tokio::task::block_in_place(|| lab.repair()).expect("lab up repairs");
    let only_etcd = !repaired.is_empty() && repaired.iter().all(|p| p.starts_with("etcd"));
    assert!(only_etcd, "only etcd was down: {repaired:?}");
    let back = Instant::now();
    let mut etcd = client(&lab.etcd_endpoint()).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let second = loop {
        match agent_lease(&mut etcd, &key).await {
            Some(lease) if lease != first => break lease,
            _ => assert!(Instant::now() < deadline, "not registered again in 30 s"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    eprintln!("registered again {:?} after etcd was back", back.elapsed());
    // The old lease, refreshed by etcd's restart, expires unrenewed: the record stays.
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(agent_lease(&mut etcd, &key).await, Some(second));
    let ttl = etcd.lease_time_to_live(second, None).await.unwrap();
    assert!(ttl.ttl() > 0, "the new lease is kept alive: {}", ttl.ttl());

    // The feed has etcd and the agent back, and reads the agent's figures.
    until(&mut pictures, "etcd back and lab-1 on its agent", |c| {
        matches!(c.etcd, EtcdState::Connected { .. })
            && c.agents.contains_key("lab-1")
            && on_agent(c)
    })
    .await;
    wait_for("no stats streams while the agent answers", || {
        wheelhouse::docker::Supervisor::stats_streams() == 0
    })
    .await;
    drop(feed);
    drop(lab);
}
