//! Docker engines: a supervisor task per host (bollard) that reports `DataEvent`s.

mod connect;
mod containers;
mod exec;
mod ssh;
mod supervisor;
mod watch;

pub use connect::{DockerError, client, connect, describe, describe_cause, host_from_env};
pub use exec::{
    Done, EngineStep, ExecError, Limits, StepResult, create_body, execute, image_tags,
    restart_count,
};
pub use supervisor::Supervisor;

use crate::domain::{Container, HostInfo};

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
