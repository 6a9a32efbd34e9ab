//! Self-healing of unhealthy instances, surplus removal that keeps GROUP_BY when a host
//! returns, and registration of apps without ports (address bases 66, 67 and 68).

use super::support::*;
use bollard::Docker;
use std::time::{Duration, Instant};
use wheelhouse::config::Config;
use wheelhouse::controller::{self, ControllerOptions};
use wheelhouse::domain::app::{AppSpec, HealthCheck, Probe};
use wheelhouse::lab::TestLab;
use wheelhouse::store;

/// The running containers of `app`: (engine index, container id).
async fn containers(engines: &[Docker], app: &str) -> Vec<(usize, String)> {
    let list = labelled(engines, &format!("wheelhouse.app={app}")).await;
    list.into_iter()
        .filter_map(|(i, c)| Some((i, c.id?)))
        .collect()
}

/// A controller in this process, with `opts`, over `lab`.
fn spawn_controller(
    rt: &tokio::runtime::Runtime,
    lab: &TestLab,
    opts: ControllerOptions,
) -> tokio::task::JoinHandle<color_eyre::Result<()>> {
    let config = Config::load(Some(&lab.config_path())).expect("lab config");
    rt.spawn(controller::run(config, opts))
}

/// demo:broken fails its HTTP probe from the start: with `replace_after = 2s` and
/// `crash_restarts = 2`, its one instance is replaced after 2 s, the next after 4 s (the
/// grace doubles per replacement), the next after 8 s. The second replacement counts as a
/// crash loop: the host it left is avoided, so the third starts elsewhere. A replacement's
/// start may overlap its predecessor's stop, so two may run for a moment, never more, and
/// none is ever registered.
#[test]
fn unhealthy_instances_are_replaced_with_backoff_then_moved() {
    let _heavy = heavy();
    logs();
    let lab = TestLab::up(2).expect("lab up");
    let rt = runtime();
    let opts = ControllerOptions {
        crash_restarts: 2,
        crash_penalty: Duration::from_secs(60),
        ..ControllerOptions::default()
    };
    let controller = spawn_controller(&rt, &lab, opts);
    let engines = rt.block_on(engines(&lab));
    let mut client = rt.block_on(etcd(&lab));
    let grace = Duration::from_secs(2);
    let mut sick = demo("sick", "wheelhouse/demo:broken", 1);
    sick.health = Some(HealthCheck {
        interval: Duration::from_millis(500),
        retries: 2,
        replace_after: grace,
        ..HealthCheck::new(Probe::Http("/health".into()))
    });

    rt.block_on(async {
        apply(&mut client, &sick).await;
        // Each container as it first shows: (when, engine, id).
        let mut seen: Vec<(Instant, usize, String)> = Vec::new();
        let start = Instant::now();
        while seen.len() < 4 {
            // 14 s of grace, plus health checks and controller rounds on a loaded machine.
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "not replaced three times within 120 s: {seen:?}"
            );
            let now = containers(&engines, "sick").await;
            assert!(
                now.len() <= 2,
                "more instances than a replacement needs: {now:?}"
            );
            assert_unregistered(&mut client, "sick").await;
            for (engine, id) in now {
                if !seen.iter().any(|(_, _, s)| *s == id) {
                    eprintln!("{:?}: {id:.12} on lab-{}", start.elapsed(), engine + 1);
                    seen.push((Instant::now(), engine, id));
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Never more often than the backoff allows: a replacement has to be unhealthy for
        // the doubled grace before it is replaced in turn (less one poll of slack).
        for (k, pair) in seen.windows(2).enumerate() {
            let gap = pair[1].0.duration_since(pair[0].0);
            let wait = grace * (1 << k);
            assert!(
                gap + Duration::from_millis(300) >= wait,
                "replacement {} came {gap:?} after the one before, under its {wait:?} grace",
                k + 1
            );
        }
        // The host the second replacement left was avoided when the third was placed.
        assert_ne!(seen[3].1, seen[1].1, "not moved off its host: {seen:?}");
        // The count is one again.
        wait_until(Duration::from_secs(10), "one sick instance", || async {
            let n = containers(&engines, "sick").await.len();
            (n == 1).then_some(()).ok_or(format!("{n} running"))
        })
        .await;
    });
    controller.abort();
}

/// Instances of an app without ports are registered all the same, with no port.
#[test]
fn instances_of_an_app_without_ports_are_registered() {
    logs();
    let lab = TestLab::up(1).expect("lab up");
    let rt = runtime();
    let controller = spawn_controller(&rt, &lab, ControllerOptions::default());
    let engines = rt.block_on(engines(&lab));
    let mut client = rt.block_on(etcd(&lab));
    let mut worker = AppSpec::new("worker", "wheelhouse/demo:1");
    worker.instances = 2;
    worker.command = Some(vec![
        "sh".into(),
        "-c".into(),
        "trap 'exit 0' TERM; while :; do sleep 1; done".into(),
    ]);
    worker.health = Some(HealthCheck {
        interval: Duration::from_millis(500),
        ..HealthCheck::new(Probe::Command(vec![
            "sh".into(),
            "-c".into(),
            "exit 0".into(),
        ]))
    });

    rt.block_on(async {
        apply(&mut client, &worker).await;
        let took = wait_until(Duration::from_secs(30), "2 worker endpoints", || async {
            let mut c = client.clone();
            let eps = store::list_endpoints(&mut c, PREFIX, "worker")
                .await
                .map_err(|e| e.to_string())?;
            (eps.len() == 2).then_some(()).ok_or(format!("{eps:?}"))
        })
        .await;
        eprintln!("2 port-less instances registered after {took:?}");
        let eps = store::list_endpoints(&mut client, PREFIX, "worker")
            .await
            .expect("endpoints");
        let mut running: Vec<String> = containers(&engines, "worker")
            .await
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        running.sort();
        let mut registered: Vec<String> = eps.values().map(|e| e.container.clone()).collect();
        registered.sort();
        assert_eq!(
            registered, running,
            "each running instance, by its container"
        );
        for e in eps.values() {
            assert_eq!(e.port, None, "{e:?}");
            assert_eq!(e.host, "lab-1");
            assert_eq!(e.address, lab.hosts()[0].address);
        }
    });
    controller.abort();
}

/// GROUP_BY zone over lab-1..3 (zones a, b, c), one instance each. lab-3 dies: its
/// instance is replaced in zone a or b. When lab-3 returns with its instance (restarted
/// by Docker, its health not yet proven), the surplus comes from the zone that holds two,
/// so zone c keeps its instance (address base 66).
#[test]
fn a_returning_host_keeps_its_zones_instance_under_group_by() {
    let _heavy = heavy();
    logs();
    let mut lab = TestLab::up(3).expect("lab up");
    let opts = ControllerOptions {
        grace: Duration::from_secs(3),
        ..ControllerOptions::default()
    };
    let rt = runtime();
    let controller = spawn_controller(&rt, &lab, opts);
    let engines = rt.block_on(engines(&lab));
    let mut client = rt.block_on(etcd(&lab));
    let mut zoned = web(3);
    zoned.name = "zoned".into();
    // Docker starts it again with lab-3's engine: it returns running, still unproven.
    zoned.restart = wheelhouse::domain::app::RestartPolicy::Always;
    zoned.constraints =
        vec![wheelhouse::domain::app::Constraint::parse(&["zone", "GROUP_BY"]).expect("valid")];
    let per_host = |engines: Vec<Docker>| async move {
        let s = spread(&engines, "zoned").await;
        s.iter().map(Vec::len).collect::<Vec<usize>>()
    };
    rt.block_on(async {
        apply(&mut client, &zoned).await;
        wait_until(Duration::from_secs(40), "one per zone", || async {
            let n = per_host(engines.clone()).await;
            (n == [1, 1, 1]).then_some(()).ok_or(format!("{n:?}"))
        })
        .await;
    });
    lab.kill_host(2).expect("kill lab-3");
    rt.block_on(async {
        wait_until(Duration::from_secs(30), "3 on lab-1 and lab-2", || async {
            let n = per_host(engines[..2].to_vec()).await;
            (n.iter().sum::<usize>() == 3)
                .then_some(())
                .ok_or(format!("{n:?}"))
        })
        .await;
    });
    lab.start_host(2).expect("restart lab-3");
    rt.block_on(async {
        wait_until(Duration::from_secs(40), "exactly 3 again", || async {
            let n = per_host(engines.clone()).await;
            (n.iter().sum::<usize>() == 3 && n[2] > 0)
                .then_some(())
                .ok_or(format!("{n:?}"))
        })
        .await;
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let n = per_host(engines.clone()).await;
            assert_eq!(n, [1, 1, 1], "one instance per zone, lab-3's kept");
        }
    });
    controller.abort();
}
