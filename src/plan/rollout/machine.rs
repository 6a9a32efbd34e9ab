//! One tick of a rollout: remember what was seen, judge the target revision's instances,
//! move between phases, then stop and start within the policy's budgets.

use super::{
    Condition, Counts, Failure, InstanceRef, Observation, Observed, Pending, Phase, RolloutState,
    RolloutStep, STOP_RETRY_MS, Track, millis,
};
use crate::domain::app::FailureAction;
use std::collections::BTreeSet;

pub(super) fn step(
    state: &RolloutState,
    observed: &Observed,
    now: u64,
) -> (RolloutState, Vec<RolloutStep>) {
    let mut s = state.clone();
    if s.phase.is_done() {
        return (s, Vec::new());
    }
    s.updated_ms = now;
    s.observe(observed, now);
    let fresh = s.judge(observed, now);
    let before = s.phase.clone();
    let view = View::new(&s, observed, now);
    if s.progressed(&view) {
        s.last_progress_ms = now;
    }
    if let Some(reason) = fresh.first()
        && matches!(
            s.phase,
            Phase::Progressing | Phase::Canary | Phase::RollingBack { .. }
        )
    {
        s.on_failure(reason, false, now);
    }
    let stalled_for = now.saturating_sub(s.last_progress_ms);
    if is_moving(&s.phase) && stalled_for >= millis(s.policy.progress_deadline) {
        let reason = format!(
            "no progress for {}",
            human(millis(s.policy.progress_deadline))
        );
        s.on_failure(&reason, true, now);
    }
    // The direction may have turned: look again with the new target.
    let view = View::new(&s, observed, now);
    s.counts = view.counts(&s);
    let mut steps = Vec::new();
    if is_moving(&s.phase) {
        if view.canary_ready(&s) {
            s.phase = Phase::Canary;
        } else if view.complete(&s) {
            s.phase = match &s.rollback {
                Some(reason) => Phase::RolledBack {
                    reason: reason.clone(),
                },
                None => Phase::Succeeded,
            };
        } else {
            steps = s.decide(&view, now);
            // Count what the steps leave behind.
            s.counts = View::new(&s, observed, now).counts(&s);
        }
    }
    if s.phase != before {
        steps.push(RolloutStep::Phase(s.phase.clone()));
    }
    (s, steps)
}

/// Phases in which instances are started and stopped.
fn is_moving(phase: &Phase) -> bool {
    matches!(phase, Phase::Progressing | Phase::RollingBack { .. })
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// "5m", "10s", "1500ms".
fn human(ms: u64) -> String {
    if ms >= 60_000 && ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

impl RolloutState {
    /// Remembers first sightings and healthy streaks, forgets what is gone, and matches new
    /// containers to the starts that were asked for.
    fn observe(&mut self, observed: &Observed, now: u64) {
        let seen: BTreeSet<&str> = observed
            .instances
            .iter()
            .map(|o| o.container.as_str())
            .collect();
        self.tracked.retain(|c, _| seen.contains(c.as_str()));
        self.stopping.retain(|c, _| seen.contains(c.as_str()));
        for o in &observed.instances {
            if !self.tracked.contains_key(&o.container)
                && let Some(i) = self.pending.iter().position(|p| p.revision == o.revision)
            {
                self.pending.remove(i);
            }
            let track = self
                .tracked
                .entry(o.container.clone())
                .or_insert_with(|| Track {
                    first_seen_ms: now,
                    healthy_since_ms: None,
                });
            if o.restarting {
                // Asked for: judged afresh once it is back.
                *track = Track {
                    first_seen_ms: now,
                    healthy_since_ms: None,
                };
            } else if o.condition == Condition::Healthy {
                track.healthy_since_ms.get_or_insert(now);
            } else {
                track.healthy_since_ms = None;
            }
        }
    }

    /// Records the target revision's new failures and returns their reasons: instances
    /// seen since the rollout took its direction that exited or are not healthy past
    /// `healthy_deadline`, starts that failed, and starts never seen within the deadline.
    fn judge(&mut self, observed: &Observed, now: u64) -> Vec<String> {
        let target = self.target_revision();
        let deadline = millis(self.policy.healthy_deadline);
        let known: BTreeSet<String> = self
            .failures
            .iter()
            .filter_map(|f| f.container.clone())
            .collect();
        let mut fresh = Vec::new();
        for o in &observed.instances {
            if o.revision != target
                || o.restarting
                || known.contains(&o.container)
                || self.stopping.contains_key(&o.container)
            {
                continue;
            }
            let Some(track) = self.tracked.get(&o.container) else {
                continue;
            };
            if track.first_seen_ms < self.turned_ms {
                continue;
            }
            let reason = match o.condition {
                Condition::Exited => format!("instance {}/{} exited", self.app, o.instance),
                Condition::Healthy => continue,
                _ if now >= track.first_seen_ms.saturating_add(deadline) => format!(
                    "instance {}/{} was not healthy within {}",
                    self.app,
                    o.instance,
                    human(deadline)
                ),
                _ => continue,
            };
            fresh.push(self.fail(now, Some(o), reason));
        }
        let (expired, waiting): (Vec<Pending>, Vec<Pending>) = self
            .pending
            .iter()
            .partition(|p| now >= p.at_ms.saturating_add(deadline));
        self.pending = waiting;
        for _ in expired.iter().filter(|p| p.revision == target) {
            let reason = format!(
                "a started instance did not appear within {}",
                human(deadline)
            );
            fresh.push(self.fail(now, None, reason));
        }
        for why in &observed.failed_starts {
            if let Some(i) = self.pending.iter().position(|p| p.revision == target) {
                self.pending.remove(i);
            }
            let reason = format!("an instance of {} could not be started: {why}", self.app);
            fresh.push(self.fail(now, None, reason));
        }
        fresh
    }

    fn fail(&mut self, now: u64, o: Option<&Observation>, reason: String) -> String {
        self.failures.push(Failure {
            at_ms: now,
            revision: self.target_revision(),
            instance: o.map(|o| o.instance),
            container: o.map(|o| o.container.clone()),
            reason: reason.clone(),
        });
        reason
    }

    /// Beating the best healthy or available count of the target, or the fewest instances
    /// left to replace, is progress.
    fn progressed(&mut self, view: &View) -> bool {
        let healthy = count(
            view.good
                .iter()
                .filter(|x| x.o.condition == Condition::Healthy)
                .count(),
        );
        let available = view.good_available();
        let stale = count(view.stale.len()) + view.stopping_live;
        let marks = &mut self.marks;
        let mut progressed = false;
        if healthy > marks.healthy {
            marks.healthy = healthy;
            progressed = true;
        }
        if available > marks.available {
            marks.available = available;
            progressed = true;
        }
        if marks.stale.is_none_or(|m| stale < m) {
            progressed |= marks.stale.is_some();
            marks.stale = Some(stale);
        }
        progressed
    }

    /// Applies the failure action to a failure (`stalled`: no progress, which going on
    /// cannot fix).
    fn on_failure(&mut self, reason: &str, stalled: bool, now: u64) {
        if self.rollback.is_some() {
            self.phase = Phase::Failed {
                reason: format!("rolling back failed too: {reason}"),
            };
            return;
        }
        self.phase = match self.policy.failure_action {
            FailureAction::Pause => Phase::Paused {
                reason: reason.to_owned(),
            },
            FailureAction::Rollback => {
                self.begin_rollback(reason, now);
                Phase::RollingBack {
                    reason: reason.to_owned(),
                }
            }
            FailureAction::Continue if stalled => Phase::Failed {
                reason: reason.to_owned(),
            },
            FailureAction::Continue => {
                let failed = self.failures.len();
                let allowed = self.policy.max_failure_ratio * f64::from(self.desired.max(1));
                if failed as f64 > allowed {
                    Phase::Failed {
                        reason: format!(
                            "{failed} failures for {} instances is more than max_failure_ratio \
                             {} allows; {reason}",
                            self.desired, self.policy.max_failure_ratio
                        ),
                    }
                } else {
                    return;
                }
            }
        };
    }

    /// The stops, then the start, that this tick may afford.
    fn decide(&mut self, view: &View, now: u64) -> Vec<RolloutStep> {
        let resolved = self.policy.resolve(self.desired);
        let desired = self.desired;
        let floor = desired.saturating_sub(resolved.unavailable);
        let mut spare = view.available_count().saturating_sub(floor);
        let mut stops: Vec<&Observation> = view.discard.iter().map(|x| x.o).collect();
        stops.extend(view.retry.iter().map(|x| x.o));
        // Instances of other revisions: unavailable ones cost nothing; available ones only
        // while the available count stays at the floor or above.
        let mut stale_cap = view.stale.len();
        if let Some(canary) = self.canary_size() {
            stale_cap = stale_cap.saturating_sub(desired.saturating_sub(canary) as usize);
        }
        for x in view.stale.iter().take(stale_cap) {
            if !x.available {
                stops.push(x.o);
            } else if spare > 0 {
                spare -= 1;
                stops.push(x.o);
            }
        }
        // The target's own surplus (after a scale down).
        let pending_target = count(
            self.pending
                .iter()
                .filter(|p| p.revision == view.target)
                .count(),
        );
        let have = count(view.good.len()) + pending_target;
        let surplus = have.saturating_sub(desired) as usize;
        for x in view.good.iter().take(surplus) {
            if !x.available {
                stops.push(x.o);
            } else if spare > 0 {
                spare -= 1;
                stops.push(x.o);
            }
        }
        let mut steps: Vec<RolloutStep> = stops
            .into_iter()
            .map(|o| {
                self.stopping.insert(o.container.clone(), now);
                let instance = InstanceRef {
                    instance: o.instance,
                    container: o.container.clone(),
                };
                if o.revision == self.to_revision {
                    RolloutStep::StopNew { instance }
                } else {
                    RolloutStep::StopOld { instance }
                }
            })
            .collect();
        let mut need = desired.saturating_sub(have);
        if let Some(canary) = self.canary_size() {
            need = need.min(canary.saturating_sub(have));
        }
        let room = desired
            .saturating_add(resolved.surge)
            .saturating_sub(view.total(self));
        let start = need.min(room);
        if start > 0 {
            self.pending.extend((0..start).map(|_| Pending {
                revision: view.target,
                at_ms: now,
            }));
            let start = RolloutStep::StartNew {
                revision: view.target,
                count: start,
            };
            // With a surge the new come up before the old go; without one, the stops
            // free the room the starts need.
            if resolved.surge > 0 {
                steps.insert(0, start);
            } else {
                steps.push(start);
            }
        }
        steps
    }

    /// The canary's size while it still holds the rollout back.
    fn canary_size(&self) -> Option<u32> {
        let n = self.policy.canary;
        let holds = self.rollback.is_none() && !self.promoted && n > 0 && n < self.desired;
        holds.then_some(n)
    }
}

/// One live or exited instance as this tick sees it.
#[derive(Clone, Copy)]
struct Seen<'a> {
    o: &'a Observation,
    /// Healthy for at least `min_ready`.
    available: bool,
}

/// The app's instances sorted for this tick's decisions. Instances asked to stop are in
/// none of the lists but `retry`.
struct View<'a> {
    target: i64,
    /// Live instances of the target revision, not failed: unavailable first.
    good: Vec<Seen<'a>>,
    /// Live instances of any other revision: unavailable first.
    stale: Vec<Seen<'a>>,
    /// To stop now: failed or overdue target instances, and exited ones of any revision.
    discard: Vec<Seen<'a>>,
    /// Live and asked to stop, long enough ago to ask again.
    retry: Vec<Seen<'a>>,
    /// Live and asked to stop.
    stopping_live: u32,
    /// Live among `discard`.
    discard_live: u32,
}

impl<'a> View<'a> {
    fn new(s: &RolloutState, observed: &'a Observed, now: u64) -> View<'a> {
        let target = s.target_revision();
        let failed: BTreeSet<&str> = s
            .failures
            .iter()
            .filter_map(|f| f.container.as_deref())
            .collect();
        let deadline = millis(s.policy.healthy_deadline);
        let min_ready = millis(s.policy.min_ready);
        let mut view = View {
            target,
            good: Vec::new(),
            stale: Vec::new(),
            discard: Vec::new(),
            retry: Vec::new(),
            stopping_live: 0,
            discard_live: 0,
        };
        for o in &observed.instances {
            let track = s.tracked.get(&o.container);
            let available = o.condition == Condition::Healthy
                && track
                    .and_then(|t| t.healthy_since_ms)
                    .is_some_and(|since| now >= since.saturating_add(min_ready));
            let seen = Seen { o, available };
            let live = o.condition.is_live();
            if let Some(&asked) = s.stopping.get(&o.container) {
                if live {
                    view.stopping_live += 1;
                    if now >= asked.saturating_add(STOP_RETRY_MS) {
                        view.retry.push(seen);
                    }
                }
                continue;
            }
            let overdue = o.condition != Condition::Healthy
                && track.is_some_and(|t| now >= t.first_seen_ms.saturating_add(deadline));
            let bad = o.revision == target && (failed.contains(o.container.as_str()) || overdue);
            // A restart the operator asked for holds its slot while it runs.
            let live = live || o.restarting;
            if !live || bad {
                view.discard_live += u32::from(live);
                view.discard.push(seen);
            } else if o.revision == target {
                view.good.push(seen);
            } else {
                view.stale.push(seen);
            }
        }
        view.good.sort_by_key(|x| (x.available, x.o.instance));
        view.stale.sort_by_key(|x| (x.available, x.o.instance));
        view
    }

    fn available_count(&self) -> u32 {
        count(
            self.good
                .iter()
                .chain(&self.stale)
                .filter(|x| x.available)
                .count(),
        )
    }

    fn good_available(&self) -> u32 {
        count(self.good.iter().filter(|x| x.available).count())
    }

    /// Everything that occupies a slot, and starts not yet seen.
    fn total(&self, s: &RolloutState) -> u32 {
        count(self.good.len() + self.stale.len() + s.pending.len())
            + self.discard_live
            + self.stopping_live
    }

    fn counts(&self, s: &RolloutState) -> Counts {
        let to = s.to_revision;
        let (new, old): (Vec<&Seen>, Vec<&Seen>) = self
            .good
            .iter()
            .chain(&self.stale)
            .partition(|x| x.o.revision == to);
        Counts {
            old: count(old.len()),
            new: count(new.len()),
            new_available: count(new.iter().filter(|x| x.available).count()),
            available: self.available_count(),
            starting: count(s.pending.len()),
            stopping: self.stopping_live,
            failed: count(s.failures.len()),
        }
    }

    /// The canary instances are available and the instances they replace are gone.
    fn canary_ready(&self, s: &RolloutState) -> bool {
        let Some(canary) = s.canary_size() else {
            return false;
        };
        self.good_available() >= canary
            && s.pending.is_empty()
            && self.stopping_live == 0
            && self.discard_live == 0
            && count(self.stale.len()) <= s.desired.saturating_sub(canary)
    }

    /// Exactly `desired` available instances of the target and nothing else running.
    fn complete(&self, s: &RolloutState) -> bool {
        self.stale.is_empty()
            && self.discard.is_empty()
            && self.stopping_live == 0
            && s.pending.is_empty()
            && count(self.good.len()) == s.desired
            && self.good.iter().all(|x| x.available)
    }
}
