//! etcd: connection, host records, watches (and later specs, leases, election, audit).

mod agents;
mod apps;
mod audit;
mod connect;
mod election;
mod endpoints;
mod error;
mod health;
mod hosts;
mod link;
mod placement;
mod restarts;
mod rollouts;
mod services;
mod watch;

pub use agents::{
    AgentLease, AgentRecord, agents_dir, list_agents, register_agent, spawn_agent_watcher,
};
pub use apps::{
    Expect, HISTORY_KEEP, app_key, apps_dir, delete_app, get_app, history_dir, list_apps,
    list_history, put_app, scale_app, spawn_app_watcher,
};
pub use audit::{
    AuditEntry, AuditOutcome, AuditReason, audit_dir, list_audit, list_audit_page, operator, record,
};
pub use connect::{CONNECT_TIMEOUT, REQUEST_TIMEOUT, connect};
pub use election::{
    DEFAULT_LEASE_TTL, LeaderObserver, Leadership, campaign, current_leader, election_name,
    observe_leader,
};
pub use error::StoreError;
pub use health::{HostHealth, Liveness, health_dir, list_host_health, set_host_health};
pub use hosts::{delete_host, host_key, hosts_dir, list_host_records, list_hosts, put_host};
pub use link::EtcdLink;
pub use placement::{
    clear_placement, list_placement, placement_dir, put_placement, spawn_placement_watcher,
};
pub use restarts::{
    RESTART_SETTLE, mark_restart, restarts_dir, settle_restart, spawn_restart_watcher,
};
pub use rollouts::{
    RequestError, command_key, delete_broken_rollout, discard_command, get_rollout, list_rollouts,
    now_ms, request, rollout_key, rollouts_dir, save_rollout, spawn_rollout_watcher, verb,
};
pub use services::{
    deregister, list_endpoints, register, service_dir, services_dir, spawn_service_watcher,
};
pub use watch::{live_watches, spawn_host_watcher};
