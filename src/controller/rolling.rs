//! The leader's rollouts: when an app's spec names a revision some of its instances do
//! not run, a rollout (`plan::rollout`) replaces them; this module turns its decisions
//! into the round's steps and keeps reconcile out of its way.
//!
//! Each tick, per rolling app: apply a waiting operator command, `step` the machine with
//! what the engines show (instances on dead hosts left out, those on unreachable hosts
//! kept), and hand the round a [`Write`]: the new state, to be stored (fenced on the
//! leadership) *before* its steps run. Stops become a deregistration and a stop; starts
//! are placed by the planner itself (the app's spec is passed with the count the rollout
//! wants, so ports and capacity agree with every other app's starts in the same plan).
//!
//! Reconcile leaves a held app alone: its starts and stops are dropped from the plan, only
//! its registrations stay, and instances the rollout is stopping are shown to the planner
//! as unhealthy so they are never registered again.
//!
//! A new spec written while a rollout runs waits: the running rollout goes on with the
//! spec it started with (stored beside its state) until it is done, then the next starts
//! from where it ended. Queueing rather than superseding keeps the capacity guarantees
//! simple (one machine per app, one pair of revisions), and the ops layer refuses a new
//! rollout while one runs, so a queued one only comes from a raw `apply`. A rollout that
//! failed or was rolled back is not tried again for the same revision: the operator
//! writes a new spec (or restarts) to try again.

use crate::cluster::{Rollout, RolloutEvent, StoredCommand};
use crate::cluster::{RolloutChange, RolloutListing};
use crate::domain::Health;
use crate::domain::app::AppSpec;
use crate::plan::rollout::{self, Observation, Observed, Phase, RolloutState, RolloutStep};
use crate::plan::{Actual, Instance, Liveness, Step, Stop, StopReason, labels};
use crate::store::{AuditEntry, AuditOutcome, AuditReason, verb};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

/// A stop is shown to the planner as leaving for at most this long.
const LEAVING_FOR: Duration = Duration::from_secs(60);
/// An unchanged state is stored again this often, so progress readers see it is alive.
const REFRESH_MS: u64 = 5_000;
/// A from-spec write-back that has not shown yet is tried again after this long.
const RESTORE_EVERY: Duration = Duration::from_secs(5);

#[derive(Default)]
pub(super) struct Rolling {
    /// Every app's rollout as last stored (done ones included).
    pub rollouts: BTreeMap<String, Rollout>,
    /// Operator commands waiting, from the watcher.
    commands: BTreeMap<String, StoredCommand>,
    /// Starts of a rollout that failed since its last step.
    failed_starts: BTreeMap<String, Vec<String>>,
    /// Containers a rollout asked to stop.
    leaving: HashMap<String, Instant>,
    /// When each state was last stored, in wall-clock ms.
    saved_ms: BTreeMap<String, u64>,
    /// When a from-spec was last written back, per app.
    restored: BTreeMap<String, Instant>,
    /// Apps whose instances' health this leader has heard once: until then a probed
    /// instance only reads as starting, and stepping would take healthy instances for
    /// failing ones.
    warmed: BTreeSet<String>,
    /// Containers (ids or names) an operator is restarting, from `/restarts/`.
    pub restarting: BTreeSet<String>,
}

/// The shortest id prefix a restart marker may name a container by (docker's short id).
const SHORT_ID_LEN: usize = 12;

/// Whether an operator asked the engine to restart `inst`: marked by its name, its full
/// id, or an id prefix of at least docker's short length (a shorter one could name many).
pub(super) fn restart_asked(marked: &BTreeSet<String>, inst: &Instance) -> bool {
    marked.contains(&inst.name)
        || marked.contains(&inst.container)
        || (marked.iter()).any(|m| {
            m.len() >= SHORT_ID_LEN
                && m.chars().all(|c| c.is_ascii_hexdigit())
                && inst.container.starts_with(m.as_str())
        })
}

/// An app reconcile leaves to its rollout.
pub(super) struct Hold {
    /// The spec to plan the app with: the revision to start, and as many instances as it
    /// holds plus the starts wanted.
    pub spec: AppSpec,
    pub starts: u32,
}

/// A state to store before its steps run.
pub(super) struct Write {
    pub rollout: Rollout,
    /// The mod_revision of the command it applied.
    pub applied: Option<i64>,
    pub steps: Vec<Step>,
    pub audits: Vec<AuditEntry>,
}

/// A rollout to begin (the round looks up the from-spec and checks the image).
pub(super) struct Initiation {
    pub from_revision: i64,
    pub to_spec: AppSpec,
    pub observed: Observed,
    /// Hosts whose engines answer, to look for the image on.
    pub online: Vec<String>,
}

#[derive(Default)]
pub(super) struct Tick {
    pub held: BTreeMap<String, Hold>,
    pub writes: Vec<Write>,
    pub initiations: Vec<Initiation>,
    /// Commands no rollout can take, with why.
    pub discards: Vec<(StoredCommand, String)>,
    /// Rolled back, and the app's key still holds the spec rolled away from: write the
    /// from-spec back.
    pub restores: Vec<Rollout>,
}

impl Rolling {
    /// A new leader's start: the stored rollouts, each taken over.
    pub fn take_over(&mut self, rollouts: Vec<Rollout>, now_ms: u64) {
        self.rollouts = rollouts
            .into_iter()
            .map(|mut r| {
                if !r.state.phase.is_done() {
                    r.state.take_over(now_ms);
                }
                (r.app().to_owned(), r)
            })
            .collect();
        self.failed_starts.clear();
        self.leaving.clear();
        self.saved_ms.clear();
        self.restored.clear();
        self.warmed.clear();
    }

    /// Follows the pending commands (stored states are the leader's own business).
    pub fn on_event(&mut self, event: RolloutEvent) -> bool {
        match event {
            RolloutEvent::Snapshot(RolloutListing { commands, .. }) => {
                self.commands = commands.into_iter().map(|c| (c.app.clone(), c)).collect();
            }
            RolloutEvent::Change(RolloutChange::Command(c)) => {
                self.commands.insert(c.app.clone(), c);
            }
            RolloutEvent::Change(RolloutChange::CommandRemoved { app }) => {
                self.commands.remove(&app);
            }
            _ => return false,
        }
        true
    }

    /// Whether `app` has a rollout under way.
    pub fn is_active(&self, app: &str) -> bool {
        self.rollouts
            .get(app)
            .is_some_and(|r| !r.state.phase.is_done())
    }

    /// A start of a rolling app failed: the machine hears of it at its next step.
    pub fn start_failed(&mut self, app: &str, reason: String) {
        if self.is_active(app) {
            self.failed_starts
                .entry(app.to_owned())
                .or_default()
                .push(reason);
        }
    }

    /// A state the round stored.
    pub fn saved(&mut self, rollout: Rollout) {
        self.saved_ms
            .insert(rollout.app().to_owned(), rollout.state.updated_ms);
        self.rollouts.insert(rollout.app().to_owned(), rollout);
    }

    /// Marks the instances being stopped as unhealthy in the planner's view, and forgets
    /// stops that are done or too old.
    pub fn hide_leaving(&mut self, actual: &mut Actual, now: Instant) {
        let mut seen = Vec::new();
        for inst in actual.instances_mut() {
            if self.leaving.contains_key(&inst.container) {
                inst.health = Health::Unhealthy;
                seen.push(inst.container.clone());
            }
        }
        self.leaving
            .retain(|c, at| seen.contains(c) && now.duration_since(*at) < LEAVING_FOR);
    }

    /// Decides this tick's rollout work from the specs and what the engines show.
    pub fn tick(
        &mut self,
        specs: &BTreeMap<String, AppSpec>,
        actual: &Actual,
        unknown: &HashSet<String>,
        now_ms: u64,
        now: Instant,
    ) -> Tick {
        let mut tick = Tick::default();
        let by_app = actual.by_app();
        let online: Vec<String> = actual
            .hosts
            .iter()
            .filter(|h| h.liveness == Liveness::Online)
            .map(|h| h.name.clone())
            .collect();
        let empty = Vec::new();
        let mut apps: Vec<String> = specs.keys().cloned().collect();
        apps.extend(
            self.rollouts
                .keys()
                .filter(|a| !specs.contains_key(*a))
                .cloned(),
        );
        for app in &apps {
            let instances: Vec<&Instance> = by_app
                .get(app.as_str())
                .unwrap_or(&empty)
                .iter()
                .copied()
                .filter(|i| host_liveness(actual, &i.host) != Liveness::Dead)
                .collect();
            let Some(spec) = specs.get(app) else {
                self.abandon(app, now_ms, &mut tick);
                continue;
            };
            let warm = self.warmed.contains(app)
                || !instances.iter().any(|i| unknown.contains(&i.container));
            if !warm {
                if self.is_active(app) {
                    let hold = Hold {
                        spec: placing(spec, &instances, 0),
                        starts: 0,
                    };
                    tick.held.insert(app.clone(), hold);
                }
                continue;
            }
            self.warmed.insert(app.clone());
            if self.is_active(app) {
                self.step(app, spec, &instances, now_ms, now, &mut tick);
                continue;
            }
            if let Some(c) = self.commands.get(app) {
                let why = format!("{app} has no rollout under way");
                tick.discards.push((c.clone(), why));
            }
            if let Some(r) = self.restore_due(spec, now) {
                tick.restores.push(r);
                continue;
            }
            if let Some(init) = self.needs_rollout(spec, &instances, &online) {
                tick.held.insert(
                    app.clone(),
                    Hold {
                        spec: placing(spec, &instances, 0),
                        starts: 0,
                    },
                );
                tick.initiations.push(init);
            }
        }
        tick
    }

    /// A rolled back app whose key still names the revision rolled away from (tried again
    /// every few seconds until the app watcher shows the write).
    fn restore_due(&mut self, spec: &AppSpec, now: Instant) -> Option<Rollout> {
        let r = self.rollouts.get(&spec.name)?;
        let due = matches!(r.state.phase, Phase::RolledBack { .. })
            && r.from_spec.is_some()
            && labels::revision(spec) == r.state.to_revision
            && self
                .restored
                .get(&spec.name)
                .is_none_or(|at| now.duration_since(*at) >= RESTORE_EVERY);
        if !due {
            return None;
        }
        self.restored.insert(spec.name.clone(), now);
        Some(r.clone())
    }

    /// A rollout is due when some live instance runs another revision than the spec's,
    /// unless the last rollout to that revision failed or was rolled back.
    fn needs_rollout(
        &self,
        spec: &AppSpec,
        instances: &[&Instance],
        online: &[String],
    ) -> Option<Initiation> {
        let to = labels::revision(spec);
        let mut stale: BTreeMap<i64, u32> = BTreeMap::new();
        for i in instances.iter().filter(|i| i.state.occupies()) {
            if i.id.revision != to {
                *stale.entry(i.id.revision).or_default() += 1;
            }
        }
        let gave_up = self.rollouts.get(&spec.name).is_some_and(|r| {
            r.state.to_revision == to && !matches!(r.state.phase, Phase::Succeeded)
        });
        if stale.is_empty() || gave_up {
            return None;
        }
        // The revision most old instances run is the one to return to.
        let (&from, _) = stale.iter().max_by_key(|(rev, n)| (**n, **rev))?;
        Some(Initiation {
            from_revision: from,
            to_spec: spec.clone(),
            observed: observe(instances, &self.restarting),
            online: online.to_vec(),
        })
    }

    fn step(
        &mut self,
        app: &str,
        spec: &AppSpec,
        instances: &[&Instance],
        now_ms: u64,
        now: Instant,
        tick: &mut Tick,
    ) {
        let Some(stored) = self.rollouts.get(app) else {
            return;
        };
        let mut rollout = stored.clone();
        let mut state = rollout.state.clone();
        state.desired = spec.instances;
        let mut audits = Vec::new();
        let mut applied = None;
        if let Some(c) = self.commands.get(app) {
            match rollout::command(&state, c.command.command, now_ms) {
                Ok((next, _)) => {
                    state = next;
                    applied = Some(c.mod_revision);
                    audits.push(audit(
                        verb(c.command.command),
                        app,
                        &state,
                        "ok".to_owned(),
                        &c.command.who,
                    ));
                }
                Err(e) => tick.discards.push((c.clone(), e.to_string())),
            }
        }
        let mut observed = observe(instances, &self.restarting);
        observed.failed_starts = self.failed_starts.remove(app).unwrap_or_default();
        let (mut next, decided) = rollout::step(&state, &observed, now_ms);
        let mut steps = Vec::new();
        let mut starts = 0;
        let mut start_spec = None;
        for s in &decided {
            match s {
                RolloutStep::StartNew { revision, count } => {
                    match spec_of(&rollout, *revision) {
                        Some(s) => start_spec = Some(s.clone()),
                        None => {
                            next.phase = Phase::Failed {
                                reason: format!(
                                    "cannot roll back: the spec of revision {revision} is no \
                                     longer in the history"
                                ),
                            };
                        }
                    }
                    starts += count;
                }
                RolloutStep::StopOld { instance } | RolloutStep::StopNew { instance } => {
                    let Some(inst) = instances.iter().find(|i| i.container == instance.container)
                    else {
                        continue;
                    };
                    self.leaving.insert(inst.container.clone(), now);
                    steps.push(Step::Deregister {
                        app: app.to_owned(),
                        instance: inst.id.instance,
                        container: inst.container.clone(),
                    });
                    let reason = if inst.state.occupies() {
                        StopReason::Surplus
                    } else {
                        StopReason::Failed
                    };
                    steps.push(Step::Stop(Stop::of(app, inst, reason)));
                }
                RolloutStep::Phase(_) => {}
            }
        }
        if next.phase != state.phase {
            let who = "controller".to_owned();
            audits.push(audit("rollout", app, &next, next.phase.to_string(), &who));
        }
        if next.phase.is_done() {
            starts = 0;
            steps.clear();
        }
        tick.held.insert(
            app.to_owned(),
            Hold {
                spec: placing(start_spec.as_ref().unwrap_or(spec), instances, starts),
                starts,
            },
        );
        let changed = {
            let mut a = next.clone();
            a.updated_ms = 0;
            let mut b = stored.state.clone();
            b.updated_ms = 0;
            a != b
        };
        let stale = now_ms >= self.saved_ms.get(app).map_or(0, |t| t + REFRESH_MS);
        if changed || stale || applied.is_some() || !steps.is_empty() || starts > 0 {
            rollout.state = next;
            tick.writes.push(Write {
                rollout,
                applied,
                steps,
                audits,
            });
        }
    }

    /// The app's spec is gone: its rollout fails and reconcile removes the instances.
    fn abandon(&mut self, app: &str, now_ms: u64, tick: &mut Tick) {
        let Some(r) = self.rollouts.get(app).filter(|r| !r.state.phase.is_done()) else {
            return;
        };
        let mut rollout = r.clone();
        rollout.state.phase = Phase::Failed {
            reason: "the app was deleted".into(),
        };
        rollout.state.updated_ms = now_ms;
        let who = "controller".to_owned();
        let entry = audit(
            "rollout",
            app,
            &rollout.state,
            rollout.state.phase.to_string(),
            &who,
        );
        tick.writes.push(Write {
            rollout,
            applied: None,
            steps: Vec::new(),
            audits: vec![entry],
        });
    }
}

fn host_liveness(actual: &Actual, host: &str) -> Liveness {
    actual.host(host).map_or(Liveness::Dead, |h| h.liveness)
}

fn observe(instances: &[&Instance], restarting: &BTreeSet<String>) -> Observed {
    Observed {
        instances: instances
            .iter()
            .map(|i| Observation {
                restarting: restart_asked(restarting, i),
                ..Observation::from_instance(i)
            })
            .collect(),
        failed_starts: Vec::new(),
    }
}

/// The stored spec that runs `revision`.
fn spec_of(rollout: &Rollout, revision: i64) -> Option<&AppSpec> {
    if revision == rollout.state.to_revision {
        Some(&rollout.to_spec)
    } else if revision == rollout.state.from_revision {
        rollout.from_spec.as_ref()
    } else {
        None
    }
}

/// `spec` with as many instances as the planner will count for the app, plus `starts`:
/// the planner then stops none of them and places exactly the starts.
fn placing(spec: &AppSpec, instances: &[&Instance], starts: u32) -> AppSpec {
    let counted = instances
        .iter()
        .filter(|i| i.state.occupies() && !i.crash_looping)
        .count();
    let mut spec = spec.clone();
    spec.instances = u32::try_from(counted)
        .unwrap_or(u32::MAX)
        .saturating_add(starts);
    spec
}

/// "revision 1a2b3c4d -> 5e6f7a8b".
pub(super) fn revisions(state: &RolloutState) -> String {
    format!(
        "revision {:08x} -> {:08x}",
        state.from_revision & 0xffff_ffff,
        state.to_revision & 0xffff_ffff
    )
}

fn audit(action: &str, app: &str, state: &RolloutState, result: String, who: &str) -> AuditEntry {
    let mut entry = AuditEntry::now(action, app, revisions(state), result);
    who.clone_into(&mut entry.who);
    noted(entry, state)
}

/// A rollout note's typed fields: its app, and whether the rollout failed. (`revision`
/// stays empty: it names a spec written, and a rollout writes none.)
pub(super) fn noted(entry: AuditEntry, state: &RolloutState) -> AuditEntry {
    let (outcome, reason) = match state.phase {
        Phase::Failed { .. } => (AuditOutcome::Failed, Some(AuditReason::RolloutFailed)),
        _ => (AuditOutcome::Ok, None),
    };
    entry.of_app(&state.app, outcome, reason)
}

#[cfg(test)]
mod tests;
