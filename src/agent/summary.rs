//! What the agent serves: `GET /v1/summary` as JSON, read back by the client. Counters
//! are cumulative since the container (or host) started; rates are per second over the
//! last tick, absent on a container's first reading.

use serde::{Deserialize, Serialize};

/// The host and every running container of its engine, as of the last tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub host: String,
    /// The agent's version (the crate's).
    pub version: String,
    /// When this agent started: its history begins there.
    pub started_at_ms: i64,
    /// When this summary was taken.
    pub unix_ms: i64,
    /// "cgroup-v1" or "cgroup-v2"; "none" when no cgroup layout could be read (containers
    /// are then listed without figures).
    pub source: String,
    pub machine: Machine,
    /// The containers' figures summed.
    pub containers_sum: Figures,
    pub containers: Vec<ContainerSummary>,
    /// Bytes the agent's history holds, all series together.
    #[serde(default)]
    pub history_bytes: u64,
    /// When the last probe round ended (`/v1/probes`' `unix_ms`); None before the first:
    /// readers fetch the probes only when this changes.
    #[serde(default)]
    pub probes_at_ms: Option<i64>,
}

/// The host's own CPU and memory, from /proc.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub ncpu: u32,
    /// Busy share of all CPUs over the last tick, 0 to 100.
    pub cpu_percent: Option<f64>,
    pub cpu_busy_seconds_total: f64,
    pub cpu_seconds_total: f64,
    pub mem_total_bytes: u64,
    pub mem_available_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerSummary {
    pub id: String,
    pub name: String,
    /// The `wheelhouse.app` and `wheelhouse.instance` labels, when managed.
    pub app: Option<String>,
    pub instance: Option<String>,
    /// None until its cgroup could be read.
    pub figures: Option<Figures>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub totals: Totals,
    pub rates: Rates,
}

/// Cumulative counters, and memory now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub cpu_seconds: f64,
    /// In use without the inactive page cache, as `docker stats` shows it.
    pub mem_bytes: u64,
    pub blk_read_bytes: u64,
    pub blk_write_bytes: u64,
    pub blk_read_ops: u64,
    pub blk_write_ops: u64,
    /// None when the container shares the host's network namespace.
    pub net_rx_bytes: Option<u64>,
    pub net_tx_bytes: Option<u64>,
}

/// Per second over the last tick.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    /// In percent of one core, as `docker stats` shows it.
    pub cpu_percent: Option<f64>,
    pub blk_read_bps: Option<f64>,
    pub blk_write_bps: Option<f64>,
    pub blk_read_iops: Option<f64>,
    pub blk_write_iops: Option<f64>,
    pub net_rx_bps: Option<f64>,
    pub net_tx_bps: Option<f64>,
}

/// The series every container keeps (`GET /v1/series/<id>/<metric>`).
pub const CONTAINER_METRICS: [&str; 8] = [
    "cpu_percent",
    "mem_bytes",
    "blk_read_bps",
    "blk_write_bps",
    "blk_read_iops",
    "blk_write_iops",
    "net_rx_bps",
    "net_tx_bps",
];

impl Figures {
    /// The values of `CONTAINER_METRICS`, in that order.
    pub fn values(&self) -> [Option<f64>; 8] {
        let r = &self.rates;
        [
            r.cpu_percent,
            Some(self.totals.mem_bytes as f64),
            r.blk_read_bps,
            r.blk_write_bps,
            r.blk_read_iops,
            r.blk_write_iops,
            r.net_rx_bps,
            r.net_tx_bps,
        ]
    }
}

/// The series the host keeps (`GET /v1/series/host/<metric>`): its own CPU (percent of
/// all CPUs) and memory in use, then the containers' sums.
pub const HOST_METRICS: [&str; 10] = [
    "cpu_percent",
    "mem_used_bytes",
    "containers_cpu_percent",
    "containers_mem_bytes",
    "containers_blk_read_bps",
    "containers_blk_write_bps",
    "containers_blk_read_iops",
    "containers_blk_write_iops",
    "containers_net_rx_bps",
    "containers_net_tx_bps",
];

impl Summary {
    /// The values of `HOST_METRICS`, in that order.
    pub fn host_values(&self) -> [Option<f64>; 10] {
        let m = &self.machine;
        let used = m.mem_total_bytes.saturating_sub(m.mem_available_bytes) as f64;
        let [c0, c1, c2, c3, c4, c5, c6, c7] = self.containers_sum.values();
        [m.cpu_percent, Some(used), c0, c1, c2, c3, c4, c5, c6, c7]
    }
}

/// `GET /v1/series/<target>/<metric>`: points from `since_ms`, one per `step_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesReply {
    pub target: String,
    pub metric: String,
    pub since_ms: i64,
    pub step_ms: i64,
    pub points: Vec<SeriesPoint>,
}

/// One point; `value: null` is a gap (the agent had no reading then).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub unix_ms: i64,
    pub value: Option<f64>,
}
