//! App specs, history, audit, service endpoints and host health against a real etcd.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;
use wheelhouse::cluster::AppChange;
use wheelhouse::cluster::AppEvent;
use wheelhouse::domain::app::AppSpec;
use wheelhouse::plan::Endpoint;
use wheelhouse::store::{self, AuditEntry, Expect, StoreError};

mod common;

use common::etcd::{cfg, client, lab};

const PREFIX: &str = "/wheelhouse";
const MAX: u32 = 1000;

fn app(name: &str, instances: u32) -> AppSpec {
    let mut spec = AppSpec::new(name, "wheelhouse/demo:1");
    spec.instances = instances;
    spec
}

/// The app's mod_revision, or 0 if it does not exist.
async fn revision_of(c: &mut etcd_client::Client, name: &str) -> i64 {
    match store::get_app(c, PREFIX, name).await {
        Ok(found) => found.map_or(0, |(_, r)| r),
        Err(e) => panic!("get {name}: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn specs_round_trip_and_every_write_is_guarded() {
    let lab = lab();
    let mut c = client(&lab.etcd_endpoint()).await;

    let created = store::put_app(&mut c, PREFIX, &app("web", 3), Expect::Absent)
        .await
        .expect("create");
    let again = store::put_app(&mut c, PREFIX, &app("web", 4), Expect::Absent).await;
    assert!(
        matches!(again, Err(StoreError::Conflict { expected: 0, found, .. }) if found == created),
        "{again:?}"
    );
    let got = store::get_app(&mut c, PREFIX, "web").await.expect("get");
    assert_eq!(got, Some((app("web", 3), created)));

    let updated = store::put_app(&mut c, PREFIX, &app("web", 5), Expect::Revision(created))
        .await
        .expect("update");
    assert!(updated > created);
    let stale = store::put_app(&mut c, PREFIX, &app("web", 6), Expect::Revision(created)).await;
    let text = stale.as_ref().err().map(ToString::to_string);
    assert_eq!(
        text.as_deref(),
        Some(
            format!(
                "web was changed by someone else (revision {updated}, you read {created}): \
                 reload and try again"
            )
            .as_str()
        )
    );
    assert_eq!(revision_of(&mut c, "web").await, updated, "nothing written");

    // Applying what is already stored changes nothing; Any overwrites otherwise.
    let same = store::put_app(&mut c, PREFIX, &app("web", 5), Expect::Any).await;
    assert_eq!(same.ok(), Some(updated));
    let applied = store::put_app(&mut c, PREFIX, &app("web", 7), Expect::Any)
        .await
        .expect("apply");
    assert!(applied > updated);
    let created_api = store::put_app(&mut c, PREFIX, &app("api", 1), Expect::Any)
        .await
        .expect("apply new");

    // A malformed spec is listed apart, with why, and named by get.
    c.put(store::app_key(PREFIX, "bad"), "{oops", None)
        .await
        .expect("raw put");
    let listing = store::list_apps(&mut c, PREFIX, MAX).await.expect("list");
    assert_eq!(
        listing.apps,
        vec![(app("api", 1), created_api), (app("web", 7), applied)]
    );
    let broken: Vec<&str> = listing.broken.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(broken, ["bad"]);
    assert!(
        listing.broken[0].reason.contains("JSON"),
        "{:?}",
        listing.broken
    );
    assert!(listing.revision > created_api);
    let bad = store::get_app(&mut c, PREFIX, "bad").await;
    assert!(matches!(bad, Err(StoreError::Invalid { .. })), "{bad:?}");

    // An invalid spec never reaches etcd.
    let mut invalid = app("web", 1);
    invalid.memory = 1;
    let refused = store::put_app(&mut c, PREFIX, &invalid, Expect::Any).await;
    assert!(
        matches!(refused, Err(StoreError::Invalid { .. })),
        "{refused:?}"
    );
    assert_eq!(revision_of(&mut c, "web").await, applied);

    let wrong = store::delete_app(&mut c, PREFIX, "web", updated).await;
    assert!(
        matches!(wrong, Err(StoreError::Conflict { expected, found, .. }) if expected == updated && found == applied),
        "{wrong:?}"
    );
    let deleted = store::delete_app(&mut c, PREFIX, "web", applied)
        .await
        .expect("delete");
    assert!(deleted > applied);
    assert_eq!(revision_of(&mut c, "web").await, 0);
    let gone = store::delete_app(&mut c, PREFIX, "web", applied).await;
    assert!(matches!(gone, Err(StoreError::NotFound { .. })), "{gone:?}");
    // The deleted spec went to the history: it can be rolled back.
    let history = store::list_history(&mut c, PREFIX, "web")
        .await
        .expect("history");
    assert_eq!(history.first(), Some(&(applied, app("web", 7))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_keeps_the_ten_specs_before_the_current_one() {
    let lab = lab();
    let mut c = client(&lab.etcd_endpoint()).await;
    let mut revisions = vec![
        store::put_app(&mut c, PREFIX, &app("web", 1), Expect::Absent)
            .await
            .expect("create"),
    ];
    for n in 2..=14 {
        let last = revisions[revisions.len() - 1];
        let r = store::put_app(&mut c, PREFIX, &app("web", n), Expect::Revision(last))
            .await
            .expect("update");
        revisions.push(r);
    }
    let history = store::list_history(&mut c, PREFIX, "web")
        .await
        .expect("history");
    // Newest first: the spec of 13 instances, filed at the revision it was written at.
    let expected: Vec<(i64, AppSpec)> = (4..=13)
        .rev()
        .map(|n| (revisions[n as usize - 1], app("web", n)))
        .collect();
    assert_eq!(history, expected);
    let raw = c
        .get(
            store::history_dir(PREFIX, "web"),
            Some(
                etcd_client::GetOptions::new()
                    .with_prefix()
                    .with_count_only(),
            ),
        )
        .await
        .expect("count");
    assert_eq!(raw.count(), store::HISTORY_KEEP as i64);

    // A spec's own history_limit wins over the default.
    let mut short = app("web", 15);
    short.update.history_limit = 3;
    store::put_app(&mut c, PREFIX, &short, Expect::Any)
        .await
        .expect("update with a short history");
    let history = store::list_history(&mut c, PREFIX, "web")
        .await
        .expect("history");
    let kept: Vec<u32> = history.iter().map(|(_, s)| s.instances).collect();
    assert_eq!(kept, [14, 13, 12], "the three newest earlier specs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_scales_of_one_revision_give_one_success_and_one_conflict() {
    let lab = lab();
    let mut a = client(&lab.etcd_endpoint()).await;
    let mut b = client(&lab.etcd_endpoint()).await;
    store::put_app(&mut a, PREFIX, &app("web", 3), Expect::Absent)
        .await
        .expect("create");

    // One after the other: both operators read the same revision, then both write.
    let seen_a = revision_of(&mut a, "web").await;
    let seen_b = revision_of(&mut b, "web").await;
    assert_eq!(seen_a, seen_b);
    let (_, won_at) = store::scale_app(&mut a, PREFIX, "web", 5, MAX, Some(seen_a))
        .await
        .expect("first scale");
    let lost = store::scale_app(&mut b, PREFIX, "web", 7, MAX, Some(seen_b)).await;
    assert_eq!(
        lost.err().map(|e| e.to_string()),
        Some(format!(
            "web was changed by someone else (revision {won_at}, you read {seen_b}): \
             reload and try again"
        ))
    );
    assert_eq!(revision_of(&mut a, "web").await, won_at);

    // At the same moment, many times over: the Txn's compare, not only the read before
    // it, must stop the second write.
    for round in 0..20u32 {
        let seen = revision_of(&mut a, "web").await;
        let (ra, rb) = tokio::join!(
            store::scale_app(
                &mut a,
                PREFIX,
                "web",
                10 + i64::from(round),
                MAX,
                Some(seen)
            ),
            store::scale_app(
                &mut b,
                PREFIX,
                "web",
                100 + i64::from(round),
                MAX,
                Some(seen)
            ),
        );
        let (won, lost) = match (ra, rb) {
            (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
            other => panic!("round {round}: expected one success and one conflict: {other:?}"),
        };
        assert!(
            matches!(&lost, StoreError::Conflict { expected, found, .. } if *expected == seen && *found == won.1),
            "round {round}: {lost:?}"
        );
        // The winner's count stands; the loser's was not applied behind its back.
        let stored = store::get_app(&mut a, PREFIX, "web").await.expect("get");
        assert_eq!(
            stored.map(|(spec, at)| (spec.instances, at)),
            Some((won.0.instances, won.1)),
            "round {round}"
        );
    }

    // Without a seen revision, scale reads the latest and applies.
    let (scaled, _) = store::scale_app(&mut b, PREFIX, "web", 9, MAX, None)
        .await
        .expect("scale");
    assert_eq!(scaled.instances, 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_counts_and_unknown_apps_write_nothing() {
    let lab = lab();
    let mut c = client(&lab.etcd_endpoint()).await;
    let created = store::put_app(&mut c, PREFIX, &app("web", 3), Expect::Absent)
        .await
        .expect("create");
    for (count, words) in [
        (-1, "must not be negative"),
        (1001, "above the maximum of 1000"),
        (i64::MAX, "above the maximum"),
    ] {
        let refused = store::scale_app(&mut c, PREFIX, "web", count, MAX, None).await;
        let text = refused
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(
            matches!(refused, Err(StoreError::Invalid { .. })) && text.contains(words),
            "{count}: {text}"
        );
        assert!(text.starts_with("cannot scale web: "), "{text}");
    }
    assert_eq!(revision_of(&mut c, "web").await, created);
    let history = store::list_history(&mut c, PREFIX, "web")
        .await
        .expect("history");
    assert!(history.is_empty(), "{history:?}");

    let unknown = store::scale_app(&mut c, PREFIX, "nope", 2, MAX, None).await;
    assert_eq!(
        unknown.err().map(|e| e.to_string()).as_deref(),
        Some("no app named \"nope\"")
    );
    assert_eq!(revision_of(&mut c, "nope").await, 0);
    let bad_name = store::get_app(&mut c, PREFIX, "../hosts").await;
    assert!(
        matches!(bad_name, Err(StoreError::Invalid { .. })),
        "{bad_name:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_entries_sort_by_time_and_say_who_and_from_where() {
    let lab = lab();
    let mut c = client(&lab.etcd_endpoint()).await;
    let mut written = Vec::new();
    for n in 0..5 {
        let entry = AuditEntry::now("scale", "web", format!("instances -> {n}"), "ok");
        store::record(&mut c, PREFIX, &entry).await.expect("record");
        written.push(entry);
    }
    let newest = store::list_audit(&mut c, PREFIX, 3).await.expect("list");
    let expected: Vec<AuditEntry> = written.iter().rev().take(3).cloned().collect();
    assert_eq!(newest, expected);

    // Keys sort by time: ascending key order is the order written.
    let raw = c
        .get(
            store::audit_dir(PREFIX),
            Some(etcd_client::GetOptions::new().with_prefix()),
        )
        .await
        .expect("get");
    let keys: Vec<String> = raw
        .kvs()
        .iter()
        .map(|kv| String::from_utf8_lossy(kv.key()).into_owned())
        .collect();
    let times: Vec<&str> = keys
        .iter()
        .filter_map(|k| k.strip_prefix(&store::audit_dir(PREFIX)))
        .collect();
    assert_eq!(times.len(), 5);
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert!(
        times
            .iter()
            .all(|t| t.len() == 41 && t.as_bytes()[10] == b'T'),
        "{times:?}"
    );
    let details: Vec<String> = raw
        .kvs()
        .iter()
        .filter_map(|kv| serde_json::from_slice::<AuditEntry>(kv.value()).ok())
        .map(|e| e.detail)
        .collect();
    assert_eq!(
        details,
        (0..5)
            .map(|n| format!("instances -> {n}"))
            .collect::<Vec<_>>()
    );

    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let who = env("USER").or_else(|| env("LOGNAME")).unwrap_or_else(|| {
        // Without either, the uid's own name, as `id -un` gives it.
        let out = std::process::Command::new("id").arg("-un").output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    });
    let from = env("SSH_CLIENT")
        .or_else(|| env("SSH_CONNECTION"))
        .and_then(|v| v.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "local".into());
    assert!(
        newest.iter().all(|e| e.who == who && e.from == from),
        "{newest:?}"
    );
    assert!(newest.iter().all(|e| e.time.ends_with('Z')), "{newest:?}");
}

fn endpoint(instance: &str, port: Option<u16>) -> Endpoint {
    Endpoint {
        host: "lab-1".into(),
        address: "127.0.1.1".into(),
        port,
        container: format!("c-{instance}"),
        revision: 7,
    }
}

/// `instance` -> its endpoint, as `list_endpoints` gives them.
fn listed(list: &[(&str, Option<u16>)]) -> BTreeMap<String, Endpoint> {
    list.iter()
        .map(|(i, p)| ((*i).to_owned(), endpoint(i, *p)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_and_host_health_vanish_with_their_lease() {
    let lab = lab();
    let mut c = client(&lab.etcd_endpoint()).await;
    let lease = c.lease_grant(30, None).await.expect("grant").id();

    // web-2 has no port: an app without ports is registered all the same.
    for (instance, port) in [("web-1", Some(8001)), ("web-2", None)] {
        store::register(
            &mut c,
            PREFIX,
            lease,
            "web",
            instance,
            &endpoint(instance, port),
        )
        .await
        .expect("register");
    }
    let health = store::HostHealth::now("lab-1", store::Liveness::Dead, "controller-a");
    store::set_host_health(&mut c, PREFIX, lease, &health)
        .await
        .expect("set health");
    assert_eq!(
        store::list_endpoints(&mut c, PREFIX, "web")
            .await
            .expect("list"),
        listed(&[("web-1", Some(8001)), ("web-2", None)])
    );
    assert_eq!(
        store::list_host_health(&mut c, PREFIX)
            .await
            .expect("health"),
        vec![health]
    );

    assert!(
        store::deregister(&mut c, PREFIX, "web", "web-1")
            .await
            .expect("deregister")
    );
    assert!(
        !store::deregister(&mut c, PREFIX, "web", "web-1")
            .await
            .expect("deregister")
    );
    assert_eq!(
        store::list_endpoints(&mut c, PREFIX, "web")
            .await
            .expect("list"),
        listed(&[("web-2", None)])
    );

    c.lease_revoke(lease).await.expect("revoke");
    assert_eq!(
        store::list_endpoints(&mut c, PREFIX, "web")
            .await
            .expect("list"),
        listed(&[])
    );
    assert_eq!(
        store::list_host_health(&mut c, PREFIX)
            .await
            .expect("health"),
        vec![]
    );
    // A dead lease takes no more registrations.
    let late = store::register(
        &mut c,
        PREFIX,
        lease,
        "web",
        "web-3",
        &endpoint("web-3", None),
    )
    .await;
    assert!(late.is_err(), "{late:?}");
    let bad = store::register(&mut c, PREFIX, lease, "web", "a/b", &endpoint("a/b", None)).await;
    assert!(matches!(bad, Err(StoreError::Invalid { .. })), "{bad:?}");
}

async fn next(rx: &mut mpsc::Receiver<AppEvent>, what: &str) -> AppEvent {
    match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        Ok(Some(event)) => event,
        Ok(None) => panic!("watcher stopped while waiting for {what}"),
        Err(_) => panic!("no {what} within 5s"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_watcher_lists_then_follows_changes() {
    let lab = lab();
    let endpoint = lab.etcd_endpoint();
    let mut c = client(&endpoint).await;
    let web_at = store::put_app(&mut c, PREFIX, &app("web", 2), Expect::Absent)
        .await
        .expect("create");

    let (tx, mut rx) = mpsc::channel(16);
    let _task = store::spawn_app_watcher(cfg(&endpoint), PREFIX.into(), MAX, tx);
    let first = next(&mut rx, "Connected").await;
    assert!(matches!(first, AppEvent::Connected { .. }), "{first:?}");
    let listed_at = match next(&mut rx, "Snapshot").await {
        AppEvent::Snapshot(listing) => {
            assert_eq!(listing.apps, vec![(app("web", 2), web_at)]);
            listing.revision
        }
        other => panic!("expected Snapshot, got {other:?}"),
    };

    let (_, scaled_at) = store::scale_app(&mut c, PREFIX, "web", 4, MAX, None)
        .await
        .expect("scale");
    assert!(scaled_at > listed_at);
    assert_eq!(
        next(&mut rx, "Put").await,
        AppEvent::Change(AppChange::Put {
            app: Box::new(app("web", 4)),
            mod_revision: scaled_at
        })
    );

    let deleted_at = store::delete_app(&mut c, PREFIX, "web", scaled_at)
        .await
        .expect("delete");
    assert_eq!(
        next(&mut rx, "Deleted").await,
        AppEvent::Change(AppChange::Deleted {
            name: "web".into(),
            revision: deleted_at
        })
    );

    // A spec turned malformed, or over the instance maximum, is broken, never deleted.
    let mut over = app("api", 1);
    over.instances = u32::MAX;
    let over = over.to_json().expect("json");
    for (value, why) in [
        ("{oops", "JSON"),
        (over.as_str(), "above the maximum of 1000"),
    ] {
        let broken = c
            .put(store::app_key(PREFIX, "api"), value, None)
            .await
            .expect("raw put");
        let at = broken.header().map_or(0, |h| h.revision());
        match next(&mut rx, "Broken api").await {
            AppEvent::Change(AppChange::Broken {
                record,
                mod_revision,
            }) => {
                assert_eq!((record.name.as_str(), mod_revision), ("api", at));
                assert_eq!(record.key, store::app_key(PREFIX, "api"));
                assert!(record.reason.contains(why), "{}", record.reason);
            }
            other => panic!("expected Broken, got {other:?}"),
        }
    }
}
