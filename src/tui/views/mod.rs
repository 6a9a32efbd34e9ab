//! One file per screen: each lays out its widgets from `&Screen`.

pub mod apps;
pub mod grid;
pub mod help;
pub mod history;
pub mod host;
pub mod instances;
pub mod logs;
pub mod trace;
mod trace_hops;
pub mod wallboard;
