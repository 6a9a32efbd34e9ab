//! The docker CLI's `docker stats` formulas, applied to the engine's stats samples.

use bollard::models::{ContainerCpuStats, ContainerMemoryStats};

/// CPU in percent of one core between two samples, as `docker stats` computes it:
/// container delta over host delta, times the online CPUs, times 100.
/// Zero when either delta is not positive (first sample, idle container, counter reset).
pub fn cpu_percent(cur: &ContainerCpuStats, pre: &ContainerCpuStats) -> f64 {
    let total = |s: &ContainerCpuStats| s.cpu_usage.as_ref().and_then(|u| u.total_usage);
    let cpu_delta = total(cur).unwrap_or(0) as f64 - total(pre).unwrap_or(0) as f64;
    let system_delta =
        cur.system_cpu_usage.unwrap_or(0) as f64 - pre.system_cpu_usage.unwrap_or(0) as f64;
    // Engines before API 1.27 leave online_cpus out; the CLI counts percpu_usage instead.
    let online = match cur.online_cpus {
        Some(n) if n > 0 => f64::from(n),
        _ => cur
            .cpu_usage
            .as_ref()
            .and_then(|u| u.percpu_usage.as_ref())
            .map_or(0.0, |v| v.len() as f64),
    };
    if system_delta > 0.0 && cpu_delta > 0.0 {
        cpu_delta / system_delta * online * 100.0
    } else {
        0.0
    }
}

/// Memory in use without the page cache, as `docker stats` shows it: usage minus
/// `total_inactive_file` (cgroup v1), else `inactive_file` (cgroup v2), else `cache`
/// (what older CLIs subtracted); the first one present and below usage wins, as in the CLI.
pub fn mem_bytes(mem: &ContainerMemoryStats) -> u64 {
    let usage = mem.usage.unwrap_or(0);
    let stats = mem.stats.as_ref();
    ["total_inactive_file", "inactive_file", "cache"]
        .iter()
        .filter_map(|key| stats.and_then(|s| s.get(*key)).copied())
        .find(|&c| c < usage)
        .map_or(usage, |c| usage - c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::ContainerCpuUsage;
    use std::collections::HashMap;

    fn cpu(
        total: u64,
        system: u64,
        online: Option<u32>,
        percpu: Option<usize>,
    ) -> ContainerCpuStats {
        ContainerCpuStats {
            cpu_usage: Some(ContainerCpuUsage {
                total_usage: Some(total),
                percpu_usage: percpu.map(|n| vec![total / n as u64; n]),
                ..Default::default()
            }),
            system_cpu_usage: Some(system),
            online_cpus: online,
            ..Default::default()
        }
    }

    fn mem(usage: u64, stats: &[(&str, u64)]) -> ContainerMemoryStats {
        ContainerMemoryStats {
            usage: Some(usage),
            stats: Some(
                stats
                    .iter()
                    .map(|(k, v)| (k.to_string(), *v))
                    .collect::<HashMap<_, _>>(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn half_a_core_on_two_cpus() {
        // One second apart on a 2-CPU host: the system counter advances 2e9 ns, the
        // container used 0.5e9 ns, i.e. half a core = 50 %.
        let pre = cpu(1_000_000_000, 500_000_000_000_000, Some(2), None);
        let cur = cpu(1_500_000_000, 500_002_000_000_000, Some(2), None);
        let pct = cpu_percent(&cur, &pre);
        assert!((pct - 50.0).abs() < 1e-9, "{pct}");
    }

    #[test]
    fn busy_container_can_exceed_one_core() {
        let pre = cpu(0, 10_000_000_000, Some(4), None);
        let cur = cpu(7_000_000_000, 14_000_000_000, Some(4), None);
        let pct = cpu_percent(&cur, &pre);
        assert!((pct - 700.0).abs() < 1e-9, "{pct}");
    }

    #[test]
    fn online_cpus_falls_back_to_percpu_length() {
        let pre = cpu(1_000, 100_000, None, Some(4));
        let cur = cpu(2_000, 104_000, None, Some(4));
        assert!((cpu_percent(&cur, &pre) - 100.0).abs() < 1e-9);
        // online_cpus = 0 is treated as missing too.
        let cur0 = cpu(2_000, 104_000, Some(0), Some(4));
        assert!((cpu_percent(&cur0, &pre) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn zero_or_negative_deltas_give_zero() {
        let pre = cpu(1_000, 100_000, Some(2), None);
        assert_eq!(cpu_percent(&cpu(1_000, 200_000, Some(2), None), &pre), 0.0);
        assert_eq!(cpu_percent(&cpu(2_000, 100_000, Some(2), None), &pre), 0.0);
        // A counter that went backwards (container restarted) is not a negative load.
        assert_eq!(cpu_percent(&cpu(500, 200_000, Some(2), None), &pre), 0.0);
    }

    #[test]
    fn first_sample_with_empty_precpu_and_missing_fields() {
        let empty = ContainerCpuStats::default();
        assert_eq!(cpu_percent(&empty, &empty), 0.0);
        // No CPU count at all: nothing to scale by, so zero rather than a guess.
        let pre = cpu(1_000, 100_000, None, None);
        let cur = cpu(2_000, 104_000, None, None);
        assert_eq!(cpu_percent(&cur, &pre), 0.0);
        // Empty precpu (the first streamed sample) is the lifetime average, like the CLI.
        let cur = cpu(2_000_000_000, 8_000_000_000, Some(2), None);
        assert!((cpu_percent(&cur, &empty) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn cgroup_v1_subtracts_total_inactive_file() {
        let m = mem(
            120_000_000,
            &[
                ("total_inactive_file", 20_000_000),
                ("inactive_file", 5_000_000),
                ("cache", 30_000_000),
            ],
        );
        assert_eq!(mem_bytes(&m), 100_000_000);
    }

    #[test]
    fn cgroup_v2_subtracts_inactive_file() {
        let m = mem(64 << 20, &[("inactive_file", 16 << 20), ("file", 20 << 20)]);
        assert_eq!(mem_bytes(&m), 48 << 20);
    }

    #[test]
    fn old_engines_subtract_cache() {
        let m = mem(10_000, &[("cache", 4_000), ("rss", 6_000)]);
        assert_eq!(mem_bytes(&m), 6_000);
    }

    #[test]
    fn cache_not_below_usage_or_missing_keeps_usage() {
        assert_eq!(
            mem_bytes(&mem(1_000, &[("total_inactive_file", 1_000)])),
            1_000
        );
        assert_eq!(mem_bytes(&mem(1_000, &[("inactive_file", 5_000)])), 1_000);
        assert_eq!(mem_bytes(&mem(1_000, &[])), 1_000);
        let no_stats = ContainerMemoryStats {
            usage: Some(2_048),
            ..Default::default()
        };
        assert_eq!(mem_bytes(&no_stats), 2_048);
        assert_eq!(mem_bytes(&ContainerMemoryStats::default()), 0);
    }
}
