//! Rollouts as etcd holds them, and what the cluster picture says of them: which app is
//! being rolled, and which hosts it is changing right now (they hold an instance that is
//! not yet on the target revision, or a new one not yet healthy).

use super::{BrokenRecord, ClusterState, HostState, Watch};
use crate::domain::Health;
use crate::domain::app::AppSpec;
use crate::plan::labels::{APP, REVISION};
use crate::plan::rollout::{Command, RolloutState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One app's rollout as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollout {
    pub state: RolloutState,
    /// The spec of `state.from_revision`, for rolling back; None when the history no
    /// longer held it (a rollback then fails and says so).
    pub from_spec: Option<AppSpec>,
    /// The spec of `state.to_revision`.
    pub to_spec: AppSpec,
}

impl Rollout {
    pub fn app(&self) -> &str {
        &self.state.app
    }
}

/// A command waiting for the leader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCommand {
    pub command: Command,
    /// The operator, as the audit trail names them.
    pub who: String,
    pub at_ms: u64,
}

/// A pending command with where it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCommand {
    pub app: String,
    pub command: PendingCommand,
    /// The key's mod_revision: the leader deletes it only if it is still this one.
    pub mod_revision: i64,
}

/// The rollout watcher's news (`<prefix>/rollouts/`).
pub type RolloutEvent = Watch<RolloutListing, RolloutChange>;

/// Every rollout record and pending command.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutListing {
    pub rollouts: Vec<Rollout>,
    pub commands: Vec<StoredCommand>,
    /// Records that cannot be read (skipped above).
    pub broken: Vec<BrokenRecord>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RolloutChange {
    /// A record was overwritten with something that cannot be read.
    Broken(BrokenRecord),
    /// Boxed: a record carries two specs.
    Put(Box<Rollout>),
    Removed {
        app: String,
    },
    Command(StoredCommand),
    CommandRemoved {
        app: String,
    },
}

impl RolloutEvent {
    /// Keeps `broken` (app -> why its rollout record cannot be read) up to date: a
    /// readable write or a removal of the record clears its mark.
    pub fn track_broken(&self, broken: &mut BTreeMap<String, String>) {
        match self {
            RolloutEvent::Snapshot(RolloutListing { broken: now, .. }) => {
                *broken = (now.iter())
                    .map(|b| (b.name.clone(), b.reason.clone()))
                    .collect();
            }
            RolloutEvent::Change(RolloutChange::Broken(b)) => {
                broken.insert(b.name.clone(), b.reason.clone());
            }
            RolloutEvent::Change(RolloutChange::Put(r)) => drop(broken.remove(r.app())),
            RolloutEvent::Change(RolloutChange::Removed { app }) => drop(broken.remove(app)),
            RolloutEvent::Change(RolloutChange::Command(_))
            | RolloutEvent::Change(RolloutChange::CommandRemoved { .. })
            | RolloutEvent::Connected { .. }
            | RolloutEvent::Unreachable { .. } => {}
        }
    }
}

/// The app's rollout if one is under way (not succeeded, rolled back or failed).
pub fn active_rollout<'c>(cluster: &'c ClusterState, app: &str) -> Option<&'c Rollout> {
    cluster
        .rollouts
        .get(app)
        .filter(|r| !r.state.phase.is_done())
}

/// Hosts (by name, sorted) holding an instance that an active rollout still has to deal
/// with: one not on the revision being moved to, or one on it that is not yet healthy.
pub fn changing_hosts(cluster: &ClusterState) -> Vec<String> {
    let mut hosts = Vec::new();
    for host in cluster
        .hosts
        .iter()
        .filter(|h| h.state == HostState::Online)
    {
        let changing = host.containers.iter().any(|c| {
            let Some(rollout) = c
                .labels
                .get(APP)
                .and_then(|app| active_rollout(cluster, app))
            else {
                return false;
            };
            let on_target = c.labels.get(REVISION).and_then(|r| r.parse::<i64>().ok())
                == Some(rollout.state.target_revision());
            !on_target || !matches!(c.health, Health::Healthy | Health::None) || !c.is_running()
        });
        if changing {
            hosts.push(host.name().to_owned());
        }
    }
    hosts
}
