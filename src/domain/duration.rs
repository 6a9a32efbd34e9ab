//! The one duration reader: "500ms", "2s", "1.5m", "1h" or a bare number of seconds, read
//! exactly (no floating point) to the millisecond and checked against the setting's bounds
//! before a `Duration` is made, so no text can overflow or panic it. Every door that takes a
//! duration (config, app specs, key scripts, command-line flags) reads it here.

use std::time::Duration;

const NANOS_PER_MS: u128 = 1_000_000;
const NANOS_PER_S: u128 = 1_000 * NANOS_PER_MS;

/// The shortest and longest duration a setting takes, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub min: Duration,
    pub max: Duration,
}

impl Bounds {
    pub const fn new(min: Duration, max: Duration) -> Self {
        Bounds { min, max }
    }

    /// Reads `text` for the setting `what` (empty when the caller names it itself, as clap
    /// does for flags): a duration within these bounds, or a message saying what is wrong.
    pub fn parse(self, what: &str, text: &str) -> Result<Duration, String> {
        let shown = shown(what, text);
        let nanos = nanos(text)
            .ok_or_else(|| format!("{shown} is not a duration like \"2s\", \"500ms\" or \"5m\""))?;
        if nanos > self.max.as_nanos() || nanos < self.min.as_nanos() {
            return Err(format!("{shown} must be {}", self.range()));
        }
        // Specs keep whole milliseconds (JSON in etcd): finer would not survive a save.
        if nanos % NANOS_PER_MS != 0 {
            return Err(format!("{shown} is finer than a millisecond"));
        }
        // Within `max`, so it fits: the division cannot leave more seconds than a u64 holds.
        let secs = u64::try_from(nanos / NANOS_PER_S).unwrap_or(u64::MAX);
        let sub = u32::try_from(nanos % NANOS_PER_S).unwrap_or(0);
        Ok(Duration::new(secs, sub))
    }

    /// Checks a duration that did not come as text (JSON from etcd).
    pub fn check(self, what: &str, d: Duration) -> Result<(), String> {
        if d < self.min || d > self.max {
            return Err(format!("{what} must be {}", self.range()));
        }
        Ok(())
    }

    /// "between 100ms and 1h"
    fn range(self) -> String {
        format!(
            "between {} and {}",
            format_duration(self.min),
            format_duration(self.max)
        )
    }
}

fn shown(what: &str, text: &str) -> String {
    let text = crate::domain::excerpt(text);
    if what.is_empty() {
        format!("{text:?}")
    } else {
        format!("{what} {text:?}")
    }
}

/// The shortest exact spelling: "1h", "90s", "1500ms", "0s".
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_nanos() != 0 {
        format!("{}ms", d.as_millis())
    } else if secs != 0 && secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs != 0 && secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// The largest whole unit: "0s", "59s", "3m", "2h", "4d".
pub fn age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// Nanoseconds `text` stands for, saturating (a huge number is simply too long), or None
/// when it is not a duration at all.
fn nanos(text: &str) -> Option<u128> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let per_unit = match unit.trim() {
        "ms" => NANOS_PER_MS,
        "" | "s" => NANOS_PER_S,
        "m" => 60 * NANOS_PER_S,
        "h" => 3600 * NANOS_PER_S,
        _ => return None,
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return None;
    }
    let whole = digits(whole).saturating_mul(per_unit);
    // Digits past the 18th are below a nanosecond of an hour: they cannot change the result.
    let kept = &fraction[..fraction.len().min(18)];
    let scale = 10u128.pow(u32::try_from(kept.len()).unwrap_or(0));
    let part = digits(kept) * per_unit / scale;
    Some(whole.saturating_add(part))
}

/// A run of ASCII digits as a number, saturating.
fn digits(text: &str) -> u128 {
    text.bytes().fold(0u128, |n, b| {
        n.saturating_mul(10).saturating_add(u128::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_use_the_largest_unit() {
        assert_eq!(age(Duration::from_millis(900)), "0s");
        assert_eq!(age(Duration::from_secs(59)), "59s");
        assert_eq!(age(Duration::from_secs(61)), "1m");
        assert_eq!(age(Duration::from_secs(7300)), "2h");
        assert_eq!(age(Duration::from_secs(3 * 86_400)), "3d");
    }

    const ANY: Bounds = Bounds::new(Duration::ZERO, Duration::from_secs(24 * 3600));

    fn read(text: &str) -> Result<Duration, String> {
        ANY.parse("x", text)
    }

    #[test]
    fn units_and_bare_seconds() {
        assert_eq!(read("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(read("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(read("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(read("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(read("3"), Ok(Duration::from_secs(3)));
        assert_eq!(read(" 4 s "), Ok(Duration::from_secs(4)));
        assert_eq!(read("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn fractions_are_exact() {
        assert_eq!(read("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(read(".5s"), Ok(Duration::from_millis(500)));
        assert_eq!(read("5."), Ok(Duration::from_secs(5)));
        assert_eq!(read("0.1h"), Ok(Duration::from_secs(360)));
        assert_eq!(read("0.0005h"), Ok(Duration::from_millis(1800)));
        assert_eq!(
            read("1.0000000000000000000000000001s"),
            Ok(Duration::from_secs(1))
        );
    }

    /// Found writing the fuzz round trip: 100.5ms was kept to the nanosecond, and a spec
    /// saved to etcd (whole milliseconds) came back different.
    #[test]
    fn precision_is_the_millisecond() {
        for text in ["100.5ms", "0.0001s", "1.0000001m", "0.001ms"] {
            let err = read(text).expect_err(text);
            assert!(err.ends_with("is finer than a millisecond"), "{err}");
        }
    }

    #[test]
    fn what_is_not_a_duration_says_so() {
        for text in [
            "",
            ".",
            "1.2.3s",
            "-1s",
            "2 parsecs",
            "1e3",
            "inf",
            "NaN",
            "1d",
            "s",
        ] {
            let err = read(text).expect_err(text);
            assert!(err.contains("is not a duration like"), "{text}: {err}");
        }
    }

    /// Issue 9 item 1: these panicked in `Duration::from_secs_f64`.
    #[test]
    fn huge_durations_are_out_of_bounds_not_a_panic() {
        for text in [
            "99999999999999999999999h",
            "99999999999999999999h",
            "18446744073709551616",
            "340282366920938463463374607431768211456s",
            &"9".repeat(10_000),
            &format!("{}.{}h", "9".repeat(500), "9".repeat(500)),
        ] {
            let err = read(text).expect_err(text);
            assert!(err.ends_with("must be between 0s and 24h"), "{err}");
        }
    }

    #[test]
    fn bounds_are_inclusive_and_named() {
        let b = Bounds::new(Duration::from_millis(100), Duration::from_secs(3600));
        assert_eq!(b.parse("refresh", "100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(b.parse("refresh", "1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(
            b.parse("refresh", "99ms"),
            Err("refresh \"99ms\" must be between 100ms and 1h".into())
        );
        assert_eq!(
            b.parse("", "1.001h"),
            Err("\"1.001h\" must be between 100ms and 1h".into())
        );
        assert_eq!(
            b.check("health.interval", Duration::from_secs(3601)),
            Err("health.interval must be between 100ms and 1h".into())
        );
        assert_eq!(b.check("health.interval", Duration::from_secs(1)), Ok(()));
    }

    #[test]
    fn long_text_is_echoed_short() {
        let err = read(&"x".repeat(1 << 20)).expect_err("not a duration");
        assert!(err.len() < 200, "{}", err.len());
        // Control characters show escaped: 60 of them, not the whole text.
        let err = read(&"\u{10}".repeat(1 << 10)).expect_err("not a duration");
        assert_eq!(err.matches("\\u{10}").count(), 60, "{err}");
    }

    #[test]
    fn formatting_picks_the_largest_whole_unit() {
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_secs(24 * 3600)), "24h");
    }
}
