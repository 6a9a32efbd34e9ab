//! From two readings of counters to the figures a tick reports: pure arithmetic.

use super::cgroup::Counters;
use super::procfs::CpuTimes;
use super::summary::{Figures, Rates, Totals};

/// One reading of a container: its cgroup counters and, with its own network namespace,
/// its network bytes (received, sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub unix_ms: i64,
    pub counters: Counters,
    pub net: Option<(u64, u64)>,
}

/// Per second between two counter values; None without a previous reading, when no time
/// passed, or when the counter went backwards (the container restarted).
fn per_second(prev: Option<u64>, cur: u64, seconds: f64) -> Option<f64> {
    let prev = prev?;
    (seconds > 0.0 && cur >= prev).then(|| (cur - prev) as f64 / seconds)
}

/// The figures of `cur`, with rates over the time since `prev`. CPU is in percent of one
/// core, as `docker stats` shows it: CPU time used over wall time passed.
pub fn figures(prev: Option<&Reading>, cur: &Reading) -> Figures {
    let seconds = prev.map_or(0.0, |p| (cur.unix_ms - p.unix_ms) as f64 / 1000.0);
    let c = &cur.counters;
    let before = |f: fn(&Counters) -> u64| prev.map(|p| f(&p.counters));
    let rate = |f: fn(&Counters) -> u64| per_second(before(f), f(c), seconds);
    let net = |f: fn((u64, u64)) -> u64| {
        let now = cur.net.map(f)?;
        per_second(prev.and_then(|p| p.net).map(f), now, seconds)
    };
    Figures {
        totals: Totals {
            cpu_seconds: c.cpu_ns as f64 / 1e9,
            mem_bytes: c.mem_bytes,
            blk_read_bytes: c.io.read_bytes,
            blk_write_bytes: c.io.write_bytes,
            blk_read_ops: c.io.read_ops,
            blk_write_ops: c.io.write_ops,
            net_rx_bytes: cur.net.map(|n| n.0),
            net_tx_bytes: cur.net.map(|n| n.1),
        },
        rates: Rates {
            cpu_percent: rate(|c| c.cpu_ns).map(|ns| ns / 1e9 * 100.0),
            blk_read_bps: rate(|c| c.io.read_bytes),
            blk_write_bps: rate(|c| c.io.write_bytes),
            blk_read_iops: rate(|c| c.io.read_ops),
            blk_write_iops: rate(|c| c.io.write_ops),
            net_rx_bps: net(|n| n.0),
            net_tx_bps: net(|n| n.1),
        },
    }
}

/// The host's busy share of all CPUs between two readings of /proc/stat, 0 to 100.
pub fn host_cpu_percent(prev: Option<CpuTimes>, cur: CpuTimes) -> Option<f64> {
    let prev = prev?;
    let total = cur.total.checked_sub(prev.total).filter(|t| *t > 0)?;
    let busy = cur.busy.saturating_sub(prev.busy);
    Some((busy as f64 / total as f64 * 100.0).clamp(0.0, 100.0))
}

/// The containers' figures summed; a rate no container has stays absent.
pub fn sum<'a>(all: impl IntoIterator<Item = &'a Figures>) -> Figures {
    let add = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    };
    let add_u = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    };
    all.into_iter().fold(Figures::default(), |s, f| {
        let (t, u) = (&s.totals, &f.totals);
        let (r, q) = (&s.rates, &f.rates);
        Figures {
            totals: Totals {
                cpu_seconds: t.cpu_seconds + u.cpu_seconds,
                mem_bytes: t.mem_bytes.saturating_add(u.mem_bytes),
                blk_read_bytes: t.blk_read_bytes.saturating_add(u.blk_read_bytes),
                blk_write_bytes: t.blk_write_bytes.saturating_add(u.blk_write_bytes),
                blk_read_ops: t.blk_read_ops.saturating_add(u.blk_read_ops),
                blk_write_ops: t.blk_write_ops.saturating_add(u.blk_write_ops),
                net_rx_bytes: add_u(t.net_rx_bytes, u.net_rx_bytes),
                net_tx_bytes: add_u(t.net_tx_bytes, u.net_tx_bytes),
            },
            rates: Rates {
                cpu_percent: add(r.cpu_percent, q.cpu_percent),
                blk_read_bps: add(r.blk_read_bps, q.blk_read_bps),
                blk_write_bps: add(r.blk_write_bps, q.blk_write_bps),
                blk_read_iops: add(r.blk_read_iops, q.blk_read_iops),
                blk_write_iops: add(r.blk_write_iops, q.blk_write_iops),
                net_rx_bps: add(r.net_rx_bps, q.net_rx_bps),
                net_tx_bps: add(r.net_tx_bps, q.net_tx_bps),
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::cgroup::Io;

    fn reading(unix_ms: i64, cpu_ns: u64, read_bytes: u64, net: Option<(u64, u64)>) -> Reading {
        Reading {
            unix_ms,
            counters: Counters {
                cpu_ns,
                mem_bytes: 1 << 20,
                io: Io {
                    read_bytes,
                    ..Io::default()
                },
            },
            net,
        }
    }

    #[test]
    fn cpu_is_percent_of_one_core_over_wall_time() {
        let a = reading(1_000, 0, 0, None);
        // 1.5 s of CPU in 1 s: 150% (one and a half cores).
        let b = reading(2_000, 1_500_000_000, 4096, Some((10, 20)));
        let f = figures(Some(&a), &b);
        assert!((f.rates.cpu_percent.unwrap() - 150.0).abs() < 1e-9);
        assert_eq!(f.rates.blk_read_bps, Some(4096.0));
        assert_eq!(f.totals.cpu_seconds, 1.5);
        // The earlier reading had no network: no rate yet, but the totals are there.
        assert_eq!(f.rates.net_rx_bps, None);
        assert_eq!(f.totals.net_rx_bytes, Some(10));
        let c = reading(2_500, 1_500_000_000, 4096, Some((110, 20)));
        let g = figures(Some(&b), &c);
        assert_eq!(g.rates.net_rx_bps, Some(200.0));
        assert_eq!(g.rates.cpu_percent, Some(0.0));
    }

    #[test]
    fn first_readings_resets_and_no_time_have_no_rates() {
        let a = reading(1_000, 5_000, 10, None);
        assert_eq!(figures(None, &a).rates, Rates::default());
        assert_eq!(figures(Some(&a), &a).rates.cpu_percent, None);
        let restarted = reading(2_000, 10, 0, None);
        assert_eq!(figures(Some(&a), &restarted).rates.cpu_percent, None);
    }

    #[test]
    fn host_cpu_is_a_share_of_all_cpus() {
        let a = CpuTimes {
            busy: 100,
            total: 1000,
        };
        let b = CpuTimes {
            busy: 150,
            total: 1200,
        };
        assert_eq!(host_cpu_percent(Some(a), b), Some(25.0));
        assert_eq!(host_cpu_percent(None, b), None);
        assert_eq!(host_cpu_percent(Some(b), a), None);
    }

    #[test]
    fn sums_keep_absent_rates_absent() {
        let a = figures(None, &reading(0, 1_000_000_000, 0, None));
        let b = figures(
            Some(&reading(0, 0, 0, Some((0, 0)))),
            &reading(1000, 500_000_000, 0, Some((5, 6))),
        );
        let s = sum([&a, &b]);
        assert_eq!(s.rates.cpu_percent, Some(50.0));
        assert_eq!(s.totals.cpu_seconds, 1.5);
        assert_eq!(s.totals.mem_bytes, 2 << 20);
        assert_eq!(s.totals.net_rx_bytes, Some(5));
        assert_eq!(sum([&a]).rates.net_rx_bps, None);
        assert_eq!(sum([]), Figures::default());
    }
}
