//! The host's own figures and a container's network counters from /proc: pure parsers
//! over the files' text, and the few reads around them.

use std::path::Path;

/// Jiffies the host's CPUs spent busy and in total, from /proc/stat's `cpu` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTimes {
    pub busy: u64,
    pub total: u64,
}

/// /proc/stat's aggregate `cpu` line: user nice system idle iowait irq softirq steal
/// (guest time is already inside user and nice, so it is not added again). Idle and
/// iowait are idle; the rest is busy.
pub fn cpu_times(stat: &str) -> Option<CpuTimes> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    if fields.len() < 4 {
        return None;
    }
    let total = fields.iter().fold(0u64, |a, b| a.saturating_add(*b));
    let idle = fields[3].saturating_add(fields.get(4).copied().unwrap_or(0));
    Some(CpuTimes {
        busy: total.saturating_sub(idle),
        total,
    })
}

/// How many CPUs /proc/stat lists (`cpuN` lines).
pub fn cpu_count(stat: &str) -> u32 {
    let n = stat
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// MemTotal and MemAvailable from /proc/meminfo, in bytes.
pub fn meminfo(text: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            let kib: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            Some(kib.saturating_mul(1024))
        })
    };
    Some((field("MemTotal")?, field("MemAvailable")?))
}

/// Bytes received and sent, summed over every interface but `lo`, from a net/dev file:
/// two header lines, then `iface: rx_bytes rx_packets ... (8 fields) tx_bytes ...`.
pub fn net_dev(text: &str) -> (u64, u64) {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(iface, _)| iface.trim() != "lo")
        .filter_map(|(_, counters)| {
            let fields: Vec<&str> = counters.split_whitespace().collect();
            Some((fields.first()?.parse().ok()?, fields.get(8)?.parse().ok()?))
        })
        .fold((0u64, 0u64), |(rx, tx), (r, t): (u64, u64)| {
            (rx.saturating_add(r), tx.saturating_add(t))
        })
}

/// The network counters of process `pid`'s namespace, or None when it shares the
/// agent's (host) namespace, where the figures would be the host's, not the container's.
pub fn container_net(proc_root: &Path, pid: u32) -> Option<(u64, u64)> {
    let ns = |p: &Path| std::fs::read_link(p.join("ns/net")).ok();
    let own = proc_root.join(pid.to_string());
    let theirs = ns(&own)?;
    if ns(&proc_root.join("self")).is_some_and(|mine| mine == theirs) {
        return None;
    }
    std::fs::read_to_string(own.join("net/dev"))
        .ok()
        .map(|t| net_dev(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_line_splits_busy_from_idle() {
        let stat = "cpu  100 10 50 800 40 0 5 5 0 0\ncpu0 50 5 25 400 20 0 2 3 0 0\n\
                    cpu1 50 5 25 400 20 0 3 2 0 0\nintr 1 2\n";
        assert_eq!(
            cpu_times(stat),
            Some(CpuTimes {
                busy: 170,
                total: 1010
            })
        );
        assert_eq!(cpu_count(stat), 2);
        assert_eq!(cpu_times("intr 1\n"), None);
        assert_eq!(cpu_times("cpu  1 x 3 4\n"), None);
        assert_eq!(cpu_times("cpu  1 2\n"), None);
        // Old kernels have only four fields.
        assert_eq!(
            cpu_times("cpu  1 2 3 4\n"),
            Some(CpuTimes { busy: 6, total: 10 })
        );
    }

    #[test]
    fn meminfo_in_bytes() {
        let text = "MemTotal:       24684084 kB\nMemFree:         2318012 kB\n\
                    MemAvailable:   23754928 kB\n";
        assert_eq!(meminfo(text), Some((24_684_084 * 1024, 23_754_928 * 1024)));
        assert_eq!(meminfo("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn net_dev_counts_all_but_loopback() {
        let text = "Inter-|   Receive                                                |  Transmit\n \
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
             lo:     900       9    0    0    0     0          0         0      900       9    0    0    0     0       0          0\n  \
             eth0:    1000      10    0    0    0     0          0         0      200       2    0    0    0     0       0          0\n  \
             eth1:      24       1    0    0    0     0          0         0       16       1    0    0    0     0       0          0\n";
        assert_eq!(net_dev(text), (1024, 216));
        assert_eq!(net_dev(""), (0, 0));
        assert_eq!(net_dev("eth0: 1 2\n"), (0, 0));
    }

    #[test]
    fn the_host_namespace_reports_no_container_network() {
        // This test process shares its own namespace.
        assert_eq!(container_net(Path::new("/proc"), std::process::id()), None);
        assert_eq!(container_net(Path::new("/proc"), u32::MAX), None);
    }

    proptest::proptest! {
        #[test]
        fn parsers_take_any_text(text in "(?s).{0,200}", lines in "(cpu[0-9]? |[a-zA-Z]{0,8}: )([0-9 ]{0,30}(kB)?\n)") {
            for t in [&text, &lines] {
                let _ = (cpu_times(t), cpu_count(t), meminfo(t), net_dev(t));
            }
        }
    }
}
