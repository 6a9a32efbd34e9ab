//! The pure heart: `update(&mut Screen, Msg) -> Vec<Effect>`. No IO, no clocks but the ones passed in.

mod apps;
mod charts;
mod command;
pub mod filter;
mod logs;
mod rollout;
mod trace;

pub use apps::{gate, refuse};
pub use command::{complete, parse_command};

use crate::cluster::{ClusterEvent, ClusterState, EtcdState};
use crate::metrics::Point;
use crate::ops::{Command, Outcome};
use crate::ops::{HistoryEntry, Refusal};
use crate::tui::action::Action;
use crate::tui::layout::Geometry;
use crate::tui::screen::charts::Query;
use crate::tui::screen::{Focus, LineKind, LogBatch, Screen, View};
use crate::tui::theme::Theme;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone)]
pub enum Msg {
    Action(Action),
    /// The feed's picture of the cluster, as of its latest batch of events.
    Cluster(Arc<ClusterState>),
    /// How an `Effect::Execute` ended: what happened, or the error the operator must see.
    Done(Result<Outcome, String>),
    /// The image tags the engines hold (for the rollout prompt), or why they could not say.
    Images(Result<Vec<String>, String>),
    /// An app's earlier specs, newest first (for the history list).
    History {
        app: String,
        result: Result<Vec<HistoryEntry>, String>,
    },
    /// Something outside the cluster the operator must see, e.g. a theme that failed to reload.
    Notice(String),
    /// The clock moved; ages on screen are computed against `Screen::now`.
    Tick(Instant),
    /// The terminal's size, and the layout that follows from it (measured by the loop).
    Resize(Geometry),
    /// A theme came into force (switched, or its file reloaded): the screen is drawn in
    /// its colours, and `state=` filters go by its thresholds.
    Theme(Box<Theme>),
    /// The open host's series as its agent answered them (for `Effect::ReadSeries`).
    Series {
        host: String,
        /// When they were asked for (unix ms): the agent's start is told against it.
        at_ms: i64,
        answers: Vec<(Query, Result<Vec<Point>, String>)>,
    },
    /// The session ends without a question: the key script said so, or it is over under
    /// `--exit-after-keys`.
    Leave,
    /// The wallboard's clock moved: its page turns when due; `clock` is the wall-clock text
    /// to show ("14:03:27 UTC").
    WallClock {
        now: Instant,
        clock: String,
    },
    /// Lines and news of the logs view's stream number `stream` (`Effect::StreamLogs`),
    /// batched so a flood costs few messages.
    Logs {
        stream: u64,
        batch: LogBatch,
    },
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
    /// Read these series of `host` from its agent at `base`: `Msg::Series`.
    ReadSeries {
        host: String,
        base: String,
        queries: Vec<Query>,
    },
    /// Stream the logs of `target` (a container id or an app) from `since` back (else its
    /// last `tail` lines), answering with `Msg::Logs` numbered `stream`; it replaces the
    /// stream before.
    StreamLogs {
        target: String,
        since: Option<std::time::Duration>,
        stream: u64,
        tail: usize,
    },
    /// Stop the logs stream: its view closed.
    StopLogs,
    /// Write the logs view's lines as plain text to this file (None: the XDG data dir).
    SaveLogs(Option<String>),
}

/// Applies one message. Returns the effects the loop must carry out, the audit of any
/// change it refused among them.
pub fn update(screen: &mut Screen, msg: Msg) -> Vec<Effect> {
    let mut effects = on_msg(screen, msg);
    effects.extend(logs::closed_elsewhere(screen));
    effects.extend(screen.refused.drain(..).map(Effect::AuditRefusal));
    effects
}

fn on_msg(screen: &mut Screen, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Action(action) => {
            screen.dirty = true;
            on_action(screen, action)
        }
        Msg::Cluster(cluster) => {
            screen.dirty = true;
            on_cluster(screen, cluster);
            Vec::new()
        }
        Msg::Done(result) => {
            screen.dirty = true;
            screen.in_flight = screen.in_flight.saturating_sub(1);
            screen.ui.message = Some(match result {
                Ok(outcome) => outcome.to_string(),
                Err(error) => error,
            });
            Vec::new()
        }
        Msg::Images(result) => {
            screen.dirty = true;
            rollout::on_images(screen, result);
            Vec::new()
        }
        Msg::History { app, result } => {
            screen.dirty = true;
            rollout::on_history(screen, app, result);
            Vec::new()
        }
        Msg::Tick(now) => {
            // Only the data age on screen changes; redraw once a second at most.
            if now.duration_since(screen.now).as_secs() >= 1 {
                screen.now = now;
                screen.dirty = true;
            }
            charts::due(screen, now).into_iter().collect()
        }
        Msg::Notice(text) => {
            screen.ui.message = Some(text);
            screen.dirty = true;
            Vec::new()
        }
        Msg::Resize(geometry) => {
            screen.ui.geometry = geometry;
            screen.dirty = true;
            Vec::new()
        }
        Msg::Theme(theme) => {
            screen.theme = *theme;
            screen.dirty = true;
            Vec::new()
        }
        Msg::Series {
            host,
            at_ms,
            answers,
        } => {
            charts::on_series(screen, &host, at_ms, answers);
            Vec::new()
        }
        Msg::Leave => {
            screen.quit = true;
            Vec::new()
        }
        Msg::WallClock { now, clock } => {
            if let Some(wallboard) = &mut screen.wallboard {
                let turned = wallboard.advance(now);
                screen.dirty |= wallboard.set_clock(clock) || turned;
            }
            Vec::new()
        }
        Msg::Logs { stream, batch } => {
            logs::on_batch(screen, stream, batch);
            Vec::new()
        }
    }
}

fn on_action(screen: &mut Screen, action: Action) -> Vec<Effect> {
    screen.ui.message = None;
    if screen.ui.help {
        // Help is modal: when it scrolls (small terminals) the moving keys scroll it; any
        // other key, bound or not (the loop sends Back for unbound ones), closes it.
        let scrolls = screen.ui.help_scrolls();
        let scroll = &mut screen.ui.help_scroll;
        match action {
            Action::MoveDown if scrolls => *scroll = scroll.saturating_add(1),
            Action::MoveUp if scrolls => *scroll = scroll.saturating_sub(1),
            Action::PageDown if scrolls => *scroll = scroll.saturating_add(10),
            Action::PageUp if scrolls => *scroll = scroll.saturating_sub(10),
            Action::First if scrolls => *scroll = 0,
            _ => screen.ui.help = false,
        }
        return Vec::new();
    }
    if let Err(refusal) = gate(screen, &action) {
        refuse(screen, refusal);
        return Vec::new();
    }
    if screen.ui.command.is_some() {
        return command::on_key(screen, action);
    }
    if screen.ui.dialog.is_some() {
        return apps::on_dialog(screen, action);
    }
    if screen.ui.image_prompt.is_some() {
        return rollout::on_image_prompt(screen, action);
    }
    if matches!(screen.ui.view, View::Logs(_))
        && let Some(effects) = logs::on_key(screen, &action)
    {
        return effects;
    }
    let action = if screen.ui.history.is_some() && screen.ui.view == View::Grid {
        match rollout::on_history_key(screen, action) {
            Some(action) => action,
            None => return Vec::new(),
        }
    } else {
        action
    };
    match action {
        Action::Quit => apps::quit(screen),
        Action::ToggleHelp => {
            screen.ui.help = true;
            screen.ui.help_scroll = 0;
        }
        Action::Open => match screen.ui.view {
            View::Grid if screen.ui.focus == Focus::Apps => trace::show(screen),
            View::Grid => {
                if let Some(host) = screen.selected_host() {
                    let name = host.name().to_owned();
                    screen.ui.show_host(&name);
                }
            }
            View::Trace(_) => trace::follow(screen),
            View::Host(_) | View::Logs(_) | View::Instances(_) => {}
        },
        Action::ShowTrace => trace::show(screen),
        Action::ShowInstances => charts::show_instances(screen),
        Action::OpenInstances(app) => screen.ui.show_instances(&app),
        Action::ChartWindow => charts::next_window(screen),
        Action::OpenTrace(app) => screen.ui.show_trace(&app),
        Action::ShowLogs => return logs::show(screen),
        Action::OpenLogs(target) => return logs::open(screen, &target, &target),
        Action::Back if screen.ui.view == View::Grid => {
            // Esc on the grid first clears a filter.
            if screen.ui.focus == Focus::Grid && screen.ui.filter.is_some() {
                command::set_filter(screen, "");
            }
            screen.ui.focus = Focus::Grid;
        }
        Action::Back if matches!(screen.ui.view, View::Trace(_)) => trace::back(screen),
        Action::Back if matches!(screen.ui.view, View::Instances(_)) => screen.ui.leave_instances(),
        // Esc in a host's view first clears its filter.
        Action::Back if screen.ui.container_filter.is_some() => command::set_filter(screen, ""),
        Action::Back => screen.ui.show_grid(),
        Action::FocusNext => apps::focus_next(screen),
        Action::MoveUp
        | Action::MoveDown
        | Action::MoveLeft
        | Action::MoveRight
        | Action::PageUp
        | Action::PageDown
        | Action::First
        | Action::Last => move_selection(screen, &action),
        Action::ScalePrompt | Action::ScaleUp | Action::ScaleDown => {
            apps::start_scale(screen, &action)
        }
        Action::RolloutPrompt
        | Action::PauseResume
        | Action::RollbackPrevious
        | Action::ShowHistory
        | Action::RollingRestart
        | Action::Promote
            if screen.ui.view == View::Grid =>
        {
            return rollout::on_app_key(screen, &action);
        }
        Action::RestartOne => rollout::restart_one(screen),
        Action::CommandLine => command::open(screen, LineKind::Command),
        Action::FilterPrompt => command::open(screen, LineKind::Filter),
        Action::SetFilter(text) => command::set_filter(screen, &text),
        Action::OpenHost(name) => command::open_host(screen, &name),
        Action::OpenHistory(app) => {
            screen.ui.show_grid();
            screen.ui.selected_app = Some(app);
            return rollout::on_app_key(screen, &Action::ShowHistory);
        }
        // An image named on the `:` line is checked before any y/n, like a typed one.
        Action::Run(Command::Rollout { app, image }) => {
            return rollout::check_rollout(screen, app, image);
        }
        // The y/n of a rollback says what the revision holds: read first.
        Action::Run(Command::Rollback { app, revision }) => {
            return rollout::rollback(screen, app, revision);
        }
        // The loop owns the theme and the screen.
        Action::SetTheme(name) => return vec![Effect::SwitchTheme(name)],
        Action::ExportScreen => return vec![Effect::ExportScreen(None)],
        Action::ExportTo(dir) => return vec![Effect::ExportScreen(Some(dir))],
        Action::Run(command) => apps::ask(screen, command),
        // The app keys mean nothing outside the grid view.
        Action::RolloutPrompt
        | Action::PauseResume
        | Action::RollbackPrevious
        | Action::ShowHistory
        | Action::RollingRestart
        | Action::Promote => {}
        // Only a dialog answers these, and none is open.
        Action::Confirm | Action::Cancel | Action::Erase | Action::Input(_) => {}
        // The logs view's keys (handled above while it is open).
        Action::LogsFollow
        | Action::LogsPause
        | Action::LogsSince
        | Action::LogsSince1m
        | Action::LogsSince5m
        | Action::LogsSince15m
        | Action::LogsSince1h
        | Action::LogsWrap
        | Action::LogsTimestamps
        | Action::SearchNext
        | Action::SearchPrev
        | Action::LogsSave
        | Action::SaveLogs(_) => {}
    }
    Vec::new()
}

fn move_selection(screen: &mut Screen, action: &Action) {
    match screen.ui.view.clone() {
        View::Grid if screen.ui.focus == Focus::Apps && screen.ui.filter.is_some() => {
            command::move_shown_app(screen, action)
        }
        View::Grid if screen.ui.focus == Focus::Apps => apps::move_app_selection(screen, action),
        View::Grid => {
            // Over the hosts the grid shows, so a filter moves as it draws.
            let shown = screen.grid_hosts();
            let Some(current) = screen.grid_slot(&shown) else {
                return;
            };
            let count = shown.len();
            let (columns, rows) = screen.ui.geometry.grid(count);
            let page = columns * rows;
            screen.ui.selected = shown[step(current, count, columns, page, action)];
        }
        View::Host(name) => {
            let count = screen
                .cluster
                .host(&name)
                .map_or(0, |h| screen.shown_containers(h).len());
            let page = screen.ui.geometry.host_rows;
            screen.ui.selected_row = step(screen.ui.selected_row, count, 1, page, action);
            charts::selection_moved(screen);
        }
        View::Trace(_) => trace::move_row(screen, action),
        View::Instances(_) => charts::scroll_instances(screen, action),
        View::Logs(_) => {}
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

/// Takes the feed's new picture, then keeps the screen in step with it: the selection on
/// a host that is still there, a message about an etcd outage gone once etcd answers,
/// finished rollouts noted.
fn on_cluster(screen: &mut Screen, cluster: Arc<ClusterState>) {
    let answered = matches!(cluster.etcd, EtcdState::Connected { .. })
        && !matches!(screen.cluster.etcd, EtcdState::Connected { .. });
    screen.cluster = cluster;
    let hosts = screen.cluster.hosts.len();
    screen.ui.selected = screen.ui.selected.min(hosts.saturating_sub(1));
    if let View::Host(name) = &screen.ui.view
        && screen.cluster.host(name).is_none()
    {
        screen.ui.show_grid();
    }
    if answered && (screen.ui.message.as_deref()).is_some_and(|m| m.starts_with(ETCD_UNREACHABLE)) {
        screen.ui.message = None;
    }
    crate::tui::screen::note_finished(screen);
    clamp_row(screen);
}

/// Applies one event to the screen's own copy of the picture, as a feed would, and takes
/// the result: for a screen not on a feed (tests, benches).
pub fn hear(screen: &mut Screen, event: ClusterEvent) -> Vec<Effect> {
    let mut cluster = (*screen.cluster).clone();
    let _ = cluster.apply(event, screen.now);
    update(screen, Msg::Cluster(Arc::new(cluster)))
}

fn clamp_row(screen: &mut Screen) {
    if let View::Host(name) = &screen.ui.view {
        let count = screen
            .cluster
            .host(name)
            .map_or(0, |h| screen.shown_containers(h).len());
        screen.ui.selected_row = screen.ui.selected_row.min(count.saturating_sub(1));
    }
}

/// How a message about an etcd outage begins (cleared once etcd answers).
pub(crate) const ETCD_UNREACHABLE: &str = "etcd unreachable";

#[cfg(test)]
pub(crate) mod tests;
