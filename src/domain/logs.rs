//! A line of a container's output as every reader (a screen, `ctl logs`) gets it: when the
//! engine took it, from which stream, from which instance, and its text already made safe
//! to print by the sanitizer.

use std::sync::Arc;

/// Which of the container's output streams a line came from (containers run without a
/// TTY, so the engine keeps them apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// Where a line comes from; shared by every line of one container, so a line costs no
/// copies of these names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogSource {
    /// What a merged view prefixes the line with: `web.3` for an instance of app `web`,
    /// else the container's name.
    pub tag: Arc<str>,
    pub container: Arc<str>,
    pub host: Arc<str>,
}

/// One line of output, without its line break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// When the engine read it, in nanoseconds since the Unix epoch (UTC).
    pub unix_nanos: i64,
    pub stream: Stream,
    pub source: LogSource,
    /// Sanitized: no escape sequence, control character or bidi override.
    pub text: String,
}

impl LogLine {
    /// The line as plain text, with its line break: `[TIME ][TAG | ][stderr] TEXT` (what
    /// `ctl logs` prints and the logs view saves).
    pub fn write_plain(&self, timestamps: bool, prefix: bool, out: &mut Vec<u8>) {
        if timestamps {
            out.extend_from_slice(format_timestamp(self.unix_nanos).as_bytes());
            out.push(b' ');
        }
        if prefix {
            out.extend_from_slice(self.source.tag.as_bytes());
            out.extend_from_slice(b" | ");
        }
        if self.stream == Stream::Stderr {
            out.extend_from_slice(b"[stderr] ");
        }
        out.extend_from_slice(self.text.as_bytes());
        out.push(b'\n');
    }
}

const NANOS: i64 = 1_000_000_000;

/// The engine's timestamp (`2024-05-01T12:00:00.123456789Z`, or an offset such as
/// `+02:00`; fewer fraction digits allowed) in nanoseconds since the epoch. None for
/// anything else, so a line that does not start with one is read as text.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = text.get(from..to)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut fraction = 0;
    if let Some(after) = rest.strip_prefix('.') {
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        fraction = after[..digits].parse::<i64>().ok()? * 10_i64.pow(9 - digits as u32);
        rest = &after[digits..];
    }
    let offset = match rest {
        "Z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            sign * (num_at(rest, 1)? * 3600 + num_at(rest, 4)? * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    // Past 2262 the nanoseconds do not fit: not a time an engine writes.
    secs.checked_mul(NANOS)?.checked_add(fraction)
}

fn num_at(text: &str, at: usize) -> Option<i64> {
    let part = text.get(at..at + 2)?;
    part.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| part.parse().ok())?
}

/// `2024-05-01T12:00:00.123456789Z`: the engine's own format, nine fraction digits.
pub fn format_timestamp(unix_nanos: i64) -> String {
    let secs = unix_nanos.div_euclid(NANOS);
    let fraction = unix_nanos.rem_euclid(NANOS);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:09}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (eras of 400 years, March first).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of `days_from_civil`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_timestamps_read_to_the_nanosecond() {
        let t = parse_timestamp("2024-05-01T12:00:00.123456789Z");
        assert_eq!(t, Some(1_714_564_800 * NANOS + 123_456_789));
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_timestamp("2024-05-01T14:00:00.5+02:00"),
            Some(1_714_564_800 * NANOS + 500_000_000)
        );
        assert_eq!(
            parse_timestamp("2000-02-29T00:00:00Z"),
            Some(951_782_400 * NANOS)
        );
    }

    #[test]
    fn anything_else_is_text() {
        for text in [
            "",
            "hello world",
            "2024-05-01 12:00:00Z",
            "2024-13-01T12:00:00Z",
            "2024-05-01T12:00:00.Z",
            "2024-05-01T12:00:00.1234567890Z",
            "2024-05-01T12:00:00",
            "2024-05-01T12:00:00+0200",
            "2024-05-01T12:00:00Zjunk",
            "2024-05-01T1é:00:00Z",
            "+024-05-01T12:00:00Z",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text:?}");
        }
        for text in [
            "2999-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999-23:59",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text:?}");
        }
    }

    #[test]
    fn formatting_is_the_inverse_of_parsing() {
        for nanos in [
            0,
            1,
            951_782_400 * NANOS,
            1_714_564_800 * NANOS + 123_456_789,
        ] {
            let text = format_timestamp(nanos);
            assert_eq!(parse_timestamp(&text), Some(nanos), "{text}");
        }
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00.000000000Z");
        // Before the epoch (a clock set wrong) still formats.
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59.999999999Z");
    }
}
