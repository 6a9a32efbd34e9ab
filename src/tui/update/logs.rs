//! The logs view's keys: open it (`l` on a container, an app or a trace node, `:logs
//! NAME`), take the stream's batches, move (moving up stops following, the end follows
//! again), pause, since (a new stream), wrap, timestamps, search, save; esc goes back.

use super::{Effect, step};
use crate::cluster::Trace;
use crate::tui::action::Action;
use crate::tui::screen::{
    Focus, LogBatch, LogsNav, LogsPane, SINCE_STEPS, Screen, TraceRow, View, trace_row,
};
use std::time::Duration;

/// Opens the logs of `target` (a container id or an app), titled `title`; from a logs
/// view, in its place (esc still returns to where the first was opened).
pub(super) fn open(screen: &mut Screen, target: &str, title: &str) -> Vec<Effect> {
    let from = match std::mem::replace(&mut screen.ui.view, View::Grid) {
        View::Logs(nav) => nav.from,
        other => other,
    };
    screen.ui.view = View::Logs(Box::new(LogsNav::new(target, title, from)));
    screen.logs = None;
    restart(screen, None)
}

/// A fresh stream for the view on screen, reading from `since` back; the settings stay,
/// the lines of the last stream go.
fn restart(screen: &mut Screen, since: Option<Duration>) -> Vec<Effect> {
    let View::Logs(nav) = &screen.ui.view else {
        return Vec::new();
    };
    screen.log_streams += 1;
    let mut pane = LogsPane::new(screen.log_lines, screen.log_streams);
    if let Some(old) = screen.logs.take() {
        pane.wrap = old.wrap;
        pane.timestamps = old.timestamps;
        pane.search = old.search;
    }
    pane.since = since;
    screen.logs = Some(Box::new(pane));
    vec![Effect::StreamLogs {
        target: nav.target.clone(),
        since,
        stream: screen.log_streams,
        tail: screen.log_lines,
    }]
}

/// `show_logs`: the selected container's (host view, a trace's instance), the selected
/// app's (Apps panel, a trace's caller or dependency).
pub(super) fn show(screen: &mut Screen) -> Vec<Effect> {
    let chosen: Result<(String, String), String> = match &screen.ui.view {
        View::Grid if screen.ui.focus == Focus::Apps => match screen.ui.selected_app.clone() {
            Some(app) => Ok((app.clone(), app)),
            None => Err("no app selected".to_owned()),
        },
        View::Grid => Err("logs: open a host (enter) or pick an app (tab)".to_owned()),
        View::Host(host) => (screen.cluster.host(host))
            .and_then(|h| (screen.shown_containers(h).get(screen.ui.selected_row)).copied())
            .map(|c| (c.id.clone(), c.name.clone()))
            .ok_or_else(|| format!("{host} has no container selected")),
        View::Trace(nav) => {
            let trace = Trace::of(&screen.cluster, &nav.app);
            match trace_row(&trace, nav.row) {
                Some(TraceRow::Instance(i)) => (trace.instances.get(i))
                    .map(|n| (n.id.clone(), n.container.clone()))
                    .ok_or_else(|| "no instance selected".to_owned()),
                Some(_) => super::trace::followed_app(&trace, nav)
                    .map(|app| (app.clone(), app))
                    .ok_or_else(|| "no app selected".to_owned()),
                None => Err("nothing selected".to_owned()),
            }
        }
        View::Instances(nav) => Ok((nav.app.clone(), nav.app.clone())),
        View::Logs(_) => return Vec::new(),
    };
    match chosen {
        Ok((target, title)) => open(screen, &target, &title),
        Err(why) => {
            screen.ui.message = Some(why);
            Vec::new()
        }
    }
}

/// Lines and news from the stream: kept, shown unless paused or scrolled away.
pub(super) fn on_batch(screen: &mut Screen, stream: u64, batch: LogBatch) {
    let Some(pane) = screen.logs.as_mut().filter(|p| p.stream == stream) else {
        return;
    };
    pane.buffer.extend(batch.lines);
    let first = pane.first();
    if let Some(top) = &mut pane.top {
        *top = (*top).max(first);
    }
    if let Some(note) = batch.notes.into_iter().last() {
        pane.note = Some(note);
    }
    if batch.ended.is_some() {
        pane.ended = batch.ended;
    }
    screen.dirty = true;
}

/// A key in the logs view; None for keys it leaves to the rest of the screen.
pub(super) fn on_key(screen: &mut Screen, action: &Action) -> Option<Vec<Effect>> {
    let rows = screen.ui.geometry.logs_rows.max(1);
    let pane = screen.logs.as_mut()?;
    let since_step = |i: usize| SINCE_STEPS.get(i).copied();
    match action {
        Action::Back => {
            if let View::Logs(nav) = &screen.ui.view {
                screen.ui.view = nav.from.clone();
            }
            screen.logs = None;
            return Some(vec![Effect::StopLogs]);
        }
        Action::MoveUp | Action::MoveDown | Action::PageUp | Action::PageDown | Action::First => {
            let end = pane.shown_end();
            let first = pane.first();
            let count = usize::try_from(end - first).unwrap_or(usize::MAX);
            let last_top = count.saturating_sub(rows);
            let top = pane.top.map_or(last_top, |t| {
                usize::try_from(t - first).unwrap_or(usize::MAX)
            });
            let moved = step(top, last_top + 1, 1, rows, action);
            // Back at the end: following again.
            pane.top = (moved < last_top).then_some(first + moved as u64);
        }
        Action::Last => pane.top = None,
        Action::LogsFollow => {
            pane.top = match pane.top {
                Some(_) => None,
                None => Some(
                    pane.shown_end()
                        .saturating_sub(rows as u64)
                        .max(pane.first()),
                ),
            }
        }
        Action::LogsPause => {
            pane.paused_at = match pane.paused_at {
                Some(_) => None,
                None => Some(pane.end()),
            }
        }
        Action::LogsWrap => pane.wrap = !pane.wrap,
        Action::LogsTimestamps => pane.timestamps = !pane.timestamps,
        Action::SearchNext | Action::SearchPrev => {
            search(screen, *action == Action::SearchNext);
        }
        Action::LogsSince => {
            let at = pane
                .since
                .and_then(|s| SINCE_STEPS.iter().position(|&d| d == s));
            let next = match at {
                None => since_step(0),
                Some(i) => since_step(i + 1),
            };
            return Some(restart(screen, next));
        }
        Action::LogsSince1m => return Some(restart(screen, since_step(0))),
        Action::LogsSince5m => return Some(restart(screen, since_step(1))),
        Action::LogsSince15m => return Some(restart(screen, since_step(2))),
        Action::LogsSince1h => return Some(restart(screen, since_step(3))),
        Action::LogsSave => return Some(vec![Effect::SaveLogs(None)]),
        Action::SaveLogs(path) => return Some(vec![Effect::SaveLogs(Some(path.clone()))]),
        _ => return None,
    }
    Some(Vec::new())
}

/// `/` in the logs view: matches are highlighted and the newest one comes into view.
pub(super) fn set_search(screen: &mut Screen, text: &str) {
    let Some(pane) = screen.logs.as_mut() else {
        return;
    };
    pane.search = text.to_owned();
    pane.found = None;
    if !text.is_empty() {
        search(screen, false);
    }
}

/// n (down) or N (up) from the last match, else from the bottom of the view: the next
/// line that matches comes to the top of the view.
fn search(screen: &mut Screen, down: bool) {
    let Some(pane) = screen.logs.as_mut() else {
        return;
    };
    if pane.search.is_empty() {
        screen.ui.message = Some("no search: / to search".to_owned());
        return;
    }
    let (first, end) = (pane.first(), pane.shown_end());
    let from = pane.found.filter(|&f| f >= first && f < end);
    let hit = if down {
        let start = from.map_or(pane.top.unwrap_or(end), |f| f + 1);
        (start..end).find(|&n| pane.line(n).is_some_and(|l| pane.matches(&l.text)))
    } else {
        let stop = from.unwrap_or(end);
        (first..stop)
            .rev()
            .find(|&n| pane.line(n).is_some_and(|l| pane.matches(&l.text)))
    };
    match hit {
        Some(n) => {
            pane.found = Some(n);
            pane.top = Some(n);
        }
        None => {
            let way = if down { "below" } else { "above" };
            screen.ui.message = Some(format!("no match for {:?} {way}", pane.search));
        }
    }
}

/// The logs view's stream must not outlive it: whatever closed the view (`:host`, a
/// trace), the lines go and the loop is asked to stop the stream.
pub(super) fn closed_elsewhere(screen: &mut Screen) -> Option<Effect> {
    if screen.logs.is_some() && !matches!(screen.ui.view, View::Logs(_)) {
        screen.logs = None;
        return Some(Effect::StopLogs);
    }
    None
}

#[cfg(test)]
#[path = "logs_tests.rs"]
mod tests;
