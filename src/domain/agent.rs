//! Host agents as the rest of the crate sees them: the record an agent keeps in etcd,
//! and the figures it reads from a container's cgroups.

use serde::{Deserialize, Serialize};

/// What an agent says of itself at `/agents/<host>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    /// Its API's base URL, e.g. "http://127.0.1.1:9101".
    pub address: String,
    pub version: String,
    /// When it started: its history begins there.
    pub started_at_ms: i64,
    /// Where its figures come from: "cgroup-v1", "cgroup-v2" or "none".
    pub cgroup: String,
}

/// One container's figures from its host's agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentFigures {
    /// The engine's full container id.
    pub id: String,
    /// Percent of one core, as `docker stats` shows it; None on the first reading.
    pub cpu_percent: Option<f64>,
    /// In use without the inactive page cache.
    pub mem_bytes: u64,
    pub io: IoRates,
}

/// Bytes per second over the agent's last tick; None where it could not say (network of
/// a container in the host's namespace, a first reading).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IoRates {
    pub net_rx_bps: Option<f64>,
    pub net_tx_bps: Option<f64>,
    pub blk_read_bps: Option<f64>,
    pub blk_write_bps: Option<f64>,
}
