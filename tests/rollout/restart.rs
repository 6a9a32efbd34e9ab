//! `R` during a rollout (address base 83): a restart the operator asked for is waited for,
//! never taken for a failure.

use super::helpers::*;
use super::support::*;
use std::time::Duration;
use wheelhouse::config::{Config, EtcdConfig};
use wheelhouse::controller::{self, ControllerOptions};
use wheelhouse::lab::TestLab;
use wheelhouse::ops::{self, Mode, Ops, Outcome, Principal};
use wheelhouse::plan::labels;
use wheelhouse::plan::rollout::{Command, Phase};

#[test]
fn restarting_a_canary_by_hand_does_not_fail_the_rollout() {
    let _heavy = heavy();
    logs();
    let lab = TestLab::up(3).expect("lab up");
    let config = Config::load(Some(&lab.config_path())).expect("lab config");
    let ops = Ops {
        etcd: Some(wheelhouse::store::EtcdLink::new(EtcdConfig {
            endpoints: vec![lab.etcd_endpoint()],
            ..EtcdConfig::default()
        })),
        prefix: PREFIX.to_owned(),
        max_instances: 1000,
        hosts: config.hosts.clone(),
    };
    let rt = runtime();
    let controller = rt.spawn(controller::run(config, ControllerOptions::default()));
    let engines = rt.block_on(engines(&lab));
    let mut client = rt.block_on(etcd(&lab));
    let v1 = app("wheelhouse/demo:1", 3);
    let mut v2 = app("wheelhouse/demo:2", 3);
    v2.update.canary = 1;
    rt.block_on(async {
        apply(&mut client, &v1).await;
        settled(&client, &engines, &v1, 3).await;
        apply(&mut client, &v2).await;
        let r = watch_rollout(&client, &engines, &v2, Duration::from_secs(60), |p| {
            *p == Phase::Canary || p.is_done()
        })
        .await;
        assert_eq!(r.state.phase, Phase::Canary, "{:?}", r.state.failures);

        // The canary, restarted through the same path as the cockpit's `R` (by name).
        let to = labels::revision(&v2).to_string();
        let (i, canary) = labelled(&engines, "wheelhouse.app=web")
            .await
            .into_iter()
            .find(|(_, c)| c.labels.as_ref().and_then(|l| l.get(labels::REVISION)) == Some(&to))
            .expect("the canary runs");
        let id = canary.id.clone().unwrap_or_default();
        let name = canary.names.unwrap_or_default().join("");
        let name = name.trim_start_matches('/').to_owned();
        let host = host_spec(&lab, i).name;
        let restart = ops::Command::RestartContainer {
            host: host.clone(),
            container: name.clone(),
        };
        let me = Principal::local(Mode::ReadWrite);
        let done = ops::execute(&ops, &me, restart).await.expect("restart");
        assert!(
            matches!(done, Outcome::ContainerRestarted { .. }),
            "{done:?}"
        );

        // Back and healthy, the rollout still waits at its canary, with no failure.
        wait_until(
            Duration::from_secs(40),
            "the canary healthy again",
            || async {
                let r = rollout(&client, "web").await.ok_or("no rollout")?;
                let back = labelled(&engines, "wheelhouse.app=web").await;
                let running = back
                    .iter()
                    .any(|(_, c)| c.id.as_deref() == Some(id.as_str()));
                (running && r.state.counts.new_available == 1)
                    .then_some(())
                    .ok_or(format!("{:?} {:?}", r.state.phase, r.state.counts))
            },
        )
        .await;
        // Past the settle time of the marker and the 8 s healthy deadline.
        tokio::time::sleep(Duration::from_secs(12)).await;
        let r = rollout(&client, "web").await.expect("rollout");
        assert_eq!(r.state.phase, Phase::Canary, "{:?}", r.state.failures);
        assert!(r.state.failures.is_empty(), "{:?}", r.state.failures);

        let mut c = client.clone();
        wheelhouse::store::request(&mut c, PREFIX, "web", Command::Promote)
            .await
            .expect("promote");
        let r = watch_rollout(&client, &engines, &v2, Duration::from_secs(90), |p| {
            p.is_done()
        })
        .await;
        assert_eq!(r.state.phase, Phase::Succeeded, "{:?}", r.state.failures);
    });
    controller.abort();
}
