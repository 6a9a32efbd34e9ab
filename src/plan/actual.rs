//! Actual state as the planner sees it: hosts and their managed instances, read from the
//! engines' container lists and the labels alone (`cluster::ClusterState::actual`).

use super::labels::Identity;
use super::ports::PortRange;
use crate::domain::{Container, ContainerState, Health};
use crate::sched::Candidate;
use std::collections::{BTreeMap, BTreeSet};

/// How far the planner trusts what it last heard from a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Online,
    /// Not answering, but within the grace period: its instances still count, nothing is
    /// placed there and nothing there can be stopped.
    Unreachable,
    /// Marked dead: its instances are lost and replaced elsewhere.
    Dead,
}

/// What the engine says a managed container is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    /// Between restarts by Docker's restart policy: still counts as an instance.
    Restarting,
    Paused,
    /// Created but not started, exited, or dead: it will not run again by itself.
    Failed,
    /// Being removed by the engine already.
    Removing,
}

impl RunState {
    pub fn from_engine(state: &ContainerState) -> RunState {
        match state {
            ContainerState::Running => RunState::Running,
            ContainerState::Restarting => RunState::Restarting,
            ContainerState::Paused => RunState::Paused,
            ContainerState::Removing => RunState::Removing,
            _ => RunState::Failed,
        }
    }

    /// Whether the container holds its reservation and counts as an instance.
    pub fn occupies(self) -> bool {
        matches!(
            self,
            RunState::Running | RunState::Restarting | RunState::Paused
        )
    }
}

/// One managed container.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub id: Identity,
    pub host: String,
    /// The container's id.
    pub container: String,
    pub name: String,
    pub state: RunState,
    /// Docker's health, or the controller's HTTP probe result laid over it.
    pub health: Health,
    /// Docker's restart policy kept restarting it: move it elsewhere.
    pub crash_looping: bool,
    /// Running but unhealthy for longer than its app's grace: replace it.
    pub unhealthy_past_grace: bool,
}

impl Instance {
    /// Running and healthy: what a service endpoint may point at. An instance with no
    /// health check counts as healthy while it runs.
    pub fn is_serving(&self) -> bool {
        self.state == RunState::Running && matches!(self.health, Health::Healthy | Health::None)
    }

    pub fn from_container(host: &str, c: &Container) -> Option<Instance> {
        Some(Instance {
            id: Identity::from_labels(&c.labels)?,
            host: host.to_owned(),
            container: c.id.clone(),
            name: c.name.clone(),
            state: RunState::from_engine(&c.state),
            health: c.health,
            crash_looping: false,
            unhealthy_past_grace: false,
        })
    }
}

/// One host and its managed containers.
#[derive(Debug, Clone, PartialEq)]
pub struct HostView {
    pub name: String,
    pub zone: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub address: Option<String>,
    pub liveness: Liveness,
    pub ncpu: u32,
    pub mem_total: u64,
    /// The host's port range, or why its `wheelhouse.ports` label cannot be used.
    pub ports: Result<PortRange, String>,
    pub instances: Vec<Instance>,
}

impl HostView {
    /// Host ports held by managed containers here, whatever their state.
    pub fn used_ports(&self) -> BTreeSet<u16> {
        self.instances
            .iter()
            .flat_map(|i| i.id.all_ports())
            .collect()
    }

    /// The host as placement sees it: capacity from the engine, reservations and app
    /// counts from the instances that occupy it.
    pub fn candidate(&self) -> Candidate {
        let mut c = Candidate {
            name: self.name.clone(),
            zone: self.zone.clone(),
            labels: self.labels.clone(),
            online: self.liveness == Liveness::Online,
            cpu_millis: u64::from(self.ncpu) * 1000,
            memory: self.mem_total,
            ..Candidate::default()
        };
        for inst in self.instances.iter().filter(|i| i.state.occupies()) {
            reserve(&mut c, &inst.id, 1);
        }
        c
    }
}

/// Adds (`sign` 1) or takes away (-1) one instance's reservation and app count.
pub(super) fn reserve(c: &mut Candidate, id: &Identity, sign: i8) {
    let count = c.apps.entry(id.app.clone()).or_default();
    if sign > 0 {
        *count += 1;
        c.reserved_cpu_millis = c.reserved_cpu_millis.saturating_add(id.cpu_millis);
        c.reserved_memory = c.reserved_memory.saturating_add(id.memory);
    } else {
        *count = count.saturating_sub(1);
        c.reserved_cpu_millis = c.reserved_cpu_millis.saturating_sub(id.cpu_millis);
        c.reserved_memory = c.reserved_memory.saturating_sub(id.memory);
    }
}

/// Every host, sorted by name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Actual {
    pub hosts: Vec<HostView>,
}

impl Actual {
    pub fn host(&self, name: &str) -> Option<&HostView> {
        self.hosts.iter().find(|h| h.name == name)
    }

    pub fn instances(&self) -> impl Iterator<Item = &Instance> {
        self.hosts.iter().flat_map(|h| h.instances.iter())
    }

    pub fn instances_mut(&mut self) -> impl Iterator<Item = &mut Instance> {
        self.hosts.iter_mut().flat_map(|h| h.instances.iter_mut())
    }

    /// Managed instances per app, in host then instance order.
    pub fn by_app(&self) -> BTreeMap<&str, Vec<&Instance>> {
        let mut apps: BTreeMap<&str, Vec<&Instance>> = BTreeMap::new();
        for inst in self.instances() {
            apps.entry(inst.id.app.as_str()).or_default().push(inst);
        }
        for list in apps.values_mut() {
            list.sort_by(|a, b| (&a.host, a.id.instance).cmp(&(&b.host, b.id.instance)));
        }
        apps
    }
}
