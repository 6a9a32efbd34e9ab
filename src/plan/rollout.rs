//! Rolling an app from one revision to another: a pure state machine.
//!
//! The controller's leader keeps one [`RolloutState`] per rolling app at
//! `<prefix>/rollouts/<app>`. Each tick it reads the app's instances from the engines
//! ([`Observed`], built with [`Observation::from_instance`]), calls [`step`] with the time,
//! **writes the returned state, then runs the returned [`RolloutStep`]s** (in that order: a
//! leader killed between the two leaves a state that already counts its stops as stopping,
//! and [`RolloutState::take_over`] lets the next leader re-issue what may not have run).
//! Operator commands go through [`command`].
//!
//! Revisions are the `wheelhouse.revision` label values ([`super::labels::revision`]); a
//! rolling restart is a rollout to a fresh revision id with the same spec.
//!
//! Guarantees, whatever is observed: the machine never stops an instance that would bring
//! the available ones below `desired - max_unavailable`, and never starts one that would
//! bring the total (old and new, running, starting or being stopped, plus starts not yet
//! seen) above `desired + max_surge`. An instance is available once it has been healthy
//! for `min_ready`; timings are tracked inside the state, so no clock is read here.

mod machine;

use super::actual::{Instance, RunState};
use crate::domain::Health;
use crate::domain::app::{AppSpec, UpdatePolicy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "name")]
pub enum Phase {
    /// Replacing instances of the old revision with the new one.
    Progressing,
    /// The canary instances are up; nothing more changes until a `Promote`.
    Canary,
    /// Nothing starts or stops until a `Resume` (or a `Rollback`).
    Paused { reason: String },
    /// Replacing new instances with the revision the rollout started from.
    RollingBack { reason: String },
    /// Every instance runs the new revision and is available.
    Succeeded,
    /// Every instance runs the old revision again.
    RolledBack { reason: String },
    /// Given up; instances are left as they are.
    Failed { reason: String },
}

impl Phase {
    /// Succeeded, rolled back or failed: nothing more will happen.
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            Phase::Succeeded | Phase::RolledBack { .. } | Phase::Failed { .. }
        )
    }

    /// The word shown in the cockpit and by `ctl status`.
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Progressing => "progressing",
            Phase::Canary => "canary",
            Phase::Paused { .. } => "paused",
            Phase::RollingBack { .. } => "rolling back",
            Phase::Succeeded => "succeeded",
            Phase::RolledBack { .. } => "rolled back",
            Phase::Failed { .. } => "failed",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Phase::Paused { reason }
            | Phase::RollingBack { reason }
            | Phase::RolledBack { reason }
            | Phase::Failed { reason } => Some(reason),
            _ => None,
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason() {
            Some(reason) => write!(f, "{}: {reason}", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

/// What an instance looks like from the engine this tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Running, health check not yet passed.
    Starting,
    /// Running and healthy (or running with no health check).
    Healthy,
    /// Running but failing its check, restarting, or paused.
    Unhealthy,
    /// Exited, dead, crash-looping or being removed: holds nothing and will not serve.
    Exited,
}

impl Condition {
    /// Whether the instance occupies a slot (counts toward the total).
    pub fn is_live(self) -> bool {
        self != Condition::Exited
    }
}

/// One managed container of the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub instance: u32,
    pub container: String,
    /// The `wheelhouse.revision` label.
    pub revision: i64,
    pub condition: Condition,
    /// An operator asked the engine to restart it (`R`): its exit is no failure, and its
    /// health deadline starts again once it is back.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restarting: bool,
}

impl Observation {
    /// Reads a planner instance: Docker's health (or the HTTP probe laid over it) decides
    /// between starting, healthy and unhealthy; an instance without a check is healthy
    /// while it runs.
    pub fn from_instance(inst: &Instance) -> Observation {
        let condition = match inst.state {
            _ if inst.crash_looping => Condition::Exited,
            RunState::Failed | RunState::Removing => Condition::Exited,
            RunState::Restarting | RunState::Paused => Condition::Unhealthy,
            RunState::Running => match inst.health {
                Health::Healthy | Health::None => Condition::Healthy,
                Health::Starting => Condition::Starting,
                Health::Unhealthy => Condition::Unhealthy,
            },
        };
        Observation {
            instance: inst.id.instance,
            container: inst.container.clone(),
            revision: inst.id.revision,
            condition,
            restarting: false,
        }
    }
}

/// Everything the machine learns in one tick.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Observed {
    /// Every managed container of the app, whatever its revision or state.
    pub instances: Vec<Observation>,
    /// Starts asked for by a `StartNew` that failed since the last tick, each with its
    /// reason (e.g. "no host has room"). Each one counts as a failed instance.
    pub failed_starts: Vec<String>,
}

impl Observed {
    pub fn from_instances<'a>(instances: impl IntoIterator<Item = &'a Instance>) -> Observed {
        Observed {
            instances: instances
                .into_iter()
                .map(Observation::from_instance)
                .collect(),
            failed_starts: Vec::new(),
        }
    }
}

/// An instance the machine wants stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceRef {
    pub instance: u32,
    pub container: String,
}

/// What the controller must do, in order: with a surge the start comes first (new before
/// old), without one the stops do (they free the room).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutStep {
    /// Place and start `count` instances of `revision` (the new revision, or the old one
    /// while rolling back), on instance numbers the app does not hold.
    StartNew { revision: i64, count: u32 },
    /// Deregister, stop and remove an instance that does not run `to_revision`.
    StopOld { instance: InstanceRef },
    /// Deregister, stop and remove an instance of `to_revision` (failed, surplus, or
    /// while rolling back).
    StopNew { instance: InstanceRef },
    /// The rollout entered this phase: for the operator and the audit log.
    Phase(Phase),
}

/// Operator input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    Pause,
    Resume,
    /// Go on past the canary.
    Promote,
    Rollback,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("the rollout of {app} has already {phase}")]
    Finished { app: String, phase: String },
    #[error("the rollout of {app} is already paused")]
    AlreadyPaused { app: String },
    #[error("the rollout of {app} is not paused")]
    NotPaused { app: String },
    #[error("the rollout of {app} is not waiting for a promote (it is {phase})")]
    NotCanary { app: String, phase: String },
    #[error("the rollout of {app} is already rolling back")]
    AlreadyRollingBack { app: String },
}

/// One failed instance (or start), kept for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub at_ms: u64,
    pub revision: i64,
    /// None for a start that never produced a container.
    pub instance: Option<u32>,
    pub container: Option<String>,
    pub reason: String,
}

impl Failure {
    /// Where it failed, as operators read ids (`docker ps`'s short id).
    pub fn short_container(&self) -> &str {
        self.container
            .as_deref()
            .map_or("(no container)", crate::domain::short_id)
    }
}

/// Instance counts at the last step, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Running or starting instances not on `to_revision`.
    pub old: u32,
    /// Running or starting instances on `to_revision`, failed ones aside.
    pub new: u32,
    /// Of `new`, those available (healthy for `min_ready`).
    pub new_available: u32,
    /// Available instances of any revision.
    pub available: u32,
    /// Starts asked for and not yet seen.
    pub starting: u32,
    /// Stops asked for whose container is still there.
    pub stopping: u32,
    /// Failures so far.
    pub failed: u32,
}

/// "old 2 · new 4 (3 healthy)", with failures when there are some.
pub fn counts_text(counts: &Counts) -> String {
    let mut text = format!(
        "old {} · new {} ({} healthy)",
        counts.old, counts.new, counts.new_available
    );
    if counts.failed > 0 {
        text.push_str(&format!(" · {} failed", counts.failed));
    }
    text
}

/// What a rollout from `from` (None when the history no longer holds it) to `to` changes:
/// "demo:1 → demo:2", or "restart of demo:1" when the image stays (a rolling restart), or
/// "new spec of demo:1" (another field of the spec).
pub fn change_text(from: Option<&AppSpec>, to: &AppSpec) -> String {
    match from {
        Some(from) if from.image == to.image => {
            if from.restart_generation != to.restart_generation {
                format!("restart of {}", to.image)
            } else {
                format!("new spec of {}", to.image)
            }
        }
        Some(from) => format!("{} → {}", from.image, to.image),
        None => format!("? → {}", to.image),
    }
}

/// What the machine remembers of one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Track {
    first_seen_ms: u64,
    healthy_since_ms: Option<u64>,
}

/// A start asked for and not yet seen as a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Pending {
    revision: i64,
    at_ms: u64,
}

/// The best the rollout has reached in its current direction: beating one is progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
struct Marks {
    healthy: u32,
    available: u32,
    /// Fewest instances left to replace (None before the first step).
    stale: Option<u32>,
}

/// A rollout's progress: stored as JSON at `<prefix>/rollouts/<app>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutState {
    pub app: String,
    pub from_revision: i64,
    pub to_revision: i64,
    /// The instance count being rolled; the controller updates it if the app is scaled.
    pub desired: u32,
    /// The new spec's policy, fixed when the rollout began.
    pub policy: UpdatePolicy,
    pub phase: Phase,
    /// Why the rollout turned back, once it has; a resume goes on rolling back.
    pub rollback: Option<String>,
    /// The canary was promoted.
    pub promoted: bool,
    pub counts: Counts,
    pub failures: Vec<Failure>,
    pub started_ms: u64,
    pub updated_ms: u64,
    pub last_progress_ms: u64,
    /// When the rollout took its current direction: instances first seen before it are
    /// not its failures.
    turned_ms: u64,
    tracked: BTreeMap<String, Track>,
    /// Containers asked to stop -> when the stop was last asked for.
    stopping: BTreeMap<String, u64>,
    pending: Vec<Pending>,
    marks: Marks,
}

/// How long a stop may go unseen before it is asked for again.
pub const STOP_RETRY_MS: u64 = 30_000;

impl RolloutState {
    /// A rollout of `desired` instances from `from_revision` to `to_revision`. Instances
    /// healthy now (the running revision) count as available at once.
    pub fn new(
        app: impl Into<String>,
        from_revision: i64,
        to_revision: i64,
        desired: u32,
        policy: UpdatePolicy,
        observed: &Observed,
        now_ms: u64,
    ) -> RolloutState {
        let ready_since = now_ms.saturating_sub(millis(policy.min_ready));
        let tracked = observed
            .instances
            .iter()
            .map(|o| {
                let healthy = o.condition == Condition::Healthy;
                let track = Track {
                    first_seen_ms: now_ms,
                    healthy_since_ms: healthy.then_some(ready_since),
                };
                (o.container.clone(), track)
            })
            .collect();
        RolloutState {
            app: app.into(),
            from_revision,
            to_revision,
            desired,
            policy,
            phase: Phase::Progressing,
            rollback: None,
            promoted: false,
            counts: Counts::default(),
            failures: Vec::new(),
            started_ms: now_ms,
            updated_ms: now_ms,
            last_progress_ms: now_ms,
            turned_ms: now_ms,
            tracked,
            stopping: BTreeMap::new(),
            pending: Vec::new(),
            marks: Marks::default(),
        }
    }

    /// For a leader taking over a stored rollout: starts the last leader asked for and that
    /// are not seen by now never ran, so they are forgotten (and asked for again if still
    /// needed); its stops are asked for again; the time without a leader is not held
    /// against the progress deadline.
    pub fn take_over(&mut self, now_ms: u64) {
        self.pending.clear();
        for asked in self.stopping.values_mut() {
            *asked = 0;
        }
        self.last_progress_ms = now_ms;
    }

    /// The revision instances are being moved to: the new one, or the old while rolling
    /// back.
    pub fn target_revision(&self) -> i64 {
        if self.rollback.is_some() {
            self.from_revision
        } else {
            self.to_revision
        }
    }

    /// The JSON stored in etcd.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    pub fn from_json(bytes: &[u8]) -> Result<RolloutState, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// One tick: learns from `observed`, then decides. A finished rollout returns itself and
/// no steps.
pub fn step(
    state: &RolloutState,
    observed: &Observed,
    now_ms: u64,
) -> (RolloutState, Vec<RolloutStep>) {
    machine::step(state, observed, now_ms)
}

/// Applies an operator command. The instances change at the next [`step`]; the returned
/// steps only announce the new phase.
pub fn command(
    state: &RolloutState,
    cmd: Command,
    now_ms: u64,
) -> Result<(RolloutState, Vec<RolloutStep>), CommandError> {
    let app = || state.app.clone();
    if state.phase.is_done() {
        return Err(CommandError::Finished {
            app: app(),
            phase: state.phase.name().to_owned(),
        });
    }
    let mut next = state.clone();
    next.updated_ms = now_ms;
    next.phase = match (cmd, &state.phase) {
        (Command::Pause, Phase::Paused { .. }) => {
            return Err(CommandError::AlreadyPaused { app: app() });
        }
        (Command::Pause, _) => Phase::Paused {
            reason: "paused by the operator".into(),
        },
        (Command::Resume, Phase::Paused { .. }) => {
            next.last_progress_ms = now_ms;
            match &state.rollback {
                Some(reason) => Phase::RollingBack {
                    reason: reason.clone(),
                },
                None => Phase::Progressing,
            }
        }
        (Command::Resume, _) => return Err(CommandError::NotPaused { app: app() }),
        (Command::Promote, Phase::Canary) => {
            next.promoted = true;
            next.last_progress_ms = now_ms;
            Phase::Progressing
        }
        (Command::Promote, phase) => {
            return Err(CommandError::NotCanary {
                app: app(),
                phase: phase.name().to_owned(),
            });
        }
        (Command::Rollback, _) if state.rollback.is_some() => {
            return Err(CommandError::AlreadyRollingBack { app: app() });
        }
        (Command::Rollback, _) => {
            let reason = "rollback asked for by the operator".to_owned();
            next.begin_rollback(&reason, now_ms);
            Phase::RollingBack { reason }
        }
    };
    let steps = vec![RolloutStep::Phase(next.phase.clone())];
    Ok((next, steps))
}

impl RolloutState {
    /// Turns the rollout around: instances of `from_revision` become the target.
    fn begin_rollback(&mut self, reason: &str, now_ms: u64) {
        self.rollback = Some(reason.to_owned());
        self.marks = Marks::default();
        self.last_progress_ms = now_ms;
        self.turned_ms = now_ms;
    }
}

/// Whole milliseconds of a duration, saturating.
fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;
