//! A Docker host's vocabulary: where it is (spec), what its engine says of itself, its
//! containers, and the load figures the grid colours by.

use super::check::LastCheck;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// TLS client files for a `tcp://` engine (docker's --tlscacert/--tlscert/--tlskey).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Where a host is and how to reach its engine: from the config file or `/hosts/<host>` in etcd.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    pub name: String,
    /// Engine URL as docker takes it: unix://, tcp://, ssh://.
    pub engine: String,
    /// Address the host's containers publish their ports on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsFiles>,
}

/// The engine's own figures (`docker info`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostInfo {
    pub hostname: String,
    pub version: String,
    pub ncpu: u32,
    pub mem_total: u64,
    pub containers_running: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// No health check configured.
    None,
    Starting,
    Healthy,
    Unhealthy,
}

impl Health {
    /// The word `ctl` output uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::None => "none",
            Health::Starting => "starting",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        }
    }
}

/// A container id as `docker ps` shows it: its first 12 characters.
pub fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// A container's state as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ContainerState {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
    /// A state this version does not know (or none), as the engine spelled it.
    Other(String),
}

impl ContainerState {
    /// The state an engine's word names.
    pub fn from_engine(word: &str) -> ContainerState {
        match word {
            "created" => ContainerState::Created,
            "running" => ContainerState::Running,
            "paused" => ContainerState::Paused,
            "restarting" => ContainerState::Restarting,
            "removing" => ContainerState::Removing,
            "exited" => ContainerState::Exited,
            "dead" => ContainerState::Dead,
            other => ContainerState::Other(other.to_owned()),
        }
    }

    /// The engine's word for it, as `docker ps` shows it.
    pub fn as_str(&self) -> &str {
        match self {
            ContainerState::Created => "created",
            ContainerState::Running => "running",
            ContainerState::Paused => "paused",
            ContainerState::Restarting => "restarting",
            ContainerState::Removing => "removing",
            ContainerState::Exited => "exited",
            ContainerState::Dead => "dead",
            ContainerState::Other(word) => word,
        }
    }
}

impl From<&str> for ContainerState {
    fn from(word: &str) -> Self {
        ContainerState::from_engine(word)
    }
}

impl std::fmt::Display for ContainerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub image: String,
    pub state: ContainerState,
    /// Engine status text, e.g. "Up 3 minutes".
    pub status: String,
    pub health: Health,
    pub labels: BTreeMap<String, String>,
    /// CPU in percent of one core, by the docker CLI's formula (may exceed 100).
    pub cpu_percent: Option<f64>,
    /// Memory in use without page cache.
    pub mem_bytes: Option<u64>,
    /// Ports as "8080→80" (published) or "80" (only exposed), "/udp" said, in the engine's order.
    pub ports: Vec<String>,
    /// Times the engine restarted it (from an inspect; None until one has answered).
    pub restarts: Option<u32>,
    /// The engine's last run of its health check (from an inspect; None without a check,
    /// before one ran, or until an inspect has answered).
    pub last_check: Option<LastCheck>,
}

impl Container {
    pub fn is_running(&self) -> bool {
        self.state == ContainerState::Running
    }

    /// The id as `docker ps` shows it.
    pub fn short_id(&self) -> &str {
        short_id(&self.id)
    }

    /// How long it has been up, from the engine's status text ("Up 3 minutes (healthy)"
    /// reads "3 minutes"); None when it is not up.
    pub fn uptime(&self) -> Option<&str> {
        let up = self.status.strip_prefix("Up ")?;
        Some(up.split(" (").next().unwrap_or(up).trim())
    }
}

/// A host's load in percent of its capacity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    pub cpu: f64,
    pub mem: f64,
}

impl Load {
    /// The figure the grid colours by: the larger of CPU and memory share.
    pub fn score(&self) -> f64 {
        self.cpu.max(self.mem)
    }
}

/// Load percentages where a host turns warn and critical.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub warn: f64,
    pub critical: f64,
}
