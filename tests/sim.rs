//! The fleet simulator as a second backend (issue 12): the real supervisors, feed and
//! controller run unchanged against `wheelhouse lab sim`, which shows its answers have
//! the real shape. It also holds the fairness check: one slow engine delays no other
//! host's updates. The real-engine tests stay the proof of behaviour; this is the
//! simulator's.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::CreateContainerOptions;
use common::lab::{Controller, ctl_ok, spec_file, wait_until};
use common::pictures::until;
use common::sim::Sim;
use std::path::Path;
use std::time::{Duration, Instant};
use wheelhouse::cluster::{ClusterState, HostState, Metrics};
use wheelhouse::config::Config;
use wheelhouse::feed::{Feed, Stats};

fn feed(config: &Path, stats: Stats) -> Feed {
    Feed::start(&Config::load(Some(config)).unwrap(), stats)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screens_read_simulated_engines_and_agents_like_real_ones() {
    let sim = tokio::task::block_in_place(|| Sim::up(6, 18));
    let feed = feed(&sim.config(), Stats::With);
    let mut rx = feed.snapshots().await.unwrap();
    let seen = until(&mut rx, "every host online with agent figures", |c| {
        c.hosts.len() == 6
            && c.hosts.iter().all(|h| {
                h.state == HostState::Online
                    && h.metrics
                        == Metrics::Agent {
                            source: "simulated".into(),
                        }
                    && h.containers.len() == 3
                    && h.containers.iter().all(|c| c.cpu_percent.is_some())
            })
    })
    .await;
    let host = &seen.hosts[0];
    assert_eq!(host.info.as_ref().map(|i| i.ncpu), Some(8));
    assert_eq!(host.spec.zone.as_deref(), Some("a"));
    assert!(host.load().is_some());

    // Its agent serves history as the host view reads it: the host's and a container's
    // CPU over the last minute, from the load model, with what is not simulated a 404.
    let agent = &seen.agents[host.name()].address;
    let http = wheelhouse::agent::client::http_client().unwrap();
    let now = wheelhouse::agent::now_ms();
    let container = &host.containers[0].id;
    for target in ["host", container.as_str()] {
        let reply = wheelhouse::agent::client::series(
            &http,
            agent,
            target,
            "cpu_percent",
            now - 60_000,
            5000,
        )
        .await
        .unwrap();
        let values: Vec<f64> = reply.points.iter().filter_map(|p| p.value).collect();
        assert!(!values.is_empty(), "{target}: {reply:?}");
        assert!(values.iter().all(|v| *v > 0.0), "{target}: {reply:?}");
    }
    let unknown =
        wheelhouse::agent::client::series(&http, agent, "nope", "cpu_percent", now, 5000).await;
    assert!(
        unknown.unwrap_err().to_string().contains("404"),
        "an unknown target is a 404"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slow_engine_delays_no_other_hosts_updates() {
    let sim = tokio::task::block_in_place(|| Sim::up(6, 6));
    let feed = feed(&sim.config(), Stats::Without);
    let mut rx = feed.snapshots().await.unwrap();
    until(&mut rx, "every host online", |c| {
        c.hosts.len() == 6 && c.hosts.iter().all(|h| h.state == HostState::Online)
    })
    .await;
    tokio::task::block_in_place(|| sim.act(&["slow", "--hosts", "1", "--delay", "5s"]));
    // The slow engine is slow: a ping takes its five seconds.
    let began = Instant::now();
    sim.engine(1).ping().await.unwrap();
    assert!(
        began.elapsed() >= Duration::from_millis(4900),
        "{:?}",
        began.elapsed()
    );
    // Meanwhile a new container on each other engine shows within the usual delay.
    let began = Instant::now();
    for n in 2..=6 {
        let options = CreateContainerOptions {
            name: Some(format!("new-{n}")),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some("wheelhouse/demo:1".into()),
            ..Default::default()
        };
        let docker = sim.engine(n);
        let id = docker
            .create_container(Some(options), body)
            .await
            .unwrap()
            .id;
        docker.start_container(&id, None).await.unwrap();
    }
    until(&mut rx, "the new containers of the fast hosts", |c| {
        (2..=6).all(|n| {
            let host = format!("sim-{n:04}");
            c.hosts.iter().any(|h| {
                h.name() == host && h.containers.iter().any(|x| x.name == format!("new-{n}"))
            })
        })
    })
    .await;
    let fast = began.elapsed();
    assert!(fast < Duration::from_secs(3), "{fast:?}");
    // And the slow one's own change takes its delay, so the check above could fail.
    let began = Instant::now();
    let body = ContainerCreateBody {
        image: Some("wheelhouse/demo:1".into()),
        ..Default::default()
    };
    let options = CreateContainerOptions {
        name: Some("new-1".into()),
        ..Default::default()
    };
    sim.engine(1)
        .create_container(Some(options), body)
        .await
        .unwrap();
    assert!(began.elapsed() >= Duration::from_millis(4900));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_engine_goes_offline_and_its_return_is_seen() {
    let sim = tokio::task::block_in_place(|| Sim::up(3, 3));
    let feed = feed(&sim.config(), Stats::With);
    let mut rx = feed.snapshots().await.unwrap();
    let online = |c: &ClusterState, name: &str| {
        c.hosts
            .iter()
            .any(|h| h.name() == name && h.state == HostState::Online)
    };
    until(&mut rx, "all online", |c| {
        c.hosts.len() == 3 && c.hosts.iter().all(|h| h.state == HostState::Online)
    })
    .await;
    tokio::task::block_in_place(|| sim.act(&["vanish", "--hosts", "2"]));
    let gone = until(&mut rx, "sim-0002 offline", |c| {
        c.hosts
            .iter()
            .any(|h| h.name() == "sim-0002" && matches!(h.state, HostState::Offline { .. }))
    })
    .await;
    assert!(online(&gone, "sim-0001") && online(&gone, "sim-0003"));
    tokio::task::block_in_place(|| sim.act(&["return", "--hosts", "2"]));
    until(&mut rx, "sim-0002 back with its container and agent", |c| {
        c.hosts.iter().any(|h| {
            h.name() == "sim-0002"
                && h.state == HostState::Online
                && h.containers.len() == 1
                && matches!(h.metrics, Metrics::Agent { .. })
        })
    })
    .await;
}

#[test]
fn the_controller_places_heals_and_counts_on_simulated_engines() {
    let sim = Sim::up(6, 0);
    let config = sim.config();
    let spec = spec_file(
        sim.dir.path(),
        "web.toml",
        "name = \"web\"\nimage = \"wheelhouse/demo:1\"\ninstances = 24\n",
    );
    ctl_ok(&config, &["apply", "-f", &spec.to_string_lossy()]);
    let _controller = Controller::start(&config, &sim.dir.path().join("controller.log"));
    let running = || {
        let out = ctl_ok(&config, &["status", "-o", "json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let app = v["apps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "web")
            .cloned()
            .unwrap();
        (app["running"].as_u64().unwrap(), app)
    };
    wait_until("24 web instances run", Duration::from_secs(60), || {
        let (n, app) = running();
        (n != 24).then(|| format!("{n} run: {app}"))
    });
    // Two engines vanish: after the grace (10 s) their instances run on the other four.
    sim.act(&["vanish", "--hosts", "1-2"]);
    wait_until(
        "24 web instances on the four hosts left",
        Duration::from_secs(60),
        || {
            let (n, app) = running();
            let hosts = app["hosts"].to_string();
            let on_gone = hosts.contains("sim-0001") || hosts.contains("sim-0002");
            (n != 24 || on_gone).then(|| format!("{n} run: {app}"))
        },
    );
}
