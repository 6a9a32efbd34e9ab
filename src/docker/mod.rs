//! Docker engines: a supervisor task per host (bollard) that reports `DataEvent`s.

mod connect;
mod containers;
mod exec;
mod inspect;
mod log_sources;
mod logs;
mod pace;
mod pooled;
mod ssh;
mod supervisor;
mod watch;

pub use connect::{DockerError, client, connect, describe, describe_cause};
pub use exec::{
    Done, EngineStep, ExecError, Limits, StepResult, create_body, execute, image_tags,
    restart_count,
};
pub use inspect::{Inspected, inspect_all};
pub use log_sources::{
    Engine, FindError, Found, Target, connect_all, find, follow_app, stream_target,
};
pub use logs::{LogEvent, LogOptions, stream_container};
pub use pace::Pace;
pub use supervisor::{Detail, Supervisor};
