//! `wheelhouse agent` on a real lab: the lab starts one per host, each registers at
//! /agents/<host>, binds its host's address, reads the lab's containers from their cgroups
//! (v1 on this machine and CI) in agreement with the engine's own stats, answers unknown
//! series with a 404 and a message, revokes its lease on SIGTERM, and stops with the lab.
//! Debian's Prometheus scrapes one and the series reads back through its HTTP API.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bollard::Docker;
use bollard::models::{ContainerCpuStats, ContainerCreateBody, ContainerStatsResponse};
use bollard::query_parameters::StatsOptions;
use common::etcd::client;
use common::lab::{BIN, IDLE, shell, wait_until};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wheelhouse::agent::client::{self as agent, ClientError};
use wheelhouse::agent::summary::Summary;
use wheelhouse::lab::{Lab, TestLab, TlsPaths, demo, engine};
use wheelhouse::metrics;
use wheelhouse::store::{self, AgentRecord};

const PREFIX: &str = "/wheelhouse";

fn lab_with_agents(hosts: usize) -> TestLab {
    tokio::task::block_in_place(|| TestLab::up_with_agents(hosts, Path::new(BIN)))
        .unwrap_or_else(|e| panic!("lab up: {e}"))
}

/// Every agent record, once `hosts` are all registered (within 10 s: an agent listens
/// first, then registers).
async fn registered(
    etcd: &mut etcd_client::Client,
    hosts: &[&str],
) -> BTreeMap<String, AgentRecord> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let agents = store::list_agents(etcd, PREFIX).await.unwrap();
        if hosts.iter().all(|h| agents.contains_key(*h)) {
            return agents;
        }
        assert!(
            Instant::now() < deadline,
            "not all of {hosts:?} registered: {agents:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn docker_of(lab: &Lab, i: usize) -> Docker {
    let socket = lab.hosts()[i].socket.clone();
    Docker::connect_with_unix(
        &socket.display().to_string(),
        10,
        bollard::API_DEFAULT_VERSION,
    )
    .unwrap()
}

/// The agent's summary once it lists `name` with figures, within 30 s.
async fn summary_with(url: &str, name: &str) -> Summary {
    let http = agent::http_client().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let last = match agent::summary(&http, url).await {
            Ok(s)
                if s.containers
                    .iter()
                    .any(|c| c.name == name && c.figures.is_some()) =>
            {
                return s;
            }
            Ok(s) => format!("containers: {:?}", s.containers),
            Err(e) => e.to_string(),
        };
        assert!(
            Instant::now() < deadline,
            "{url} never listed {name}: {last}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The engine's own stats of `id` (one sample), as `docker stats` reads them.
async fn engine_stats(docker: &Docker, id: &str) -> ContainerStatsResponse {
    let options = StatsOptions {
        stream: false,
        one_shot: true,
    };
    docker
        .stats(id, Some(options))
        .next()
        .await
        .unwrap()
        .unwrap()
}

async fn engine_cpu(docker: &Docker, id: &str) -> ContainerCpuStats {
    engine_stats(docker, id).await.cpu_stats.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_register_serve_the_lab_and_agree_with_the_engine() {
    let lab = lab_with_agents(2);
    tokio::task::block_in_place(|| demo::start_demo_containers(&lab)).unwrap();
    let mut etcd = client(&lab.etcd_endpoint()).await;

    // Registered under its lease, at the host's address (not 0.0.0.0).
    let agents = registered(&mut etcd, &["lab-1", "lab-2"]).await;
    for (i, host) in lab.hosts().iter().enumerate() {
        let record = agents
            .get(&host.name)
            .unwrap_or_else(|| panic!("{agents:?}"));
        assert_eq!(Some(record.address.clone()), lab.agent_url(i));
        assert_eq!(
            record.cgroup, "cgroup-v1",
            "this machine and CI run cgroup v1"
        );
        assert!(record.address.contains(&host.address), "{record:?}");
    }
    assert!(
        !listening_on_any_address(wheelhouse::agent::DEFAULT_PORT),
        "an agent listens on 0.0.0.0 or [::]"
    );

    // Every demo container of host 2, with its figures; the burner is busy.
    let url = lab.agent_url(1).unwrap();
    let summary = summary_with(&url, "demo-burner").await;
    assert_eq!(summary.host, "lab-2");
    assert_eq!(summary.source, "cgroup-v1");
    for name in ["demo-web-2", "demo-burner"] {
        assert!(
            summary.containers.iter().any(|c| c.name == name),
            "{name}: {summary:?}"
        );
    }
    assert!(summary.machine.mem_total_bytes > 0 && summary.machine.ncpu > 0);
    // Host networking: no network figures of the container's own.
    let web = summary
        .containers
        .iter()
        .find(|c| c.name == "demo-web-2")
        .unwrap();
    assert_eq!(web.figures.as_ref().unwrap().totals.net_rx_bytes, None);

    // CPU over one window, the agent's series against `docker stats`' formula on the
    // engine's counters. The windows' ends differ by up to a tick (the agent samples each
    // second, on its own clock) and the machine is shared with other builds, so the burner's
    // rate moves within a window: 20 s windows and 5 points (or a tenth) of tolerance.
    let docker = docker_of(&lab, 1);
    let burner = summary
        .containers
        .iter()
        .find(|c| c.name == "demo-burner")
        .unwrap();
    let http = agent::http_client().unwrap();
    let unix_ms = || {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        i64::try_from(now.unwrap().as_millis()).unwrap()
    };
    let before = engine_cpu(&docker, &burner.id).await;
    let from = unix_ms();
    tokio::time::sleep(Duration::from_secs(20)).await;
    let after = engine_cpu(&docker, &burner.id).await;
    let to = unix_ms();
    let engine = metrics::cpu_percent(&after, &before);
    // The agent's one-second points inside the same window (history buckets are aligned
    // to their step, so a 20 s bucket would not be this window), averaged.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let series = agent::series(&http, &url, &burner.id, "cpu_percent", from, 1000)
        .await
        .unwrap();
    let values: Vec<f64> = (series.points.iter())
        .filter(|p| p.unix_ms > from && p.unix_ms <= to)
        .filter_map(|p| p.value)
        .collect();
    assert!(values.len() >= 15, "{series:?}");
    let ours = values.iter().sum::<f64>() / values.len() as f64;
    eprintln!("burner CPU over 20 s: agent {ours:.1}%, engine (docker stats) {engine:.1}%");
    assert!(engine > 20.0, "the burner is not busy: {engine:.1}%");
    assert!(
        (ours - engine).abs() <= (0.1 * engine).max(5.0),
        "agent {ours:.1}% vs engine {engine:.1}%"
    );

    // Memory: the same counters, read a moment apart; v1's usage_in_bytes moves by per-CPU
    // charge batches, so within 1 MiB or a tenth.
    let summary = agent::summary(&http, &url).await.unwrap();
    let id = &burner.id;
    let ours = summary.containers.iter().find(|c| &c.id == id).unwrap();
    let ours = ours.figures.as_ref().unwrap().totals.mem_bytes as f64;
    let stats = engine_stats(&docker, id).await;
    let engine = metrics::mem_bytes(&stats.memory_stats.unwrap()) as f64;
    eprintln!("burner memory: agent {ours} B, engine {engine} B");
    assert!(
        (ours - engine).abs() <= (0.1 * engine).max(1024.0 * 1024.0),
        "{ours} vs {engine}"
    );

    // A restarted container is followed in its new process: its own network namespace
    // (network "none": only lo, so 0 bytes, but a figure) reads again.
    let own_net = |s: &Summary| {
        s.containers
            .iter()
            .find(|c| c.name == "demo-burner")
            .and_then(|c| c.figures.as_ref())
            .and_then(|f| f.totals.net_rx_bytes)
    };
    assert_eq!(own_net(&summary), Some(0), "{summary:?}");
    docker.restart_container(id, None).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = agent::summary(&http, &url).await.unwrap();
        if own_net(&now).is_some() && now.unix_ms > summary.unix_ms + 2000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted burner is not followed: {now:?}"
        );
    }

    // Unknown series: 404 with a message.
    match agent::series(&http, &url, "no-such-container", "cpu_percent", 0, 1000).await {
        Err(ClientError::Refused {
            status, message, ..
        }) => {
            assert_eq!(status, 404);
            assert!(
                message.contains("no container \"no-such-container\""),
                "{message}"
            );
        }
        other => panic!("expected a 404, got {other:?}"),
    }

    // A container stopping between two reads is dropped quietly: no warning in the log.
    tokio::task::block_in_place(|| {
        let engine = lab.engine(1);
        let ids = engine
            .containers_with_label(&format!("{}=true", demo::LABEL))
            .unwrap();
        for id in ids {
            engine.remove_container(&id).unwrap();
        }
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    let summary = agent::summary(&http, &url).await.unwrap();
    assert!(summary.containers.is_empty(), "{:?}", summary.containers);
    let log = std::fs::read_to_string(lab.dir().join("h2/agent.log")).unwrap();
    assert!(!log.contains("WARN"), "{log}");

    // SIGTERM: the agent revokes its lease, so its record goes at once, not after the TTL.
    let first = lab.agent(0).unwrap();
    let stopped = Instant::now();
    Command::new("kill")
        .arg(first.pid.to_string())
        .status()
        .unwrap();
    loop {
        let agents = store::list_agents(&mut etcd, PREFIX).await.unwrap();
        if !agents.contains_key("lab-1") {
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(5),
            "lab-1 still registered: {agents:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // `lab down` stops the other by pid.
    let second = lab.agent(1).unwrap();
    assert!(second.alive());
    tokio::task::block_in_place(|| lab.down()).unwrap();
    assert!(!second.alive(), "the agent outlived lab down");
}

/// Whether a socket listens on `port` on every address (0.0.0.0 or ::), from /proc/net.
fn listening_on_any_address(port: u16) -> bool {
    let port = format!("{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|file| {
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .any(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                // local_address is HEXIP:PORT; state 0A is LISTEN.
                let (Some(local), Some(state)) = (fields.get(1), fields.get(3)) else {
                    return false;
                };
                let (ip, p) = local.split_once(':').unwrap_or_default();
                *state == "0A" && p == port && ip.bytes().all(|b| b == b'0')
            })
    })
}

/// A container that looks managed (app and instance labels) and idles, in a network
/// namespace of its own with only `lo` (so it has no network figures).
fn managed(app: &str, instance: &str) -> ContainerCreateBody {
    let labels = [("wheelhouse.app", app), ("wheelhouse.instance", instance)];
    let mut body = shell(IDLE, &labels, false);
    if let Some(host) = &mut body.host_config {
        host.network_mode = Some("none".to_owned());
    }
    body
}

/// Prometheus, stopped (by pid) and its data removed when dropped.
struct Prometheus {
    child: Child,
    _dir: tempfile::TempDir,
    address: String,
}

impl Prometheus {
    fn start(target: &str) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // honor_labels: the agent's own `instance` label (the app's instance) wins over
        // the one Prometheus would attach (the scrape target).
        let config = format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: wheelhouse\n    \
             honor_labels: true\n    static_configs:\n      - targets: [\"{target}\"]\n"
        );
        let config_file = dir.path().join("prometheus.yml");
        std::fs::write(&config_file, config).unwrap();
        let address = format!("127.0.0.1:{port}");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={address}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("prometheus.log")).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("start prometheus (scripts/setup installs it): {e}"));
        Prometheus {
            child,
            _dir: dir,
            address,
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_an_agent_and_reads_the_series_back() {
    let lab = lab_with_agents(1);
    tokio::task::block_in_place(|| lab.engine(0).run("web-1", managed("web", "web-1"))).unwrap();
    let url = lab.agent_url(0).unwrap();
    summary_with(&url, "web-1").await;
    let target = url.trim_start_matches("http://");
    let prometheus = Prometheus::start(target);
    // PromQL: wheelhouse_container_memory_bytes{container="web-1"}, URL-encoded.
    let query =
        "/api/v1/query?query=wheelhouse_container_memory_bytes%7Bcontainer%3D%22web-1%22%7D";
    let mut answer = String::new();
    tokio::task::block_in_place(|| {
        wait_until(
            "prometheus to have the series",
            Duration::from_secs(60),
            || match engine::http_get(&prometheus.address, query) {
                Ok((200, body)) if body.contains("\"web-1\"") => {
                    answer = body;
                    None
                }
                Ok((status, body)) => Some(format!("{status}: {body}")),
                Err(e) => Some(e.to_string()),
            },
        );
    });
    let reply: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let result = &reply["data"]["result"][0];
    let labels = &result["metric"];
    assert_eq!(labels["host"], "lab-1", "{answer}");
    assert_eq!(labels["app"], "web", "{answer}");
    assert_eq!(labels["instance"], "web-1", "{answer}");
    assert_eq!(labels["container"], "web-1", "{answer}");
    let value: f64 = result["value"][1].as_str().unwrap().parse().unwrap();
    // A shell idling in a loop: more than nothing, less than 64 MiB.
    assert!(value > 0.0 && value < 64.0 * 1024.0 * 1024.0, "{value}");
}

/// One `GET path` over TLS to `address` (an IP), with the lab's client certificate or
/// without any; the response's text, or why the exchange failed.
async fn tls_get(lab: &Lab, address: &str, path: &str, with_cert: bool) -> Result<String, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let files = TlsPaths::new(lab.dir());
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(files.client_ca()).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = if with_cert {
        let chain = CertificateDer::pem_file_iter(files.client_cert())
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(files.client_key()).unwrap();
        builder.with_client_auth_cert(chain, key).unwrap()
    } else {
        builder.with_no_client_auth()
    };
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let port = wheelhouse::agent::DEFAULT_PORT;
    let tcp = tokio::net::TcpStream::connect((address, port))
        .await
        .unwrap();
    let name = ServerName::try_from(address.to_owned()).unwrap();
    let mut stream = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut out = String::new();
    stream
        .read_to_string(&mut out)
        .await
        .map_err(|e| e.to_string())?;
    Ok(out)
}

#[tokio::test(flavor = "multi_thread")]
async fn with_tls_engines_the_agent_takes_only_clients_of_the_lab_ca() {
    let lab = tokio::task::block_in_place(|| TestLab::up_tls_with_agents(1, Path::new(BIN)))
        .unwrap_or_else(|e| panic!("lab up: {e}"));
    let address = lab.hosts()[0].address.clone();
    assert_eq!(lab.agent_url(0), Some(format!("https://{address}:9101")));
    let mut etcd = client(&lab.etcd_endpoint()).await;
    let agents = registered(&mut etcd, &["lab-1"]).await;
    assert_eq!(agents["lab-1"].address, format!("https://{address}:9101"));
    // The agent reaches its engine over TCP with the client certificate, like the cockpit.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = tls_get(&lab, &address, "/v1/summary", true).await.unwrap();
        if answer.starts_with("HTTP/1.1 200") && answer.contains("\"source\":\"cgroup-v1\"") {
            break;
        }
        assert!(Instant::now() < deadline, "{answer}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Without a client certificate: no answer (TLS 1.3 reports the refusal on first read).
    let refused = tls_get(&lab, &address, "/v1/summary", false).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.contains("CertificateRequired")),
        "{refused:?}"
    );
}
