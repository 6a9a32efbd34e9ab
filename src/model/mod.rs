//! Plain data: hosts, containers and the cluster `Model` owned by the event loop.

mod apps;
mod rollouts;
mod ui;
pub mod wallboard;

pub use apps::{AppRecord, AppStatus, app_statuses, selected_index};

pub use rollouts::{LINGER, active_rollout, changing_hosts, note_finished, shown_rollouts};
pub use ui::{
    CommandLine, Dialog, EtcdState, Focus, HistoryEntry, HistoryList, ImagePrompt, LineKind, Ui,
    View,
};

use crate::cluster::{Host, HostState};
use crate::domain::Container;
use crate::domain::Thresholds;
use crate::store::Rollout;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// Everything the cockpit knows. Only the loop that owns it changes it (through `update`).
#[derive(Debug, Clone)]
pub struct Model {
    /// Hosts sorted by name; `index` maps a name to its position.
    pub hosts: Vec<Host>,
    index: HashMap<String, usize>,
    /// App specs from etcd, by name.
    pub apps: BTreeMap<String, AppRecord>,
    /// Rollout progress from etcd, by app (finished ones too, until the next begins).
    pub rollouts: BTreeMap<String, Rollout>,
    /// When this screen first saw each app's rollout finished (shown for `LINGER` after),
    /// with the rollout's start (`started_ms`) to tell one rollout from the next.
    pub rollouts_done: BTreeMap<String, (u64, Instant)>,
    /// App records that cannot be read, by app, with why (the app keeps its last good
    /// spec in `apps`, if one was read).
    pub broken_apps: BTreeMap<String, String>,
    /// Host records that cannot be read, by host, with why (the host is kept as it was).
    pub broken_hosts: BTreeMap<String, String>,
    /// Rollout records (or their commands) that cannot be read, by app, with why.
    pub broken_rollouts: BTreeMap<String, String>,
    /// Why the controller cannot place every instance of an app (`/placement/<app>`).
    pub unplaced: BTreeMap<String, crate::sched::Unplaceable>,
    pub etcd: EtcdState,
    /// Refuse every mutating action (wallboard, `--readonly`).
    pub readonly: bool,
    /// The most instances a scale may ask for (the config's `max_instances`).
    pub max_instances: u32,
    /// Where hosts turn warn and critical (the theme's), for `state=` filters.
    pub thresholds: Thresholds,
    pub ui: Ui,
    /// The clock as of the last tick; drawing computes ages against it.
    pub now: Instant,
    /// When any engine last sent data.
    pub last_data: Option<Instant>,
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
}

/// A change refused on a screen, as the audit trail records it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Refusal {
    /// "scale", "rollout", ... or the key's action name ("scale_up").
    pub verb: String,
    /// The app (or host) it was aimed at, "-" when none was selected.
    pub target: String,
    /// What the operator was told.
    pub reason: String,
}

impl Model {
    pub fn new(now: Instant) -> Self {
        Model {
            hosts: Vec::new(),
            index: HashMap::new(),
            apps: BTreeMap::new(),
            rollouts: BTreeMap::new(),
            rollouts_done: BTreeMap::new(),
            broken_apps: BTreeMap::new(),
            broken_hosts: BTreeMap::new(),
            broken_rollouts: BTreeMap::new(),
            unplaced: BTreeMap::new(),
            etcd: EtcdState::Connecting,
            readonly: false,
            max_instances: crate::domain::app::DEFAULT_MAX_INSTANCES,
            thresholds: Thresholds {
                warn: 70.0,
                critical: 90.0,
            },
            ui: Ui::default(),
            now,
            last_data: None,
            dirty: true,
            quit: false,
            in_flight: 0,
            wallboard: None,
            low_bandwidth: false,
            refused: Vec::new(),
        }
    }

    /// A model holding these hosts (sorted by name), for tests, benches and the initial inventory.
    pub fn with_hosts(now: Instant, hosts: Vec<Host>) -> Self {
        let mut model = Model::new(now);
        model.hosts = hosts;
        model.hosts.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        // A name listed twice keeps its last entry, as repeated upserts would.
        model.hosts.reverse();
        model.hosts.dedup_by(|a, b| a.spec.name == b.spec.name);
        model.hosts.reverse();
        model.reindex();
        model
    }

    pub fn host(&self, name: &str) -> Option<&Host> {
        self.index.get(name).map(|&i| &self.hosts[i])
    }

    /// A host's position in `hosts` (and in the grid).
    pub fn host_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub fn host_mut(&mut self, name: &str) -> Option<&mut Host> {
        self.index.get(name).map(|&i| &mut self.hosts[i])
    }

    /// Inserts a host or replaces the one with the same name, keeping name order.
    pub fn upsert_host(&mut self, host: Host) {
        if let Some(existing) = self.host_mut(&host.spec.name) {
            *existing = host;
            return;
        }
        let pos = self.hosts.partition_point(|h| h.spec.name < host.spec.name);
        self.hosts.insert(pos, host);
        self.reindex();
    }

    pub fn remove_host(&mut self, name: &str) -> Option<Host> {
        let i = *self.index.get(name)?;
        let host = self.hosts.remove(i);
        self.reindex();
        Some(host)
    }

    fn reindex(&mut self) {
        self.index = self
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (h.spec.name.clone(), i))
            .collect();
    }

    pub fn online_count(&self) -> usize {
        self.hosts
            .iter()
            .filter(|h| h.state == HostState::Online)
            .count()
    }

    pub fn container_count(&self) -> usize {
        self.hosts.iter().map(|h| h.containers.len()).sum()
    }

    /// The selected grid cell's host (one the filter lets through).
    pub fn selected_host(&self) -> Option<&Host> {
        if self.ui.filter.is_none() {
            return self.hosts.get(self.ui.selected);
        }
        let shown = self.grid_hosts();
        let slot = self.grid_slot(&shown)?;
        self.hosts.get(shown[slot])
    }

    /// Indices into `hosts` of the hosts the grid shows, in order: those the filter lets
    /// through. Drawing and moving both use this, so they agree.
    pub fn grid_hosts(&self) -> Vec<usize> {
        match &self.ui.filter {
            None => (0..self.hosts.len()).collect(),
            Some(f) => (self.hosts.iter().enumerate())
                .filter(|(_, h)| f.matches_host(h, self.thresholds))
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
