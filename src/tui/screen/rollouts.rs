//! Rollouts as a screen shows them: those under way, and for a while those that ended
//! badly.

use super::Screen;
use crate::cluster::Rollout;
use crate::plan::rollout::Phase;
use std::time::Duration;

/// How long a rollout that rolled back or failed stays on screen after it ended.
pub const LINGER: Duration = Duration::from_secs(60);

/// Notes when each rollout was first seen finished (and forgets the ones under way again).
pub fn note_finished(screen: &mut Screen) {
    let now = screen.now;
    let Screen {
        cluster,
        rollouts_done,
        ..
    } = screen;
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
pub fn shown_rollouts(screen: &Screen) -> Vec<&Rollout> {
    (screen.cluster.rollouts.iter())
        .filter(|(app, r)| match r.state.phase {
            Phase::Succeeded => false,
            ref phase if phase.is_done() => screen
                .rollouts_done
                .get(*app)
                .is_some_and(|(_, at)| screen.now.saturating_duration_since(*at) < LINGER),
            _ => true,
        })
        .map(|(_, r)| r)
        .collect()
}
