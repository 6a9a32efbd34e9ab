//! The recent probes of one endpoint, kept for percentiles and failure rates over the
//! last few minutes (the compressed history keeps the long view).

use crate::domain::probe::Timing;
use std::collections::VecDeque;

/// How far back percentiles and failures per minute reach.
pub const WINDOW_MS: i64 = 300_000;

/// One probe's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at_ms: i64,
    pub connect_ms: Option<f64>,
    pub response_ms: Option<f64>,
    pub failed: bool,
}

/// Samples of the last `WINDOW_MS`, oldest first.
#[derive(Debug, Default)]
pub struct Window {
    samples: VecDeque<Sample>,
}

impl Window {
    /// Adds `sample` and forgets what fell out of the window before it.
    pub fn push(&mut self, sample: Sample) {
        self.samples.push_back(sample);
        self.expire(sample.at_ms);
    }

    fn expire(&mut self, now_ms: i64) {
        while self
            .samples
            .front()
            .is_some_and(|s| now_ms.saturating_sub(s.at_ms) > WINDOW_MS)
        {
            self.samples.pop_front();
        }
    }

    pub fn samples(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter()
    }
}

/// The last value and the window's p50 and p95 of the values `pick` takes from samples.
pub fn timing<'a>(
    samples: impl Iterator<Item = &'a Sample>,
    pick: impl Fn(&Sample) -> Option<f64>,
) -> Timing {
    let mut values: Vec<f64> = Vec::new();
    let mut last = None;
    for s in samples {
        if let Some(v) = pick(s).filter(|v| v.is_finite()) {
            values.push(v);
            last = Some((s.at_ms, v));
        }
    }
    values.sort_by(f64::total_cmp);
    Timing {
        last: last.map(|(_, v)| v),
        p50: percentile(&values, 50.0),
        p95: percentile(&values, 95.0),
    }
}

/// The nearest-rank percentile `p` (0-100) of sorted `values`; None when empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as f64;
    let rank = (p.clamp(0.0, 100.0) / 100.0 * n).ceil().max(1.0);
    // rank is within 1..=n, so the index is in bounds; get() keeps it panic-free anyway.
    sorted.get(rank as usize - 1).copied()
}

/// Failures per minute over the window, counted over the span the samples cover (at
/// least a minute, so one early failure does not read as a storm).
pub fn failures_per_min<'a>(samples: impl Iterator<Item = &'a Sample>, now_ms: i64) -> f64 {
    let mut failed = 0u32;
    let mut oldest = now_ms;
    for s in samples {
        oldest = oldest.min(s.at_ms);
        failed += u32::from(s.failed);
    }
    let span = now_ms.saturating_sub(oldest).clamp(60_000, WINDOW_MS);
    f64::from(failed) * 60_000.0 / span as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: i64, connect: f64, failed: bool) -> Sample {
        Sample {
            at_ms,
            connect_ms: (!failed).then_some(connect),
            response_ms: None,
            failed,
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7.0], 95.0), Some(7.0));
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), Some(50.0));
        assert_eq!(percentile(&values, 95.0), Some(95.0));
        assert_eq!(percentile(&values, 0.0), Some(1.0));
        assert_eq!(percentile(&values, 100.0), Some(100.0));
        assert_eq!(percentile(&values, 250.0), Some(100.0));
        assert_eq!(percentile(&values, f64::NAN), Some(1.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), Some(2.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 95.0), Some(4.0));
    }

    #[test]
    fn timing_skips_failures_and_keeps_the_last_value() {
        let mut w = Window::default();
        for (i, ms) in [3.0, 1.0, 2.0, 100.0].into_iter().enumerate() {
            w.push(sample(i as i64 * 5000, ms, false));
        }
        w.push(sample(20_000, 0.0, true));
        let t = timing(w.samples(), |s| s.connect_ms);
        assert_eq!(t.last, Some(100.0));
        assert_eq!(t.p50, Some(2.0));
        assert_eq!(t.p95, Some(100.0));
        let none = timing(w.samples(), |s| s.response_ms);
        assert_eq!(none, Timing::default());
    }

    #[test]
    fn the_window_forgets_old_samples_and_counts_failures_per_minute() {
        let mut w = Window::default();
        w.push(sample(0, 1.0, true));
        w.push(sample(WINDOW_MS, 1.0, false));
        assert_eq!(w.samples().count(), 2, "exactly the window is kept");
        w.push(sample(WINDOW_MS + 1, 1.0, true));
        assert_eq!(w.samples().count(), 2);
        assert_eq!(w.samples().last().map(|s| s.at_ms), Some(WINDOW_MS + 1));
        // One failure over a span under a minute counts as one per minute.
        let mut fresh = Window::default();
        fresh.push(sample(1000, 0.0, true));
        assert_eq!(failures_per_min(fresh.samples(), 2000), 1.0);
        // Ten failures spread over five minutes: two per minute.
        let mut spread = Window::default();
        for i in 0..10 {
            spread.push(sample(i * 30_000, 0.0, true));
        }
        assert_eq!(failures_per_min(spread.samples(), WINDOW_MS), 2.0);
        assert_eq!(failures_per_min(Window::default().samples(), 0), 0.0);
    }
}
