//! What the operator is looking at: view stack, selection, status line.

use std::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    Grid,
    /// One host's containers, by host name.
    Host(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum EtcdState {
    /// Not configured at all.
    Disabled,
    Connecting,
    Connected {
        revision: i64,
    },
    Unreachable {
        error: String,
        since: Instant,
    },
}

#[derive(Debug, Clone)]
pub struct Ui {
    pub view: View,
    /// Index into `Model::hosts` of the selected grid cell.
    pub selected: usize,
    /// Selected row in the host view's container table.
    pub selected_row: usize,
    pub help: bool,
    /// The status line's message (result of the last action, errors).
    pub message: Option<String>,
    pub width: u16,
    pub height: u16,
}

impl Default for Ui {
    fn default() -> Self {
        Ui {
            view: View::Grid,
            selected: 0,
            selected_row: 0,
            help: false,
            message: None,
            width: 80,
            height: 24,
        }
    }
}
