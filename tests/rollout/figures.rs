//! The rollout benchmark (an ignored test; scripts/bench-rollout runs it): 12 instances on
//! 3 hosts rolled with surge 3, unavailable 0, min_ready 0, beside Docker Swarm's
//! `docker service update --image --update-parallelism 3` on one lab engine.

use super::helpers::app;
use super::support::*;
use bollard::Docker;
use bollard::query_parameters::ListContainersOptions;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use wheelhouse::domain::app::{AppSpec, HealthCheck, Probe};
use wheelhouse::lab::TestLab;
use wheelhouse::store;

const RUNS: usize = 3;

/// Running containers with `label`, on `image`, that Docker reports healthy.
async fn healthy(engines: &[Docker], label: &str, image: &str) -> usize {
    let mut n = 0;
    for d in engines {
        let options = ListContainersOptions {
            filters: Some(HashMap::from([
                ("label".to_owned(), vec![label.to_owned()]),
                ("health".to_owned(), vec!["healthy".to_owned()]),
            ])),
            ..Default::default()
        };
        let list = d.list_containers(Some(options)).await.unwrap_or_default();
        n += list
            .iter()
            .filter(|c| c.image.as_deref().is_some_and(|i| i.ends_with(image)))
            .count();
    }
    n
}

async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done().await {
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "{what}: too slow"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// The benchmark's app: 12 instances, surge 3, unavailable 0, min_ready 0; health from
/// the image's own HEALTHCHECK (as Swarm sees it) or, with `probe`, from wheelhouse's
/// HTTP probe every 500 ms.
fn bench_app(image: &str, probe: bool) -> AppSpec {
    let mut spec = app(image, 12);
    spec.name = "bench".into();
    spec.update.max_surge = wheelhouse::domain::app::Amount::Count(3);
    spec.update.min_ready = Duration::ZERO;
    spec.health = probe.then(|| HealthCheck {
        interval: Duration::from_millis(500),
        ..HealthCheck::new(Probe::Http("/health".into()))
    });
    spec
}

/// Rolls `bench` between demo:1 and demo:2 RUNS times; seconds per run.
async fn wheelhouse_runs(
    client: &mut etcd_client::Client,
    engines: &[Docker],
    probe: bool,
) -> Vec<f64> {
    let label = "wheelhouse.app=bench";
    apply(client, &bench_app("wheelhouse/demo:1", probe)).await;
    until("12 demo:1", async || {
        healthy(engines, label, "demo:1").await == 12
    })
    .await;
    let mut times = Vec::new();
    for run in 0..RUNS {
        let image = if run % 2 == 0 { "demo:2" } else { "demo:1" };
        let spec = bench_app(&format!("wheelhouse/{image}"), probe);
        let start = Instant::now();
        apply(client, &spec).await;
        until("rolled", async || {
            let mut c = client.clone();
            let n = if probe {
                let rev = wheelhouse::plan::labels::revision(&spec);
                store::list_endpoints(&mut c, PREFIX, "bench")
                    .await
                    .map_or(0, |eps| eps.values().filter(|e| e.revision == rev).count())
            } else {
                healthy(engines, label, image).await
            };
            let all = super::helpers::revisions(engines, "bench").await.len();
            n == 12 && all == 12
        })
        .await;
        times.push(start.elapsed().as_secs_f64());
    }
    delete(client, "bench").await;
    until("bench gone", async || {
        super::helpers::revisions(engines, "bench").await.is_empty()
    })
    .await;
    times
}

#[test]
#[ignore = "a benchmark: run with scripts/bench-rollout"]
fn figures() {
    let _heavy = heavy();
    let lab = TestLab::up(3).expect("lab up");
    let rt = runtime();
    let engines = rt.block_on(engines(&lab));
    let mut client = rt.block_on(etcd(&lab));
    let _controller = ControllerProcess::spawn(&lab, 1);
    rt.block_on(async {
        a_leader(&client).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    });

    let ours = rt.block_on(wheelhouse_runs(&mut client, &engines, false));
    println!(
        "figure: wheelhouse rolling update 12 on 3 hosts, surge 3, docker health = {:.2} s median of {ours:.2?}",
        median(ours.clone())
    );
    let probed = rt.block_on(wheelhouse_runs(&mut client, &engines, true));
    println!(
        "figure: wheelhouse rolling update 12 on 3 hosts, surge 3, HTTP probe 500 ms = {:.2} s median of {probed:.2?}",
        median(probed.clone())
    );

    // Docker Swarm on one lab engine: 12 replicas, each on its own port.
    let s1 = lab.hosts()[0].socket.clone();
    let addr = lab.hosts()[0].address.clone();
    swarm_bench_service(
        &s1,
        &addr,
        12,
        &["--update-parallelism", "3", "--update-delay", "0s"],
    );
    let label = "com.docker.swarm.service.name=bench";
    let one = &engines[..1];
    rt.block_on(until("swarm 12 demo:1", async || {
        healthy(one, label, "demo:1").await == 12
    }));
    let mut swarm = Vec::new();
    for run in 0..RUNS {
        let image = if run % 2 == 0 { "demo:2" } else { "demo:1" };
        let start = Instant::now();
        docker_cli(
            &s1,
            &[
                "service",
                "update",
                "--detach",
                "--no-resolve-image",
                "--update-parallelism",
                "3",
                "--image",
                &format!("wheelhouse/{image}"),
                "bench",
            ],
        );
        rt.block_on(until("swarm rolled", async || {
            let all = count_running(one, label).await;
            healthy(one, label, image).await == 12 && all == 12
        }));
        swarm.push(start.elapsed().as_secs_f64());
    }
    println!(
        "figure: docker service update --image --update-parallelism 3 (swarm, one engine, 12) = {:.2} s median of {swarm:.2?}",
        median(swarm.clone())
    );
    println!(
        "figure: wheelhouse (docker health) / swarm = {:.2}x",
        median(ours) / median(swarm)
    );
    docker_cli(&s1, &["service", "rm", "bench"]);
    docker_cli(&s1, &["swarm", "leave", "--force"]);
}
