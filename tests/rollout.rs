//! Rollouts on a real lab (address bases 80..89): capacity bounds checked at every look,
//! a client that never sees an error, rollback with its reason, a canary promoted, an
//! unknown image refused, and a leader SIGKILLed mid-rollout.

#[path = "rollout/figures.rs"]
mod figures;
#[path = "rollout/helpers.rs"]
mod helpers;
#[path = "rollout/restart.rs"]
mod restart;
#[allow(dead_code)]
#[path = "controller/support.rs"]
mod support;

use helpers::*;
use std::time::Duration;
use support::*;
use wheelhouse::lab::TestLab;
use wheelhouse::plan::labels;
use wheelhouse::plan::rollout::{Command, Phase};
use wheelhouse::store;

#[test]
fn rollouts_keep_capacity_roll_back_and_promote() {
    let _heavy = heavy();
    logs();
    let (lab, rt, controller, engines, mut client) = lab_with_controller(3);

    // demo:1 -> demo:2 on 6 instances while a client uses the registry.
    let v1 = app("wheelhouse/demo:1", 6);
    let v2 = app("wheelhouse/demo:2", 6);
    rt.block_on(async {
        apply(&mut client, &v1).await;
        settled(&client, &engines, &v1, 6).await;
    });
    let user = Client::start(&lab, "web");
    std::thread::sleep(Duration::from_millis(500));
    let took = rt.block_on(async {
        apply(&mut client, &v2).await;
        let start = std::time::Instant::now();
        let r = watch_rollout(&client, &engines, &v2, Duration::from_secs(120), |p| {
            p.is_done()
        })
        .await;
        assert_eq!(r.state.phase, Phase::Succeeded, "{:?}", r.state.failures);
        settled(&client, &engines, &v2, 6).await;
        start.elapsed()
    });
    std::thread::sleep(Duration::from_millis(500));
    let seen = user.finish();
    eprintln!(
        "demo:1 -> demo:2 in {took:?}; {} requests, {} errors",
        seen.requests,
        seen.errors.len()
    );
    assert!(
        seen.errors.is_empty(),
        "the client saw errors: {:?}",
        seen.errors
    );
    assert!(seen.requests >= 40, "only {} requests", seen.requests);
    assert_eq!(seen.versions.first().map(String::as_str), Some("1"));
    assert_eq!(seen.versions.last().map(String::as_str), Some("2"));
    let switched = seen.versions.iter().position(|v| v == "2").unwrap_or(0);
    assert!(switched > 0, "{:?}", seen.versions);

    // demo:2 -> demo:broken with failure_action rollback: back to demo:2, and says why.
    let broken = app("wheelhouse/demo:broken", 6);
    rt.block_on(async {
        apply(&mut client, &broken).await;
        let r = watch_rollout(&client, &engines, &broken, Duration::from_secs(90), |p| {
            p.is_done()
        })
        .await;
        match &r.state.phase {
            Phase::RolledBack { reason } => {
                assert!(reason.contains("not healthy within 8s"), "{reason}");
            }
            other => panic!("expected a rollback, got {other}"),
        }
        assert!(!r.state.failures.is_empty());
        wait_until(Duration::from_secs(20), "demo:2 written back", || async {
            let mut c = client.clone();
            let (spec, _) = store::get_app(&mut c, PREFIX, "web")
                .await
                .map_err(|e| e.to_string())?
                .ok_or("no app")?;
            (spec.image == "wheelhouse/demo:2")
                .then_some(())
                .ok_or(spec.image)
        })
        .await;
        settled(&client, &engines, &v2, 6).await;
        let trail = store::list_audit(&mut client, PREFIX, 100)
            .await
            .expect("audit");
        assert!(
            trail.iter().any(|e| e.command == "rollback"
                && e.target == "web"
                && e.result.starts_with("rollback: ")
                && e.result.contains("not healthy")),
            "{trail:#?}"
        );
    });

    // An image no host has: failed before anything stops.
    rt.block_on(async {
        let before = revisions(&engines, "web").await;
        let ghost = app("wheelhouse/demo:nope", 6);
        apply(&mut client, &ghost).await;
        let r = watch_rollout(&client, &engines, &ghost, Duration::from_secs(20), |p| {
            p.is_done()
        })
        .await;
        match &r.state.phase {
            Phase::Failed { reason } => {
                assert!(
                    reason.contains("no host has image wheelhouse/demo:nope"),
                    "{reason}"
                );
            }
            other => panic!("expected a failure, got {other}"),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(revisions(&engines, "web").await, before, "nothing changed");
        apply(&mut client, &v2).await;
    });

    // A rolling restart with a canary of 1: one new instance, then a promote.
    let mut restart = v2.clone();
    restart.restart_generation = 1;
    restart.update.canary = 1;
    rt.block_on(async {
        // Commands for an app with no rollout under way are refused at once.
        let refused = store::request(&mut client, PREFIX, "web", Command::Promote).await;
        assert!(
            refused.is_err_and(|e| e.to_string().contains("not waiting for a promote")
                || e.to_string().contains("has already"))
        );
        apply(&mut client, &restart).await;
        watch_rollout(&client, &engines, &restart, Duration::from_secs(60), |p| {
            *p == Phase::Canary
        })
        .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let revs = revisions(&engines, "web").await;
        let new = labels::revision(&restart);
        assert_eq!(revs.iter().filter(|r| **r == new).count(), 1, "{revs:?}");
        assert_eq!(revs.len(), 6, "{revs:?}");
        let paused = store::request(&mut client, PREFIX, "web", Command::Resume).await;
        assert!(paused.is_err_and(|e| e.to_string().contains("not paused")));
        store::request(&mut client, PREFIX, "web", Command::Promote)
            .await
            .expect("promote");
        let r = watch_rollout(&client, &engines, &restart, Duration::from_secs(90), |p| {
            p.is_done()
        })
        .await;
        assert_eq!(r.state.phase, Phase::Succeeded);
        assert!(r.state.promoted);
        settled(&client, &engines, &restart, 6).await;
    });
    controller.abort();
}

#[test]
fn a_new_leader_resumes_a_rollout_after_sigkill() {
    let _heavy = heavy();
    let lab = TestLab::up(3).expect("lab up");
    let rt = runtime();
    let engines = rt.block_on(engines(&lab));
    let mut client = rt.block_on(etcd(&lab));
    let mut controllers = two_controllers(&lab);
    let v1 = app("wheelhouse/demo:1", 6);
    let mut v2 = app("wheelhouse/demo:2", 6);
    v2.update.min_ready = Duration::from_secs(2);
    rt.block_on(async {
        apply(&mut client, &v1).await;
        settled(&client, &engines, &v1, 6).await;
        apply(&mut client, &v2).await;
        // Mid-rollout: two new instances up.
        watch_rollout(&client, &engines, &v2, Duration::from_secs(60), |_| true).await;
        wait_until(Duration::from_secs(60), "two new instances", || async {
            let r = rollout(&client, "web").await.ok_or("no rollout")?;
            (r.state.counts.new >= 2 && !r.state.phase.is_done())
                .then_some(())
                .ok_or(format!("{:?}", r.state.counts))
        })
        .await;
    });
    let (survivor, _) = kill_the_leader(&rt, &client, &mut controllers);
    rt.block_on(async {
        let r = watch_rollout(&client, &engines, &v2, Duration::from_secs(90), |p| {
            p.is_done()
        })
        .await;
        assert_eq!(r.state.phase, Phase::Succeeded, "{:?}", r.state.failures);
        settled(&client, &engines, &v2, 6).await;
        let now = store::current_leader(&client, PREFIX)
            .await
            .expect("leader");
        assert!(
            now.is_some_and(|l| l.ends_with(&format!("-{survivor}"))),
            "the survivor finished it"
        );
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(revisions(&engines, "web").await.len(), 6, "exactly 6");
        }
    });
}
