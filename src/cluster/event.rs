//! What the engines and etcd report, as events the cluster picture applies.

use crate::domain::{Container, HostInfo, HostSpec};
use crate::sched::Unplaceable;
use std::collections::{BTreeMap, BTreeSet};

/// Everything that changes the cluster picture (`ClusterState::apply`).
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterEvent {
    /// A host supervisor's news.
    Engine(DataEvent),
    /// The host watcher's news: host records.
    Hosts(StoreEvent),
    /// The app watcher's news: specs and their revisions.
    Apps(super::AppEvent),
    /// The rollout watcher's news: progress records as etcd holds them.
    Rollouts(super::RolloutEvent),
    /// Why the controller cannot place every instance of an app (`/placement/<app>`).
    Placement(PlacementEvent),
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

/// What the store task reports to the loop.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreEvent {
    Connected {
        revision: i64,
    },
    Unreachable {
        error: String,
    },
    /// Every host record, read at `revision`: sent after the first connect, and after a
    /// reconnect only if etcd compacted past the resume point (otherwise the watch resumes
    /// and the changes missed arrive as `HostPut`/`HostDeleted`).
    Hosts {
        records: Vec<HostSpec>,
        /// Records that cannot be read: their hosts are kept as they were.
        broken: Vec<BrokenRecord>,
        revision: i64,
    },
    HostPut {
        record: HostSpec,
        revision: i64,
    },
    HostDeleted {
        name: String,
        revision: i64,
    },
    /// A host record was overwritten with something that cannot be read: the host is
    /// kept as it was, and the record shown as broken.
    HostBroken {
        record: BrokenRecord,
        revision: i64,
    },
}

/// What the placement watcher reports.
#[derive(Debug, Clone, PartialEq)]
pub enum PlacementEvent {
    Connected {
        revision: i64,
    },
    Unreachable {
        error: String,
    },
    /// Every app's placement problem now.
    Snapshot(BTreeMap<String, Unplaceable>),
    Put(Unplaceable),
    Cleared(String),
}

impl PlacementEvent {
    /// Keeps `problems` (by app) in line with this event.
    pub fn apply(self, problems: &mut BTreeMap<String, Unplaceable>) {
        match self {
            PlacementEvent::Snapshot(all) => *problems = all,
            PlacementEvent::Put(u) => {
                problems.insert(u.app.clone(), u);
            }
            PlacementEvent::Cleared(app) => {
                problems.remove(&app);
            }
            PlacementEvent::Connected { .. } | PlacementEvent::Unreachable { .. } => {}
        }
    }
}

/// What the restart watcher reports.
#[derive(Debug, Clone, PartialEq)]
pub enum RestartEvent {
    Connected {
        revision: i64,
    },
    Unreachable {
        error: String,
    },
    /// Every container marked now.
    Snapshot(BTreeSet<String>),
    Marked(String),
    Unmarked(String),
}
