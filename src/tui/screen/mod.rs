//! One screen: what one operator sees and has open (selection, dialogs, filters, view),
//! their keymap, theme and principal, over the feed's latest picture of the cluster.

pub mod charts;
mod logs;
mod rollouts;
mod trace;
mod ui;
pub mod wallboard;

pub use logs::{LogBatch, LogsNav, LogsPane, SINCE_STEPS, match_ranges, since_text};
pub use rollouts::{LINGER, note_finished, shown_rollouts};
pub use trace::{TraceNav, TraceRow, followed, trace_row, trace_rows};
pub use ui::{
    CommandLine, Dialog, Focus, HistoryList, ImagePrompt, InstancesNav, LineKind, Ui, View,
};

use crate::cluster::{AppStatus, ClusterState, Host};
use crate::domain::Container;
use crate::ops::Refusal;
use crate::tui::keymap::Keymap;
use crate::tui::theme::Theme;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// One screen and its own state. Only the loop that owns it changes it (through `update`);
/// the cluster is the feed's, shared with every other screen and read only.
#[derive(Debug, Clone)]
pub struct Screen {
    /// The feed's picture of the cluster as this screen last received it.
    pub cluster: Arc<ClusterState>,
    /// When this screen first saw each app's rollout finished (shown for `LINGER` after),
    /// with the rollout's start (`started_ms`) to tell one rollout from the next.
    pub rollouts_done: BTreeMap<String, (u64, Instant)>,
    /// Who works this screen, and in which mode (the wallboard and `--readonly` change
    /// nothing): what every change it asks for is authorized against.
    pub principal: crate::ops::Principal,
    /// The most instances a scale may ask for (the config's `max_instances`).
    pub max_instances: u32,
    /// This operator's keys.
    pub keymap: Arc<Keymap>,
    /// This operator's colours; its thresholds also decide `state=` filters.
    pub theme: Theme,
    pub ui: Ui,
    /// The clock as of the last tick; drawing computes ages against it.
    pub now: Instant,
    /// Set by update when something visible changed; cleared by the loop after drawing.
    pub dirty: bool,
    pub quit: bool,
    /// Changes confirmed on this screen whose result has not come back yet.
    pub in_flight: usize,
    /// Set in wallboard mode: its page, clock and interval.
    pub wallboard: Option<wallboard::Wallboard>,
    /// Slow link: ages are shown in coarse steps so an idle screen stays still.
    pub low_bandwidth: bool,
    /// Changes refused on this screen (read-only) waiting to be audited: `update` hands
    /// each to the loop as an `Effect::AuditRefusal`.
    pub refused: Vec<Refusal>,
    /// The logs view's lines and state while it is open.
    pub logs: Option<Box<LogsPane>>,
    /// How many lines the logs view keeps (the config's `[logs] lines`).
    pub log_lines: usize,
    /// The last log stream asked for: each gets a new number.
    pub log_streams: u64,
}

impl Screen {
    pub fn new(now: Instant) -> Self {
        Screen {
            cluster: Arc::default(),
            rollouts_done: BTreeMap::new(),
            principal: crate::ops::Principal::local(crate::ops::Mode::ReadWrite),
            max_instances: crate::domain::app::DEFAULT_MAX_INSTANCES,
            keymap: Arc::new(Keymap::default_keymap()),
            theme: Theme::default_theme(),
            ui: Ui::default(),
            now,
            dirty: true,
            quit: false,
            in_flight: 0,
            wallboard: None,
            low_bandwidth: false,
            refused: Vec::new(),
            logs: None,
            log_lines: crate::logs::DEFAULT_BUFFER_LINES,
            log_streams: 0,
        }
    }

    /// A screen over these hosts (sorted by name), for tests and benches.
    pub fn with_hosts(now: Instant, hosts: Vec<Host>) -> Self {
        let mut screen = Screen::new(now);
        screen.cluster = Arc::new(ClusterState::with_hosts(hosts));
        screen
    }

    /// The picture to change, for tests and benches that set a scene by hand (a screen on
    /// a feed only ever replaces it).
    pub fn cluster_mut(&mut self) -> &mut ClusterState {
        Arc::make_mut(&mut self.cluster)
    }

    /// The selected grid cell's host (one the filter lets through).
    pub fn selected_host(&self) -> Option<&Host> {
        if self.ui.filter.is_none() {
            return self.cluster.hosts.get(self.ui.selected).map(|h| &**h);
        }
        let shown = self.grid_hosts();
        let slot = self.grid_slot(&shown)?;
        self.cluster.hosts.get(shown[slot]).map(|h| &**h)
    }

    /// Indices into `hosts` of the hosts the grid shows, in order: those the filter lets
    /// through. Drawing and moving both use this, so they agree.
    pub fn grid_hosts(&self) -> Vec<usize> {
        match &self.ui.filter {
            None => (0..self.cluster.hosts.len()).collect(),
            Some(f) => (self.cluster.hosts.iter().enumerate())
                .filter(|(_, h)| f.matches_host(h, self.theme.thresholds))
                .map(|(i, _)| i)
                .collect(),
        }
    }

    /// The selection's position among `shown` (from `grid_hosts`). A selected host the
    /// filter no longer lets through gives way to the next shown one (or the last).
    pub fn grid_slot(&self, shown: &[usize]) -> Option<usize> {
        if shown.is_empty() {
            return None;
        }
        let at = shown.partition_point(|&i| i < self.ui.selected);
        Some(at.min(shown.len() - 1))
    }

    /// The host's containers its view lists: those the container filter lets through.
    pub fn shown_containers<'a>(&self, host: &'a Host) -> Vec<&'a Container> {
        let filter = self.ui.container_filter.as_ref();
        (host.containers.iter())
            .filter(|c| filter.is_none_or(|f| f.matches_container(c)))
            .collect()
    }

    /// Whether the Apps panel lists this app under the filter.
    pub fn shows_app(&self, name: &str) -> bool {
        self.ui.filter.as_ref().is_none_or(|f| f.matches_app(name))
    }
}

/// The row of the selected app: the one named, else the first (the named app may be gone).
/// None when there are no rows.
pub fn selected_index(statuses: &[AppStatus], selected: Option<&str>) -> Option<usize> {
    if statuses.is_empty() {
        return None;
    }
    let found = selected.and_then(|name| statuses.iter().position(|s| s.name == name));
    Some(found.unwrap_or(0))
}
