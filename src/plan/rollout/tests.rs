use super::sim::{Amount, Crash, FROM, Sim, T0, TICK, TO, drive, policy, rollout};
use super::*;
use crate::domain::app::FailureAction;
use crate::plan::{Identity, labels};
use std::collections::BTreeMap;
use std::time::Duration;

fn starts(steps: &[RolloutStep]) -> u32 {
    steps
        .iter()
        .map(|s| match s {
            RolloutStep::StartNew { count, .. } => *count,
            _ => 0,
        })
        .sum()
}

fn stops(steps: &[RolloutStep]) -> usize {
    steps
        .iter()
        .filter(|s| matches!(s, RolloutStep::StopOld { .. } | RolloutStep::StopNew { .. }))
        .count()
}

fn only(revision: i64, n: u32) -> BTreeMap<i64, u32> {
    BTreeMap::from([(revision, n)])
}

#[test]
fn six_instances_surge_one_unavailable_zero_start_new_before_old_stops() {
    let mut sim = Sim::new(6, vec![1]);
    let state = rollout(6, policy(Amount::Count(1), Amount::Count(0)), &mut sim);
    let out = drive(state, sim, 200, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.state.phase, Phase::Succeeded);
    assert_eq!(out.sim.revisions(), only(TO, 6));
    assert_eq!(out.sim.started, 6, "no extra instance was started");
    let active: Vec<&Vec<RolloutStep>> = out
        .log
        .iter()
        .map(|(_, s)| s)
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(
        active[0],
        &vec![RolloutStep::StartNew {
            revision: TO,
            count: 1
        }],
        "the first new instance starts before any old one stops"
    );
    // One at a time: never two starts, or two stops, in one tick.
    for steps in &active {
        assert!(starts(steps) <= 1 && stops(steps) <= 1, "{steps:?}");
    }
    assert_eq!(out.state.counts.new_available, 6);
    assert_eq!(out.state.counts.old, 0);
}

#[test]
fn surge_zero_unavailable_one_stops_old_before_starting_new() {
    let mut sim = Sim::new(6, vec![1]);
    let state = rollout(6, policy(Amount::Count(0), Amount::Count(1)), &mut sim);
    let out = drive(state, sim, 200, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.state.phase, Phase::Succeeded);
    assert_eq!(out.sim.revisions(), only(TO, 6));
    let first = out
        .log
        .iter()
        .find(|(_, s)| !s.is_empty())
        .map(|(_, s)| s.clone());
    match first.as_deref() {
        Some([RolloutStep::StopOld { .. }]) => {}
        other => panic!("expected one StopOld first, got {other:?}"),
    }
}

#[test]
fn broken_image_with_rollback_returns_to_the_old_revision_and_says_why() {
    let mut sim = Sim::new(6, vec![2]).failing(TO, 100);
    let mut p = policy(Amount::Count(1), Amount::Count(0));
    p.failure_action = FailureAction::Rollback;
    let state = rollout(6, p, &mut sim);
    let out = drive(state, sim, 300, None).unwrap_or_else(|e| panic!("{e}"));
    let reason = match &out.state.phase {
        Phase::RolledBack { reason } => reason.clone(),
        other => panic!("expected rolled back, got {other:?}"),
    };
    assert!(
        reason.contains("web/7 was not healthy within 8s"),
        "{reason}"
    );
    assert_eq!(out.sim.revisions(), only(FROM, 6));
    let phases: Vec<&Phase> = out
        .log
        .iter()
        .flat_map(|(_, s)| s)
        .filter_map(|s| match s {
            RolloutStep::Phase(p) => Some(p),
            _ => None,
        })
        .collect();
    assert!(
        matches!(
            phases.as_slice(),
            [Phase::RollingBack { .. }, Phase::RolledBack { .. }]
        ),
        "{phases:?}"
    );
    assert_eq!(out.state.failures.len(), 1);
    assert_eq!(out.state.failures[0].revision, TO);
    assert!(out.state.to_json().expect("json").contains("not healthy"));
}

#[test]
fn canary_of_one_waits_for_promote() {
    let mut sim = Sim::new(4, vec![1]);
    let mut p = policy(Amount::Count(1), Amount::Count(0));
    p.canary = 1;
    let mut state = rollout(4, p, &mut sim);
    let mut canary_at = None;
    for _ in 0..50 {
        sim.advance();
        let (next, steps) = step(&state, &sim.observe(), sim.now);
        sim.apply(&steps);
        state = next;
        if state.phase == Phase::Canary {
            assert_eq!(steps, vec![RolloutStep::Phase(Phase::Canary)]);
            canary_at = Some(sim.now);
            break;
        }
    }
    assert!(canary_at.is_some(), "never reached the canary");
    assert_eq!(sim.revisions(), BTreeMap::from([(FROM, 3), (TO, 1)]));
    // Waiting: nothing changes however long.
    for _ in 0..40 {
        sim.advance();
        let (next, steps) = step(&state, &sim.observe(), sim.now);
        assert!(steps.is_empty(), "{steps:?}");
        state = next;
    }
    assert_eq!(state.phase, Phase::Canary, "no deadline while waiting");
    let (promoted, steps) = command(&state, Command::Promote, sim.now).expect("promote");
    assert_eq!(steps, vec![RolloutStep::Phase(Phase::Progressing)]);
    let out = drive(promoted, sim, 200, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.state.phase, Phase::Succeeded);
    assert_eq!(out.sim.revisions(), only(TO, 4));
}

#[test]
fn pause_action_waits_and_resume_replaces_the_failed_instance() {
    // The first new instance exits; the ones after it are fine.
    let mut sim = Sim::new(3, vec![4, 200, 200, 200, 200]).failing(TO, 2);
    let state = rollout(3, policy(Amount::Count(1), Amount::Count(0)), &mut sim);
    let out = drive(state, sim, 100, None).unwrap_or_else(|e| panic!("{e}"));
    match &out.state.phase {
        Phase::Paused { reason } => assert!(reason.contains("web/4 exited"), "{reason}"),
        other => panic!("expected paused, got {other:?}"),
    }
    let mut sim = out.sim;
    // Paused: nothing moves.
    sim.advance();
    let (paused, steps) = step(&out.state, &sim.observe(), sim.now);
    assert!(steps.is_empty(), "{steps:?}");
    let (resumed, _) = command(&paused, Command::Resume, sim.now).expect("resume");
    assert_eq!(resumed.phase, Phase::Progressing);
    let out = drive(resumed, sim, 100, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.state.phase, Phase::Succeeded);
    assert_eq!(out.sim.revisions(), only(TO, 3));
    assert_eq!(out.state.counts.failed, 1);
}

#[test]
fn continue_tolerates_failures_up_to_the_ratio() {
    let mut p = policy(Amount::Count(2), Amount::Count(0));
    p.failure_action = FailureAction::Continue;
    p.max_failure_ratio = 0.5;
    // Every third start fails: 2 failures are within half of 4.
    let mut sim = Sim::new(4, vec![100, 101, 0]).failing(TO, 10);
    let state = rollout(4, p.clone(), &mut sim);
    let out = drive(state, sim, 300, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out.state.phase,
        Phase::Succeeded,
        "{:?}",
        out.state.failures
    );
    assert!(!out.state.failures.is_empty());
    assert_eq!(out.sim.revisions(), only(TO, 4));
    // A broken image exceeds any ratio below 1 and fails the rollout.
    let mut sim = Sim::new(4, vec![1]).failing(TO, 100);
    let state = rollout(4, p, &mut sim);
    let out = drive(state, sim, 300, None).unwrap_or_else(|e| panic!("{e}"));
    match &out.state.phase {
        Phase::Failed { reason } => assert!(reason.contains("max_failure_ratio"), "{reason}"),
        other => panic!("expected failed, got {other:?}"),
    }
}

#[test]
fn operator_rollback_midway_returns_to_the_old_revision() {
    let mut sim = Sim::new(6, vec![1]);
    let mut state = rollout(6, policy(Amount::Count(2), Amount::Count(1)), &mut sim);
    for _ in 0..4 {
        sim.advance();
        let (next, steps) = step(&state, &sim.observe(), sim.now);
        sim.apply(&steps);
        state = next;
    }
    assert!(sim.revisions().contains_key(&TO), "{:?}", sim.revisions());
    let (back, steps) = command(&state, Command::Rollback, sim.now).expect("rollback");
    assert!(matches!(
        steps.as_slice(),
        [RolloutStep::Phase(Phase::RollingBack { .. })]
    ));
    assert_eq!(back.target_revision(), FROM);
    let err = command(&back, Command::Rollback, sim.now).expect_err("twice");
    assert!(err.to_string().contains("already rolling back"), "{err}");
    let out = drive(back, sim, 200, None).unwrap_or_else(|e| panic!("{e}"));
    match &out.state.phase {
        Phase::RolledBack { reason } => assert!(reason.contains("operator"), "{reason}"),
        other => panic!("expected rolled back, got {other:?}"),
    }
    assert_eq!(out.sim.revisions(), only(FROM, 6));
    let stopped_new = out
        .log
        .iter()
        .flat_map(|(_, s)| s)
        .filter(|s| matches!(s, RolloutStep::StopNew { .. }))
        .count();
    assert!(stopped_new > 0, "new instances are stopped as StopNew");
}

#[test]
fn commands_refuse_what_does_not_apply() {
    let mut sim = Sim::new(2, vec![1]);
    let state = rollout(2, policy(Amount::Count(1), Amount::Count(0)), &mut sim);
    let err = command(&state, Command::Promote, T0).expect_err("no canary");
    assert!(
        err.to_string().contains("not waiting for a promote"),
        "{err}"
    );
    assert!(matches!(
        command(&state, Command::Resume, T0),
        Err(CommandError::NotPaused { .. })
    ));
    let (paused, steps) = command(&state, Command::Pause, T0).expect("pause");
    assert_eq!(paused.phase.name(), "paused");
    assert_eq!(steps.len(), 1);
    assert!(matches!(
        command(&paused, Command::Pause, T0),
        Err(CommandError::AlreadyPaused { .. })
    ));
    let out = drive(state, sim, 100, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.state.phase, Phase::Succeeded);
    let err = command(&out.state, Command::Rollback, T0).expect_err("finished");
    assert_eq!(err.to_string(), "the rollout of web has already succeeded");
    let (same, steps) = step(&out.state, &Observed::default(), T0 + 999_999);
    assert!(steps.is_empty());
    assert_eq!(same, out.state, "a finished rollout does not change");
}

#[test]
fn a_stop_that_never_lands_is_asked_again_then_the_rollout_stalls() {
    let mut p = policy(Amount::Count(0), Amount::Count(1));
    p.progress_deadline = Duration::from_secs(70);
    let old = Observation {
        instance: 1,
        container: "c1".into(),
        revision: FROM,
        condition: Condition::Healthy,
        restarting: false,
    };
    let observed = Observed {
        instances: vec![old.clone()],
        failed_starts: Vec::new(),
    };
    let state = RolloutState::new("web", FROM, TO, 1, p, &observed, T0);
    let (mut state, steps) = step(&state, &observed, T0);
    let stop = RolloutStep::StopOld {
        instance: InstanceRef {
            instance: 1,
            container: "c1".into(),
        },
    };
    assert_eq!(steps, vec![stop.clone()]);
    let mut asked = vec![T0];
    let mut paused_at = None;
    for t in 1..100 {
        let now = T0 + t * TICK;
        let (next, steps) = step(&state, &observed, now);
        state = next;
        assert_eq!(starts(&steps), 0, "the old instance still holds the slot");
        if steps.contains(&stop) {
            asked.push(now);
        }
        if let Phase::Paused { reason } = &state.phase {
            assert_eq!(reason, "no progress for 70s");
            paused_at = Some(now);
            break;
        }
    }
    assert_eq!(asked, [T0, T0 + STOP_RETRY_MS, T0 + 2 * STOP_RETRY_MS]);
    assert_eq!(paused_at, Some(T0 + 70 * TICK));
    assert_eq!(state.counts.stopping, 1);
}

#[test]
fn a_new_leader_reissues_what_the_last_one_never_ran() {
    for crash in [
        Crash::BeforeSteps(0),
        Crash::BeforeSteps(3),
        Crash::AfterSteps(2),
    ] {
        let mut sim = Sim::new(5, vec![1]);
        let state = rollout(5, policy(Amount::Count(1), Amount::Count(1)), &mut sim);
        let out = drive(state, sim, 200, Some(crash)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.state.phase, Phase::Succeeded, "{crash:?}");
        assert_eq!(out.sim.revisions(), only(TO, 5), "{crash:?}");
        assert_eq!(out.sim.started, 5, "{crash:?}: no extra instance");
    }
}

#[test]
fn failed_starts_are_failures_with_their_reason() {
    let mut sim = Sim::new(2, vec![0]).failing(TO, 100);
    let state = rollout(2, policy(Amount::Count(1), Amount::Count(0)), &mut sim);
    let out = drive(state, sim, 50, None).unwrap_or_else(|e| panic!("{e}"));
    match &out.state.phase {
        Phase::Paused { reason } => {
            assert_eq!(
                reason,
                "an instance of web could not be started: no host has room"
            );
        }
        other => panic!("expected paused, got {other:?}"),
    }
    assert_eq!(out.state.counts.starting, 0);
    assert_eq!(out.sim.revisions(), only(FROM, 2));
}

#[test]
fn zero_desired_stops_every_old_instance_and_starts_none() {
    let mut sim = Sim::new(3, vec![1]);
    let mut state = rollout(
        0,
        policy(Amount::Percent(25), Amount::Percent(25)),
        &mut sim,
    );
    let mut all = Vec::new();
    for _ in 0..5 {
        sim.advance();
        let (next, steps) = step(&state, &sim.observe(), sim.now);
        sim.apply(&steps);
        all.extend(steps);
        state = next;
    }
    assert_eq!(state.phase, Phase::Succeeded);
    assert!(sim.revisions().is_empty());
    assert_eq!(stops(&all), 3);
    assert_eq!(starts(&all), 0);
}

#[test]
fn observations_follow_engine_state_and_health() {
    let spec = crate::domain::app::AppSpec::new("web", "wheelhouse/demo:1");
    let rev = labels::revision(&spec);
    let id = Identity::from_labels(&labels::labels(&spec, 3, rev, &[])).expect("labels");
    let inst = |state, health, crash_looping| Instance {
        id: id.clone(),
        host: "h".into(),
        container: "c".into(),
        name: "web.3".into(),
        state,
        health,
        crash_looping,
        unhealthy_past_grace: false,
    };
    let cases = [
        (RunState::Running, Health::None, false, Condition::Healthy),
        (
            RunState::Running,
            Health::Healthy,
            false,
            Condition::Healthy,
        ),
        (
            RunState::Running,
            Health::Starting,
            false,
            Condition::Starting,
        ),
        (
            RunState::Running,
            Health::Unhealthy,
            false,
            Condition::Unhealthy,
        ),
        (RunState::Running, Health::Healthy, true, Condition::Exited),
        (
            RunState::Restarting,
            Health::None,
            false,
            Condition::Unhealthy,
        ),
        (RunState::Failed, Health::None, false, Condition::Exited),
        (
            RunState::Removing,
            Health::Healthy,
            false,
            Condition::Exited,
        ),
    ];
    for (state, health, looping, want) in cases {
        let o = Observation::from_instance(&inst(state, health, looping));
        assert_eq!(o.condition, want, "{state:?} {health:?} {looping}");
        assert_eq!((o.instance, o.revision), (3, rev));
    }
    let observed = Observed::from_instances(&[inst(RunState::Running, Health::None, false)]);
    assert_eq!(observed.instances.len(), 1);
}

#[test]
fn scaled_down_midway_ends_with_the_new_count() {
    let mut sim = Sim::new(6, vec![1]);
    let mut state = rollout(6, policy(Amount::Count(2), Amount::Count(1)), &mut sim);
    for t in 0..60 {
        if t == 3 {
            state.desired = 3;
        }
        sim.advance();
        let (next, steps) = step(&state, &sim.observe(), sim.now);
        sim.apply(&steps);
        state = next;
        if t > 3 {
            assert!(sim.total() <= 3 + 2 || starts(&steps) == 0, "{steps:?}");
        }
        if state.phase.is_done() {
            break;
        }
    }
    assert_eq!(state.phase, Phase::Succeeded);
    assert_eq!(sim.revisions(), only(TO, 3));
}

#[test]
fn state_json_names_the_phase() {
    let mut sim = Sim::new(1, vec![1]);
    let state = rollout(1, policy(Amount::Count(1), Amount::Count(0)), &mut sim);
    let (paused, _) = command(&state, Command::Pause, T0).expect("pause");
    let json: serde_json::Value =
        serde_json::from_str(&paused.to_json().expect("json")).expect("parses");
    assert_eq!(json["phase"]["name"], "paused");
    assert_eq!(json["phase"]["reason"], "paused by the operator");
    assert_eq!(json["to_revision"], TO);
    assert_eq!(json["policy"]["max_surge"], 1);
    let back = RolloutState::from_json(json.to_string().as_bytes()).expect("reads back");
    assert_eq!(back, paused);
}

#[test]
fn with_a_surge_the_start_is_listed_before_the_stops() {
    let mut sim = Sim::new(4, vec![1]);
    let state = rollout(4, policy(Amount::Count(1), Amount::Count(1)), &mut sim);
    sim.advance();
    let (_, steps) = step(&state, &sim.observe(), sim.now);
    assert!(
        matches!(
            steps.as_slice(),
            [
                RolloutStep::StartNew { count: 1, .. },
                RolloutStep::StopOld { .. }
            ]
        ),
        "{steps:?}"
    );
}

#[test]
fn a_restart_the_operator_asked_for_is_waited_for_not_a_failure() {
    // Desired 2: old c1 still runs, new c2 is healthy; then c2 is restarted by hand.
    let obs = |container: &str, revision, condition, restarting| Observation {
        instance: if container == "c1" { 1 } else { 2 },
        container: container.into(),
        revision,
        condition,
        restarting,
    };
    let at = |list: Vec<Observation>| Observed {
        instances: list,
        failed_starts: Vec::new(),
    };
    let p = policy(Amount::Count(0), Amount::Count(1));
    let before = at(vec![
        obs("c1", FROM, Condition::Healthy, false),
        obs("c2", TO, Condition::Healthy, false),
    ]);
    let state = RolloutState::new("web", FROM, TO, 2, p, &before, T0);
    let (state, _) = step(&state, &before, T0);
    for (restarting, failed) in [(true, false), (false, true)] {
        let exited = at(vec![
            obs("c1", FROM, Condition::Healthy, false),
            obs("c2", TO, Condition::Exited, restarting),
        ]);
        let (next, steps) = step(&state, &exited, T0 + TICK);
        assert_eq!(!next.failures.is_empty(), failed, "restarting {restarting}");
        let stops_c2 = steps
            .iter()
            .any(|s| matches!(s, RolloutStep::StopNew { instance } if instance.container == "c2"));
        let gave_up = matches!(next.phase, Phase::Paused { .. } | Phase::RollingBack { .. });
        assert_eq!(gave_up, failed, "restarting {restarting}: {:?}", next.phase);
        if restarting {
            assert!(!stops_c2, "{steps:?}");
            assert!(matches!(next.phase, Phase::Progressing), "{:?}", next.phase);
            // Back and healthy: the rollout goes on, with no failure on record.
            let (next, _) = step(&next, &before, T0 + 2 * TICK);
            assert!(next.failures.is_empty(), "{:?}", next.failures);
            assert!(!matches!(
                next.phase,
                Phase::Paused { .. } | Phase::RollingBack { .. }
            ));
        }
    }
}

#[test]
fn failures_name_containers_by_their_short_id() {
    let failure = |container: Option<&str>| Failure {
        at_ms: 0,
        revision: TO,
        instance: Some(1),
        container: container.map(str::to_owned),
        reason: "instance web/1 exited".into(),
    };
    let long = "0123456789abcdef".repeat(4);
    assert_eq!(failure(Some(&long)).short_container(), "0123456789ab");
    assert_eq!(failure(Some("c1")).short_container(), "c1");
    assert_eq!(failure(None).short_container(), "(no container)");
}

#[test]
fn a_restart_reads_as_one_not_as_an_image_to_itself() {
    let from = AppSpec::new("web", "demo:1");
    let mut to = from.clone();
    assert_eq!(change_text(Some(&from), &to), "new spec of demo:1");
    to.restart_generation += 1;
    assert_eq!(change_text(Some(&from), &to), "restart of demo:1");
    to.image = "demo:2".into();
    assert_eq!(change_text(Some(&from), &to), "demo:1 → demo:2");
    assert_eq!(change_text(None, &to), "? → demo:2");
}

#[test]
fn counts_read_as_words() {
    let mut c = Counts {
        old: 2,
        new: 4,
        new_available: 3,
        ..Counts::default()
    };
    assert_eq!(counts_text(&c), "old 2 · new 4 (3 healthy)");
    c.failed = 1;
    assert_eq!(counts_text(&c), "old 2 · new 4 (3 healthy) · 1 failed");
}
