//! Rollouts as the cockpit sees them: which app is being rolled, and which hosts it is
//! changing right now (they hold an instance that is not yet on the target revision, or a
//! new one not yet healthy).

use super::{Health, HostState, Model};
use crate::plan::labels::{APP, REVISION};
use crate::store::Rollout;

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
