//! A container's last health check as its engine ran it (inspect's `State.Health.Log`,
//! newest entry): when, with what exit code, and the first line of what it printed, made
//! safe to show. The trace puts it on each instance ("✓ 12s ago", "✗ 3s ago: exit 1 …").

use super::sanitize::clean;
use std::time::{Duration, Instant};

/// The most characters of a check's output kept: a line of a table, not a log.
pub const OUTPUT_MAX: usize = 120;

#[derive(Debug, Clone, PartialEq)]
pub struct LastCheck {
    /// Start and end in nanoseconds since the epoch, on the engine's clock; None when the
    /// engine gave no readable time.
    pub started: Option<i64>,
    pub ended: Option<i64>,
    /// The end on this process's monotonic clock, for ages on a screen; None with `ended`.
    pub ended_at: Option<Instant>,
    /// 0 healthy, 1 unhealthy, anything else: the check could not run.
    pub exit_code: i64,
    /// The output's first non-empty line, sanitized, at most `OUTPUT_MAX` characters.
    pub output: String,
}

impl LastCheck {
    pub fn ok(&self) -> bool {
        self.exit_code == 0
    }

    /// "✓ 12s ago", "✗ 3s ago: exit 1 connection refused"; `age` words the time since
    /// the check ended (None: unknown, the age is left out).
    pub fn describe(&self, age: Option<String>) -> String {
        let glyph = if self.ok() { "✓" } else { "✗" };
        let mut out = glyph.to_owned();
        if let Some(age) = age {
            out.push_str(&format!(" {age} ago"));
        }
        if !self.ok() {
            out.push_str(&format!(": exit {}", self.exit_code));
            if !self.output.is_empty() {
                out.push(' ');
                out.push_str(&self.output);
            }
        }
        out
    }

    /// Time since the check ended, as of `now`; None when its end is not known.
    pub fn age(&self, now: Instant) -> Option<Duration> {
        self.ended_at.map(|at| now.saturating_duration_since(at))
    }
}

/// What the trace says of an instance without a check result: "no health check", or
/// "no check yet" for one whose check has not run.
pub fn no_check_words(has_check: bool) -> &'static str {
    if has_check {
        "no check yet"
    } else {
        "no health check"
    }
}

/// The first non-empty line of `output`, sanitized and cut to `OUTPUT_MAX` characters
/// (with "…" when cut).
pub fn first_line(output: &str) -> String {
    let line = (output.lines())
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let clean = clean(line);
    if clean.chars().count() <= OUTPUT_MAX {
        return clean.into_owned();
    }
    let mut cut: String = clean.chars().take(OUTPUT_MAX - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(exit_code: i64, output: &str) -> LastCheck {
        LastCheck {
            started: Some(1),
            ended: Some(2),
            ended_at: None,
            exit_code,
            output: first_line(output),
        }
    }

    #[test]
    fn a_passing_check_says_when_and_a_failing_one_why() {
        assert_eq!(check(0, "ok\n").describe(Some("12s".into())), "✓ 12s ago");
        assert_eq!(
            check(1, "\n  connection refused\nmore\n").describe(Some("3s".into())),
            "✗ 3s ago: exit 1 connection refused"
        );
        assert_eq!(check(137, "").describe(None), "✗: exit 137");
    }

    #[test]
    fn output_is_one_safe_bounded_line() {
        assert_eq!(
            first_line("\u{1b}[2Jbad\u{202e}x\r\nsecond"),
            "bad\u{fffd}x"
        );
        let long = first_line(&"y".repeat(10_000));
        assert_eq!(long.chars().count(), OUTPUT_MAX);
        assert!(long.ends_with('…'));
        assert_eq!(first_line(""), "");
        assert_eq!(first_line("\n\n"), "");
    }

    #[test]
    fn ages_count_from_the_end_on_the_local_clock() {
        let now = Instant::now();
        let mut c = check(0, "");
        assert_eq!(c.age(now), None);
        c.ended_at = now.checked_sub(Duration::from_secs(12));
        assert_eq!(c.age(now).map(|d| d.as_secs()), Some(12));
        // An end ahead of the clock (skew) reads as now, never negative.
        c.ended_at = Some(now + Duration::from_secs(5));
        assert_eq!(c.age(now), Some(Duration::ZERO));
    }
}
