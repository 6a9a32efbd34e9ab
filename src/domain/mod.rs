//! The vocabulary every layer shares: hosts and containers, app specs and their parsing,
//! durations, names, and errors that name file:line:col. Imports nothing of ours.

mod agent;
pub mod app;
pub mod check;
pub mod duration;
#[doc(hidden)]
pub mod expect;
mod host;
pub mod logs;
mod names;
pub mod probe;
pub mod sanitize;
mod source;

pub use agent::{AgentFigures, AgentRecord, IoRates};
pub use duration::{Bounds, format_duration};
pub use host::{
    Container, ContainerState, Health, HostInfo, HostSpec, Load, Thresholds, TlsFiles, short_id,
};
pub use names::valid_name;
pub use source::{
    FileError, MAX_ECHO, MAX_MESSAGE, cap_echoes, decode, excerpt, line_col, read_file,
};
