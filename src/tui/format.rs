//! Figures as the screen shows them: percentages, human byte sizes, ages.

pub use crate::domain::duration::age;
use std::borrow::Cow;

/// "12%" (whole percent).
pub fn percent(value: f64) -> String {
    format!("{value:.0}%")
}

/// Binary units, three significant figures: "512 B", "1.50 KiB", "12.3 MiB", "7.81 GiB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{n} B"),
        _ if value >= 100.0 => format!("{value:.0} {}", UNITS[unit]),
        _ if value >= 10.0 => format!("{value:.1} {}", UNITS[unit]),
        _ => format!("{value:.2} {}", UNITS[unit]),
    }
}

/// At most `width` characters, ending in "…" when cut.
pub fn truncate(text: &str, width: usize) -> Cow<'_, str> {
    if text.chars().count() <= width {
        return Cow::Borrowed(text);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('…');
    Cow::Owned(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.50 KiB");
        assert_eq!(bytes(12 * 1024 * 1024 + 300 * 1024), "12.3 MiB");
        assert_eq!(bytes(8_000_000_000), "7.45 GiB");
        assert_eq!(bytes(512 * 1024 * 1024), "512 MiB");
        assert_eq!(bytes(u64::MAX), "16384 PiB");
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("lab-1", 8), "lab-1");
        assert_eq!(truncate("lab-host-0042", 8), "lab-hos…");
        assert_eq!(truncate("abc", 0), "");
        assert_eq!(percent(12.4), "12%");
        assert_eq!(percent(99.6), "100%");
    }
}
