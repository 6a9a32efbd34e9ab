//! Leader election against a real etcd: one leader, handover on revocation, death,
//! resignation, and a lost lease when etcd stays away longer than the TTL.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};
use wheelhouse::store::{self, Leadership, StoreError};

mod common;

use common::etcd::{client, lab};

const PREFIX: &str = "/wheelhouse";
const TTL: Duration = Duration::from_secs(3);

async fn lead(c: &etcd_client::Client, id: &str, ttl: Duration) -> Leadership {
    match tokio::time::timeout(Duration::from_secs(5), store::campaign(c, PREFIX, id, ttl)).await {
        Ok(Ok(leadership)) => leadership,
        Ok(Err(e)) => panic!("campaign {id}: {e}"),
        Err(_) => panic!("{id} not elected within 5s"),
    }
}

/// Starts `id`'s campaign in the background.
fn candidate(
    c: &etcd_client::Client,
    id: &'static str,
    ttl: Duration,
) -> tokio::task::JoinHandle<Result<Leadership, StoreError>> {
    let c = c.clone();
    tokio::spawn(async move { store::campaign(&c, PREFIX, id, ttl).await })
}

/// Waits for a background campaign to win; returns the leadership and how long it took.
async fn elected(
    task: tokio::task::JoinHandle<Result<Leadership, StoreError>>,
    within: Duration,
    since: Instant,
) -> (Leadership, Duration) {
    match tokio::time::timeout(within, task).await {
        Ok(Ok(Ok(leadership))) => (leadership, since.elapsed()),
        Ok(Ok(Err(e))) => panic!("campaign failed: {e}"),
        Ok(Err(e)) => panic!("campaign task: {e}"),
        Err(_) => panic!("not elected within {within:?}"),
    }
}

async fn leader(c: &etcd_client::Client) -> Option<String> {
    match store::current_leader(c, PREFIX).await {
        Ok(id) => id,
        Err(e) => panic!("current leader: {e}"),
    }
}

/// Whether a Txn guarded by `fence` still goes through.
async fn fenced_write(c: &mut etcd_client::Client, fence: etcd_client::Compare) -> bool {
    let txn = etcd_client::Txn::new()
        .when([fence])
        .and_then([etcd_client::TxnOp::put("/wheelhouse/fenced", "x", None)]);
    c.txn(txn).await.expect("txn").succeeded()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_and_a_revoked_lease_hands_over_at_once() {
    let lab = lab();
    let mut c = client(&lab.etcd_endpoint()).await;
    assert_eq!(leader(&c).await, None);

    let a = lead(&c, "a", TTL).await;
    assert_eq!(leader(&c).await.as_deref(), Some("a"));
    let mut observer = store::observe_leader(&c, PREFIX);
    assert_eq!(observer.next().await.ok().as_deref(), Some("a"));

    let b = candidate(&c, "b", TTL);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!b.is_finished(), "b won while a leads");
    assert_eq!(leader(&c).await.as_deref(), Some("a"));
    assert!(!a.is_lost());
    assert!(fenced_write(&mut c, a.fence()).await);

    // The leader's lease is revoked (what etcd does when it expires): b takes over.
    let revoked = Instant::now();
    c.lease_revoke(a.lease_id()).await.expect("revoke");
    let (b, handover) = elected(b, Duration::from_secs(2), revoked).await;
    assert_eq!(leader(&c).await.as_deref(), Some("b"));
    let observed = tokio::time::timeout(Duration::from_secs(2), observer.next()).await;
    assert_eq!(observed.ok().and_then(Result::ok).as_deref(), Some("b"));

    // a learns at its next keep-alive, within TTL/3.
    let lost = tokio::time::timeout(TTL, a.lost()).await;
    let noticed = revoked.elapsed();
    assert!(
        matches!(&lost, Ok(StoreError::LeaseLost { reason, .. }) if reason.contains("gone")),
        "{lost:?}"
    );
    assert!(a.is_lost());
    assert!(
        !fenced_write(&mut c, a.fence()).await,
        "a's fence still holds"
    );
    assert!(fenced_write(&mut c, b.fence()).await);
    assert!(!b.is_lost());
    eprintln!("revoke -> b elected: {handover:?}; revoke -> a's lost(): {noticed:?}");
    assert!(
        noticed <= TTL / 3 + Duration::from_millis(700),
        "{noticed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_leaders_lease_expires_and_the_next_takes_over_within_the_ttl() {
    let lab = lab();
    let c = client(&lab.etcd_endpoint()).await;
    let ttl = store::DEFAULT_LEASE_TTL;
    let a = lead(&c, "a", ttl).await;
    let b = candidate(&c, "b", ttl);
    // b's own keep-alive must carry it through a wait longer than its TTL.
    tokio::time::sleep(ttl + Duration::from_secs(1)).await;
    assert!(!b.is_finished(), "b won while a leads");

    // Like SIGKILL: a's keep-alive stops and nobody revokes its lease.
    let killed = Instant::now();
    drop(a);
    let (b, handover) = elected(b, ttl + Duration::from_secs(3), killed).await;
    eprintln!("leader's keep-alive stopped -> b elected: {handover:?} (TTL {ttl:?})");
    assert!(
        handover <= ttl + Duration::from_millis(1500),
        "{handover:?}"
    );
    assert!(handover >= ttl - Duration::from_secs(2), "{handover:?}");
    assert_eq!(leader(&c).await.as_deref(), Some("b"));
    assert!(!b.is_lost());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proclaim_renames_and_resign_hands_over_at_once() {
    let lab = lab();
    let c = client(&lab.etcd_endpoint()).await;
    let mut a = lead(&c, "a", TTL).await;
    a.proclaim("a-ready").await.expect("proclaim");
    assert_eq!(a.id(), "a-ready");
    assert_eq!(leader(&c).await.as_deref(), Some("a-ready"));

    let b = candidate(&c, "b", TTL);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let resigned = Instant::now();
    a.resign().await.expect("resign");
    let (b, handover) = elected(b, Duration::from_secs(2), resigned).await;
    eprintln!("resign -> b elected: {handover:?}");
    assert_eq!(leader(&c).await.as_deref(), Some("b"));
    b.resign().await.expect("resign");
    assert_eq!(leader(&c).await, None);

    let empty = store::campaign(&c, PREFIX, " ", TTL).await;
    assert!(
        matches!(empty, Err(StoreError::Invalid { .. })),
        "{empty:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_gone_longer_than_the_ttl_loses_the_lease_and_a_new_campaign_wins() {
    // No hosts, so no addresses: sharing a base with another test binary is harmless.
    let mut lab = lab();
    let c = client(&lab.etcd_endpoint()).await;
    let a = lead(&c, "a", TTL).await;

    let stopped = Instant::now();
    tokio::task::block_in_place(|| lab.stop_etcd()).expect("stop etcd");
    let lost = tokio::time::timeout(TTL + Duration::from_secs(2), a.lost()).await;
    let noticed = stopped.elapsed();
    assert!(
        matches!(&lost, Ok(StoreError::LeaseLost { reason, .. }) if reason.contains("TTL")),
        "{lost:?}"
    );
    eprintln!("etcd stopped -> lost(): {noticed:?} (TTL {TTL:?})");
    assert!(noticed <= TTL + Duration::from_millis(500), "{noticed:?}");
    // Never before etcd could have expired it: the last renewal was at most TTL/3 before.
    assert!(
        noticed >= TTL - TTL / 3 - Duration::from_millis(200),
        "{noticed:?}"
    );

    // Campaigning while etcd is down fails rather than hangs.
    let down = tokio::time::timeout(
        Duration::from_secs(5),
        store::campaign(&c, PREFIX, "a", TTL),
    )
    .await;
    assert!(matches!(down, Ok(Err(_))), "{down:?}");

    tokio::task::block_in_place(|| lab.start_etcd()).expect("start etcd");
    drop(a);
    let again = Instant::now();
    let c = client(&lab.etcd_endpoint()).await;
    let task = candidate(&c, "a", TTL);
    // The old lease outlives the restart by up to a TTL (etcd renews leases on start).
    let (a, waited) = elected(task, TTL + Duration::from_secs(5), again).await;
    eprintln!("etcd back -> elected again: {waited:?}");
    assert_eq!(leader(&c).await.as_deref(), Some("a"));
    assert!(!a.is_lost());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_etcd_restart_keeps_the_leadership() {
    let mut lab = lab();
    let c = client(&lab.etcd_endpoint()).await;
    let ttl = store::DEFAULT_LEASE_TTL;
    let a = lead(&c, "a", ttl).await;

    let stopped = Instant::now();
    tokio::task::block_in_place(|| lab.stop_etcd().and_then(|()| lab.start_etcd()))
        .expect("restart etcd");
    let outage = stopped.elapsed();
    eprintln!("etcd restart took {outage:?}");
    assert!(
        outage < ttl - ttl / 3,
        "restart too slow for this test: {outage:?}"
    );

    // Two TTLs later the keep-alive, reconnected on its own, still holds the lease.
    tokio::time::sleep(ttl * 2).await;
    assert!(!a.is_lost(), "{a:?}");
    assert_eq!(leader(&c).await.as_deref(), Some("a"));
    let left = c
        .clone()
        .lease_time_to_live(a.lease_id(), None)
        .await
        .expect("ttl")
        .ttl();
    assert!(left > 0, "lease has {left}s left");
}

/// The leader's id comes from etcd: `ensure_controller` hands it over cleaned, so what
/// `demo` and `lab up` print of it cannot act on the terminal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_leader_id_is_handed_over_clean() {
    use wheelhouse::lab::demo::{ControllerRun, ensure_controller};
    let mut lab = lab();
    let c = client(&lab.etcd_endpoint()).await;
    let _leads = lead(&c, "\x1b]0;owned\x07ctl\u{202e}-1\u{9b}2J", TTL).await;
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_wheelhouse"));
    // ensure_controller blocks on a runtime of its own: off this one's threads.
    let run = std::thread::scope(|s| s.spawn(|| ensure_controller(&mut lab, exe)).join());
    match run {
        Ok(Ok(run)) => assert_eq!(run, ControllerRun::Elsewhere("ctl\u{fffd}-1".to_owned())),
        Ok(Err(e)) => panic!("ensure_controller: {e}"),
        Err(_) => panic!("ensure_controller panicked"),
    }
}
