//! Broken records in etcd are never taken as deletions (address base 64): a corrupted or
//! out-of-bounds app record keeps the app's instances, a corrupted host record keeps the
//! host, both are shown to the operator, and a broken rollout record can be removed.

use super::support::*;
use bollard::Docker;
use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;
use wheelhouse::config::Config;
use wheelhouse::controller::{self, ControllerOptions};
use wheelhouse::lab::TestLab;
use wheelhouse::store;

/// The ids of `app`'s running containers over every engine.
async fn ids(engines: &[Docker], app: &str) -> BTreeSet<String> {
    labelled(engines, &format!("wheelhouse.app={app}"))
        .await
        .into_iter()
        .filter_map(|(_, c)| c.id)
        .collect()
}

async fn count_is(engines: &[Docker], app: &str, want: usize) {
    wait_until(
        Duration::from_secs(40),
        &format!("{app} runs {want}"),
        || async {
            let n = ids(engines, app).await.len();
            (n == want).then_some(()).ok_or(format!("{n} running"))
        },
    )
    .await;
}

async fn scale_other(client: &mut etcd_client::Client, to: u32) {
    apply(client, &demo("other", "wheelhouse/demo:1", to)).await;
}

/// How many audit records name `target` with `words` in their result.
async fn audited(client: &etcd_client::Client, target: &str, words: &str) -> Result<usize, String> {
    let mut c = client.clone();
    let trail = store::list_audit(&mut c, PREFIX, 50)
        .await
        .map_err(|e| e.to_string())?;
    let hits = trail
        .iter()
        .filter(|e| e.target == target && e.result.contains(words));
    Ok(hits.count())
}

/// `wheelhouse [flags] --config CONFIG ctl ARGS`: (exit code, stdout, stderr).
fn ctl(lab: &TestLab, flags: &[&str], args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wheelhouse"))
        .args(flags)
        .arg("--config")
        .arg(lab.config_path())
        .arg("ctl")
        .args(args)
        .output()
        .expect("run wheelhouse ctl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn broken_records_keep_what_runs_and_are_shown() {
    let _heavy = heavy();
    logs();
    let lab = TestLab::up(3).expect("lab up");
    let mut config = Config::load(Some(&lab.config_path())).expect("lab config");
    // lab-3 is known from its etcd record only, so a broken record could lose it.
    config.hosts.truncate(2);
    let opts = ControllerOptions {
        grace: Duration::from_secs(3),
        ..ControllerOptions::default()
    };
    let rt = runtime();
    let engines = rt.block_on(engines(&lab));
    let mut client = rt.block_on(etcd(&lab));
    rt.block_on(async {
        store::put_host(&mut client, PREFIX, &host_spec(&lab, 2))
            .await
            .expect("put lab-3");
    });
    let first = rt.spawn(controller::run(config.clone(), opts.clone()));

    let before = rt.block_on(async {
        apply(&mut client, &demo("s4", "wheelhouse/demo:1", 3)).await;
        scale_other(&mut client, 1).await;
        wait_until(Duration::from_secs(40), "s4 on every host", || async {
            let s = spread(&engines, "s4").await;
            let per_host: Vec<usize> = s.iter().map(Vec::len).collect();
            (per_host == [1, 1, 1])
                .then_some(())
                .ok_or(format!("{s:?}"))
        })
        .await;
        count_is(&engines, "other", 1).await;
        ids(&engines, "s4").await
    });

    rt.block_on(async {
        let s4 = store::app_key(PREFIX, "s4");
        let lab3 = store::host_key(PREFIX, "lab-3");
        client
            .put(s4.as_str(), r#"{"name":"s4","image":"#, None)
            .await
            .expect("corrupt s4");
        client
            .put(lab3.as_str(), r#"{"name":"lab-3","engine":"#, None)
            .await
            .expect("corrupt lab-3");
        // The controller is alive and acting: it follows a later change of another app.
        scale_other(&mut client, 2).await;
        count_is(&engines, "other", 2).await;
        wait_until(
            Duration::from_secs(20),
            "s4 and lab-3 in the audit",
            || async {
                let s4 = audited(&client, "s4", "broken record").await?;
                let lab3 = audited(&client, "lab-3", "broken host record").await?;
                (s4 > 0 && lab3 > 0)
                    .then_some(())
                    .ok_or(format!("audit records: s4 {s4}, lab-3 {lab3}"))
            },
        )
        .await;
        // A few more rounds (interval 1 s) to act on the broken records, if it would.
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(ids(&engines, "s4").await, before, "s4 untouched");

        // A count above max_instances is refused like `ctl apply` refuses it.
        let mut huge = demo("s4", "wheelhouse/demo:1", 3);
        huge.instances = u32::MAX;
        let json = huge.to_json().expect("json");
        client.put(s4.as_str(), json, None).await.expect("put huge");
        scale_other(&mut client, 3).await;
        count_is(&engines, "other", 3).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(ids(&engines, "s4").await, before, "s4 not scaled up");
    });

    let (code, out, err) = ctl(&lab, &[], &["status"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("app s4: broken record (instances 4294967295 is above the maximum of"),
        "{out}"
    );
    assert!(out.contains("host lab-3: broken record"), "{out}");
    // Nor do a rollout or a restart write that count back with their change.
    for args in [
        &["rollout", "s4", "wheelhouse/demo:2"][..],
        &["restart", "s4"],
    ] {
        let (code, out, err) = ctl(&lab, &[], args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(
            err.contains("instances 4294967295 is above the maximum"),
            "{err}"
        );
    }
    rt.block_on(async {
        let stored = client.get(store::app_key(PREFIX, "s4"), None).await;
        let stored = stored.expect("read s4");
        let value = stored
            .kvs()
            .first()
            .map(|kv| kv.value_str().unwrap_or_default());
        assert!(
            value.is_some_and(|v| v.contains("wheelhouse/demo:1")),
            "{value:?}"
        );
    });

    // A fresh controller that never saw a good s4 spec leaves s4 alone (frozen).
    first.abort();
    rt.block_on(async {
        store::put_host(&mut client, PREFIX, &host_spec(&lab, 2))
            .await
            .expect("repair lab-3");
    });
    let second = rt.spawn(controller::run(config, opts));
    rt.block_on(async {
        scale_other(&mut client, 1).await;
        count_is(&engines, "other", 1).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(ids(&engines, "s4").await, before, "frozen s4 untouched");
    });

    // A broken rollout record is shown (audit, ctl status) and blocks rollouts until
    // `rollout-status --reset` removes it.
    rt.block_on(async {
        let key = store::rollout_key(PREFIX, "other");
        client
            .put(key, "{bad", None)
            .await
            .expect("corrupt rollout");
        wait_until(
            Duration::from_secs(20),
            "other's rollout audited",
            || async {
                let n = audited(&client, "other", "broken rollout record").await?;
                (n == 1).then_some(()).ok_or(format!("{n} audit records"))
            },
        )
        .await;
    });
    second.abort();
    let (code, out, err) = ctl(&lab, &[], &["status"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("app other: broken rollout record ("), "{out}");
    let (code, out, err) = ctl(&lab, &[], &["status", "-o", "json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let status: serde_json::Value = serde_json::from_str(&out).expect("status json");
    assert!(status["broken_rollouts"]["other"].is_string(), "{out}");
    let (code, _, err) = ctl(&lab, &[], &["rollout", "other", "wheelhouse/demo:2"]);
    assert_ne!(code, 0);
    assert!(err.contains("rollout-status other --reset"), "{err}");
    let (code, _, err) = ctl(
        &lab,
        &["--readonly"],
        &["rollout-status", "other", "--reset"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("read-only"), "{err}");
    let (code, out, err) = ctl(&lab, &[], &["rollout-status", "other", "--reset"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("broken rollout record removed"), "{out}");
    let (code, _, err) = ctl(&lab, &[], &["rollout-status", "other", "--reset"]);
    assert_eq!(code, 2, "{err}");
    rt.block_on(async {
        let got = store::get_rollout(&mut client, PREFIX, "other").await;
        assert!(matches!(got, Ok(None)), "{got:?}");
    });
}

#[test]
fn why_instances_cannot_be_placed_is_in_etcd_and_ctl_status() {
    let _heavy = heavy();
    logs();
    let (lab, rt, controller, _, mut client) = lab_with_controller(3);
    let mut fat = demo("fat", "wheelhouse/demo:1", 4);
    fat.cpus = 1.9;
    rt.block_on(async {
        apply(&mut client, &fat).await;
        wait_until(
            Duration::from_secs(40),
            "fat's placement problem",
            || async {
                let mut c = client.clone();
                let all = store::list_placement(&mut c, PREFIX)
                    .await
                    .map_err(|e| e.to_string())?;
                let fat = all.get("fat").ok_or(format!("{all:?}"))?;
                (fat.reasons.len() == 3)
                    .then_some(())
                    .ok_or(format!("{fat:?}"))
            },
        )
        .await;
    });
    let (code, out, err) = ctl(&lab, &[], &["status"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let line = (out.lines())
        .find(|l| l.starts_with("app fat: "))
        .unwrap_or_else(|| panic!("no placement line in:\n{out}"));
    assert!(line.contains("unplaced: lab-1: cpu"), "{line}");
    assert!(
        line.contains("lab-2: ") && line.contains("lab-3: "),
        "{line}"
    );
    let (code, out, err) = ctl(&lab, &[], &["get", "fat"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.lines()
            .nth(1)
            .is_some_and(|l| l.contains("unplaced: lab-1")),
        "{out}"
    );

    // Once everything fits, the record is cleared.
    rt.block_on(async {
        fat.instances = 1;
        apply(&mut client, &fat).await;
        wait_until(Duration::from_secs(30), "placement cleared", || async {
            let mut c = client.clone();
            let all = store::list_placement(&mut c, PREFIX)
                .await
                .map_err(|e| e.to_string())?;
            all.is_empty().then_some(()).ok_or(format!("{all:?}"))
        })
        .await;
    });
    let (_, out, _) = ctl(&lab, &[], &["status"]);
    assert!(!out.contains("app fat: "), "{out}");
    controller.abort();
}

#[test]
fn containers_the_controller_did_not_start_are_foreign() {
    let _heavy = heavy();
    logs();
    let (lab, rt, controller, engines, mut client) = lab_with_controller(2);
    rt.block_on(async {
        apply(&mut client, &demo("s4", "wheelhouse/demo:1", 2)).await;
        count_is(&engines, "s4", 2).await;
    });
    // Someone else's container, labelled as if it were s4's.
    let engine = host_spec(&lab, 0).engine;
    let run = Command::new("docker")
        .args(["-H", &engine, "run", "-d", "--name", "stray"])
        .args([
            "--label",
            "wheelhouse.app=s4",
            "--label",
            "wheelhouse.instance=7",
        ])
        .args(["wheelhouse/demo:1"])
        .output()
        .expect("docker run");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    rt.block_on(async {
        // The controller goes on: a scale of s4 still lands on exactly 3 of its own.
        apply(&mut client, &demo("s4", "wheelhouse/demo:1", 3)).await;
        count_is(&engines, "s4", 4).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            ids(&engines, "s4").await.len(),
            4,
            "3 of s4's own and the stray"
        );
    });
    let (code, out, err) = ctl(&lab, &[], &["status"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let row: Vec<&str> = (out.lines())
        .find(|l| l.starts_with("s4 "))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    assert_eq!(row.get(2..4), Some(&["3", "3"][..]), "{out}");
    assert!(
        out.contains(
            "app s4: 1 foreign container(s) not started by the controller, not counted: lab-1/stray"
        ),
        "{out}"
    );
    controller.abort();
}
