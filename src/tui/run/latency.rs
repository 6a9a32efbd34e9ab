//! Figures a benchmark reads from the cockpit's log: keypress to frame inside the process
//! (from a key's arrival to the end of the frame that answers it, logged when the cockpit
//! ends, without a terminal multiplexer's own delay in it), and when the grid was first
//! drawn complete.

use crate::cluster::ClusterState;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Logs once when a drawn picture has every host's cell final. Each picture is looked at
/// once (a frame for a key redraws the same one), and none after the log line.
#[derive(Debug, Default)]
pub struct FirstGrid {
    logged: bool,
    looked_at: usize,
}

impl FirstGrid {
    pub fn drawn(&mut self, cluster: &Arc<ClusterState>, started: Instant) {
        let picture = Arc::as_ptr(cluster) as usize;
        if self.logged || picture == self.looked_at {
            return;
        }
        self.looked_at = picture;
        let hosts = &cluster.hosts;
        if !hosts.is_empty() && hosts.iter().all(|h| h.complete()) {
            self.logged = true;
            let ms = started.elapsed().as_millis();
            tracing::info!(hosts = hosts.len(), ms, "first complete grid drawn");
        }
    }
}

/// Every key's time, up to a bound (a long session keeps its first ones).
#[derive(Debug, Default)]
pub struct KeyLatency {
    samples: Vec<Duration>,
}

const KEPT: usize = 100_000;

impl KeyLatency {
    pub fn record(&mut self, took: Duration) {
        if self.samples.len() < KEPT {
            self.samples.push(took);
        }
    }

    /// (count, p50, p99, max), None before the first key.
    pub fn summary(&self) -> Option<(usize, Duration, Duration, Duration)> {
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        let at = |q: f64| {
            let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
            sorted[i - 1]
        };
        let max = *sorted.last()?;
        Some((sorted.len(), at(0.5), at(0.99), max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_the_samples() {
        let mut l = KeyLatency::default();
        assert_eq!(l.summary(), None);
        for ms in 1..=100 {
            l.record(Duration::from_millis(ms));
        }
        let ms = Duration::from_millis;
        assert_eq!(l.summary(), Some((100, ms(50), ms(99), ms(100))));
    }
}
