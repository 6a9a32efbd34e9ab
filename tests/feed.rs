//! The feed against a real lab: two screens on one feed share one supervisor per host,
//! one etcd watch per prefix and one etcd connection, which their commands use too.
//! Counted inside (the process's live supervisors and watchers) and outside (etcd's own
//! metrics, the process's sockets).
//! The counts are the whole process's: keep this the binary's only test.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch::Receiver;
use wheelhouse::cluster::{ClusterState, EtcdState, HostState};
use wheelhouse::config::Config;
use wheelhouse::docker::Supervisor;
use wheelhouse::domain::app::AppSpec;
use wheelhouse::feed::{Feed, Stats};
use wheelhouse::lab::TestLab;
use wheelhouse::ops::{self, Command, Mode, Ops, Principal};
use wheelhouse::store;
use wheelhouse::tui::screen::Screen;
use wheelhouse::tui::update::{Msg, update};

const WATCHERS: &str = "etcd_debugging_mvcc_watcher_total";
const STREAMS: &str = "etcd_debugging_mvcc_watch_stream_total";

#[test]
fn two_screens_on_one_feed_share_its_supervisors_and_etcd_watches() {
    let lab = TestLab::up(2).expect("lab up");
    let config = Config::load(Some(&lab.config_path())).expect("lab config");
    let etcd = lab.etcd_endpoint();
    let port: u16 = (etcd.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .expect("etcd port");
    let before = (metric(&etcd, WATCHERS), metric(&etcd, STREAMS));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    let (feed, screens) = runtime.block_on(async {
        let feed = Feed::start(&config, Stats::With);
        let mut screens = Vec::new();
        for _ in 0..2 {
            let pictures = feed.snapshots().await.expect("snapshots");
            screens.push((Screen::new(Instant::now()), pictures));
        }
        let screens = follow(screens, lab.hosts().len()).await;
        (feed, screens)
    });

    let snapshot = runtime.block_on(feed.snapshots()).expect("snapshots");
    let hosts = |cluster: &ClusterState| {
        (cluster.hosts.iter())
            .map(|h| (h.name().to_owned(), h.state.clone()))
            .collect::<Vec<_>>()
    };
    let lab_hosts: Vec<_> = (lab.hosts().iter())
        .map(|h| (h.name.clone(), HostState::Online))
        .collect();
    assert_eq!(hosts(&snapshot.borrow()), lab_hosts, "the feed's picture");
    for (screen, _) in &screens {
        assert_eq!(
            hosts(&screen.cluster),
            lab_hosts,
            "each screen sees every host"
        );
    }
    assert_eq!(
        Supervisor::live(),
        lab.hosts().len(),
        "one supervisor per host for both screens"
    );
    let prefixes = [
        "agents",
        "apps",
        "hosts",
        "placement",
        "restarts",
        "rollouts",
        "services",
    ];
    assert_eq!(
        store::live_watches(),
        BTreeMap::from(prefixes.map(|p| (p, 1))),
        "one watcher per prefix for both screens"
    );
    let after = (metric(&etcd, WATCHERS), metric(&etcd, STREAMS));
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (7.0, 7.0),
        "etcd counts one watcher and one watch stream per prefix"
    );
    assert_eq!(connections_to(port), 1, "one etcd client, one connection");

    // A change from a screen rides the same client: still one connection after it.
    let ops = Ops {
        etcd: feed.etcd(),
        prefix: config.prefix.clone(),
        max_instances: config.max_instances,
        hosts: config.hosts.clone(),
    };
    let apply = Command::Apply {
        spec: Box::new(AppSpec::new("feedtest", "wheelhouse/demo:1")),
    };
    let principal = Principal::local(Mode::ReadWrite);
    let done = runtime.block_on(ops::execute(&ops, &principal, apply));
    assert!(done.is_ok(), "{done:?}");
    assert_eq!(connections_to(port), 1, "commands share the feed's client");
}

/// Hands each screen the feed's pictures, as the cockpit's loop does, until both show
/// every host online and etcd connected.
async fn follow(
    mut screens: Vec<(Screen, Receiver<Arc<ClusterState>>)>,
    hosts: usize,
) -> Vec<(Screen, Receiver<Arc<ClusterState>>)> {
    let ready = |m: &Screen| {
        m.cluster.hosts.len() == hosts
            && matches!(m.cluster.etcd, EtcdState::Connected { .. })
            && (m.cluster.hosts.iter()).all(|h| h.state == HostState::Online)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !screens.iter().all(|(m, _)| ready(m)) {
        assert!(Instant::now() < deadline, "screens not ready in 30 s");
        for (screen, pictures) in &mut screens {
            if pictures.has_changed().expect("feed running") {
                let picture = Arc::clone(&pictures.borrow_and_update());
                update(screen, Msg::Cluster(picture));
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    screens
}

/// One of etcd's own figures, read from /metrics on its client URL.
fn metric(endpoint: &str, name: &str) -> f64 {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect to etcd");
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("ask for metrics");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read metrics");
    (text.lines())
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in etcd's metrics"))
}

/// Established TCP connections this process holds to `port` on loopback.
fn connections_to(port: u16) -> usize {
    let ours: HashSet<String> = std::fs::read_dir("/proc/self/fd")
        .expect("fds")
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_str()?;
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_owned(),
            )
        })
        .collect();
    let table = std::fs::read_to_string("/proc/self/net/tcp").expect("tcp table");
    let port = format!(":{port:04X}");
    (table.lines().skip(1))
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.len() > 9 && f[2].ends_with(&port) && f[3] == "01")
        .filter(|f| ours.contains(f[9]))
        .count()
}
