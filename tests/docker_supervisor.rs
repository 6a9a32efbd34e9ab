//! Host supervisors against real dockerd engines from the lab (address bases 20..29),
//! over unix sockets and over TCP with mutual TLS.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CreateContainerOptions, RemoveContainerOptions};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use wheelhouse::cluster::DataEvent;
use wheelhouse::docker::{self, Detail, DockerError, Supervisor};
use wheelhouse::domain::HostSpec;
use wheelhouse::lab::TestLab;

fn spec(name: &str, engine: &str) -> HostSpec {
    HostSpec {
        name: name.to_owned(),
        engine: engine.to_owned(),
        address: None,
        zone: None,
        labels: BTreeMap::new(),
        tls: None,
    }
}

fn lab_spec(lab: &TestLab, i: usize) -> HostSpec {
    let host = &lab.hosts()[i];
    spec(&host.name, &host.engine)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The next event within `limit` that `pred` accepts; others are skipped.
async fn wait_for(
    rx: &mut mpsc::Receiver<DataEvent>,
    limit: Duration,
    mut pred: impl FnMut(&DataEvent) -> bool,
) -> Option<DataEvent> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(event)) if pred(&event) => return Some(event),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return None,
        }
    }
}

fn is_up(host: &str) -> impl Fn(&DataEvent) -> bool + '_ {
    move |e| matches!(e, DataEvent::Up { host: h, .. } if h == host)
}

fn is_down(host: &str) -> impl Fn(&DataEvent) -> bool + '_ {
    move |e| matches!(e, DataEvent::Down { host: h, .. } if h == host)
}

/// A container of the lab's demo image running `script`, labelled as a test app.
async fn run_container(docker: &Docker, name: &str, script: &str, nano_cpus: i64) -> String {
    let body = ContainerCreateBody {
        image: Some("wheelhouse/demo:1".to_owned()),
        entrypoint: Some(vec!["/bin/sh".into(), "-c".into(), script.into()]),
        labels: Some([("wheelhouse.app".to_owned(), "test".to_owned())].into()),
        host_config: Some(HostConfig {
            nano_cpus: Some(nano_cpus),
            network_mode: Some("host".to_owned()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let options = CreateContainerOptions {
        name: Some(name.to_owned()),
        ..Default::default()
    };
    let created = docker
        .create_container(Some(options), body)
        .await
        .expect("create container");
    docker
        .start_container(&created.id, None)
        .await
        .expect("start container");
    created.id
}

async fn remove_container(docker: &Docker, id: &str) {
    let options = RemoveContainerOptions {
        force: true,
        ..Default::default()
    };
    docker
        .remove_container(id, Some(options))
        .await
        .expect("remove container");
}

#[test]
fn containers_and_stats_follow_the_engine() {
    let lab = TestLab::up(1).expect("lab up");
    let host = lab_spec(&lab, 0);
    runtime().block_on(async {
        let (tx, mut rx) = mpsc::channel(256);
        let _sup = Supervisor::spawn(host.clone(), Duration::from_secs(1), tx);
        let up = wait_for(&mut rx, Duration::from_secs(10), is_up(&host.name)).await;
        match up {
            Some(DataEvent::Up { info, .. }) => {
                assert!(info.ncpu >= 1, "{info:?}");
                assert!(info.mem_total > 0, "{info:?}");
                assert!(!info.version.is_empty(), "{info:?}");
            }
            other => panic!("no Up: {other:?}"),
        }

        let docker = docker::connect(&host).await.expect("connect");
        let id = run_container(&docker, "wh-burn", "while :; do :; done", 500_000_000).await;
        let listed = Instant::now();
        let seen = wait_for(&mut rx, Duration::from_secs(5), |e| {
            matches!(e, DataEvent::Containers { containers, .. }
                if containers.iter().any(|c| c.id == id && c.is_running()))
        })
        .await;
        let Some(DataEvent::Containers { containers, .. }) = seen else {
            panic!("the new container was never listed");
        };
        eprintln!("container listed after {:?}", listed.elapsed());
        let c = containers.iter().find(|c| c.id == id).expect("listed");
        assert_eq!(c.name, "wh-burn");
        assert_eq!(c.image, "wheelhouse/demo:1");
        assert_eq!(
            c.labels.get("wheelhouse.app").map(String::as_str),
            Some("test")
        );
        assert!(c.status.starts_with("Up"), "{}", c.status);
        // The list has no restart count: an inspect fills it in for the cockpit.
        assert_eq!(c.restarts, Some(0), "{c:?}");
        assert!(c.uptime().is_some(), "{}", c.status);

        // Half a core: the CLI formula gives ~50 %; the machine is shared, so be lenient.
        let mut cpu = Vec::new();
        let mut mem = 0;
        let deadline = Instant::now() + Duration::from_secs(12);
        while cpu.len() < 5 && Instant::now() < deadline {
            let sample = wait_for(
                &mut rx,
                Duration::from_secs(5),
                |e| matches!(e, DataEvent::Stats { id: i, .. } if *i == id),
            )
            .await;
            if let Some(DataEvent::Stats {
                cpu_percent,
                mem_bytes,
                ..
            }) = sample
            {
                cpu.push(cpu_percent);
                mem = mem_bytes;
            }
        }
        eprintln!("cpu samples {cpu:?}, mem {mem}");
        assert!(cpu.len() >= 3, "too few stats samples: {cpu:?}");
        cpu.sort_by(f64::total_cmp);
        let median = cpu[cpu.len() / 2];
        assert!(median > 10.0 && median < 80.0, "cpu {median} from {cpu:?}");
        assert!(mem > 0 && mem < 1 << 30, "mem {mem}");

        // The next list carries the last known stats.
        let relisted = wait_for(&mut rx, Duration::from_secs(3), |e| {
            matches!(e, DataEvent::Containers { .. })
        })
        .await;
        let Some(DataEvent::Containers { containers, .. }) = relisted else {
            panic!("no list after stats");
        };
        let c = containers
            .iter()
            .find(|c| c.id == id)
            .expect("still listed");
        assert!(c.cpu_percent.is_some() && c.mem_bytes.is_some(), "{c:?}");

        // Lists only (the controller's kind): the burner is listed, but no stats come.
        let (lists_tx, mut lists) = mpsc::channel(256);
        let _lists_only = Supervisor::start(
            host.clone(),
            Duration::from_secs(1),
            Detail::Lists,
            lists_tx,
        );
        let listed = wait_for(&mut lists, Duration::from_secs(10), |e| {
            matches!(e, DataEvent::Containers { containers, .. }
                if containers.iter().any(|c| c.id == id))
        })
        .await;
        assert!(
            listed.is_some(),
            "the lists-only supervisor never listed the burner"
        );
        let stats = wait_for(&mut lists, Duration::from_secs(3), |e| {
            matches!(e, DataEvent::Stats { .. })
        })
        .await;
        assert_eq!(stats, None, "a lists-only supervisor sent stats");

        remove_container(&docker, &id).await;
        let removed = Instant::now();
        let gone = wait_for(&mut rx, Duration::from_secs(5), |e| {
            matches!(e, DataEvent::Containers { containers, .. }
                if !containers.iter().any(|c| c.id == id))
        })
        .await;
        assert!(gone.is_some(), "the removed container is still listed");
        eprintln!("removal seen after {:?}", removed.elapsed());
    });
}

#[test]
fn a_killed_engine_goes_down_and_comes_back() {
    let mut lab = TestLab::up(1).expect("lab up");
    let host = lab_spec(&lab, 0);
    runtime().block_on(async {
        let (tx, mut rx) = mpsc::channel(256);
        let _sup = Supervisor::spawn(host.clone(), Duration::from_secs(2), tx);
        let up = wait_for(&mut rx, Duration::from_secs(10), is_up(&host.name)).await;
        assert!(up.is_some(), "no Up at start");

        let killed = Instant::now();
        tokio::task::block_in_place(|| lab.kill_host(0)).expect("kill host");
        let down = wait_for(&mut rx, Duration::from_secs(5), is_down(&host.name)).await;
        let to_down = killed.elapsed();
        let Some(DataEvent::Down { error, .. }) = down else {
            panic!("no Down within 5 s of the kill");
        };
        eprintln!("kill -> Down in {to_down:?}: {error}");
        assert!(!error.is_empty() && error.len() < 130, "{error:?}");

        let restarting = Instant::now();
        tokio::task::block_in_place(|| lab.start_host(0)).expect("start host");
        let answering = Instant::now();
        let up = wait_for(&mut rx, Duration::from_secs(5), is_up(&host.name)).await;
        assert!(up.is_some(), "no Up within 5 s of the restart");
        eprintln!(
            "restart -> Up in {:?} ({:?} after the engine answered)",
            restarting.elapsed(),
            answering.elapsed()
        );
        // After Up the supervisor lists again.
        let listed = wait_for(&mut rx, Duration::from_secs(3), |e| {
            matches!(e, DataEvent::Containers { .. })
        })
        .await;
        assert!(listed.is_some(), "no list after coming back");
    });
}

/// Accepts connections and never answers: an engine that hangs.
async fn hung_engine(socket: &Path) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::UnixListener::bind(socket).expect("bind hung socket");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    })
}

#[test]
fn a_dead_or_hung_host_does_not_stall_the_others() {
    let mut lab = TestLab::up(2).expect("lab up");
    let dead = lab_spec(&lab, 0);
    let alive = lab_spec(&lab, 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let hung_socket = dir.path().join("hung.sock");
    let hung = spec("hung", &format!("unix://{}", hung_socket.display()));
    runtime().block_on(async {
        let _listener = hung_engine(&hung_socket).await;
        let (tx, mut rx) = mpsc::channel(256);
        let refresh = Duration::from_secs(1);
        let _sups = [
            Supervisor::spawn(dead.clone(), refresh, tx.clone()),
            Supervisor::spawn(alive.clone(), refresh, tx.clone()),
            Supervisor::spawn(hung.clone(), refresh, tx),
        ];
        let mut waiting = vec![dead.name.clone(), alive.name.clone()];
        let deadline = Duration::from_secs(10);
        while !waiting.is_empty() {
            let up = wait_for(&mut rx, deadline, |e| matches!(e, DataEvent::Up { .. })).await;
            let Some(DataEvent::Up { host, .. }) = up else {
                panic!("hosts never came up: {waiting:?}");
            };
            waiting.retain(|h| *h != host);
        }

        tokio::task::block_in_place(|| lab.kill_host(0)).expect("kill host");
        let docker = docker::connect(&alive).await.expect("connect");
        let created = Instant::now();
        let id = run_container(&docker, "wh-alive", "sleep 600", 100_000_000).await;

        // Within 6 s: the dead host is Down, the hung one times out, and the live one
        // keeps listing every refresh and shows the new container promptly.
        let mut dead_down = false;
        let mut hung_down = None;
        let mut seen_new = None;
        let mut lists = Vec::new();
        while created.elapsed() < Duration::from_secs(6) {
            let Some(event) = wait_for(&mut rx, Duration::from_millis(500), |_| true).await else {
                continue;
            };
            match event {
                DataEvent::Down { host, .. } if host == dead.name => dead_down = true,
                DataEvent::Down { host, error } if host == hung.name => hung_down = Some(error),
                DataEvent::Containers { host, containers } if host == alive.name => {
                    lists.push(created.elapsed());
                    if seen_new.is_none() && containers.iter().any(|c| c.id == id) {
                        seen_new = Some(created.elapsed());
                    }
                }
                DataEvent::Up { host, .. } if host == hung.name => {
                    panic!("a hung engine is not up")
                }
                _ => {}
            }
        }
        eprintln!("live host lists at {lists:?}; new container seen at {seen_new:?}");
        assert!(dead_down, "the killed host was not reported Down");
        assert_eq!(hung_down.as_deref(), Some("timeout"));
        assert!(
            seen_new.is_some_and(|t| t < Duration::from_secs(2)),
            "{seen_new:?}"
        );
        assert!(lists.len() >= 4, "the live host stalled: {lists:?}");
        let gaps = lists.windows(2).map(|w| w[1] - w[0]);
        assert!(
            gaps.clone().all(|g| g < Duration::from_millis(2500)),
            "{lists:?}"
        );
        remove_container(&docker, &id).await;
    });
}

#[test]
fn connect_errors_are_clear() {
    let unknown = spec("x", "http2://somewhere:1");
    match docker::client(&unknown) {
        Err(DockerError::UnknownScheme { url }) => assert_eq!(url, "http2://somewhere:1"),
        other => panic!("{other:?}"),
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.sock");
    let missing_spec = spec("missing", &format!("unix://{}", missing.display()));
    let err = docker::client(&missing_spec).err().map(|e| e.to_string());
    assert_eq!(err, Some(format!("no socket at {}", missing.display())));

    // A socket file nobody listens on (what a killed engine leaves behind).
    let stale = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).expect("bind"));
    let stale_spec = spec("stale", &format!("unix://{}", stale.display()));

    runtime().block_on(async {
        let err = docker::connect(&missing_spec)
            .await
            .err()
            .map(|e| e.to_string());
        assert_eq!(err, Some(format!("no socket at {}", missing.display())));
        let err = docker::connect(&stale_spec)
            .await
            .err()
            .map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("connection refused"));

        // Supervisors report the same messages as Down, once each, without panicking.
        let (tx, mut rx) = mpsc::channel(16);
        let _a = Supervisor::spawn(unknown.clone(), Duration::from_secs(1), tx.clone());
        let _b = Supervisor::spawn(stale_spec.clone(), Duration::from_secs(1), tx);
        let mut downs = BTreeMap::new();
        while downs.len() < 2 {
            match wait_for(&mut rx, Duration::from_secs(3), |_| true).await {
                Some(DataEvent::Down { host, error }) => {
                    assert!(downs.insert(host, error).is_none(), "Down repeated");
                }
                other => panic!("expected Down, got {other:?}"),
            }
        }
        assert_eq!(downs["stale"], "connection refused");
        assert!(
            downs["x"].starts_with("unsupported engine URL"),
            "{}",
            downs["x"]
        );
        // Retries with the same failure stay quiet.
        let more = wait_for(&mut rx, Duration::from_secs(2), |_| true).await;
        assert_eq!(more, None);
    });
}

/// The first Down the supervisor reports for `host`, with its error.
async fn first_error(spec: HostSpec) -> String {
    let (tx, mut rx) = mpsc::channel(64);
    let _sup = Supervisor::spawn(spec.clone(), Duration::from_secs(1), tx);
    match wait_for(&mut rx, Duration::from_secs(15), |e| {
        is_up(&spec.name)(e) || is_down(&spec.name)(e)
    })
    .await
    {
        Some(DataEvent::Down { error, .. }) => error,
        other => panic!("{}: want a Down, got {other:?}", spec.engine),
    }
}

#[test]
fn engines_over_tcp_with_mutual_tls_are_supervised_and_bad_certificates_refused() {
    let lab = TestLab::up_tls(1).expect("tls lab up");
    // The config the lab wrote reaches the engine as remote hosts are: tcp:// and TLS files.
    let config = wheelhouse::config::Config::load(Some(&lab.config_path())).expect("config");
    let host = config.hosts[0].clone();
    assert_eq!(
        host.engine,
        format!("tcp://{}:2376", lab.hosts()[0].address)
    );
    let tls = host.tls.clone().expect("tls files");
    runtime().block_on(async {
        let (tx, mut rx) = mpsc::channel(256);
        let _sup = Supervisor::spawn(host.clone(), Duration::from_secs(1), tx);
        match wait_for(&mut rx, Duration::from_secs(15), is_up(&host.name)).await {
            Some(DataEvent::Up { info, .. }) => assert!(info.ncpu >= 1, "{info:?}"),
            other => panic!("no Up over TLS: {other:?}"),
        }
        let listed = wait_for(&mut rx, Duration::from_secs(10), |e| {
            matches!(e, DataEvent::Containers { .. })
        })
        .await;
        assert!(listed.is_some(), "no container list over TLS");

        // Without the client certificate the engine's TLS port is no plain HTTP port.
        let mut plain = host.clone();
        plain.tls = None;
        let error = first_error(plain).await;
        assert!(error.contains("HTTPS"), "{error}");

        // A server certificate no CA we trust signed is refused, and the error says so.
        let mut stranger = host.clone();
        let tls_dir = lab.dir().join("tls");
        stranger.tls = Some(wheelhouse::domain::TlsFiles {
            ca: tls_dir.join("client/cert.pem"),
            ..tls.clone()
        });
        let error = first_error(stranger).await;
        assert!(error.to_lowercase().contains("certificate"), "{error}");

        // A missing file is named before anything is sent.
        let mut missing = host.clone();
        missing.tls = Some(wheelhouse::domain::TlsFiles {
            key: tls_dir.join("nope.pem"),
            ..tls
        });
        let error = first_error(missing).await;
        assert!(error.contains("nope.pem"), "{error}");
    });
}
