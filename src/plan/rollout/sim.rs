//! A tiny cluster for the rollout tests: instances turn healthy a few ticks after they
//! start, some never do or exit, stops take a tick. It knows the truth the machine only
//! observes, so the tests check the invariants against it.

use super::*;
use crate::domain::app::UpdatePolicy;
use std::collections::BTreeMap;

pub(super) const TICK: u64 = 1000;
pub(super) const T0: u64 = 1_000_000;
pub(super) const FROM: i64 = 100;
pub(super) const TO: i64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Healthy,
    NeverHealthy,
    Exits,
}

#[derive(Debug, Clone)]
pub(super) struct SimInstance {
    pub instance: u32,
    pub container: String,
    pub revision: i64,
    fate: Fate,
    ready_at: u64,
    healthy_since: Option<u64>,
    pub condition: Condition,
    /// Created, but not in the engine's listing before this time.
    visible_at: u64,
    /// Asked to stop (and deregistered): gone at this time.
    pub stopping_until: Option<u64>,
}

#[derive(Debug, Clone)]
pub(super) struct Sim {
    pub now: u64,
    pub instances: Vec<SimInstance>,
    /// One byte per instance started, in order, decides its fate and start-up time.
    pattern: Vec<u8>,
    cursor: usize,
    /// Revision -> percent of its instances that fail.
    fail_percent: BTreeMap<i64, u32>,
    failed_starts: Vec<String>,
    next_container: u64,
    /// Starts asked for, ever.
    pub started: u32,
}

impl Sim {
    /// `desired` healthy instances of `FROM`, up for long.
    pub fn new(desired: u32, pattern: Vec<u8>) -> Sim {
        let mut sim = Sim {
            now: T0,
            instances: Vec::new(),
            pattern: if pattern.is_empty() { vec![0] } else { pattern },
            cursor: 0,
            fail_percent: BTreeMap::new(),
            failed_starts: Vec::new(),
            next_container: 0,
            started: 0,
        };
        for _ in 0..desired {
            sim.create(FROM, Fate::Healthy, 0, 0);
        }
        for inst in &mut sim.instances {
            inst.condition = Condition::Healthy;
            inst.healthy_since = Some(0);
        }
        sim
    }

    /// Makes `percent` of `revision`'s new instances fail (100: a broken image).
    pub fn failing(mut self, revision: i64, percent: u32) -> Sim {
        self.fail_percent.insert(revision, percent);
        self
    }

    fn create(&mut self, revision: i64, fate: Fate, ready_ticks: u64, hidden_ticks: u64) {
        let instance = (1..)
            .find(|n| self.instances.iter().all(|i| i.instance != *n))
            .unwrap_or(0);
        self.next_container += 1;
        self.instances.push(SimInstance {
            instance,
            container: format!("c{}", self.next_container),
            revision,
            fate,
            ready_at: self.now + ready_ticks * TICK,
            healthy_since: None,
            condition: Condition::Starting,
            visible_at: self.now + hidden_ticks * TICK,
            stopping_until: None,
        });
    }

    /// One tick passes: stopped instances go, starting ones settle.
    pub fn advance(&mut self) {
        self.now += TICK;
        let now = self.now;
        self.instances
            .retain(|i| i.stopping_until.is_none_or(|until| now < until));
        for inst in &mut self.instances {
            if inst.healthy_since.is_some() || now < inst.ready_at {
                continue;
            }
            inst.condition = match inst.fate {
                Fate::Healthy => {
                    inst.healthy_since = Some(now);
                    Condition::Healthy
                }
                Fate::NeverHealthy => Condition::Unhealthy,
                Fate::Exits => Condition::Exited,
            };
        }
    }

    /// What the engines report: stopping instances still run until they are gone, and
    /// created ones may not be listed yet.
    pub fn observe(&mut self) -> Observed {
        Observed {
            instances: self
                .instances
                .iter()
                .filter(|i| i.visible_at <= self.now)
                .map(|i| Observation {
                    instance: i.instance,
                    container: i.container.clone(),
                    revision: i.revision,
                    condition: i.condition,
                    restarting: false,
                })
                .collect(),
            failed_starts: std::mem::take(&mut self.failed_starts),
        }
    }

    pub fn apply(&mut self, steps: &[RolloutStep]) {
        for step in steps {
            match step {
                RolloutStep::StopOld { instance } | RolloutStep::StopNew { instance } => {
                    let until = self.now + TICK;
                    if let Some(inst) = self
                        .instances
                        .iter_mut()
                        .find(|i| i.container == instance.container)
                    {
                        inst.stopping_until.get_or_insert(until);
                    }
                }
                RolloutStep::StartNew { revision, count } => {
                    for _ in 0..*count {
                        self.start(*revision);
                    }
                }
                RolloutStep::Phase(_) => {}
            }
        }
    }

    fn start(&mut self, revision: i64) {
        let byte = self.pattern[self.cursor % self.pattern.len()];
        self.cursor += 1;
        self.started += 1;
        let percent = self.fail_percent.get(&revision).copied().unwrap_or(0);
        let fails = u32::from(byte) * 100 / 256 < percent;
        let ready_ticks = 1 + u64::from(byte % 3);
        // Two ticks: missing from the next listing.
        let hidden_ticks = u64::from(byte / 3 % 3);
        let fate = match (fails, byte % 3) {
            (false, _) => Fate::Healthy,
            (true, 0) => {
                self.failed_starts.push("no host has room".into());
                return;
            }
            (true, 1) => Fate::Exits,
            (true, _) => Fate::NeverHealthy,
        };
        self.create(revision, fate, ready_ticks, hidden_ticks);
    }

    /// A new leader's first look lists everything the engines hold.
    fn reveal(&mut self) {
        for inst in &mut self.instances {
            inst.visible_at = inst.visible_at.min(self.now);
        }
    }

    /// Everything holding a slot: running, starting or being stopped.
    pub fn total(&self) -> u32 {
        self.instances
            .iter()
            .filter(|i| i.condition.is_live())
            .count() as u32
    }

    /// Serving (not being stopped) and healthy for `min_ready`.
    pub fn available(&self, min_ready: u64) -> u32 {
        self.instances
            .iter()
            .filter(|i| i.stopping_until.is_none())
            .filter(|i| i.healthy_since.is_some_and(|h| self.now >= h + min_ready))
            .count() as u32
    }

    /// Live instances per revision.
    pub fn revisions(&self) -> BTreeMap<i64, u32> {
        let mut map = BTreeMap::new();
        for i in self.instances.iter().filter(|i| i.condition.is_live()) {
            *map.entry(i.revision).or_insert(0) += 1;
        }
        map
    }
}

/// How a driven rollout went.
#[derive(Debug, Clone)]
pub(super) struct Outcome {
    pub state: RolloutState,
    pub sim: Sim,
    /// Every step, tick by tick.
    pub log: Vec<(u64, Vec<RolloutStep>)>,
}

/// A crash of the leader at a tick: the state it wrote is read back by the next leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Crash {
    /// After writing the state and running its steps.
    AfterSteps(u64),
    /// After writing the state, before running its steps.
    BeforeSteps(u64),
}

/// Drives a rollout until it ends, waits paused, or `max_ticks` pass, promoting canaries
/// after two ticks. Checks both invariants after every change.
pub(super) fn drive(
    mut state: RolloutState,
    mut sim: Sim,
    max_ticks: u64,
    crash: Option<Crash>,
) -> Result<Outcome, String> {
    let mut log = Vec::new();
    let mut canary_since = None;
    for tick in 0..max_ticks {
        sim.advance();
        check(&state, &sim, "after the cluster moved")?;
        let observed = sim.observe();
        let (next, steps) = step(&state, &observed, sim.now);
        state = next;
        match crash {
            Some(Crash::BeforeSteps(t)) if t == tick => {
                sim.reveal();
                state = reload(&state)?;
                state.take_over(sim.now);
            }
            Some(Crash::AfterSteps(t)) if t == tick => {
                sim.apply(&steps);
                sim.reveal();
                state = reload(&state)?;
                state.take_over(sim.now);
            }
            _ => sim.apply(&steps),
        }
        check(&state, &sim, &format!("after {steps:?}"))?;
        log.push((sim.now, steps));
        match state.phase {
            Phase::Canary => {
                let since = *canary_since.get_or_insert(tick);
                if tick >= since + 2 {
                    let (next, _) =
                        command(&state, Command::Promote, sim.now).map_err(|e| e.to_string())?;
                    state = next;
                }
            }
            Phase::Paused { .. } => break,
            _ if state.phase.is_done() => break,
            _ => {}
        }
    }
    Ok(Outcome { state, sim, log })
}

/// Through JSON, as the next leader reads it from etcd; it must come back unchanged.
fn reload(state: &RolloutState) -> Result<RolloutState, String> {
    let json = state.to_json().map_err(|e| e.to_string())?;
    let back = RolloutState::from_json(json.as_bytes()).map_err(|e| e.to_string())?;
    if &back != state {
        return Err(format!("state changed through JSON: {json}"));
    }
    Ok(back)
}

fn check(state: &RolloutState, sim: &Sim, when: &str) -> Result<(), String> {
    let desired = state.desired;
    let budget = state.policy.resolve(desired);
    let min_ready = millis(state.policy.min_ready);
    let available = sim.available(min_ready);
    let total = sim.total();
    if available + budget.unavailable < desired {
        return Err(format!(
            "at {} {when}: {available} available, below {desired} - {}; {:?}",
            sim.now - T0,
            budget.unavailable,
            sim.instances
        ));
    }
    if total > desired + budget.surge {
        return Err(format!(
            "at {} {when}: {total} instances, above {desired} + {}; {:?}",
            sim.now - T0,
            budget.surge,
            sim.instances
        ));
    }
    Ok(())
}

/// A policy for the simulator's one-second ticks.
pub(super) fn policy(surge: Amount, unavailable: Amount) -> UpdatePolicy {
    UpdatePolicy {
        max_surge: surge,
        max_unavailable: unavailable,
        min_ready: std::time::Duration::from_secs(2),
        healthy_deadline: std::time::Duration::from_secs(8),
        progress_deadline: std::time::Duration::from_secs(30),
        ..UpdatePolicy::default()
    }
}

pub(super) fn rollout(desired: u32, policy: UpdatePolicy, sim: &mut Sim) -> RolloutState {
    let observed = sim.observe();
    RolloutState::new("web", FROM, TO, desired, policy, &observed, sim.now)
}

pub(super) use crate::domain::app::Amount;
