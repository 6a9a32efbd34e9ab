//! The one picture of the cluster: hosts and their containers, apps, rollouts, placement
//! problems and etcd's state (`ClusterState`), changed only by `apply`ing the events the
//! engines and etcd report (`ClusterEvent`). It knows nothing of screens.

mod actual;
mod apps;
mod event;
mod host;
mod rollouts;
mod shared;
mod state;
pub(crate) mod trace;
mod trace_probes;

pub use apps::{AppChange, AppEvent, AppListing, AppRecord, AppStatus, app_statuses};
pub use event::{
    AgentChange, AgentEvent, BrokenRecord, ClusterEvent, DataEvent, EtcdEvent, HostChange,
    HostEvent, HostListing, PlacementChange, PlacementEvent, Registry, RestartChange, RestartEvent,
    ServiceChange, ServiceEvent, Watch,
};
pub use host::{Host, HostSource, HostState, Metrics};
pub use rollouts::{
    PendingCommand, Rollout, RolloutChange, RolloutEvent, RolloutListing, StoredCommand,
    active_rollout, changing_hosts,
};
pub use shared::Shared;
pub use state::{Change, ClusterState, EtcdState};
pub use trace::{Hop, HostProbes, Node, Probes, Trace, Verdict, instances_of};
pub use trace_probes::times;
