//! The pure heart: `update(&mut Model, Msg) -> Vec<Effect>`. No IO, no clocks but the ones passed in.

mod apps;
mod command;
pub mod filter;
mod rollout;

pub use apps::{gate, refuse};
pub use command::{complete, parse_command};

use crate::cluster::{
    AppEvent, Change, ClusterEvent, DataEvent, EtcdEvent, HostEvent, PlacementEvent, RestartEvent,
    RolloutEvent,
};
use crate::domain::Thresholds;
use crate::ops::{Command, Outcome};
use crate::ops::{HistoryEntry, Refusal};
use crate::tui::action::Action;
use crate::tui::layout::Geometry;
use crate::tui::model::{Focus, LineKind, Model, View};
use std::time::Instant;

#[derive(Debug, Clone)]
pub enum Msg {
    Action(Action),
    Data(DataEvent),
    Store(HostEvent),
    /// The app watcher's news: specs and their revisions.
    Apps(AppEvent),
    /// How an `Effect::Execute` ended: what happened, or the error the operator must see.
    Done(Result<Outcome, String>),
    /// The image tags the engines hold (for the rollout prompt), or why they could not say.
    Images(Result<Vec<String>, String>),
    /// An app's earlier specs, newest first (for the history list).
    History {
        app: String,
        result: Result<Vec<HistoryEntry>, String>,
    },
    /// The rollout watcher's news: progress records as etcd holds them.
    Rollouts(RolloutEvent),
    /// Why the controller cannot place every instance of an app (`/placement/<app>`).
    Placement(PlacementEvent),
    /// Containers an operator is restarting (`/restarts/`).
    Restarts(RestartEvent),
    /// Whether etcd answers (the feed's one word on it).
    Etcd(EtcdEvent),
    /// Something outside the cluster the operator must see, e.g. a theme that failed to reload.
    Notice(String),
    /// The clock moved; ages on screen are computed against `Model::now`.
    Tick(Instant),
    /// The terminal's size, and the layout that follows from it (measured by the loop).
    Resize(Geometry),
    /// A theme came into force (switched, or its file reloaded): `state=` filters go by its
    /// thresholds, and the screen is drawn again in its colours.
    Theme(Thresholds),
    /// The wallboard's clock moved: its page turns when due; `clock` is the wall-clock text
    /// to show ("14:03:27 UTC").
    WallClock {
        now: Instant,
        clock: String,
    },
}

impl From<ClusterEvent> for Msg {
    fn from(event: ClusterEvent) -> Msg {
        match event {
            ClusterEvent::Engine(e) => Msg::Data(e),
            ClusterEvent::Hosts(e) => Msg::Store(e),
            ClusterEvent::Apps(e) => Msg::Apps(e),
            ClusterEvent::Rollouts(e) => Msg::Rollouts(e),
            ClusterEvent::Placement(e) => Msg::Placement(e),
            ClusterEvent::Restarts(e) => Msg::Restarts(e),
            ClusterEvent::Etcd(e) => Msg::Etcd(e),
        }
    }
}

/// What the loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Carry out a confirmed command (`ops::execute`) and answer with `Msg::Done`.
    Execute(Command),
    /// Ask the engines which image tags they hold (for the rollout prompt): `Msg::Images`.
    ReadImages,
    /// Read an app's earlier specs (for the history list): `Msg::History`.
    ReadHistory(String),
    /// Load this theme (a name or a file) and draw with it.
    SwitchTheme(String),
    /// Write the screen as text, SVG and PNG into this directory (None: the XDG data dir).
    ExportScreen(Option<String>),
    /// Record in the audit trail that this change was refused, and why.
    AuditRefusal(Refusal),
}

/// Applies one message. Returns the effects the loop must carry out, the audit of any
/// change it refused among them.
pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
    let mut effects = on_msg(model, msg);
    effects.extend(model.refused.drain(..).map(Effect::AuditRefusal));
    effects
}

fn on_msg(model: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Action(action) => {
            model.dirty = true;
            on_action(model, action)
        }
        Msg::Data(event) => {
            model.dirty = true;
            on_cluster(model, ClusterEvent::Engine(event));
            Vec::new()
        }
        Msg::Store(event) => {
            model.dirty = true;
            on_cluster(model, ClusterEvent::Hosts(event));
            Vec::new()
        }
        Msg::Apps(event) => {
            model.dirty = true;
            on_cluster(model, ClusterEvent::Apps(event));
            Vec::new()
        }
        Msg::Done(result) => {
            model.dirty = true;
            model.in_flight = model.in_flight.saturating_sub(1);
            model.ui.message = Some(match result {
                Ok(outcome) => outcome.to_string(),
                Err(error) => error,
            });
            Vec::new()
        }
        Msg::Images(result) => {
            model.dirty = true;
            rollout::on_images(model, result);
            Vec::new()
        }
        Msg::History { app, result } => {
            model.dirty = true;
            rollout::on_history(model, app, result);
            Vec::new()
        }
        Msg::Rollouts(event) => {
            model.dirty = true;
            on_cluster(model, ClusterEvent::Rollouts(event));
            crate::tui::model::note_finished(model);
            Vec::new()
        }
        Msg::Placement(event) => {
            model.dirty = true;
            on_cluster(model, ClusterEvent::Placement(event));
            Vec::new()
        }
        Msg::Restarts(event) => {
            on_cluster(model, ClusterEvent::Restarts(event));
            Vec::new()
        }
        Msg::Etcd(event) => {
            model.dirty = true;
            on_cluster(model, ClusterEvent::Etcd(event));
            Vec::new()
        }
        Msg::Tick(now) => {
            // Only the data age on screen changes; redraw once a second at most.
            if now.duration_since(model.now).as_secs() >= 1 {
                model.now = now;
                model.dirty = true;
            }
            Vec::new()
        }
        Msg::Notice(text) => {
            model.ui.message = Some(text);
            model.dirty = true;
            Vec::new()
        }
        Msg::Resize(geometry) => {
            model.ui.geometry = geometry;
            model.dirty = true;
            Vec::new()
        }
        Msg::Theme(thresholds) => {
            model.thresholds = thresholds;
            model.dirty = true;
            Vec::new()
        }
        Msg::WallClock { now, clock } => {
            if let Some(wallboard) = &mut model.wallboard {
                let turned = wallboard.advance(now);
                model.dirty |= wallboard.set_clock(clock) || turned;
            }
            Vec::new()
        }
    }
}

fn on_action(model: &mut Model, action: Action) -> Vec<Effect> {
    model.ui.message = None;
    if model.ui.help {
        // Help is modal: when it scrolls (small terminals) the moving keys scroll it; any
        // other key, bound or not (the loop sends Back for unbound ones), closes it.
        let scrolls = model.ui.help_scrolls();
        let scroll = &mut model.ui.help_scroll;
        match action {
            Action::MoveDown if scrolls => *scroll = scroll.saturating_add(1),
            Action::MoveUp if scrolls => *scroll = scroll.saturating_sub(1),
            Action::PageDown if scrolls => *scroll = scroll.saturating_add(10),
            Action::PageUp if scrolls => *scroll = scroll.saturating_sub(10),
            Action::First if scrolls => *scroll = 0,
            _ => model.ui.help = false,
        }
        return Vec::new();
    }
    if let Err(refusal) = gate(model, &action) {
        refuse(model, refusal);
        return Vec::new();
    }
    if model.ui.command.is_some() {
        return command::on_key(model, action);
    }
    if model.ui.dialog.is_some() {
        return apps::on_dialog(model, action);
    }
    if model.ui.image_prompt.is_some() {
        return rollout::on_image_prompt(model, action);
    }
    let action = if model.ui.history.is_some() && model.ui.view == View::Grid {
        match rollout::on_history_key(model, action) {
            Some(action) => action,
            None => return Vec::new(),
        }
    } else {
        action
    };
    match action {
        Action::Quit => apps::quit(model),
        Action::ToggleHelp => {
            model.ui.help = true;
            model.ui.help_scroll = 0;
        }
        Action::Open => {
            if let View::Grid = model.ui.view
                && model.ui.focus == Focus::Grid
                && let Some(host) = model.selected_host()
            {
                let name = host.name().to_owned();
                model.ui.show_host(&name);
            }
        }
        Action::Back if model.ui.view == View::Grid => {
            // Esc on the grid first clears a filter.
            if model.ui.focus == Focus::Grid && model.ui.filter.is_some() {
                command::set_filter(model, "");
            }
            model.ui.focus = Focus::Grid;
        }
        // Esc in a host's view first clears its filter.
        Action::Back if model.ui.container_filter.is_some() => command::set_filter(model, ""),
        Action::Back => model.ui.show_grid(),
        Action::FocusNext => apps::focus_next(model),
        Action::MoveUp
        | Action::MoveDown
        | Action::MoveLeft
        | Action::MoveRight
        | Action::PageUp
        | Action::PageDown
        | Action::First
        | Action::Last => move_selection(model, &action),
        Action::ScalePrompt | Action::ScaleUp | Action::ScaleDown => {
            apps::start_scale(model, &action)
        }
        Action::RolloutPrompt
        | Action::PauseResume
        | Action::RollbackPrevious
        | Action::ShowHistory
        | Action::RollingRestart
        | Action::Promote
            if model.ui.view == View::Grid =>
        {
            return rollout::on_app_key(model, &action);
        }
        Action::RestartOne => rollout::restart_one(model),
        Action::CommandLine => command::open(model, LineKind::Command),
        Action::FilterPrompt => command::open(model, LineKind::Filter),
        Action::SetFilter(text) => command::set_filter(model, &text),
        Action::OpenHost(name) => command::open_host(model, &name),
        Action::OpenHistory(app) => {
            model.ui.show_grid();
            model.ui.selected_app = Some(app);
            return rollout::on_app_key(model, &Action::ShowHistory);
        }
        // An image named on the `:` line is checked before any y/n, like a typed one.
        Action::Run(Command::Rollout { app, image }) => {
            return rollout::check_rollout(model, app, image);
        }
        // The y/n of a rollback says what the revision holds: read first.
        Action::Run(Command::Rollback { app, revision }) => {
            return rollout::rollback(model, app, revision);
        }
        // The loop owns the theme and the screen.
        Action::SetTheme(name) => return vec![Effect::SwitchTheme(name)],
        Action::ExportScreen => return vec![Effect::ExportScreen(None)],
        Action::ExportTo(dir) => return vec![Effect::ExportScreen(Some(dir))],
        Action::Run(command) => apps::ask(model, command),
        // The app keys mean nothing outside the grid view.
        Action::RolloutPrompt
        | Action::PauseResume
        | Action::RollbackPrevious
        | Action::ShowHistory
        | Action::RollingRestart
        | Action::Promote => {}
        // Only a dialog answers these, and none is open.
        Action::Confirm | Action::Cancel | Action::Erase | Action::Input(_) => {}
    }
    Vec::new()
}

fn move_selection(model: &mut Model, action: &Action) {
    match model.ui.view.clone() {
        View::Grid if model.ui.focus == Focus::Apps && model.ui.filter.is_some() => {
            command::move_shown_app(model, action)
        }
        View::Grid if model.ui.focus == Focus::Apps => apps::move_app_selection(model, action),
        View::Grid => {
            // Over the hosts the grid shows, so a filter moves as it draws.
            let shown = model.grid_hosts();
            let Some(current) = model.grid_slot(&shown) else {
                return;
            };
            let count = shown.len();
            let (columns, rows) = model.ui.geometry.grid(count);
            let page = columns * rows;
            model.ui.selected = shown[step(current, count, columns, page, action)];
        }
        View::Host(name) => {
            let count = model
                .cluster
                .host(&name)
                .map_or(0, |h| model.shown_containers(h).len());
            let page = model.ui.geometry.host_rows;
            model.ui.selected_row = step(model.ui.selected_row, count, 1, page, action);
        }
    }
}

/// Moves an index in a row-major list of `count` items laid out `columns` wide.
fn step(current: usize, count: usize, columns: usize, page: usize, action: &Action) -> usize {
    if count == 0 {
        return 0;
    }
    let last = count - 1;
    let current = current.min(last);
    let columns = columns.max(1);
    match action {
        Action::MoveLeft => current.saturating_sub(1),
        Action::MoveRight => (current + 1).min(last),
        Action::MoveUp => current.checked_sub(columns).unwrap_or(current),
        Action::MoveDown if current + columns <= last => current + columns,
        Action::MoveDown => current,
        Action::PageUp => current.saturating_sub(page.max(1)),
        Action::PageDown => (current + page.max(1)).min(last),
        Action::First => 0,
        Action::Last => last,
        _ => current,
    }
}

/// Applies a cluster event to the screen's picture, then keeps the screen in step: the
/// selection on a host that is still there, a message about an etcd outage gone once
/// etcd answers.
fn on_cluster(model: &mut Model, event: ClusterEvent) {
    let relisted = matches!(event, ClusterEvent::Engine(DataEvent::Containers { .. }));
    // The feed runs the supervisors: a screen only follows hosts in and out.
    for change in model.cluster.apply(event, model.now) {
        match change {
            Change::Supervise(_) => {}
            Change::Unsupervise(name) => {
                let hosts = model.cluster.hosts.len();
                model.ui.selected = model.ui.selected.min(hosts.saturating_sub(1));
                if model.ui.view == View::Host(name) {
                    model.ui.show_grid();
                }
            }
            Change::EtcdAnswered => {
                if (model.ui.message.as_deref()).is_some_and(|m| m.starts_with(ETCD_UNREACHABLE)) {
                    model.ui.message = None;
                }
            }
        }
    }
    if relisted {
        clamp_row(model);
    }
}

fn clamp_row(model: &mut Model) {
    if let View::Host(name) = &model.ui.view {
        let count = model
            .cluster
            .host(name)
            .map_or(0, |h| model.shown_containers(h).len());
        model.ui.selected_row = model.ui.selected_row.min(count.saturating_sub(1));
    }
}

/// How a message about an etcd outage begins (cleared once etcd answers).
pub(crate) const ETCD_UNREACHABLE: &str = "etcd unreachable";

#[cfg(test)]
pub(crate) mod tests;
