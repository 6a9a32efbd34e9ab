//! The trace's keys: open one (enter on an app, a key on a container, `:trace APP`), move
//! over its callers, instances and dependencies, follow a hop, go back.

use super::step;
use crate::cluster::Trace;
use crate::plan::labels;
use crate::tui::action::Action;
use crate::tui::screen::{Focus, Screen, TraceNav, View, followed, trace_rows};

/// `show_trace`: the selected app's trace from the Apps panel, the selected container's
/// app's from a host's view, the app's from its instances.
pub(super) fn show(screen: &mut Screen) {
    if matches!(screen.ui.view, View::Trace(_) | View::Logs(_)) {
        return;
    }
    match aimed_app(screen, "trace") {
        Ok(app) => screen.ui.show_trace(&app),
        Err(why) => screen.ui.message = Some(why),
    }
}

/// The app a key aims at: the Apps panel's selection, the selected container's app in a
/// host's view, in a trace the selected caller or dependency (else the traced app), the
/// app of an instances view; or why there is none.
pub(super) fn aimed_app(screen: &Screen, to: &str) -> Result<String, String> {
    match &screen.ui.view {
        View::Grid if screen.ui.focus == Focus::Apps => {
            (screen.ui.selected_app.clone()).ok_or_else(|| "no app selected".to_owned())
        }
        View::Grid => Err(format!("select an app in the Apps panel (tab) to {to}")),
        View::Host(host) => {
            let app = (screen.cluster.host(host))
                .and_then(|h| (screen.shown_containers(h).get(screen.ui.selected_row)).copied())
                .map(|c| c.labels.get(labels::APP).cloned());
            match app {
                Some(Some(app)) => Ok(app),
                Some(None) => Err("this container belongs to no app".to_owned()),
                None => Err(format!("{host} has no container selected")),
            }
        }
        View::Trace(nav) => {
            let trace = Trace::of(&screen.cluster, &nav.app);
            Ok(followed_app(&trace, nav).unwrap_or_else(|| nav.app.clone()))
        }
        View::Instances(nav) => Ok(nav.app.clone()),
        View::Logs(nav) => Err(format!("{} is not an app's view", nav.title)),
    }
}

/// Enter in a trace: follow the selected caller or dependency.
pub(super) fn follow(screen: &mut Screen) {
    let View::Trace(nav) = &screen.ui.view else {
        return;
    };
    let trace = Trace::of(&screen.cluster, &nav.app);
    let Some(next) = followed_app(&trace, nav) else {
        screen.ui.message = Some("enter follows a caller or a dependency".to_owned());
        return;
    };
    screen.ui.show_trace(&next);
}

/// The app at the far end of the selected caller or dependency.
pub(super) fn followed_app(trace: &Trace, nav: &TraceNav) -> Option<String> {
    let hop = followed(trace, nav.row)?;
    Some(if hop.callee == nav.app {
        hop.caller.clone()
    } else {
        hop.callee.clone()
    })
}

/// Esc in a trace: one step back along the breadcrumb, or out to where it was opened.
pub(super) fn back(screen: &mut Screen) {
    let View::Trace(nav) = &mut screen.ui.view else {
        return;
    };
    if !nav.back() {
        screen.ui.view = nav.from.clone();
    }
}

/// The moving keys over the trace's one list (callers, instances, dependencies); left and
/// right jump to the first row of the list before or after.
pub(super) fn move_row(screen: &mut Screen, action: &Action) {
    let View::Trace(nav) = &mut screen.ui.view else {
        return;
    };
    let trace = Trace::of(&screen.cluster, &nav.app);
    let counts = trace_rows(&trace);
    let total: usize = counts.iter().sum();
    // Where each non-empty list starts.
    let starts: Vec<usize> = (0..3)
        .filter(|&i| counts[i] > 0)
        .map(|i| counts[..i].iter().sum())
        .collect();
    let row = nav.row.min(total.saturating_sub(1));
    let current = (starts.iter().rev())
        .find(|&&s| s <= row)
        .copied()
        .unwrap_or(0);
    nav.row = match action {
        Action::MoveLeft => (starts.iter().rev())
            .find(|&&s| s < current)
            .copied()
            .unwrap_or(row),
        Action::MoveRight => starts.iter().find(|&&s| s > row).copied().unwrap_or(row),
        _ => step(row, total, 1, screen.ui.geometry.host_rows, action),
    };
}

#[cfg(test)]
#[path = "trace_tests.rs"]
mod tests;
