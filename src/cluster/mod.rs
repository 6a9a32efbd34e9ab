//! The one picture of the cluster: hosts and their containers, apps, rollouts, placement
//! problems and etcd's state, changed only by `apply`ing the events the engines and etcd
//! report.

mod host;

pub use host::{Host, HostSource, HostState};
