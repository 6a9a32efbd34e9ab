//! Probes of service endpoints from a caller's host: what an agent is told to probe (the
//! apps, their dependencies and endpoints, read from etcd by `agentd`) and what it
//! reports (`GET /v1/probes`, read by the cockpit and `ctl trace`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every app on the cluster as a prober needs it, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeCatalog {
    pub apps: BTreeMap<String, CatalogApp>,
}

/// One app: whom it calls, how it answers over HTTP, where it is registered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogApp {
    pub depends_on: Vec<String>,
    /// The spec's HTTP health path, if it has one.
    pub http_path: Option<String>,
    /// Its registered endpoints, by instance name.
    pub endpoints: BTreeMap<String, ProbeAddress>,
}

/// Where an endpoint listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeAddress {
    pub address: String,
    /// None: registered without a port, so nothing to connect to.
    pub port: Option<u16>,
}

/// `GET /v1/probes`: one host's view of the apps its containers depend on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    pub host: String,
    /// When the last round ended.
    pub unix_ms: i64,
    /// Time between two rounds.
    pub period_ms: u64,
    /// How far back p50, p95 and failures per minute reach.
    pub window_ms: i64,
    /// Endpoints left out of each round by the per-round bound (0: none).
    pub skipped: usize,
    pub dependencies: Vec<DependencyProbes>,
}

/// Why a dependency is or is not probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencyState {
    Probed,
    /// An app with no registered endpoint.
    NotRegistered,
    /// Declared in `depends_on` but no app has that name.
    NotAnApp,
}

/// One dependency of this host's apps, as probed from this host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DependencyProbes {
    pub app: String,
    /// This host's apps that depend on it.
    pub callers: Vec<String>,
    pub state: DependencyState,
    /// Why it is not probed, in words.
    pub reason: Option<String>,
    /// Endpoints whose last probe succeeded, out of `total`.
    pub answering: usize,
    pub total: usize,
    pub connect_ms: Timing,
    /// Present when the app has an HTTP health path.
    pub http_path: Option<String>,
    pub response_ms: Timing,
    pub failures_per_min: f64,
    pub endpoints: Vec<EndpointProbe>,
}

/// A time in milliseconds: the last reading and the window's percentiles (None: no
/// reading).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub last: Option<f64>,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
}

/// One endpoint's last probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointProbe {
    pub instance: String,
    /// "ADDRESS:PORT".
    pub address: String,
    pub ok: bool,
    pub at_ms: i64,
    pub connect_ms: Option<f64>,
    pub http_status: Option<u16>,
    pub response_ms: Option<f64>,
    pub error: Option<String>,
}
