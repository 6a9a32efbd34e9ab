//! etcd: connection, host records, watches (and later specs, leases, election, audit).

mod connect;
mod error;
mod hosts;
mod watch;

pub use connect::{CONNECT_TIMEOUT, REQUEST_TIMEOUT, connect};
pub use error::StoreError;
pub use hosts::{delete_host, host_key, hosts_dir, list_hosts, put_host};
pub use watch::spawn_host_watcher;

use crate::model::HostSpec;

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
}
