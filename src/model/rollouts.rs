//! Rollouts as the cockpit sees them: which app is being rolled, and which hosts it is
//! changing right now (they hold an instance that is not yet on the target revision, or a
//! new one not yet healthy).

use super::Model;
use crate::cluster::HostState;
use crate::domain::Health;
use crate::plan::labels::{APP, REVISION};
use crate::plan::rollout::Phase;
use crate::store::Rollout;
use std::time::Duration;

/// How long a rollout that rolled back or failed stays on screen after it ended.
pub const LINGER: Duration = Duration::from_secs(60);

/// Notes when each rollout was first seen finished (and forgets the ones under way again).
pub fn note_finished(model: &mut Model) {
    let now = model.now;
    let Model {
        rollouts,
        rollouts_done,
        ..
    } = model;
    // Keyed by when the rollout started too, so a later one ending is news of its own.
    rollouts_done.retain(|app, (started, _)| {
        (rollouts.get(app))
            .is_some_and(|r| r.state.phase.is_done() && r.state.started_ms == *started)
    });
    for (app, rollout) in rollouts.iter() {
        if rollout.state.phase.is_done() {
            let started = rollout.state.started_ms;
            rollouts_done.entry(app.clone()).or_insert((started, now));
        }
    }
}

/// The rollouts the screen shows: those under way, and for `LINGER` after they ended
/// those that rolled back or failed (their reason matters); a succeeded one needs no bar.
pub fn shown_rollouts(model: &Model) -> Vec<&Rollout> {
    (model.rollouts.iter())
        .filter(|(app, r)| match r.state.phase {
            Phase::Succeeded => false,
            ref phase if phase.is_done() => model
                .rollouts_done
                .get(*app)
                .is_some_and(|(_, at)| model.now.saturating_duration_since(*at) < LINGER),
            _ => true,
        })
        .map(|(_, r)| r)
        .collect()
}

/// The app's rollout if one is under way (not succeeded, rolled back or failed).
pub fn active_rollout<'m>(model: &'m Model, app: &str) -> Option<&'m Rollout> {
    model.rollouts.get(app).filter(|r| !r.state.phase.is_done())
}

/// Hosts (by name, sorted) holding an instance that an active rollout still has to deal
/// with: one not on the revision being moved to, or one on it that is not yet healthy.
pub fn changing_hosts(model: &Model) -> Vec<String> {
    let mut hosts = Vec::new();
    for host in model.hosts.iter().filter(|h| h.state == HostState::Online) {
        let changing = host.containers.iter().any(|c| {
            let Some(rollout) = c.labels.get(APP).and_then(|app| active_rollout(model, app)) else {
                return false;
            };
            let on_target = c.labels.get(REVISION).and_then(|r| r.parse::<i64>().ok())
                == Some(rollout.state.target_revision());
            !on_target || !matches!(c.health, Health::Healthy | Health::None) || !c.is_running()
        });
        if changing {
            hosts.push(host.name().to_owned());
        }
    }
    hosts
}
