//! Random policies, instance counts and failure patterns, driven through the simulator:
//! the invariants hold at every tick, every rollout ends (succeeded, or paused, failed or
//! rolled back on failure), and a new leader resuming from the stored state ends where an
//! uninterrupted leader ends.

use super::sim::{Amount, Crash, FROM, Outcome, Sim, TO, drive, policy, rollout};
use super::*;
use crate::domain::app::FailureAction;
use proptest::prelude::*;
use proptest::sample::select;
use std::collections::BTreeMap;
use std::time::Duration;

/// Enough ticks for 12 instances one at a time with every deadline spent.
const MAX_TICKS: u64 = 2000;

fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        (0u32..4).prop_map(Amount::Count),
        select(vec![0u32, 10, 25, 50, 100]).prop_map(Amount::Percent),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    desired: u32,
    policy: UpdatePolicy,
    /// Percent of new instances that fail, and of old ones started by a rollback.
    fail_to: u32,
    fail_from: u32,
    pattern: Vec<u8>,
}

fn case() -> impl Strategy<Value = Case> {
    let budgets =
        (amount(), amount()).prop_filter("both budgets 0", |(s, u)| !(s.is_zero() && u.is_zero()));
    (
        0u32..=12,
        budgets,
        0u64..4,
        select(FailureAction::ALL.to_vec()),
        select(vec![0.0, 0.2, 0.5, 1.0]),
        0u32..4,
        select(vec![0u32, 0, 5, 30, 100]),
        select(vec![0u32, 0, 0, 20]),
        prop::collection::vec(any::<u8>(), 1..24),
    )
        .prop_map(
            |(
                desired,
                (surge, unavailable),
                ready,
                action,
                ratio,
                canary,
                fail_to,
                fail_from,
                pattern,
            )| {
                let mut p = policy(surge, unavailable);
                p.min_ready = Duration::from_secs(ready);
                p.failure_action = action;
                p.max_failure_ratio = ratio;
                p.canary = canary;
                Case {
                    desired,
                    policy: p,
                    fail_to,
                    fail_from,
                    pattern,
                }
            },
        )
}

fn run(case: &Case, crash: Option<Crash>) -> Result<Outcome, String> {
    let mut sim = Sim::new(case.desired, case.pattern.clone())
        .failing(TO, case.fail_to)
        .failing(FROM, case.fail_from);
    let state = rollout(case.desired, case.policy.clone(), &mut sim);
    drive(state, sim, MAX_TICKS, crash)
}

/// The rollout ended, and its end matches the instances left running.
fn check_end(case: &Case, out: &Outcome) -> Result<(), TestCaseError> {
    let all = |rev: i64| {
        if case.desired == 0 {
            BTreeMap::new()
        } else {
            BTreeMap::from([(rev, case.desired)])
        }
    };
    match &out.state.phase {
        Phase::Succeeded => {
            prop_assert_eq!(out.sim.revisions(), all(TO));
            prop_assert_eq!(out.state.counts.new_available, case.desired);
        }
        Phase::RolledBack { .. } => prop_assert_eq!(out.sim.revisions(), all(FROM)),
        Phase::Paused { reason } | Phase::Failed { reason } => {
            prop_assert!(!out.state.failures.is_empty() || reason.contains("no progress"));
        }
        other => prop_assert!(false, "did not end: {other:?}"),
    }
    if case.fail_to == 0 && case.fail_from == 0 {
        prop_assert_eq!(&out.state.phase, &Phase::Succeeded);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn invariants_hold_and_every_rollout_ends(case in case()) {
        let out = run(&case, None).map_err(TestCaseError::fail)?;
        check_end(&case, &out)?;
    }

    #[test]
    fn a_resumed_rollout_ends_like_an_uninterrupted_one(
        case in case(),
        at in 0u64..40,
        before_steps in any::<bool>(),
    ) {
        let plain = run(&case, None).map_err(TestCaseError::fail)?;
        let crash = if before_steps { Crash::BeforeSteps(at) } else { Crash::AfterSteps(at) };
        let resumed = run(&case, Some(crash)).map_err(TestCaseError::fail)?;
        check_end(&case, &resumed)?;
        prop_assert_eq!(resumed.state.phase.name(), plain.state.phase.name());
        // A failed or paused rollout leaves instances as they stood, which depends on
        // timing; a finished one leaves exactly one revision.
        if matches!(plain.state.phase, Phase::Succeeded | Phase::RolledBack { .. }) {
            prop_assert_eq!(resumed.sim.revisions(), plain.sim.revisions());
        }
    }
}
