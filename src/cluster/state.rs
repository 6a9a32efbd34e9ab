//! `ClusterState`: the one picture of the cluster, and `apply`, the only way it changes.

use super::event::{ClusterEvent, DataEvent, EtcdEvent, HostEvent};
use super::shared::Shared;
use super::{AppEvent, AppRecord, Host, HostSource, HostState, Rollout, RolloutEvent};
use crate::cluster::{AgentChange, AgentEvent, Metrics, Watch};
use crate::cluster::{AppChange, HostChange, HostListing, RolloutChange, RolloutListing};
use crate::domain::probe::ProbeReport;
use crate::domain::{AgentFigures, AgentRecord, Container, HostSpec};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

/// Hosts, their containers, apps, rollouts and placement problems as the engines and
/// etcd last reported them. Screens and the controller read it; only `apply` changes it.
///
/// Hosts and the name index are shared between copies (`Arc`): the feed publishes a copy
/// to its screens after each batch of events, and a copy costs a pointer per host; `apply`
/// copies only the hosts it changes while a screen still holds them.
#[derive(Debug, Clone)]
pub struct ClusterState {
    /// Hosts sorted by name; `index` maps a name to its position.
    pub hosts: Vec<Arc<Host>>,
    index: Arc<HashMap<String, usize>>,
    /// App specs from etcd, by name.
    pub apps: Shared<BTreeMap<String, AppRecord>>,
    /// Rollout progress from etcd, by app (finished ones too, until the next begins).
    pub rollouts: Shared<BTreeMap<String, Rollout>>,
    /// App records that cannot be read, by app, with why (the app keeps its last good
    /// spec in `apps`, if one was read).
    pub broken_apps: BTreeMap<String, String>,
    /// Host records that cannot be read, by host, with why (the host is kept as it was).
    pub broken_hosts: BTreeMap<String, String>,
    /// Rollout records (or their commands) that cannot be read, by app, with why.
    pub broken_rollouts: BTreeMap<String, String>,
    /// Why the controller cannot place every instance of an app (`/placement/<app>`).
    pub unplaced: Shared<BTreeMap<String, crate::sched::Unplaceable>>,
    /// Containers (ids or names) an operator is restarting (`/restarts/`).
    pub restarting: Shared<BTreeSet<String>>,
    /// Hosts' agents as they registered (`/agents/<host>`).
    pub agents: Shared<BTreeMap<String, AgentRecord>>,
    /// Each host's agent's last probe report, by host (gone with the agent).
    pub probes: Shared<BTreeMap<String, ProbeReport>>,
    /// Registered service endpoints (`/services/<app>/<instance>`), by app and instance.
    pub services: Shared<super::Registry>,
    pub etcd: EtcdState,
    /// When any engine last sent data.
    pub last_data: Option<Instant>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EtcdState {
    /// Not configured at all.
    Disabled,
    Connecting,
    Connected {
        revision: i64,
    },
    Unreachable {
        error: String,
        since: Instant,
    },
}

/// What applying an event changed that the picture's owner must act on.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Start (or restart with a new spec) the supervisor of this host.
    Supervise(HostSpec),
    /// The host left the inventory: stop its supervisor.
    Unsupervise(String),
    /// etcd answered (news of an outage is old now).
    EtcdAnswered,
    /// The host's agent registered at this address, or (None) is gone.
    Agent {
        host: String,
        address: Option<String>,
    },
}

impl Default for ClusterState {
    fn default() -> Self {
        ClusterState {
            hosts: Vec::new(),
            index: Arc::default(),
            apps: Shared::default(),
            rollouts: Shared::default(),
            broken_apps: BTreeMap::new(),
            broken_hosts: BTreeMap::new(),
            broken_rollouts: BTreeMap::new(),
            unplaced: Shared::default(),
            restarting: Shared::default(),
            agents: Shared::default(),
            probes: Shared::default(),
            services: Shared::default(),
            etcd: EtcdState::Connecting,
            last_data: None,
        }
    }
}

impl ClusterState {
    /// A picture holding these hosts (sorted by name), for tests, benches and the initial
    /// inventory.
    pub fn with_hosts(hosts: Vec<Host>) -> Self {
        let mut state = ClusterState {
            hosts: hosts.into_iter().map(Arc::new).collect(),
            ..ClusterState::default()
        };
        state.hosts.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        // A name listed twice keeps its last entry, as repeated upserts would.
        state.hosts.reverse();
        state.hosts.dedup_by(|a, b| a.spec.name == b.spec.name);
        state.hosts.reverse();
        state.reindex();
        state
    }

    pub fn host(&self, name: &str) -> Option<&Host> {
        self.index.get(name).map(|&i| &*self.hosts[i])
    }

    /// A host's position in `hosts` (and in the grid).
    pub fn host_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The host to change, copied first if a published picture still shares it.
    pub fn host_mut(&mut self, name: &str) -> Option<&mut Host> {
        let i = *self.index.get(name)?;
        Some(Arc::make_mut(&mut self.hosts[i]))
    }

    /// Inserts a host or replaces the one with the same name, keeping name order.
    pub fn upsert_host(&mut self, host: Host) {
        if let Some(existing) = self.host_mut(&host.spec.name) {
            *existing = host;
            return;
        }
        let pos = self.hosts.partition_point(|h| h.spec.name < host.spec.name);
        self.hosts.insert(pos, Arc::new(host));
        self.reindex();
    }

    pub fn remove_host(&mut self, name: &str) -> Option<Host> {
        let i = *self.index.get(name)?;
        let host = self.hosts.remove(i);
        self.reindex();
        Some(Arc::unwrap_or_clone(host))
    }

    fn reindex(&mut self) {
        self.index = Arc::new(
            (self.hosts.iter().enumerate())
                .map(|(i, h)| (h.spec.name.clone(), i))
                .collect(),
        );
    }

    pub fn online_count(&self) -> usize {
        self.hosts
            .iter()
            .filter(|h| h.state == HostState::Online)
            .count()
    }

    pub fn container_count(&self) -> usize {
        self.hosts.iter().map(|h| h.containers.len()).sum()
    }

    /// Applies one event seen at `now`; returns what the owner must act on.
    pub fn apply(&mut self, event: ClusterEvent, now: Instant) -> Vec<Change> {
        match event {
            ClusterEvent::Engine(event) => {
                self.on_engine(event, now);
                Vec::new()
            }
            ClusterEvent::Hosts(event) => self.on_hosts(event),
            ClusterEvent::Apps(event) => {
                self.on_apps(event);
                Vec::new()
            }
            ClusterEvent::Rollouts(event) => {
                self.on_rollouts(event);
                Vec::new()
            }
            ClusterEvent::Placement(event) => {
                event.apply(&mut self.unplaced);
                Vec::new()
            }
            ClusterEvent::Restarts(event) => {
                event.apply(&mut self.restarting);
                Vec::new()
            }
            ClusterEvent::Agents(event) => self.on_agents(event),
            ClusterEvent::Services(event) => {
                event.apply(&mut self.services);
                Vec::new()
            }
            ClusterEvent::Etcd(EtcdEvent::Connected { revision }) => {
                self.etcd = EtcdState::Connected { revision };
                vec![Change::EtcdAnswered]
            }
            ClusterEvent::Etcd(EtcdEvent::Unreachable { error }) => {
                self.etcd_unreachable(error, now);
                Vec::new()
            }
        }
    }

    fn on_engine(&mut self, event: DataEvent, now: Instant) {
        match event {
            DataEvent::Up { host, info } => {
                if let Some(h) = self.host_mut(&host) {
                    h.state = HostState::Online;
                    h.info = Some(info);
                    self.last_data = Some(now);
                }
            }
            DataEvent::Down { host, error } => {
                if let Some(h) = self.host_mut(&host) {
                    // Keep the first failure time so screens show how long it has been down.
                    let since = match &h.state {
                        HostState::Offline { since, .. } => *since,
                        _ => now,
                    };
                    h.state = HostState::Offline { error, since };
                    for c in &mut h.containers {
                        c.cpu_percent = None;
                        c.mem_bytes = None;
                    }
                }
            }
            DataEvent::Containers {
                host,
                mut containers,
            } => {
                let Some(h) = self.host(&host) else { return };
                if let Metrics::Agent { .. } = h.metrics {
                    // The engine lists without figures: the agent's stand until its next.
                    keep_figures(&h.containers, &h.agent, &mut containers);
                }
                // Most re-reads find nothing new: the host is then not copied.
                if h.containers != containers
                    && let Some(h) = self.host_mut(&host)
                {
                    h.containers = containers;
                }
                self.last_data = Some(now);
            }
            DataEvent::Stats {
                host,
                id,
                cpu_percent,
                mem_bytes,
            } => {
                if let Some(h) = self.host_mut(&host) {
                    if let Some(c) = h.containers.iter_mut().find(|c| c.id == id) {
                        c.cpu_percent = Some(cpu_percent);
                        c.mem_bytes = Some(mem_bytes);
                    }
                    self.last_data = Some(now);
                }
            }
            DataEvent::Agent {
                host,
                source,
                containers,
            } => {
                if let Some(h) = self.host_mut(&host) {
                    h.metrics = Metrics::Agent { source };
                    h.agent.clear();
                    for figures in containers {
                        if let Some(c) = h.containers.iter_mut().find(|c| c.id == figures.id) {
                            c.cpu_percent = figures.cpu_percent.or(c.cpu_percent);
                            c.mem_bytes = Some(figures.mem_bytes);
                        }
                        h.agent.insert(figures.id.clone(), figures);
                    }
                    self.last_data = Some(now);
                }
            }
            DataEvent::Probes { host, report } => {
                self.probes.insert(host, report);
            }
            DataEvent::AgentDown { host, error } => {
                self.probes.remove(&host);
                if let Some(h) = self.host_mut(&host) {
                    h.metrics = Metrics::Fallback { error };
                    h.agent.clear();
                }
            }
        }
    }

    /// Agents that came, moved or went: each is news for whoever polls them.
    fn on_agents(&mut self, event: AgentEvent) -> Vec<Change> {
        let before = self.agents.clone();
        match event {
            Watch::Snapshot(all) => self.agents = all.into(),
            Watch::Change(AgentChange::Put(host, record)) => {
                self.agents.insert(host, record);
            }
            Watch::Change(AgentChange::Gone(host)) => {
                self.agents.remove(&host);
            }
            Watch::Connected { .. } | Watch::Unreachable { .. } => {}
        }
        let agents = &self.agents;
        self.probes.retain(|host, _| agents.contains_key(host));
        let hosts: BTreeSet<String> = (before.keys().chain(self.agents.keys()))
            .filter(|host| before.get(*host) != self.agents.get(*host))
            .cloned()
            .collect();
        let mut changes = Vec::new();
        for host in hosts {
            let address = self.agents.get(&host).map(|a| a.address.clone());
            if address.is_none()
                && let Some(h) = self.host_mut(&host)
            {
                // No agent: the engine's stats are the figures again.
                h.metrics = Metrics::Engine;
                h.agent.clear();
            }
            changes.push(Change::Agent { host, address });
        }
        changes
    }

    /// Host records; whether etcd answers is `ClusterEvent::Etcd`'s alone to say.
    fn on_hosts(&mut self, event: HostEvent) -> Vec<Change> {
        let mut changes = Vec::new();
        match event {
            HostEvent::Connected { .. } | HostEvent::Unreachable { .. } => {}
            HostEvent::Snapshot(HostListing {
                records, broken, ..
            }) => {
                // Records gone from etcd while we were away: drop etcd-only hosts, demote
                // merged ones. A broken record is not gone: its host stays as it was.
                let stale: Vec<String> = (self.hosts.iter())
                    .filter(|h| h.source != HostSource::Config)
                    .filter(|h| !records.iter().any(|r| r.name == h.spec.name))
                    .filter(|h| !broken.iter().any(|b| b.name == h.spec.name))
                    .map(|h| h.spec.name.clone())
                    .collect();
                for name in stale {
                    changes.extend(self.delete_record(&name));
                }
                self.broken_hosts = (broken.into_iter()).map(|b| (b.name, b.reason)).collect();
                for record in records {
                    changes.extend(self.put_record(record));
                }
            }
            HostEvent::Change(HostChange::Put { record, .. }) => {
                self.broken_hosts.remove(&record.name);
                changes.extend(self.put_record(record));
            }
            HostEvent::Change(HostChange::Deleted { name, .. }) => {
                self.broken_hosts.remove(&name);
                changes.extend(self.delete_record(&name));
            }
            HostEvent::Change(HostChange::Broken { record, .. }) => {
                self.broken_hosts.insert(record.name, record.reason);
            }
        }
        changes
    }

    /// Keeps the first failure time so screens show how long etcd has been away.
    fn etcd_unreachable(&mut self, error: String, now: Instant) {
        let since = match &self.etcd {
            EtcdState::Unreachable { since, .. } => *since,
            _ => now,
        };
        self.etcd = EtcdState::Unreachable { error, since };
    }

    /// Merges an etcd host record into the inventory; a changed engine means a new
    /// supervisor.
    fn put_record(&mut self, record: HostSpec) -> Option<Change> {
        let Some(host) = self.host_mut(&record.name) else {
            self.upsert_host(Host::new(record.clone(), HostSource::Etcd));
            return Some(Change::Supervise(record));
        };
        host.source = match host.source {
            HostSource::Etcd => HostSource::Etcd,
            _ => HostSource::Both,
        };
        if host.spec == record {
            return None;
        }
        let engine_changed = host.spec.engine != record.engine || host.spec.tls != record.tls;
        host.spec = record.clone();
        if !engine_changed {
            return None;
        }
        host.state = HostState::Unknown;
        Some(Change::Supervise(record))
    }

    fn delete_record(&mut self, name: &str) -> Option<Change> {
        let host = self.host_mut(name)?;
        match host.source {
            HostSource::Config => None,
            // The config file still names it: keep it, it only loses its etcd overrides
            // on restart.
            HostSource::Both => {
                host.source = HostSource::Config;
                None
            }
            HostSource::Etcd => {
                self.remove_host(name);
                Some(Change::Unsupervise(name.to_owned()))
            }
        }
    }

    fn on_apps(&mut self, event: AppEvent) {
        match event {
            AppEvent::Connected { .. } | AppEvent::Unreachable { .. } => {}
            AppEvent::Snapshot(listing) => {
                listing.replace(&mut self.apps, &mut self.broken_apps, |spec, revision| {
                    AppRecord { spec, revision }
                });
            }
            AppEvent::Change(AppChange::Broken { record, .. }) => {
                self.broken_apps.insert(record.name, record.reason);
            }
            AppEvent::Change(AppChange::Put { app, mod_revision }) => {
                let spec = *app;
                self.broken_apps.remove(&spec.name);
                let record = AppRecord {
                    spec,
                    revision: mod_revision,
                };
                self.apps.insert(record.spec.name.clone(), record);
            }
            AppEvent::Change(AppChange::Deleted { name, .. }) => {
                self.broken_apps.remove(&name);
                self.apps.remove(&name);
            }
        }
    }

    fn on_rollouts(&mut self, event: RolloutEvent) {
        event.track_broken(&mut self.broken_rollouts);
        match event {
            RolloutEvent::Snapshot(RolloutListing { rollouts, .. }) => {
                self.rollouts = (rollouts.into_iter())
                    .map(|r| (r.app().to_owned(), r))
                    .collect();
            }
            RolloutEvent::Change(RolloutChange::Put(r)) => {
                self.rollouts.insert(r.app().to_owned(), *r);
            }
            RolloutEvent::Change(RolloutChange::Removed { app }) => {
                self.rollouts.remove(&app);
            }
            RolloutEvent::Connected { .. }
            | RolloutEvent::Unreachable { .. }
            | RolloutEvent::Change(RolloutChange::Broken(_))
            | RolloutEvent::Change(RolloutChange::Command(_))
            | RolloutEvent::Change(RolloutChange::CommandRemoved { .. }) => {}
        }
    }
}

/// Fills the figures a fresh listing lacks from the same containers' previous ones, or from
/// the agent's last read (which may have come first).
fn keep_figures(
    old: &[Container],
    agent: &BTreeMap<String, AgentFigures>,
    fresh: &mut [Container],
) {
    for c in fresh.iter_mut().filter(|c| c.cpu_percent.is_none()) {
        if let Some(before) = old.iter().find(|o| o.id == c.id) {
            c.cpu_percent = before.cpu_percent;
            c.mem_bytes = c.mem_bytes.or(before.mem_bytes);
        }
        if let Some(read) = agent.get(&c.id) {
            c.cpu_percent = c.cpu_percent.or(read.cpu_percent);
            c.mem_bytes = c.mem_bytes.or(Some(read.mem_bytes));
        }
    }
}

#[cfg(test)]
mod tests;
