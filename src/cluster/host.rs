//! A host as the cluster picture holds it: its spec, where it came from, what we last
//! heard from its engine, and its containers.

use crate::domain::{AgentFigures, Container, HostInfo, HostSpec, Load};
use std::collections::BTreeMap;
use std::time::Instant;

/// Which inventory a host came from; a record in both is merged (etcd wins on fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostSource {
    Config,
    Etcd,
    Both,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HostState {
    /// Not yet heard from since the cockpit started.
    Unknown,
    Online,
    /// The engine failed to answer; `error` says how.
    Offline {
        error: String,
        since: Instant,
    },
}

/// Where a host's CPU and memory figures come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Metrics {
    /// The engine's stats API: one stream per running container.
    Engine,
    /// The host's agent, reading cgroups (`source`: "cgroup-v1", "cgroup-v2", "none").
    Agent { source: String },
    /// The host has an agent that does not answer; the engine's stats stand in.
    Fallback { error: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub spec: HostSpec,
    pub source: HostSource,
    pub state: HostState,
    pub info: Option<HostInfo>,
    pub containers: Vec<Container>,
    pub metrics: Metrics,
    /// The agent's last figures by container id: network and disk rates for the view, and
    /// CPU and memory for a container the engine lists after the agent read it (a new one;
    /// every one at start), until the next read.
    pub agent: BTreeMap<String, AgentFigures>,
}

impl Host {
    pub fn new(spec: HostSpec, source: HostSource) -> Self {
        Host {
            spec,
            source,
            state: HostState::Unknown,
            info: None,
            containers: Vec::new(),
            metrics: Metrics::Engine,
            agent: BTreeMap::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Whether its grid cell is final: offline, or online with the engine's size and a CPU
    /// figure for every running container (the figures come a moment after the list).
    pub fn complete(&self) -> bool {
        match self.state {
            HostState::Unknown => false,
            HostState::Offline { .. } => true,
            HostState::Online => {
                self.info.is_some()
                    && (self.containers.iter())
                        .filter(|c| c.is_running())
                        .all(|c| c.cpu_percent.is_some())
            }
        }
    }

    /// Load from container stats over the engine's NCPU and MemTotal; None until both are known.
    pub fn load(&self) -> Option<Load> {
        if self.state != HostState::Online {
            return None;
        }
        let info = self.info.as_ref()?;
        Some(crate::metrics::host_load(
            &self.containers,
            info.ncpu,
            info.mem_total,
        ))
    }
}
