//! etcd: connection, host records, watches (and later specs, leases, election, audit).

use crate::model::HostSpec;

/// What the store task reports to the loop.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreEvent {
    Connected { revision: i64 },
    Unreachable { error: String },
    /// Every host record, read at `revision` (sent after each (re)connect).
    Hosts { records: Vec<HostSpec>, revision: i64 },
    HostPut { record: HostSpec, revision: i64 },
    HostDeleted { name: String, revision: i64 },
}
