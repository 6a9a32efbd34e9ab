//! wheelhouse: a terminal cockpit for clusters of Docker hosts coordinated through etcd.

pub mod agent;
pub mod agentd;
pub mod cluster;
pub mod config;
pub mod controller;
pub mod ctl;
pub mod docker;
pub mod domain;
pub mod feed;
pub mod lab;
pub mod logs;
pub mod metrics;
pub mod ops;
pub mod plan;
pub mod sched;
pub mod store;
pub mod tui;
