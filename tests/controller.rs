//! The executor and the controller against a real lab.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "controller/figures.rs"]
mod figures;
#[path = "controller/healing.rs"]
mod healing;
#[path = "controller/records.rs"]
mod records;
#[path = "controller/support.rs"]
mod support;

use bollard::Docker;
use bollard::query_parameters::InspectContainerOptions;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use support::*;
use wheelhouse::config::Config;
use wheelhouse::controller::{self, ControllerOptions};
use wheelhouse::docker::{self, Done, EngineStep, ExecError, Limits};
use wheelhouse::domain::app::AppSpec;
use wheelhouse::lab::TestLab;
use wheelhouse::plan;
use wheelhouse::store;

#[test]
fn the_executor_starts_and_stops_real_containers() {
    let lab = TestLab::up(1).expect("lab up");
    let host = host_spec(&lab, 0);
    runtime().block_on(async {
        let docker = docker::connect(&host).await.expect("connect");
        let engines = HashMap::from([(host.name.clone(), docker.clone())]);
        let tags = docker::image_tags(&docker, &host.name)
            .await
            .expect("images");
        assert!(tags.contains("wheelhouse/demo:1"), "{tags:?}");

        let steps = starts(&[demo("web", "wheelhouse/demo:1", 3)], &host);
        assert_eq!(steps.len(), 3);
        let results = docker::execute(&engines, steps, Limits::default()).await;
        let mut ids = Vec::new();
        for r in &results {
            match &r.result {
                Ok(Done::Started { container }) => ids.push(container.clone()),
                other => panic!("{:?}: {other:?}", r.step),
            }
        }
        let names: Vec<String> = managed(&docker).await.into_iter().map(|c| c.0).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("web.")), "{names:?}");

        // Host network, $ADDRESS:$PORT, limits and labels as planned.
        let info = docker
            .inspect_container(&ids[0], None::<InspectContainerOptions>)
            .await
            .expect("inspect");
        let hc = info.host_config.expect("host config");
        assert_eq!(hc.network_mode.as_deref(), Some("host"));
        assert_eq!(hc.nano_cpus, Some(100_000_000));
        assert_eq!(hc.memory, hc.memory_swap);
        let labels = info.config.and_then(|c| c.labels).unwrap_or_default();
        assert_eq!(
            labels.get("wheelhouse.app").map(String::as_str),
            Some("web")
        );
        let port = labels.get("wheelhouse.port").cloned().expect("port label");
        let addr = format!("{}:{port}", lab.hosts()[0].address);
        let mut status = None;
        for _ in 0..50 {
            status = http_get(&addr, "/health");
            if status == Some(200) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(status, Some(200), "demo answers on {addr}");

        // An image no host has: a clear error and no container.
        let steps = starts(&[demo("ghost", "wheelhouse/demo:nope", 1)], &host);
        let results = docker::execute(&engines, steps, Limits::default()).await;
        match &results[0].result {
            Err(e @ ExecError::ImageMissing { image, .. }) => {
                assert_eq!(image, "wheelhouse/demo:nope");
                assert!(e.to_string().contains("never pulls"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(managed(&docker).await.len(), 3, "nothing half-started");

        // A command that cannot start (no such binary): removed again, error reported.
        let mut bad = demo("bad", "wheelhouse/demo:1", 1);
        bad.command = Some(vec!["/no/such/binary".into()]);
        let results = docker::execute(&engines, starts(&[bad], &host), Limits::default()).await;
        assert!(
            matches!(
                results[0].result,
                Err(ExecError::Engine { what: "start", .. })
            ),
            "{:?}",
            results[0].result
        );
        assert_eq!(
            managed(&docker).await.len(),
            3,
            "the failed container was removed"
        );

        // Stop: removed; stopping again is still fine (already gone).
        let listed = managed(&docker).await;
        let stop = |container: &str| {
            EngineStep::Stop(plan::Stop {
                app: "web".into(),
                instance: 1,
                host: host.name.clone(),
                container: container.to_owned(),
                name: String::new(),
                reason: plan::StopReason::Surplus,
            })
        };
        let steps: Vec<EngineStep> = ids.iter().map(|id| stop(id)).collect();
        let results = docker::execute(&engines, steps.clone(), Limits::default()).await;
        assert!(
            results.iter().all(|r| r.result == Ok(Done::Removed)),
            "{results:?}"
        );
        assert!(managed(&docker).await.is_empty(), "was {listed:?}");
        let again = docker::execute(&engines, steps, Limits::default()).await;
        assert!(again.iter().all(|r| r.result == Ok(Done::Removed)));

        // No engine for a host: an error per step, not a panic.
        let results = docker::execute(&HashMap::new(), vec![stop("x")], Limits::default()).await;
        assert!(matches!(results[0].result, Err(ExecError::NoEngine { .. })));
    });
}

#[test]
fn the_controller_places_heals_and_reports() {
    let _heavy = heavy();
    logs();
    let mut lab = TestLab::up(3).expect("lab up");
    let config = Config::load(Some(&lab.config_path())).expect("lab config");
    let opts = ControllerOptions {
        grace: Duration::from_secs(3),
        crash_penalty: Duration::from_secs(60),
        ..ControllerOptions::default()
    };
    let rt = runtime();
    let controller = rt.spawn(controller::run(config, opts));
    let engines = rt.block_on(engines(&lab));
    let mut client = rt.block_on(etcd(&lab));

    rt.block_on(async {
        apply(&mut client, &web(9)).await;
        let mut db = demo("db", "wheelhouse/demo:1", 2);
        db.machine_metadata = BTreeMap::from([("disk".to_owned(), vec!["ssd".to_owned()])]);
        apply(&mut client, &db).await;

        let took = wait_until(Duration::from_secs(40), "web 3/3/3, db on ssd", || async {
            let w = spread(&engines, "web").await;
            let d = spread(&engines, "db").await;
            let counts: Vec<usize> = w.iter().map(Vec::len).collect();
            let dbs: Vec<usize> = d.iter().map(Vec::len).collect();
            (counts == [3, 3, 3] && dbs == [1, 0, 1] && all_distinct(&w))
                .then_some(())
                .ok_or(format!("web {w:?}, db {d:?}"))
        })
        .await;
        eprintln!("9 + 2 instances placed in {took:?}");

        // Healthy instances are registered, each answering where it says.
        wait_until(Duration::from_secs(20), "9 web endpoints", || async {
            let mut c = client.clone();
            let eps = store::list_endpoints(&mut c, PREFIX, "web")
                .await
                .map_err(|e| e.to_string())?;
            (eps.len() == 9)
                .then_some(())
                .ok_or(format!("{} endpoints", eps.len()))
        })
        .await;
        let eps = store::list_endpoints(&mut client, PREFIX, "web")
            .await
            .expect("endpoints");
        for ep in eps.values().take(3) {
            let addr = format!("{}:{}", ep.address, ep.port.expect("web has a port"));
            assert_eq!(http_get(&addr, "/health"), Some(200), "{ep:?}");
        }

        // Instances failing their HTTP probe run, but are never registered.
        let mut broken = web(1);
        broken.name = "broken".into();
        broken.image = "wheelhouse/demo:broken".into();
        apply(&mut client, &broken).await;
        wait_until(Duration::from_secs(20), "broken running", || async {
            let n: usize = spread(&engines, "broken").await.iter().map(Vec::len).sum();
            (n == 1).then_some(()).ok_or(format!("{n} running"))
        })
        .await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_unregistered(&mut client, "broken").await;
        delete(&mut client, "broken").await;

        // An image no host has: a clear error in the audit trail, nothing created.
        apply(&mut client, &demo("ghost", "wheelhouse/demo:nope", 2)).await;
        wait_until(
            Duration::from_secs(20),
            "ghost's error in the audit trail",
            || async {
                let mut c = client.clone();
                let trail = store::list_audit(&mut c, PREFIX, 50)
                    .await
                    .map_err(|e| e.to_string())?;
                trail
                    .iter()
                    .any(|e| {
                        e.target == "ghost"
                            && e.result.contains("wheelhouse/demo:nope")
                            && e.result.contains("never pulls")
                    })
                    .then_some(())
                    .ok_or(format!("{trail:?}"))
            },
        )
        .await;
        for d in &engines {
            let any: Vec<(String, String)> = managed(d)
                .await
                .into_iter()
                .filter(|c| c.0.starts_with("ghost"))
                .collect();
            assert!(any.is_empty(), "half-started: {any:?}");
        }
        delete(&mut client, "ghost").await;
    });

    // A dead host's instances come back on the others within grace + a few seconds.
    lab.kill_host(2).expect("kill lab-3");
    rt.block_on(async {
        let took = wait_until(
            Duration::from_secs(25),
            "9 web on lab-1 and lab-2",
            || async {
                let w = spread(&engines[..2], "web").await;
                let d = spread(&engines[..2], "db").await;
                let n: usize = w.iter().map(Vec::len).sum();
                (n == 9 && d[0].len() == 2 && all_distinct(&w))
                    .then_some(())
                    .ok_or(format!("web {w:?}, db {d:?}"))
            },
        )
        .await;
        eprintln!("a killed host's instances ran elsewhere after {took:?} (grace 3s)");
        let mut c = client.clone();
        let verdicts = store::list_host_health(&mut c, PREFIX)
            .await
            .expect("health");
        assert!(
            verdicts
                .iter()
                .any(|v| v.host == "lab-3" && v.state == store::Liveness::Dead),
            "{verdicts:?}"
        );
    });

    // When it returns, the surplus goes and the count is exact again.
    lab.start_host(2).expect("restart lab-3");
    rt.block_on(async {
        wait_until(
            Duration::from_secs(30),
            "exactly 9 web and 2 db again",
            || async {
                let w = spread(&engines, "web").await;
                let d = spread(&engines, "db").await;
                let n: usize = w.iter().map(Vec::len).sum();
                let m: usize = d.iter().map(Vec::len).sum();
                (n == 9 && m == 2 && all_distinct(&w))
                    .then_some(())
                    .ok_or(format!("web {w:?}, db {d:?}"))
            },
        )
        .await;
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let n: usize = spread(&engines, "web").await.iter().map(Vec::len).sum();
            assert_eq!(n, 9, "the count stays exact");
        }
    });

    // A crash-looping container moves on, and does not flap back.
    rt.block_on(async {
        let mut crashy = AppSpec::new("crashy", "wheelhouse/demo:1");
        crashy.command = Some(vec!["sh".into(), "-c".into(), "exit 1".into()]);
        apply(&mut client, &crashy).await;
        wait_until(
            Duration::from_secs(60),
            "crashy avoided everywhere",
            || async {
                let mut c = client.clone();
                let trail = store::list_audit(&mut c, PREFIX, 50)
                    .await
                    .map_err(|e| e.to_string())?;
                let entry = trail
                    .iter()
                    .find(|e| e.target == "crashy")
                    .ok_or("no entry")?;
                let avoided = entry
                    .result
                    .lines()
                    .filter(|l| l.contains("crash-looped here") || l.contains("exited here"))
                    .count();
                (avoided == 3).then_some(()).ok_or(entry.result.clone())
            },
        )
        .await;
        for _ in 0..5 {
            let s = spread(&engines, "crashy").await;
            assert!(s.iter().all(Vec::is_empty), "crashy flapped back: {s:?}");
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    });
    controller.abort();
}

#[test]
fn sigkill_of_the_leader_hands_over_without_losing_or_doubling_instances() {
    let _heavy = heavy();
    let lab = TestLab::up(3).expect("lab up");
    let rt = runtime();
    let engines = rt.block_on(engines(&lab));
    let mut client = rt.block_on(etcd(&lab));
    let mut controllers = two_controllers(&lab);
    rt.block_on(async {
        apply(&mut client, &web(6)).await;
        web_registered(
            &engines,
            &client,
            Duration::from_secs(40),
            "6 web running and registered",
            6,
            false,
        )
        .await;
    });
    let (survivor, killed) = kill_the_leader(&rt, &client, &mut controllers);

    rt.block_on(async {
        // The other takes over within the lease TTL (5 s) and a little more; meanwhile the
        // count never moves.
        let took = wait_until(Duration::from_secs(12), "the survivor leads", || async {
            for _ in 0..3 {
                let n: usize = spread(&engines, "web").await.iter().map(Vec::len).sum();
                if n != 6 {
                    panic!("{n} web instances during the handover");
                }
            }
            let now = store::current_leader(&client, PREFIX)
                .await
                .map_err(|e| e.to_string())?;
            (now.as_deref()
                .is_some_and(|l| l.ends_with(&format!("-{survivor}"))))
            .then_some(())
            .ok_or(format!("leader {now:?}"))
        })
        .await;
        eprintln!("handover {took:?} after SIGKILL");
        assert!(killed.elapsed() < Duration::from_secs(12));

        // The new leader registers the instances under its own lease and acts.
        store::scale_app(&mut client, PREFIX, "web", 8, 1000, None)
            .await
            .expect("scale");
        web_registered(
            &engines,
            &client,
            Duration::from_secs(20),
            "8 web, distinct, registered",
            8,
            true,
        )
        .await;
    });
}

/// Waits up to `limit` (then panics naming `what`) until `want` web instances run, on distinct
/// ports if `distinct`, each registered as an endpoint.
async fn web_registered(
    engines: &[Docker],
    client: &etcd_client::Client,
    limit: Duration,
    what: &str,
    want: usize,
    distinct: bool,
) {
    wait_until(limit, what, || async {
        let w = spread(engines, "web").await;
        let n: usize = w.iter().map(Vec::len).sum();
        let mut c = client.clone();
        let eps = store::list_endpoints(&mut c, PREFIX, "web")
            .await
            .map_err(|e| e.to_string())?;
        (n == want && (!distinct || all_distinct(&w)) && eps.len() == want)
            .then_some(())
            .ok_or(format!("web {w:?}, {} endpoints", eps.len()))
    })
    .await;
}
