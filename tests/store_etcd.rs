//! The etcd side against a real etcd from the lab: host records, the watcher, outages.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use wheelhouse::cluster::HostEvent;
use wheelhouse::cluster::{HostChange, HostListing};
use wheelhouse::config::EtcdConfig;
use wheelhouse::domain::HostSpec;
use wheelhouse::store::{self, StoreError};

mod common;

use common::etcd::{cfg, client, lab};

const PREFIX: &str = "/wheelhouse";

fn spec(name: &str) -> HostSpec {
    HostSpec {
        name: name.to_owned(),
        engine: format!("unix:///tmp/{name}.sock"),
        address: Some("127.0.1.1".into()),
        zone: Some("a".into()),
        labels: BTreeMap::from([("disk".to_owned(), "ssd".to_owned())]),
        tls: None,
    }
}

/// The next event, or a failure naming what was awaited.
async fn next(rx: &mut mpsc::Receiver<HostEvent>, within: Duration, what: &str) -> HostEvent {
    match tokio::time::timeout(within, rx.recv()).await {
        Ok(Some(event)) => event,
        Ok(None) => panic!("watcher stopped while waiting for {what}"),
        Err(_) => panic!("no {what} within {within:?}"),
    }
}

/// Everything the watcher sends during `period`.
async fn drain(rx: &mut mpsc::Receiver<HostEvent>, period: Duration) -> Vec<HostEvent> {
    let end = tokio::time::Instant::now() + period;
    let mut events = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout_at(end, rx.recv()).await {
        events.push(event);
    }
    events
}

/// Starts a watcher and checks its opening: Connected, then Hosts; returns the hosts' revision.
async fn start_watcher(
    endpoint: &str,
) -> (
    mpsc::Receiver<HostEvent>,
    tokio::task::JoinHandle<()>,
    Vec<HostSpec>,
    i64,
) {
    let (tx, mut rx) = mpsc::channel(64);
    let task = store::spawn_host_watcher(cfg(endpoint), PREFIX.into(), tx);
    let first = next(&mut rx, Duration::from_secs(5), "Connected").await;
    assert!(matches!(first, HostEvent::Connected { .. }), "{first:?}");
    match next(&mut rx, Duration::from_secs(5), "Hosts").await {
        HostEvent::Snapshot(HostListing {
            records, revision, ..
        }) => (rx, task, records, revision),
        other => panic!("expected Hosts, got {other:?}"),
    }
}

fn put_names(events: &[HostEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            HostEvent::Change(HostChange::Put { record, .. }) => Some(record.name.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_records_round_trip_and_bad_ones_are_skipped() {
    let lab = lab();
    let mut c = client(&lab.etcd_endpoint()).await;

    let r1 = store::put_host(&mut c, PREFIX, &spec("h1")).await;
    let r2 = store::put_host(&mut c, PREFIX, &spec("h2")).await;
    assert!(
        matches!((&r1, &r2), (Ok(a), Ok(b)) if b > a),
        "{r1:?} {r2:?}"
    );
    // Bad JSON, a record whose name is not its key's, and one with an unknown field.
    let hosts = store::hosts_dir(PREFIX);
    for (key, value) in [
        ("bad", "{not json".to_owned()),
        ("h3", r#"{"name":"other","engine":"unix:///x"}"#.to_owned()),
        (
            "h4",
            r#"{"name":"h4","engine":"unix:///x","color":1}"#.to_owned(),
        ),
    ] {
        c.put(format!("{hosts}{key}"), value, None)
            .await
            .expect("raw put");
    }

    let (records, revision) = store::list_hosts(&mut c, PREFIX).await.expect("list");
    assert_eq!(records, vec![spec("h1"), spec("h2")]);
    assert!(revision >= 5, "revision {revision}");

    assert!(matches!(
        store::delete_host(&mut c, PREFIX, "h1").await,
        Ok(true)
    ));
    assert!(matches!(
        store::delete_host(&mut c, PREFIX, "h1").await,
        Ok(false)
    ));
    let (records, _) = store::list_hosts(&mut c, PREFIX).await.expect("list");
    assert_eq!(records, vec![spec("h2")]);

    // Records readers would skip are refused before reaching etcd.
    let bad = store::put_host(&mut c, PREFIX, &spec("a/b")).await;
    assert!(
        matches!(bad, Err(StoreError::InvalidRecord { .. })),
        "{bad:?}"
    );
    let mut no_scheme = spec("h5");
    no_scheme.engine = "/var/run/docker.sock".into();
    let bad = store::put_host(&mut c, PREFIX, &no_scheme).await;
    assert!(
        matches!(bad, Err(StoreError::InvalidRecord { .. })),
        "{bad:?}"
    );
    assert!(matches!(
        store::delete_host(&mut c, PREFIX, "").await,
        Err(StoreError::InvalidRecord { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_lists_then_follows_changes() {
    let lab = lab();
    let endpoint = lab.etcd_endpoint();
    let mut c = client(&endpoint).await;
    store::put_host(&mut c, PREFIX, &spec("h1"))
        .await
        .expect("put");

    let (mut rx, _task, records, listed_at) = start_watcher(&endpoint).await;
    assert_eq!(records, vec![spec("h1")]);

    let put_at = store::put_host(&mut c, PREFIX, &spec("h2"))
        .await
        .expect("put");
    assert!(put_at > listed_at);
    let event = next(&mut rx, Duration::from_secs(3), "HostPut h2").await;
    assert_eq!(
        event,
        HostEvent::Change(HostChange::Put {
            record: spec("h2"),
            revision: put_at
        })
    );

    assert!(
        store::delete_host(&mut c, PREFIX, "h1")
            .await
            .expect("delete")
    );
    let event = next(&mut rx, Duration::from_secs(3), "HostDeleted h1").await;
    assert!(
        matches!(&event, HostEvent::Change(HostChange::Deleted { name, revision }) if name == "h1" && *revision > put_at),
        "{event:?}"
    );

    // A record turned malformed is broken, never deleted; a fresh list says the same.
    let key = store::host_key(PREFIX, "h2");
    c.put(key.as_str(), "{oops", None).await.expect("raw put");
    let event = next(&mut rx, Duration::from_secs(3), "HostBroken h2").await;
    assert!(
        matches!(&event, HostEvent::Change(HostChange::Broken { record, .. })
            if record.name == "h2" && record.key == key && record.reason.contains("JSON")),
        "{event:?}"
    );
    let (records, broken, _) = store::list_host_records(&mut c, PREFIX)
        .await
        .expect("list");
    assert!(records.is_empty(), "{records:?}");
    assert_eq!(
        broken.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
        ["h2"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_rides_out_an_etcd_restart_without_losing_a_put() {
    let mut lab = lab();
    let endpoint = lab.etcd_endpoint();
    let (mut rx, _task, _, _) = start_watcher(&endpoint).await;

    let stopped = Instant::now();
    tokio::task::block_in_place(|| lab.stop_etcd()).expect("stop etcd");
    let event = next(&mut rx, Duration::from_secs(5), "Unreachable").await;
    let to_unreachable = stopped.elapsed();
    match &event {
        HostEvent::Unreachable { error } => assert!(error.contains(&endpoint), "{error}"),
        other => panic!("expected Unreachable, got {other:?}"),
    }

    let started = Instant::now();
    tokio::task::block_in_place(|| lab.start_etcd()).expect("start etcd");
    // Written before the watcher is back (it is still backing off): must arrive, once.
    let mut c = client(&endpoint).await;
    let gap_at = store::put_host(&mut c, PREFIX, &spec("gap"))
        .await
        .expect("put");

    let mut to_connected = None;
    let mut events = Vec::new();
    while to_connected.is_none() {
        match next(&mut rx, Duration::from_secs(8), "Connected").await {
            HostEvent::Connected { .. } => to_connected = Some(started.elapsed()),
            // A retry may fail differently (e.g. etcd still starting): only the text changes.
            HostEvent::Unreachable { .. } => {}
            other => events.push(other),
        }
    }
    let after_at = store::put_host(&mut c, PREFIX, &spec("after"))
        .await
        .expect("put");
    events.extend(drain(&mut rx, Duration::from_secs(2)).await);
    assert_eq!(put_names(&events), ["gap", "after"], "{events:?}");
    assert!(
        events
            .iter()
            .all(|e| !matches!(e, HostEvent::Snapshot(HostListing { .. }))),
        "resumed, not relisted: {events:?}"
    );
    assert!(events.contains(&HostEvent::Change(HostChange::Put {
        record: spec("gap"),
        revision: gap_at
    })));
    assert!(events.contains(&HostEvent::Change(HostChange::Put {
        record: spec("after"),
        revision: after_at
    })));
    eprintln!(
        "stop_etcd -> Unreachable: {to_unreachable:?}; start_etcd -> Connected: {:?}",
        to_connected.unwrap_or_default()
    );
    assert!(to_unreachable < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_an_error_not_a_hang() {
    // A port that was free a moment ago: connection refused.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let result = store::connect(&cfg(&endpoint)).await;
    assert!(started.elapsed() <= store::REQUEST_TIMEOUT + Duration::from_millis(500));
    match result {
        Err(e @ StoreError::Unreachable { .. }) => assert_eq!(
            e.to_string(),
            format!("etcd unreachable at {endpoint}: connection refused")
        ),
        Err(other) => panic!("expected Unreachable, got {other}"),
        Ok(_) => panic!("connected to nothing at {endpoint}"),
    }

    // A socket that accepts but never answers: the timeout, not a hang.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("127.0.0.1:{}", silent.local_addr().expect("addr").port());
    let started = Instant::now();
    let result = store::connect(&cfg(&endpoint)).await;
    let waited = started.elapsed();
    assert!(
        waited <= store::REQUEST_TIMEOUT + Duration::from_millis(500),
        "{waited:?}"
    );
    assert!(
        matches!(&result, Err(StoreError::Unreachable { reason, .. }) if reason.contains("no answer")),
        "{:?}",
        result.err()
    );

    // The watcher reports it and keeps trying without sending anything else.
    let (tx, mut rx) = mpsc::channel(8);
    let task =
        store::spawn_host_watcher(cfg(&format!("http://127.0.0.1:{port}")), PREFIX.into(), tx);
    let event = next(&mut rx, Duration::from_secs(3), "Unreachable").await;
    assert!(matches!(event, HostEvent::Unreachable { .. }), "{event:?}");
    assert_eq!(drain(&mut rx, Duration::from_secs(2)).await, vec![]);
    drop(rx);
    assert!(
        tokio::time::timeout(Duration::from_secs(4), task)
            .await
            .is_ok(),
        "watcher outlived its receiver"
    );
}

/// A TCP relay in front of the lab's etcd, so a test can cut or freeze the watcher's link
/// at a moment of its choosing while other clients keep writing to etcd directly.
mod relay {
    use std::sync::Arc;
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::watch;

    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub enum Mode {
        Open,
        /// Connections are dropped as soon as they are made.
        Cut,
        /// Connections stay up but carry nothing: a hung etcd.
        Frozen,
    }

    pub struct Relay {
        pub endpoint: String,
        mode: Arc<watch::Sender<Mode>>,
        accept: tokio::task::JoinHandle<()>,
    }

    impl Relay {
        pub async fn start(upstream: &str) -> Relay {
            let upstream = upstream.trim_start_matches("http://").to_owned();
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
            let port = listener.local_addr().expect("relay addr").port();
            let mode = Arc::new(watch::channel(Mode::Open).0);
            let modes = mode.clone();
            let accept = tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    tokio::spawn(carry(client, upstream.clone(), modes.subscribe()));
                }
            });
            Relay {
                endpoint: format!("http://127.0.0.1:{port}"),
                mode,
                accept,
            }
        }

        pub fn set(&self, mode: Mode) {
            self.mode.send_replace(mode);
        }
    }

    impl Drop for Relay {
        fn drop(&mut self) {
            self.accept.abort();
            self.set(Mode::Cut);
        }
    }

    /// Relays one connection while the mode stays Open; any change ends it (a frozen one
    /// is held silent first), so a link never resumes mid-stream with bytes lost.
    async fn carry(mut client: TcpStream, upstream: String, mut mode: watch::Receiver<Mode>) {
        let start = *mode.borrow_and_update();
        if start == Mode::Open {
            let Ok(mut server) = TcpStream::connect(&upstream).await else {
                return;
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
                _ = mode.wait_for(|m| *m != Mode::Open) => {}
            }
        }
        if *mode.borrow() == Mode::Frozen {
            let _ = mode.wait_for(|m| *m != Mode::Frozen).await;
        }
    }
}

/// Cuts the watcher's link: Unreachable arrives.
async fn cut(relay: &relay::Relay, rx: &mut mpsc::Receiver<HostEvent>) {
    relay.set(relay::Mode::Cut);
    let event = next(rx, Duration::from_secs(5), "Unreachable").await;
    assert!(matches!(event, HostEvent::Unreachable { .. }), "{event:?}");
}

/// Restores the link and collects what the watcher sends after reconnecting.
async fn restore(relay: &relay::Relay, rx: &mut mpsc::Receiver<HostEvent>) -> Vec<HostEvent> {
    relay.set(relay::Mode::Open);
    loop {
        match next(rx, Duration::from_secs(6), "Connected").await {
            HostEvent::Connected { .. } => break,
            HostEvent::Unreachable { .. } => {}
            other => panic!("{other:?} before Connected"),
        }
    }
    drain(rx, Duration::from_secs(2)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_while_the_watcher_was_away_arrive_once() {
    let lab = lab();
    let relay = relay::Relay::start(&lab.etcd_endpoint()).await;
    let mut c = client(&lab.etcd_endpoint()).await;
    store::put_host(&mut c, PREFIX, &spec("old"))
        .await
        .expect("put");
    let (mut rx, _task, records, _) = start_watcher(&relay.endpoint).await;
    assert_eq!(records, vec![spec("old")]);

    cut(&relay, &mut rx).await;
    let gap_at = store::put_host(&mut c, PREFIX, &spec("gap"))
        .await
        .expect("put");
    assert!(
        store::delete_host(&mut c, PREFIX, "old")
            .await
            .expect("delete")
    );

    let events = restore(&relay, &mut rx).await;
    assert_eq!(
        events,
        vec![
            HostEvent::Change(HostChange::Put {
                record: spec("gap"),
                revision: gap_at
            }),
            HostEvent::Change(HostChange::Deleted {
                name: "old".into(),
                revision: gap_at + 1
            }),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compacted_resume_point_falls_back_to_a_fresh_list() {
    let lab = lab();
    let relay = relay::Relay::start(&lab.etcd_endpoint()).await;
    let mut c = client(&lab.etcd_endpoint()).await;
    let (mut rx, _task, _, _) = start_watcher(&relay.endpoint).await;

    cut(&relay, &mut rx).await;
    store::put_host(&mut c, PREFIX, &spec("h1"))
        .await
        .expect("put");
    let last = store::put_host(&mut c, PREFIX, &spec("h2"))
        .await
        .expect("put");
    c.compact(last, None).await.expect("compact");

    let events = restore(&relay, &mut rx).await;
    assert_eq!(
        events,
        vec![HostEvent::Snapshot(HostListing {
            records: vec![spec("h1"), spec("h2")],
            broken: Vec::new(),
            revision: last
        })]
    );
    // And it watches on from there.
    let at = store::put_host(&mut c, PREFIX, &spec("h3"))
        .await
        .expect("put");
    let event = next(&mut rx, Duration::from_secs(3), "HostPut h3").await;
    assert_eq!(
        event,
        HostEvent::Change(HostChange::Put {
            record: spec("h3"),
            revision: at
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_etcd_is_reported_unreachable() {
    let lab = lab();
    let relay = relay::Relay::start(&lab.etcd_endpoint()).await;
    let (mut rx, _task, _, _) = start_watcher(&relay.endpoint).await;

    let frozen = Instant::now();
    relay.set(relay::Mode::Frozen);
    let event = next(&mut rx, Duration::from_secs(6), "Unreachable").await;
    let waited = frozen.elapsed();
    assert!(
        matches!(&event, HostEvent::Unreachable { error } if error.contains("no answer")),
        "{event:?}"
    );
    eprintln!("silent etcd -> Unreachable: {waited:?}");
    assert!(waited < Duration::from_millis(4500), "{waited:?}");

    let events = restore(&relay, &mut rx).await;
    assert_eq!(events, vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_failures_are_named() {
    let lab = lab();
    let endpoint = lab.etcd_endpoint();
    let mut admin = client(&endpoint).await;
    admin
        .user_add("root", "s3cret", None)
        .await
        .expect("user add");
    admin.user_grant_role("root", "root").await.expect("grant");
    admin.auth_enable().await.expect("auth enable");

    let with = |user: Option<&str>, password: Option<&str>| EtcdConfig {
        user: user.map(str::to_owned),
        password: password.map(str::to_owned),
        ..cfg(&endpoint)
    };
    let wrong = store::connect(&with(Some("root"), Some("nope")))
        .await
        .err();
    let text = wrong.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(matches!(wrong, Some(StoreError::Auth { .. })), "{wrong:?}");
    assert!(
        text.starts_with(&format!(
            "etcd at {endpoint} refused access: authentication failed"
        )),
        "{text}"
    );

    let mut right = store::connect(&with(Some("root:s3cret"), None))
        .await
        .expect("connect");
    store::put_host(&mut right, PREFIX, &spec("h1"))
        .await
        .expect("put as root");

    // No credentials: etcd answers, but reading the records is refused, and the watcher says so.
    let (tx, mut rx) = mpsc::channel(8);
    let _task = store::spawn_host_watcher(cfg(&endpoint), PREFIX.into(), tx);
    let event = next(&mut rx, Duration::from_secs(5), "Unreachable").await;
    assert!(
        matches!(&event, HostEvent::Unreachable { error } if error.contains("refused access")),
        "{event:?}"
    );
}
