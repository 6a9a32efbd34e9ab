//! Instance counts, CPU shares and memory sizes: parsing, limits and display.

use super::{MAX_CPUS, MAX_MEMORY, MIN_CPUS, MIN_MEMORY};

/// Checks a requested instance count against the configured maximum. Used by the spec
/// parser and by `scale`, so both refuse the same counts with the same words.
pub fn validate_instances(n: i64, max: u32) -> Result<u32, String> {
    if n < 0 {
        return Err(format!("instances must not be negative (got {n})"));
    }
    match u32::try_from(n) {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("instances {n} is above the maximum of {max}")),
    }
}

/// A count typed by an operator (`ctl scale web 32`, the cockpit's prompt).
pub fn parse_instances(text: &str, max: u32) -> Result<u32, String> {
    let text = text.trim();
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{text:?} is not a whole number of instances"));
    }
    // Too many digits for i64 is absurd either way; report it against the maximum.
    let n = text.parse::<i64>().unwrap_or(if text.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    });
    validate_instances(n, max)
}

pub(super) fn check_cpus(cpus: f64) -> Result<(), String> {
    if !cpus.is_finite() || cpus <= 0.0 {
        return Err(format!(
            "cpus must be a positive number of cores (got {cpus})"
        ));
    }
    if cpus < MIN_CPUS {
        return Err(format!(
            "cpus {cpus} is below the smallest share of {MIN_CPUS}"
        ));
    }
    if cpus > MAX_CPUS {
        return Err(format!(
            "cpus {cpus} is above the maximum of {MAX_CPUS} cores"
        ));
    }
    Ok(())
}

/// Cores to thousandths of a core, rounded; out-of-range input saturates.
pub(super) fn cpu_millis(cpus: f64) -> u64 {
    (cpus * 1000.0).round() as u64
}

pub(super) fn check_memory(bytes: u64) -> Result<(), String> {
    if bytes < MIN_MEMORY {
        return Err(format!(
            "memory {} is below Docker's minimum of 6 MiB",
            format_memory(bytes)
        ));
    }
    if bytes > MAX_MEMORY {
        return Err(format!(
            "memory {} is above the maximum of 4 TiB",
            format_memory(bytes)
        ));
    }
    Ok(())
}

/// "128MiB", "1GiB", "512M", "1.5g", "4096" (bytes). Like Docker, every unit is binary:
/// k, m, g and t (with or without "b" or "ib") are powers of 1024.
pub fn parse_memory(text: &str) -> Result<u64, String> {
    let bad = || {
        format!("memory {text:?} is not a size like \"128MiB\", \"1GiB\", \"512M\" or a byte count")
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: f64 = number.parse().map_err(|_| bad())?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad()),
    };
    let bytes = number * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes > u64::MAX as f64 {
        return Err(bad());
    }
    let bytes = bytes.round() as u64;
    check_memory(bytes)?;
    Ok(bytes)
}

/// "512 MiB", "1.5 GiB", "100 B": binary units, at most one decimal.
pub fn format_memory(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || (value - value.round()).abs() < 0.05 {
        format!("{:.0} {}", value, UNITS[unit])
    } else {
        format!("{:.1} {}", value, UNITS[unit])
    }
}
