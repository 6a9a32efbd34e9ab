//! What the engines and etcd report, as events the cluster picture applies.

use crate::domain::probe::ProbeReport;
use crate::domain::{AgentFigures, AgentRecord, Container, HostInfo, HostSpec};
use crate::plan::Endpoint;
use crate::sched::Unplaceable;
use std::collections::{BTreeMap, BTreeSet};

/// Everything that changes the cluster picture (`ClusterState::apply`).
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterEvent {
    /// A host supervisor's news.
    Engine(DataEvent),
    /// The host watcher's news: host records.
    Hosts(HostEvent),
    /// The app watcher's news: specs and their revisions.
    Apps(super::AppEvent),
    /// The rollout watcher's news: progress records as etcd holds them.
    Rollouts(super::RolloutEvent),
    /// Why the controller cannot place every instance of an app (`/placement/<app>`).
    Placement(PlacementEvent),
    /// Containers an operator is restarting (`/restarts/`).
    Restarts(RestartEvent),
    /// Which hosts run an agent, and where it answers (`/agents/`).
    Agents(AgentEvent),
    /// The service registry: every app's registered endpoints (`/services/<app>/<instance>`).
    Services(ServiceEvent),
    /// Whether etcd answers, as the feed derives it from all its watchers: the etcd
    /// indicator's only writer.
    Etcd(EtcdEvent),
}

/// etcd as a whole: connected (at this revision) or unreachable (and why).
#[derive(Debug, Clone, PartialEq)]
pub enum EtcdEvent {
    Connected { revision: i64 },
    Unreachable { error: String },
}

/// What a host supervisor reports. Supervisors never touch the model; the loop applies these.
#[derive(Debug, Clone, PartialEq)]
pub enum DataEvent {
    /// The engine answered ping and info.
    Up { host: String, info: HostInfo },
    /// The engine stopped answering (or never did).
    Down { host: String, error: String },
    /// The full container list (managed or not), with the last known stats filled in.
    Containers {
        host: String,
        containers: Vec<Container>,
    },
    /// A fresh stats sample for one container.
    Stats {
        host: String,
        id: String,
        cpu_percent: f64,
        mem_bytes: u64,
    },
    /// The host's agent read every container's cgroups (`source`: "cgroup-v1", ...).
    Agent {
        host: String,
        source: String,
        containers: Vec<AgentFigures>,
    },
    /// The host's agent did not answer: its engine's stats stand in.
    AgentDown { host: String, error: String },
    /// The host's agent's last probe round (the endpoints its apps depend on).
    Probes { host: String, report: ProbeReport },
}

/// A record that cannot be read (bad JSON, or values `ctl apply` would refuse). It is
/// never taken as a deletion: readers keep the last good record (or leave the thing
/// alone) and show this to the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenRecord {
    /// The app, host or rollout's app the key names.
    pub name: String,
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

impl BrokenRecord {
    pub(crate) fn new(name: &str, key: &[u8], reason: String) -> BrokenRecord {
        BrokenRecord {
            name: name.to_owned(),
            key: String::from_utf8_lossy(key).into_owned(),
            reason,
        }
    }
}

/// What one etcd watcher reports (each follows one key prefix, and resumes after outages
/// without loss): whether etcd answers, the whole range (after the first connect, and
/// after a reconnect only if etcd compacted past the resume point), then each change.
#[derive(Debug, Clone, PartialEq)]
pub enum Watch<S, C> {
    Connected { revision: i64 },
    Unreachable { error: String },
    Snapshot(S),
    Change(C),
}

/// The host watcher's news (`<prefix>/hosts/`).
pub type HostEvent = Watch<HostListing, HostChange>;

/// Every host record, read at `revision`.
#[derive(Debug, Clone, PartialEq)]
pub struct HostListing {
    pub records: Vec<HostSpec>,
    /// Records that cannot be read: their hosts are kept as they were.
    pub broken: Vec<BrokenRecord>,
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HostChange {
    Put {
        record: HostSpec,
        revision: i64,
    },
    Deleted {
        name: String,
        revision: i64,
    },
    /// A host record was overwritten with something that cannot be read: the host is
    /// kept as it was, and the record shown as broken.
    Broken {
        record: BrokenRecord,
        revision: i64,
    },
}

/// The placement watcher's news: every app's placement problem, then each change.
pub type PlacementEvent = Watch<BTreeMap<String, Unplaceable>, PlacementChange>;

#[derive(Debug, Clone, PartialEq)]
pub enum PlacementChange {
    Put(Unplaceable),
    Cleared(String),
}

impl PlacementEvent {
    /// Keeps `problems` (by app) in line with this event.
    pub fn apply(self, problems: &mut BTreeMap<String, Unplaceable>) {
        match self {
            PlacementEvent::Snapshot(all) => *problems = all,
            PlacementEvent::Change(PlacementChange::Put(u)) => {
                problems.insert(u.app.clone(), u);
            }
            PlacementEvent::Change(PlacementChange::Cleared(app)) => {
                problems.remove(&app);
            }
            PlacementEvent::Connected { .. } | PlacementEvent::Unreachable { .. } => {}
        }
    }
}

/// The agent watcher's news: every host's agent, then each one that comes or goes.
pub type AgentEvent = Watch<BTreeMap<String, AgentRecord>, AgentChange>;

#[derive(Debug, Clone, PartialEq)]
pub enum AgentChange {
    /// The host's agent registered (or registered again, maybe elsewhere).
    Put(String, AgentRecord),
    /// The host's agent is gone (stopped, or its lease expired).
    Gone(String),
}

/// The restart watcher's news: every container marked, then each mark and unmark.
pub type RestartEvent = Watch<BTreeSet<String>, RestartChange>;

#[derive(Debug, Clone, PartialEq)]
pub enum RestartChange {
    Marked(String),
    Unmarked(String),
}

impl RestartEvent {
    /// Keeps `marked` (containers, by id or name) in line with this event.
    pub fn apply(self, marked: &mut BTreeSet<String>) {
        match self {
            RestartEvent::Snapshot(all) => *marked = all,
            RestartEvent::Change(RestartChange::Marked(c)) => {
                marked.insert(c);
            }
            RestartEvent::Change(RestartChange::Unmarked(c)) => {
                marked.remove(&c);
            }
            RestartEvent::Connected { .. } | RestartEvent::Unreachable { .. } => {}
        }
    }
}

/// Registered endpoints: by app, then by instance (the key's last segment).
pub type Registry = BTreeMap<String, BTreeMap<String, Endpoint>>;

/// The service watcher's news: the whole registry, then each registration and removal.
pub type ServiceEvent = Watch<Registry, ServiceChange>;

#[derive(Debug, Clone, PartialEq)]
pub enum ServiceChange {
    Registered {
        app: String,
        instance: String,
        endpoint: Endpoint,
    },
    Deregistered {
        app: String,
        instance: String,
    },
}

impl ServiceEvent {
    /// Keeps `registry` in line with this event; an app left with no endpoint is dropped.
    pub fn apply(self, registry: &mut Registry) {
        match self {
            ServiceEvent::Snapshot(all) => *registry = all,
            ServiceEvent::Change(ServiceChange::Registered {
                app,
                instance,
                endpoint,
            }) => {
                registry.entry(app).or_default().insert(instance, endpoint);
            }
            ServiceEvent::Change(ServiceChange::Deregistered { app, instance }) => {
                if let Some(endpoints) = registry.get_mut(&app) {
                    endpoints.remove(&instance);
                    if endpoints.is_empty() {
                        registry.remove(&app);
                    }
                }
            }
            ServiceEvent::Connected { .. } | ServiceEvent::Unreachable { .. } => {}
        }
    }
}
