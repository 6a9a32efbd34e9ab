//! Placement: hard filters, then a score. Pure and deterministic.
//!
//! [`place`] decides where `count` new instances of an app go. Each instance is one decision
//! that updates the hosts' reserved CPU and memory and the per-host app counts, so the batch
//! is consistent (UNIQUE and MAX_PER hold across it; GROUP_BY spreads it evenly).
//!
//! Hard filters, in the order reasons are reported: offline, capacity not reported, pin,
//! zone, machine_metadata, machine_of, conflicts, LIKE / UNLIKE / CLUSTER, one-per-host
//! conflicts and hostname UNIQUE / MAX_PER, free CPU, free memory, UNIQUE / MAX_PER /
//! CLUSTER over a field's value, GROUP_BY.
//!
//! Among the hosts that pass, the lowest cost wins: the host's usage after placement (the
//! larger of its CPU and memory share) plus [`SPREAD_WEIGHT`] for each instance of this app
//! it already holds; ties go to the first host name. Only instances on online hosts count
//! toward UNIQUE, MAX_PER, GROUP_BY and CLUSTER.
//!
//! [`choose_victims`] picks which instances to stop on scale-down.

mod engine;
mod filter;
mod victims;

pub use victims::{Instance, choose_victims};

use crate::domain::app::AppSpec;
use std::collections::BTreeMap;
use std::fmt;

/// Each instance of the app already on a host costs as much as this share of extra usage,
/// so one app's instances spread even across hosts of slightly different load.
pub const SPREAD_WEIGHT: f64 = 0.05;

/// A host as placement sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Candidate {
    pub name: String,
    pub zone: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub online: bool,
    /// Capacity: the engine's NCPU in thousandths of a core (0 = not reported yet).
    pub cpu_millis: u64,
    /// Capacity: the engine's MemTotal in bytes (0 = not reported yet).
    pub memory: u64,
    /// Already promised to instances on this host.
    pub reserved_cpu_millis: u64,
    pub reserved_memory: u64,
    /// Instances per app on this host, this app's own included.
    pub apps: BTreeMap<String, u32>,
}

impl Candidate {
    /// An online host with this capacity and nothing on it.
    pub fn new(name: impl Into<String>, ncpu: u32, mem_total: u64) -> Self {
        Candidate {
            name: name.into(),
            online: true,
            cpu_millis: u64::from(ncpu) * 1000,
            memory: mem_total,
            ..Candidate::default()
        }
    }

    pub fn with_zone(mut self, zone: impl Into<String>) -> Self {
        self.zone = Some(zone.into());
        self
    }

    pub fn with_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Records `count` running instances of `spec`: its app count and their reservation.
    pub fn add_instances(&mut self, spec: &AppSpec, count: u32) {
        *self.apps.entry(spec.name.clone()).or_default() += count;
        self.reserved_cpu_millis = self
            .reserved_cpu_millis
            .saturating_add(spec.cpu_millis().saturating_mul(u64::from(count)));
        self.reserved_memory = self
            .reserved_memory
            .saturating_add(spec.memory.saturating_mul(u64::from(count)));
    }

    pub fn with_instances(mut self, spec: &AppSpec, count: u32) -> Self {
        self.add_instances(spec, count);
        self
    }
}

/// Where the new instances go, in decision order; `unplaced` says why the rest could not.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub hosts: Vec<String>,
    pub unplaced: Option<Unplaceable>,
}

impl Placement {
    pub fn is_complete(&self) -> bool {
        self.unplaced.is_none()
    }

    /// New instances per host.
    pub fn counts(&self) -> BTreeMap<&str, u32> {
        let mut counts = BTreeMap::new();
        for host in &self.hosts {
            *counts.entry(host.as_str()).or_default() += 1;
        }
        counts
    }
}

/// Why instances could not be placed: one reason per host, in host-name order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unplaceable {
    pub app: String,
    pub wanted: u32,
    pub placed: u32,
    /// (host, reason in operator words), e.g. ("web-3", "memory 3.8/4.0 GiB used, need 512 MiB").
    pub reasons: Vec<(String, String)>,
}

impl fmt::Display for Unplaceable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot place {} of {} instances of {}",
            self.wanted - self.placed.min(self.wanted),
            self.wanted,
            self.app
        )?;
        if self.reasons.is_empty() {
            return write!(f, ": no hosts known");
        }
        write!(f, ":")?;
        for (host, reason) in &self.reasons {
            write!(f, "\n  {host}: {reason}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Unplaceable {}

impl Unplaceable {
    /// One line, host by host: "3 unplaced: lab-1: cpu 3.8/4 cores reserved, need 1.9;
    /// lab-2: …".
    pub fn summary(&self) -> String {
        let missing = self.wanted - self.placed.min(self.wanted);
        let reasons: Vec<String> = (self.reasons.iter())
            .map(|(host, why)| format!("{host}: {why}"))
            .collect();
        if reasons.is_empty() {
            return format!("{missing} unplaced: no hosts known");
        }
        format!("{missing} unplaced: {}", reasons.join("; "))
    }
}

/// Places `count` new instances of `spec` on `hosts`. Deterministic: the same input gives
/// the same output, whatever the order of `hosts`.
pub fn place(hosts: &[Candidate], spec: &AppSpec, count: u32) -> Placement {
    engine::place(hosts, spec, count)
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
