//! A host as the cluster picture holds it: its spec, where it came from, what we last
//! heard from its engine, and its containers.

use crate::domain::{Container, HostInfo, HostSpec, Load};
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

#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub spec: HostSpec,
    pub source: HostSource,
    pub state: HostState,
    pub info: Option<HostInfo>,
    pub containers: Vec<Container>,
    pub last_seen: Option<Instant>,
}

impl Host {
    pub fn new(spec: HostSpec, source: HostSource) -> Self {
        Host {
            spec,
            source,
            state: HostState::Unknown,
            info: None,
            containers: Vec::new(),
            last_seen: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
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
