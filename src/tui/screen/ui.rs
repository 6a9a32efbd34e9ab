//! What the operator is looking at: view stack, focus, selection, dialogs, status line.

use crate::ops::HistoryEntry;
use crate::tui::action::Action;
use crate::tui::layout::Geometry;
use crate::tui::update::filter::{Filter, Scope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// The host grid with the Apps panel beside it.
    Grid,
    /// One host's containers, by host name.
    Host(String),
    /// An app between its callers and its dependencies.
    Trace(Box<super::TraceNav>),
    /// A container's or an app's lines.
    Logs(Box<super::LogsNav>),
    /// An app's instances side by side, each with its CPU and memory chart.
    Instances(Box<InstancesNav>),
}

/// Where the instances view is: its app, the first row of cells shown, and the view it
/// was opened from (esc goes back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstancesNav {
    pub app: String,
    pub first_row: usize,
    pub from: View,
}

impl InstancesNav {
    pub fn new(app: &str, from: View) -> Self {
        InstancesNav {
            app: app.to_owned(),
            first_row: 0,
            from,
        }
    }
}

/// Which panel of the grid view takes the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    #[default]
    Grid,
    Apps,
}

/// A modal question on top of the view; it takes every key until answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    /// Asks for `app`'s new instance count.
    ScalePrompt {
        app: String,
        /// The count when the prompt opened.
        current: u32,
        /// The spec revision the operator is looking at.
        seen: i64,
        input: String,
        /// Why the last entry was refused.
        error: Option<String>,
    },
    /// A mutating action waiting for y/n.
    Confirm { question: String, action: Action },
}

/// The rollout prompt after `u`: the image to roll `app` out to. It takes the prompt's keys
/// like a dialog; tab and up/down cycle through the tags the hosts hold.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagePrompt {
    pub app: String,
    /// The spec's image when the prompt opened.
    pub current: String,
    pub input: String,
    /// The tags the engines hold; None until they have answered.
    pub choices: Option<Result<Vec<String>, String>>,
    /// The choice the input was last set from.
    pub pick: Option<usize>,
    /// Why the last entry was refused.
    pub error: Option<String>,
    /// The image came with the command (`:rollout web IMAGE`): once the hosts have
    /// answered it is checked, then asked about (or refused with the reason).
    pub submit: bool,
}

impl ImagePrompt {
    pub fn new(app: String, current: String, input: String, submit: bool) -> Self {
        ImagePrompt {
            app,
            current,
            input,
            choices: None,
            pick: None,
            error: None,
            submit,
        }
    }
}

/// What the line at the bottom is reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// `:` a command (`:scale web 5`).
    Command,
    /// `/` a filter, applied as it is typed.
    Filter,
}

/// The `:` command line or the `/` filter prompt, drawn over the status bar.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandLine {
    pub kind: LineKind,
    pub input: String,
    /// The history entry the input was recalled from (up/down).
    pub recall: Option<usize>,
    /// What tab could complete to, when it had more than one choice.
    pub choices: Vec<String>,
}

impl CommandLine {
    pub fn new(kind: LineKind, input: String) -> Self {
        CommandLine {
            kind,
            input,
            recall: None,
            choices: Vec::new(),
        }
    }
}

/// The history list after `H`, shown in place of the Apps table.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryList {
    pub app: String,
    /// None until etcd has answered.
    pub entries: Option<Result<Vec<HistoryEntry>, String>>,
    pub selected: usize,
}

#[derive(Debug, Clone)]
pub struct Ui {
    pub view: View,
    pub focus: Focus,
    /// Index into `Screen::hosts` of the selected grid cell.
    pub selected: usize,
    /// Selected row in the host view's container table.
    pub selected_row: usize,
    /// The app selected in the Apps panel, by name (rows come and go as specs change).
    pub selected_app: Option<String>,
    pub dialog: Option<Dialog>,
    /// The rollout prompt, open over the grid view.
    pub image_prompt: Option<ImagePrompt>,
    /// The history list, open in the Apps panel.
    pub history: Option<HistoryList>,
    /// A rollback waiting for the app's history, so its question can say what the
    /// revision holds: the app, and the revision asked for (None: the previous one).
    pub pending_rollback: Option<(String, Option<i64>)>,
    pub help: bool,
    /// First help line shown when help is one scrolling column (small terminals).
    pub help_scroll: usize,
    /// The status line's message (result of the last action, errors).
    pub message: Option<String>,
    /// The open `:` or `/` line.
    pub command: Option<CommandLine>,
    /// Lines entered this session, oldest first, for up/down.
    pub command_history: Vec<(LineKind, String)>,
    /// What the grid and the Apps panel are narrowed to.
    pub filter: Option<Filter>,
    /// What the open host's container list is narrowed to (cleared on leaving it).
    pub container_filter: Option<Filter>,
    /// The terminal's size and what follows from it for paging (measured by the loop).
    pub geometry: Geometry,
    /// The open host's history from its agent (set while a host's view is open).
    pub charts: Option<super::charts::Charts>,
}

impl Ui {
    /// The filter of the view on screen: the open host's, or the grid's (the logs view
    /// searches instead).
    pub fn active_filter(&self) -> Option<&Filter> {
        match (&self.view, self.filter_scope()) {
            (View::Logs(_), _) => None,
            (_, Scope::Containers) => self.container_filter.as_ref(),
            (_, Scope::Hosts) => self.filter.as_ref(),
        }
    }

    /// What a filter typed now narrows: the open host's containers, or the grid.
    pub fn filter_scope(&self) -> Scope {
        match self.view {
            View::Host(_) => Scope::Containers,
            View::Grid | View::Trace(_) | View::Logs(_) | View::Instances(_) => Scope::Hosts,
        }
    }

    /// Whether help, open over the view on screen, is one column that scrolls.
    pub fn help_scrolls(&self) -> bool {
        match self.view {
            View::Grid => self.geometry.help_scrolls_grid,
            View::Host(_) => self.geometry.help_scrolls_host,
            View::Trace(_) => self.geometry.help_scrolls_trace,
            View::Logs(_) => self.geometry.help_scrolls_logs,
            View::Instances(_) => self.geometry.help_scrolls_instances,
        }
    }

    /// Opens a host's view at its first container, unfiltered.
    pub fn show_host(&mut self, name: &str) {
        self.view = View::Host(name.to_owned());
        self.selected_row = 0;
        self.container_filter = None;
        self.charts = Some(super::charts::Charts::new(name));
    }

    /// Opens `app`'s trace: from another view, with a way back to it; in a trace, as a
    /// step along its breadcrumb.
    pub fn show_trace(&mut self, app: &str) {
        if let View::Trace(nav) = &mut self.view {
            nav.follow(app);
            return;
        }
        let from = std::mem::replace(&mut self.view, View::Grid);
        self.view = View::Trace(Box::new(super::TraceNav::new(app, from)));
    }

    /// Opens `app`'s instances view, with a way back to the view on screen.
    pub fn show_instances(&mut self, app: &str) {
        let from = std::mem::replace(&mut self.view, View::Grid);
        self.view = View::Instances(Box::new(InstancesNav::new(app, from)));
        self.charts = Some(super::charts::Charts::new(app));
    }

    /// Leaves the instances view for the view it was opened from; a host's view reads
    /// its own charts again.
    pub fn leave_instances(&mut self) {
        let View::Instances(nav) = &self.view else {
            return;
        };
        self.view = nav.from.clone();
        self.charts = match &self.view {
            View::Host(name) => Some(super::charts::Charts::new(name)),
            _ => None,
        };
    }

    /// Back to the grid; the host view's filter goes with it.
    pub fn show_grid(&mut self) {
        self.view = View::Grid;
        self.container_filter = None;
        self.charts = None;
    }
}

impl Default for Ui {
    fn default() -> Self {
        Ui {
            view: View::Grid,
            focus: Focus::Grid,
            selected: 0,
            selected_row: 0,
            selected_app: None,
            dialog: None,
            image_prompt: None,
            history: None,
            pending_rollback: None,
            help: false,
            help_scroll: 0,
            message: None,
            command: None,
            command_history: Vec::new(),
            filter: None,
            container_filter: None,
            geometry: crate::tui::geometry(80, 24),
            charts: None,
        }
    }
}
