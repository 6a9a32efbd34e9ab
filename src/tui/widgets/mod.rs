//! Widgets written once and reused by the views.

pub mod banner;
pub mod command_line;
pub mod dialog;
pub mod grid;
pub mod history;
pub mod progress;
pub mod status_bar;
pub mod table;
