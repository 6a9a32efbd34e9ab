//! How an app's instances are replaced when its spec changes: the update policy.
//!
//! The surge and unavailability budgets may be counts or percentages of the desired
//! instances; the rollout state machine (`crate::plan::rollout`) resolves them against the
//! count it rolls.

use super::millis;
use crate::domain::Bounds;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// A budget of instances: a plain count, or a percentage of the desired count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "AmountRepr", into = "AmountRepr")]
pub enum Amount {
    Count(u32),
    /// 0 to 100.
    Percent(u32),
}

/// JSON and TOML write a count as a number and a percentage as "25%".
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum AmountRepr {
    Count(u32),
    Text(String),
}

impl TryFrom<AmountRepr> for Amount {
    type Error = String;

    fn try_from(repr: AmountRepr) -> Result<Amount, String> {
        match repr {
            AmountRepr::Count(n) => Ok(Amount::Count(n)),
            AmountRepr::Text(text) => Amount::parse(&text),
        }
    }
}

impl From<Amount> for AmountRepr {
    fn from(amount: Amount) -> AmountRepr {
        match amount {
            Amount::Count(n) => AmountRepr::Count(n),
            Amount::Percent(_) => AmountRepr::Text(amount.to_string()),
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amount::Count(n) => write!(f, "{n}"),
            Amount::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl Amount {
    /// "3" or "25%" (whole percentages from 0 to 100).
    pub fn parse(text: &str) -> Result<Amount, String> {
        let trimmed = text.trim();
        let bad = || format!("{text:?} is not a count like 2 or a percentage like \"25%\"");
        let digits_only = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        match trimmed.strip_suffix('%') {
            Some(number) => {
                let number = number.trim();
                if !digits_only(number) {
                    return Err(bad());
                }
                match number.parse::<u32>() {
                    Ok(p) if p <= 100 => Ok(Amount::Percent(p)),
                    _ => Err(format!("{text:?} is above 100%")),
                }
            }
            None if digits_only(trimmed) => trimmed.parse().map(Amount::Count).map_err(|_| bad()),
            None => Err(bad()),
        }
    }

    /// Whether this resolves to 0 whatever the desired count.
    pub fn is_zero(self) -> bool {
        matches!(self, Amount::Count(0) | Amount::Percent(0))
    }

    /// Percentages of `desired`, rounded up or down.
    fn resolve(self, desired: u32, round_up: bool) -> u32 {
        match self {
            Amount::Count(n) => n,
            Amount::Percent(p) => {
                let scaled = u64::from(p) * u64::from(desired);
                let n = if round_up {
                    scaled.div_ceil(100)
                } else {
                    scaled / 100
                };
                u32::try_from(n).unwrap_or(u32::MAX)
            }
        }
    }
}

/// What a rollout does when a new instance fails or it stops making progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureAction {
    /// Stop starting and stopping; wait for the operator to resume or roll back.
    #[default]
    Pause,
    /// Roll back to the revision the rollout started from.
    Rollback,
    /// Replace the failed instance and go on, until failures exceed `max_failure_ratio`.
    Continue,
}

impl FailureAction {
    pub const ALL: [FailureAction; 3] = [
        FailureAction::Pause,
        FailureAction::Rollback,
        FailureAction::Continue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureAction::Pause => "pause",
            FailureAction::Rollback => "rollback",
            FailureAction::Continue => "continue",
        }
    }

    pub fn parse(text: &str) -> Option<FailureAction> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// The `[update]` table of an app spec. Every field has a default, so specs written
/// before it existed still load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpdatePolicy {
    /// Instances allowed above the desired count during a rollout (default 25%, rounded up).
    pub max_surge: Amount,
    /// Instances allowed below the desired count of available ones (default 25%, rounded
    /// down).
    pub max_unavailable: Amount,
    /// How long an instance must stay healthy before it counts as available.
    #[serde(with = "millis")]
    pub min_ready: Duration,
    /// How long a new instance has to become healthy before it counts as failed.
    #[serde(with = "millis")]
    pub healthy_deadline: Duration,
    /// How long a rollout may go without progress before it counts as failed.
    #[serde(with = "millis")]
    pub progress_deadline: Duration,
    pub failure_action: FailureAction,
    /// With `failure_action = "continue"`: the share of the desired count that may fail
    /// before the rollout gives up (0.0 to 1.0).
    pub max_failure_ratio: f64,
    /// Start this many new instances first, then wait for a promote (0: no canary).
    pub canary: u32,
    /// Earlier specs kept for rollback.
    pub history_limit: u32,
}

/// A policy's budgets for one desired count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// Most instances above the desired count.
    pub surge: u32,
    /// Most instances below the desired count of available ones.
    pub unavailable: u32,
}

impl Default for UpdatePolicy {
    fn default() -> Self {
        UpdatePolicy {
            max_surge: Amount::Percent(25),
            max_unavailable: Amount::Percent(25),
            min_ready: UpdatePolicy::DEFAULT_MIN_READY,
            healthy_deadline: UpdatePolicy::DEFAULT_HEALTHY_DEADLINE,
            progress_deadline: UpdatePolicy::DEFAULT_PROGRESS_DEADLINE,
            failure_action: FailureAction::Pause,
            max_failure_ratio: 0.0,
            canary: 0,
            history_limit: UpdatePolicy::DEFAULT_HISTORY_LIMIT,
        }
    }
}

impl UpdatePolicy {
    pub const DEFAULT_MIN_READY: Duration = Duration::from_secs(10);
    pub const DEFAULT_HEALTHY_DEADLINE: Duration = Duration::from_secs(300);
    pub const DEFAULT_PROGRESS_DEADLINE: Duration = Duration::from_secs(600);
    pub const DEFAULT_HISTORY_LIMIT: u32 = 10;
    pub const MAX_HISTORY_LIMIT: u32 = 100;

    /// The budgets for `desired` instances. Surge percentages round up and unavailability
    /// percentages round down, so 25% of 1 is a surge of 1 and no unavailability. When a
    /// percentage rounds both to 0 (surge 0, unavailable 10% of 5), one instance may be
    /// unavailable: otherwise nothing could ever be replaced.
    pub fn resolve(&self, desired: u32) -> Resolved {
        let surge = self.max_surge.resolve(desired, true);
        let mut unavailable = self.max_unavailable.resolve(desired, false).min(desired);
        if surge == 0 && unavailable == 0 && desired > 0 {
            unavailable = 1;
        }
        Resolved { surge, unavailable }
    }

    /// Every check, for policies that did not come from TOML.
    pub fn validate(&self) -> Result<(), String> {
        check_budgets(self.max_surge, self.max_unavailable)?;
        check_min_ready(self.min_ready)?;
        check_deadline("healthy_deadline", self.healthy_deadline)?;
        check_deadline("progress_deadline", self.progress_deadline)?;
        check_progress_after_ready(self.progress_deadline, self.min_ready)?;
        check_failure_ratio(self.max_failure_ratio)?;
        check_history_limit(i64::from(self.history_limit))
    }
}

pub(super) fn check_budgets(surge: Amount, unavailable: Amount) -> Result<(), String> {
    if surge.is_zero() && unavailable.is_zero() {
        return Err(
            "update.max_surge and update.max_unavailable are both 0: no instance could ever be \
             replaced; allow a surge (new before old) or some unavailability (old before new)"
                .into(),
        );
    }
    Ok(())
}

/// How long a new instance must stay up before it counts as ready.
pub(super) const MIN_READY: Bounds = Bounds::new(Duration::ZERO, Duration::from_secs(3600));
/// The healthy and progress deadlines.
pub(super) const DEADLINE: Bounds =
    Bounds::new(Duration::from_secs(1), Duration::from_secs(24 * 3600));

fn check_min_ready(d: Duration) -> Result<(), String> {
    MIN_READY.check("update.min_ready", d)
}

fn check_deadline(what: &str, d: Duration) -> Result<(), String> {
    DEADLINE.check(&format!("update.{what}"), d)
}

/// An instance is only seen to progress after `min_ready`, so a shorter progress deadline
/// would fail every rollout.
pub(super) fn check_progress_after_ready(
    progress: Duration,
    ready: Duration,
) -> Result<(), String> {
    if progress <= ready {
        return Err(format!(
            "update.progress_deadline ({}s) must be longer than update.min_ready ({}s)",
            progress.as_secs_f64(),
            ready.as_secs_f64()
        ));
    }
    Ok(())
}

pub(super) fn check_failure_ratio(ratio: f64) -> Result<(), String> {
    if !(0.0..=1.0).contains(&ratio) {
        return Err(format!(
            "update.max_failure_ratio {ratio} must be between 0.0 and 1.0"
        ));
    }
    Ok(())
}

pub(super) fn check_history_limit(n: i64) -> Result<(), String> {
    let max = UpdatePolicy::MAX_HISTORY_LIMIT;
    if (1..=i64::from(max)).contains(&n) {
        Ok(())
    } else {
        Err(format!("update.history_limit {n} must be 1 to {max}"))
    }
}
