//! Rollouts as a screen shows them: those under way, and for a while those that ended
//! badly.

use super::Model;
use crate::cluster::Rollout;
use crate::plan::rollout::Phase;
use std::time::Duration;

/// How long a rollout that rolled back or failed stays on screen after it ended.
pub const LINGER: Duration = Duration::from_secs(60);

/// Notes when each rollout was first seen finished (and forgets the ones under way again).
pub fn note_finished(model: &mut Model) {
    let now = model.now;
    let Model {
        cluster,
        rollouts_done,
        ..
    } = model;
    let rollouts = &cluster.rollouts;
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
    (model.cluster.rollouts.iter())
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
