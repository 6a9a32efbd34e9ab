//! `wheelhouse ctl` against a real lab (etcd and three dockerd), and `ops` racing itself.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use wheelhouse::config::EtcdConfig;
use wheelhouse::domain::HostSpec;
use wheelhouse::lab::TestLab;
use wheelhouse::ops::{self, Command, Mode, Ops, OpsError, Principal};
use wheelhouse::store::{self, StoreError};

mod common;

use common::lab::{Run, ctl_command, spec_file};

const PREFIX: &str = "/wheelhouse";

fn ctl(config: &Path, args: &[&str]) -> Run {
    ctl_with(config, &[], args)
}

/// Runs `wheelhouse [flags] --config CONFIG ctl ARGS` as operator "ana" over SSH.
fn ctl_with(config: &Path, flags: &[&str], args: &[&str]) -> Run {
    Run::of(
        ctl_command(config, flags, args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("USER", "ana")
            .env("SSH_CLIENT", "10.9.8.7 50000 22"),
    )
}

/// The revision `ctl get` reports in its first line ("# web, revision 12").
fn revision(get: &str) -> i64 {
    get.lines()
        .next()
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("no revision in:\n{get}"))
}

fn path_arg(p: &Path) -> &str {
    p.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 path {}", p.display()))
}

#[test]
fn apply_get_scale_delete_and_bad_input_through_the_binary() {
    let mut lab = TestLab::up(3).expect("lab up");
    let config = lab.config_path();
    let dir = lab.dir().to_owned();
    let web = spec_file(
        &dir,
        "web.toml",
        "name = \"web\"\nimage = \"wheelhouse/demo:1\"\ninstances = 2\nmemory = \"32MiB\"\n",
    );

    let out = ctl(&config, &["apply", "-f", path_arg(&web)]);
    assert!(
        out.ok().starts_with("web created (revision "),
        "{}",
        out.stdout
    );
    let out = ctl(&config, &["apply", "-f", path_arg(&web)]);
    assert!(out.ok().starts_with("web unchanged"), "{}", out.stdout);

    // get prints TOML that applies back to the same spec.
    let get = ctl(&config, &["get", "web"]).ok().to_owned();
    assert!(
        get.contains("instances = 2\n") && get.contains("memory = \"32MiB\""),
        "{get}"
    );
    let rev = revision(&get);
    let round = spec_file(&dir, "round.toml", &get);
    let out = ctl(&config, &["apply", "-f", path_arg(&round)]);
    assert!(out.ok().starts_with("web unchanged"), "{}", out.stdout);

    let out = ctl(&config, &["scale", "web", "5"]);
    assert!(
        out.ok().starts_with("web scaled to 5 (was 2"),
        "{}",
        out.stdout
    );
    let get = ctl(&config, &["get", "web"]).ok().to_owned();
    assert!(get.contains("instances = 5\n"), "{get}");
    let rev = {
        assert!(revision(&get) > rev);
        revision(&get)
    };

    // Bad counts, an unknown app, read-only: exit 2 and nothing written.
    for (count, why) in [
        ("-3", "must not be negative"),
        ("lots", "not a whole number"),
        ("2.5", "not a whole number"),
        ("5000", "above the maximum of 1000"),
        ("99999999999999999999", "above the maximum"),
    ] {
        ctl(&config, &["scale", "web", count]).fails(2, why);
    }
    ctl(&config, &["scale", "nope", "3"]).fails(2, "no app named \"nope\"");
    ctl(&config, &["scale", "Bad_Name", "3"]).fails(2, "app name");
    ctl_with(&config, &["--readonly"], &["scale", "web", "3"]).fails(2, "read-only");
    ctl_with(&config, &["--readonly"], &["delete", "web"]).fails(2, "read-only");
    let get = ctl(&config, &["get", "web"]).ok().to_owned();
    assert_eq!(revision(&get), rev, "a refused scale wrote nothing:\n{get}");
    assert!(get.contains("instances = 5\n"), "{get}");

    // A bad spec file: file:line:col, exit 2, nothing written.
    let bad = spec_file(
        &dir,
        "bad.toml",
        "name = \"api\"\nimage = \"wheelhouse/demo:1\"\ninstances = -1\n",
    );
    ctl(&config, &["apply", "-f", path_arg(&bad)]).fails(2, &format!("{}:3:13:", bad.display()));
    ctl(&config, &["get", "api"]).fails(2, "no app named \"api\"");

    // An image no host has: refused for apply, and for a scale from zero.
    let nine = spec_file(
        &dir,
        "nine.toml",
        "name = \"nine\"\nimage = \"wheelhouse/demo:9\"\ninstances = 1\n",
    );
    ctl(&config, &["apply", "-f", path_arg(&nine)]).fails(
        2,
        "image wheelhouse/demo:9 is on no host (looked at lab-1, lab-2, lab-3)",
    );
    let parked = spec_file(
        &dir,
        "parked.toml",
        "name = \"nine\"\nimage = \"wheelhouse/demo:9\"\ninstances = 0\n",
    );
    assert!(
        ctl(&config, &["apply", "-f", path_arg(&parked)])
            .ok()
            .starts_with("nine created")
    );
    ctl(&config, &["scale", "nine", "1"]).fails(2, "is on no host");
    assert!(
        ctl(&config, &["get", "nine"])
            .ok()
            .contains("instances = 0\n")
    );

    // status: every app with its counts from the engines, and the hosts.
    let status = ctl(&config, &["status"]).ok().to_owned();
    let line = |app: &str| {
        status
            .lines()
            .find(|l| l.starts_with(&format!("{app} ")))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| panic!("{app} missing from:\n{status}"))
    };
    // The controller may or may not have started instances yet: check the spec side.
    assert!(
        line("web").starts_with("web wheelhouse/demo:1 5 "),
        "{status}"
    );
    assert!(
        line("nine").starts_with("nine wheelhouse/demo:9 0 0 0 -"),
        "{status}"
    );
    assert!(status.contains("hosts: 3/3 online"), "{status}");

    // etcd down: mutations refused with exit 1, and nothing half-written after it returns.
    lab.stop_etcd().expect("stop etcd");
    ctl(&config, &["scale", "web", "7"]).fails(1, "etcd unreachable");
    let status = ctl(&config, &["status"]);
    status.fails(1, "etcd unreachable");
    assert!(
        status.stdout.contains("hosts: 3/3 online"),
        "{}",
        status.stdout
    );
    lab.start_etcd().expect("start etcd");
    let get = ctl(&config, &["get", "web"]).ok().to_owned();
    assert_eq!(revision(&get), rev, "{get}");

    assert!(
        ctl(&config, &["delete", "web"])
            .ok()
            .starts_with("web deleted")
    );
    ctl(&config, &["get", "web"]).fails(2, "no app named \"web\"");
    ctl(&config, &["delete", "web"]).fails(2, "no app named \"web\"");

    // The audit trail names who, from where, what, and the result, refusals included.
    let audit = ctl(&config, &["audit", "--limit", "50"]).ok().to_owned();
    let rows: Vec<&str> = audit.lines().skip(1).collect();
    let has = |parts: &[&str]| rows.iter().any(|r| parts.iter().all(|p| r.contains(p)));
    assert!(
        has(&[
            "ana",
            "10.9.8.7",
            "scale",
            "web",
            "instances 2 -> 5",
            "ok: web scaled to 5"
        ]),
        "{audit}"
    );
    assert!(has(&["scale", "nine", "is on no host"]), "{audit}");
    assert!(has(&["apply", "nine", "ok: nine created"]), "{audit}");
    assert!(has(&["delete", "web", "ok: web deleted"]), "{audit}");
    assert!(has(&["delete", "web", "no app named"]), "{audit}");
    assert!(
        audit.lines().next().is_some_and(|h| h.starts_with("TIME")),
        "{audit}"
    );
}

fn ops_for(lab: &TestLab) -> Ops {
    Ops {
        etcd: Some(wheelhouse::store::EtcdLink::new(EtcdConfig {
            endpoints: vec![lab.etcd_endpoint()],
            ..EtcdConfig::default()
        })),
        prefix: PREFIX.to_owned(),
        max_instances: 1000,
        hosts: Vec::<HostSpec>::new(),
    }
}

/// The operator running the tests, allowed to change things.
fn me() -> Principal {
    Principal::local(Mode::ReadWrite)
}

fn scale(app: &str, count: u32, seen: i64) -> Command {
    Command::Scale {
        app: app.to_owned(),
        count,
        seen: Some(seen),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_who_read_the_same_revision_get_one_success_and_one_conflict() {
    let lab = tokio::task::block_in_place(|| TestLab::up(0)).expect("lab up");
    let ops = ops_for(&lab);
    let mut spec = wheelhouse::domain::app::AppSpec::new("web", "wheelhouse/demo:1");
    spec.instances = 0;
    let apply = Command::Apply {
        spec: Box::new(spec),
    };
    ops::execute(&ops, &me(), apply).await.expect("apply");

    // Two clients read the same revision, then both write.
    let mut a = store::connect(ops.etcd.as_ref().expect("etcd").config())
        .await
        .expect("client a");
    let mut b = store::connect(ops.etcd.as_ref().expect("etcd").config())
        .await
        .expect("client b");
    let (_, read_a) = store::get_app(&mut a, PREFIX, "web")
        .await
        .ok()
        .flatten()
        .expect("a reads");
    let (_, read_b) = store::get_app(&mut b, PREFIX, "web")
        .await
        .ok()
        .flatten()
        .expect("b reads");
    assert_eq!(read_a, read_b);
    let first = ops::execute(&ops, &me(), scale("web", 3, read_a)).await;
    let second = ops::execute(&ops, &me(), scale("web", 8, read_b)).await;
    assert!(first.is_ok(), "{first:?}");
    match &second {
        Err(OpsError::Store(StoreError::Conflict {
            expected, found, ..
        })) => {
            assert_eq!(*expected, read_b);
            assert!(*found > read_b);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let said = second.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        said.starts_with("web was changed by someone else (revision "),
        "{said}"
    );
    assert!(
        said.ends_with(&format!("you read {read_b}): reload and try again")),
        "{said}"
    );
    let (spec, _) = store::get_app(&mut a, PREFIX, "web")
        .await
        .ok()
        .flatten()
        .expect("read back");
    assert_eq!(
        spec.instances, 3,
        "the first write stands, the second lost nothing silently"
    );

    // Racing for real: both tasks hold the same revision; exactly one write lands.
    let (_, now) = store::get_app(&mut a, PREFIX, "web")
        .await
        .ok()
        .flatten()
        .expect("read");
    let (to_4, to_6) = (scale("web", 4, now), scale("web", 6, now));
    let me = me();
    let (x, y) = tokio::join!(ops::execute(&ops, &me, to_4), ops::execute(&ops, &me, to_6));
    let wins = [&x, &y].iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "{x:?} / {y:?}");
    let (spec, _) = store::get_app(&mut a, PREFIX, "web")
        .await
        .ok()
        .flatten()
        .expect("read");
    let winner = if x.is_ok() { 4 } else { 6 };
    assert_eq!(spec.instances, winner);

    // Both outcomes are in the audit trail, the conflicts too.
    let audit = store::list_audit(&mut a, PREFIX, 20).await.expect("audit");
    let scales: Vec<_> = audit.iter().filter(|e| e.command == "scale").collect();
    assert_eq!(scales.len(), 4, "{audit:#?}");
    let conflicts = scales
        .iter()
        .filter(|e| e.result.contains("changed by someone else"))
        .count();
    assert_eq!(conflicts, 2, "{scales:#?}");
    assert!(
        scales.iter().any(|e| e
            .result
            .starts_with("ok: web scaled to 3 (was 0, revision ")
            && e.detail == "instances 0 -> 3"),
        "{scales:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_down_refuses_mutations_and_writes_nothing() {
    let mut lab = tokio::task::block_in_place(|| TestLab::up(0)).expect("lab up");
    let ops = ops_for(&lab);
    let spec = wheelhouse::domain::app::AppSpec::new("api", "wheelhouse/demo:1");
    let apply = Command::Apply {
        spec: Box::new(spec),
    };
    tokio::task::block_in_place(|| lab.stop_etcd()).expect("stop etcd");
    let refused = ops::execute(&ops, &me(), apply).await;
    let said = refused
        .as_ref()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(said.starts_with("etcd unreachable"), "{refused:?}");
    assert!(refused.err().is_some_and(|e| !e.is_bad_input()));
    tokio::task::block_in_place(|| lab.start_etcd()).expect("start etcd");
    let mut client = store::connect(ops.etcd.as_ref().expect("etcd").config())
        .await
        .expect("connect");
    assert!(
        store::get_app(&mut client, PREFIX, "api")
            .await
            .expect("get")
            .is_none()
    );
}
