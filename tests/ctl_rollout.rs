//! `wheelhouse ctl rollout | rollback | restart | pause | rollout-status | history` against
//! a real lab (etcd and dockerd hosts): bad input refused with nothing written, and, with a
//! controller running, a rollout that ends with the new image on every instance.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;
use wheelhouse::config::EtcdConfig;
use wheelhouse::domain::app::AppSpec;
use wheelhouse::lab::TestLab;
use wheelhouse::store;

mod common;

use common::lab::{
    ctl, ctl_with, running_images, spec_file, wait_rollout, wait_until, web_under_controller,
};

const PREFIX: &str = "/wheelhouse";

/// `f` with an etcd client of the lab's, in-process.
fn on_etcd<T>(lab: &TestLab, f: impl AsyncFnOnce(&mut etcd_client::Client) -> T) -> T {
    let etcd = EtcdConfig {
        endpoints: vec![lab.etcd_endpoint()],
        ..EtcdConfig::default()
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut client = store::connect(&etcd).await.expect("connect");
        f(&mut client).await
    })
}

/// The stored spec and its mod_revision, read in-process.
fn stored(lab: &TestLab, app: &str) -> (AppSpec, i64) {
    on_etcd(lab, async |client| {
        store::get_app(client, PREFIX, app)
            .await
            .expect("get")
            .expect("the app exists")
    })
}

/// `n` audit entries about an app named "other", written in-process.
fn flood_audit(lab: &TestLab, n: usize) {
    on_etcd(lab, async |client| {
        for i in 0..n {
            let entry = store::AuditEntry {
                who: "test".into(),
                from: "local".into(),
                command: "scale".into(),
                target: "other".into(),
                app: Some("other".into()),
                detail: format!("instances {i}"),
                result: "ok".into(),
                outcome: Some(store::AuditOutcome::Ok),
                revision: Some(i64::try_from(i).unwrap()),
                reason: None,
                time: "2026-01-01T00:00:00.000000000Z".into(),
            };
            store::record(client, PREFIX, &entry).await.expect("record");
        }
    });
}

#[test]
fn rollout_rollback_restart_refusals_and_writes() {
    let lab = TestLab::up(3).expect("lab up");
    let config = lab.config_path();
    let web = spec_file(
        lab.dir(),
        "web.toml",
        "name = \"web\"\nimage = \"wheelhouse/demo:1\"\ninstances = 2\nports = [\"http\"]\n",
    );
    let web = web.to_string_lossy().into_owned();
    assert!(
        ctl(&config, &["apply", "-f", &web])
            .ok()
            .starts_with("web created")
    );
    // A scale files a history entry with the same containers: not a revision to go back to.
    ctl(&config, &["scale", "web", "3"]).ok();
    let (_, before) = stored(&lab, "web");

    // Bad input: exit 2, nothing written.
    ctl(&config, &["rollout", "web", "wheelhouse/demo:9"]).fails(
        2,
        "image wheelhouse/demo:9 is on no host (looked at lab-1, lab-2, lab-3)",
    );
    ctl(&config, &["rollout", "web", "wheelhouse/demo:1"])
        .fails(2, "web runs wheelhouse/demo:1 already");
    ctl(&config, &["rollout", "nope", "wheelhouse/demo:2"]).fails(2, "no app named \"nope\"");
    ctl(&config, &["rollback", "web"]).fails(2, "web has no earlier revision");
    ctl(&config, &["rollback", "web", "--revision", "4"])
        .fails(2, "web has no revision 4 in its history");
    ctl(&config, &["pause", "web"]).fails(2, "web has no rollout to pause");
    ctl_with(
        &config,
        &["--readonly"],
        &["rollout", "web", "wheelhouse/demo:2"],
    )
    .fails(2, "read-only");
    ctl_with(&config, &["--readonly"], &["restart", "web"]).fails(2, "read-only");
    let (spec, after) = stored(&lab, "web");
    assert_eq!((spec.image.as_str(), after), ("wheelhouse/demo:1", before));
    let status = ctl(&config, &["rollout-status", "web"]).ok().to_owned();
    assert!(
        status.starts_with("web: no rollout yet (wheelhouse/demo:1"),
        "{status}"
    );

    // A rollout writes the new image (the controller does the rest).
    let out = ctl(&config, &["rollout", "web", "wheelhouse/demo:2"])
        .ok()
        .to_owned();
    assert!(
        out.starts_with("web rolling out: wheelhouse/demo:1 → wheelhouse/demo:2 (revision "),
        "{out}"
    );
    let (spec, rolled) = stored(&lab, "web");
    assert_eq!(
        (spec.image.as_str(), spec.instances),
        ("wheelhouse/demo:2", 3)
    );
    assert!(rolled > before);

    // The history lists the earlier specs; rollback goes to the newest that differs.
    let history = ctl(&config, &["history", "web"]).ok().to_owned();
    assert!(history.starts_with("REVISION"), "{history}");
    assert!(history.contains("wheelhouse/demo:1"), "{history}");
    // Each is dated by the audit record of the change that wrote it (its typed revision).
    let listed = ctl(&config, &["history", "web", "-o", "json"])
        .ok()
        .to_owned();
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("history JSON");
    let entries = listed.as_array().expect("an array");
    assert!(!entries.is_empty(), "{listed}");
    assert!(entries.iter().all(|e| e["when"].is_string()), "{listed}");
    let out = ctl(&config, &["rollback", "web"]).ok().to_owned();
    assert!(
        out.starts_with("web rolling back to wheelhouse/demo:1"),
        "{out}"
    );
    let (spec, _) = stored(&lab, "web");
    assert_eq!(
        (spec.image.as_str(), spec.instances),
        ("wheelhouse/demo:1", 3)
    );
    // And again: back to demo:2, the revision before this one.
    ctl(&config, &["rollback", "web"]).ok();
    assert_eq!(stored(&lab, "web").0.image, "wheelhouse/demo:2");

    // A rolling restart bumps the generation, nothing else.
    let out = ctl(&config, &["restart", "web"]).ok().to_owned();
    assert!(
        out.starts_with("web restarting: generation 1 (revision "),
        "{out}"
    );
    let (restarted, revision) = stored(&lab, "web");
    assert_eq!(restarted.restart_generation, 1);
    assert_eq!(
        (restarted.image.as_str(), restarted.instances),
        ("wheelhouse/demo:2", 3)
    );
    // Applying a file with the same content keeps the generation: no second restart.
    let same = lab.dir().join("same.toml");
    std::fs::write(&same, wheelhouse::ctl::to_toml(&restarted)).expect("write spec");
    let out = ctl(&config, &["apply", "-f", &same.to_string_lossy()])
        .ok()
        .to_owned();
    assert!(out.contains("unchanged"), "{out}");
    assert_eq!(stored(&lab, "web"), (restarted.clone(), revision));

    // Every attempt is in the audit trail, the refusals too.
    let audit = ctl(&config, &["audit", "--limit", "60"]).ok().to_owned();
    let has = |parts: &[&str]| audit.lines().any(|l| parts.iter().all(|p| l.contains(p)));
    assert!(has(&["rollout", "web", "is on no host"]), "{audit}");
    assert!(has(&["rollout", "web", "ok: web rolling out"]), "{audit}");
    assert!(has(&["rollback", "web", "no earlier revision"]), "{audit}");
    assert!(
        has(&["restart", "web", "restart generation -> 1"]),
        "{audit}"
    );

    // A busy trail since (1,200 entries about another app): the history's dates are
    // still found, further back than one read of the trail (500 entries) reaches.
    let history = || {
        let out = ctl(&config, &["history", "web", "-o", "json"])
            .ok()
            .to_owned();
        serde_json::from_str::<serde_json::Value>(&out).expect("history JSON")
    };
    let before = history();
    assert!(
        (before.as_array().unwrap().iter()).all(|e| e["when"].is_string()),
        "{before}"
    );
    flood_audit(&lab, 1200);
    assert_eq!(history(), before, "the same entries, dated");
}

#[test]
fn a_rollout_with_a_controller_ends_on_the_new_image_and_pause_resume_reach_it() {
    let lab = TestLab::up(2).expect("lab up");
    let config = lab.config_path();
    let _controller = web_under_controller(&lab, 2, "3s");
    wait_until("2 instances of demo:1", Duration::from_secs(60), || {
        let images = running_images(&lab, "web");
        (images != ["wheelhouse/demo:1", "wheelhouse/demo:1"]).then(|| format!("{images:?}"))
    });

    ctl(&config, &["rollout", "web", "wheelhouse/demo:2"]).ok();
    // While it runs, another rollout is refused and says why; a pause reaches the leader.
    wait_rollout(&config, "web", "web: progressing", Duration::from_secs(30));
    ctl(&config, &["rollout", "web", "wheelhouse/demo:1"]).fails(1, "pause it first");
    ctl(&config, &["restart", "web"]).fails(1, "one rollout per app at a time");
    // The controller writes the rollout's progress as it goes: a pause that races one of
    // those writes is refused as a conflict ("try again"), never written over it. Asked
    // again, as an operator would, it goes through.
    let mut pause = ctl(&config, &["pause", "web"]);
    for _ in 0..5 {
        if !(pause.code == 1
            && pause
                .stderr
                .contains("changed while the pause was asked for"))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        pause = ctl(&config, &["pause", "web"]);
    }
    let paused = pause.ok().to_owned();
    assert_eq!(paused, "pause of web's rollout sent to the controller\n");
    wait_rollout(
        &config,
        "web",
        "web: paused: paused by the operator",
        Duration::from_secs(30),
    );
    ctl(&config, &["pause", "web"]).fails(2, "already paused");
    ctl(&config, &["resume", "web"]).ok();
    wait_rollout(&config, "web", "web: succeeded", Duration::from_secs(120));
    wait_until("2 instances of demo:2", Duration::from_secs(30), || {
        let images = running_images(&lab, "web");
        (images != ["wheelhouse/demo:2", "wheelhouse/demo:2"]).then(|| format!("{images:?}"))
    });
    let status = ctl(&config, &["rollout-status", "web"]).ok().to_owned();
    assert!(
        status.contains("wheelhouse/demo:1 → wheelhouse/demo:2"),
        "{status}"
    );
    // Finished: nothing left to pause.
    ctl(&config, &["pause", "web"]).fails(2, "has already succeeded");
    // A rolling restart reads as one, as on the cockpit's panel, not as demo:2 → demo:2.
    ctl(&config, &["restart", "web"]).ok();
    wait_until("the restart's rollout", Duration::from_secs(30), || {
        let status = ctl(&config, &["rollout-status", "web"]).stdout;
        (!status.contains("\n  restart of wheelhouse/demo:2\n")).then_some(status)
    });
}
