//! Local lab: one etcd and N real dockerd hosts on this machine.
