//! Docker engines: a supervisor task per host (bollard) that reports `DataEvent`s.

mod connect;
mod containers;
mod exec;
mod ssh;
mod supervisor;
mod watch;

pub use connect::{DockerError, client, connect, describe, describe_cause};
pub use exec::{
    Done, EngineStep, ExecError, Limits, StepResult, create_body, execute, image_tags,
    restart_count,
};
pub use supervisor::Supervisor;
