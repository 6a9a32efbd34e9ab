//! `wheelhouse agent`: one per host. It reads every container's cgroup each second (no
//! engine stats calls), keeps history per container and per host, and serves both
//! read-only over HTTP (`/v1/summary`, `/v1/series/..`, `/metrics` for Prometheus). Every
//! few seconds it probes the endpoints its host's apps depend on (`/v1/probes`).
//! The process around it (engine connection, etcd registration, signals) is `agentd`.

mod api;
pub mod cgroup;
pub mod client;
mod history;
mod probe;
mod probe_net;
mod probe_window;
mod procfs;
mod prom;
mod run;
mod sample;
mod sampler;
pub mod summary;
mod tls;

pub use api::Reply;
pub use history::{HOST, Missing, Points, SeriesSource, TICK_MS, metric_index};
pub use run::now_ms;
pub use tls::ServerFiles;

use crate::domain::probe::ProbeCatalog;
use crate::metrics::{Point, Resolution, Series};

use api::{Shared, SharedState};
use bollard::Docker;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The port an agent serves on when `--listen` does not say.
pub const DEFAULT_PORT: u16 = 9101;

/// A running agent: its API and its sampler, stopped when dropped.
pub struct Running {
    /// The API's base URL, e.g. "http://127.0.1.1:9101".
    pub url: String,
    /// "cgroup-v1", "cgroup-v2" or "none".
    pub source: &'static str,
    pub started_at_ms: i64,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Binds `listen` (with mutual TLS when `tls` names the files) and starts sampling the
/// containers of `docker` as host `host`, and probing the dependencies `catalog` names
/// for the apps running here. Fails when the address cannot be bound or a TLS
/// file is wrong.
pub async fn start(
    host: &str,
    docker: Docker,
    listen: SocketAddr,
    tls: Option<&ServerFiles>,
    catalog: watch::Receiver<Option<ProbeCatalog>>,
) -> Result<Running, String> {
    let acceptor = tls.map(tls::acceptor).transpose()?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    let started_at_ms = run::now_ms();
    let sampler = sampler::Sampler::new(host, started_at_ms);
    let source = sampler.source();
    let shared: SharedState = Arc::new(RwLock::new(Shared::default()));
    let tasks = vec![
        tokio::spawn(api::serve(listener, shared.clone(), acceptor)),
        tokio::spawn(run::sample_forever(sampler, docker, shared.clone())),
        tokio::spawn(probe::probe_forever(
            probe::Prober::new(host),
            catalog,
            shared,
        )),
    ];
    Ok(Running {
        url: format!("{scheme}://{bound}"),
        source,
        started_at_ms,
        tasks,
    })
}

/// The API's answer from a summary and a source of series, with no history or probes
/// kept (the fleet simulator's agents): probes say they are not there.
pub fn answer_from_summary(
    method: &hyper::Method,
    path: &str,
    query: Option<&str>,
    summary: summary::Summary,
    series: &dyn SeriesSource,
    now_ms: i64,
) -> Reply {
    let shared = Shared {
        summary: Some(summary),
        ..Shared::default()
    };
    api::route_with(method, path, query, &shared, series, now_ms)
}
