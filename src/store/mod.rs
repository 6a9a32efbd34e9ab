//! etcd: connection, host records, watches (and later specs, leases, election, audit).

mod apps;
mod audit;
mod connect;
mod election;
mod endpoints;
mod error;
mod health;
mod hosts;
mod placement;
mod restarts;
mod rollouts;
mod services;
mod watch;

pub use apps::{
    AppEvent, AppListing, Expect, HISTORY_KEEP, app_key, apps_dir, delete_app, get_app,
    history_dir, list_apps, list_history, put_app, scale_app, spawn_app_watcher,
};
pub use audit::{AuditEntry, AuditOutcome, audit_dir, list_audit, record};
pub use connect::{CONNECT_TIMEOUT, REQUEST_TIMEOUT, connect};
pub use election::{
    DEFAULT_LEASE_TTL, LeaderObserver, Leadership, campaign, current_leader, election_name,
    observe_leader,
};
pub use error::StoreError;
pub use health::{HostHealth, Liveness, health_dir, list_host_health, set_host_health};
pub use hosts::{delete_host, host_key, hosts_dir, list_host_records, list_hosts, put_host};
pub use placement::{
    PlacementEvent, clear_placement, list_placement, placement_dir, put_placement,
    spawn_placement_watcher,
};
pub use restarts::{
    RESTART_SETTLE, RestartEvent, mark_restart, restarts_dir, settle_restart, spawn_restart_watcher,
};
pub use rollouts::{
    PendingCommand, RequestError, Rollout, RolloutEvent, StoredCommand, command_key,
    delete_broken_rollout, discard_command, get_rollout, list_broken_rollouts, list_rollouts,
    now_ms, request, rollout_key, rollouts_dir, save_rollout, spawn_rollout_watcher, verb,
};
pub use services::{deregister, list_endpoints, register, service_dir};
pub use watch::spawn_host_watcher;

use crate::domain::HostSpec;

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
