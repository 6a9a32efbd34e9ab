//! A simulated agent's series, computed rather than kept: the value at a second is what the
//! fleet's clock gives for that second (`Engine::tick`), over the containers running now
//! (from each one's start). Only CPU and memory are simulated; other metrics are gaps.
//! Simulated, like every figure of the fleet.

use super::fleet::{Engine, NCPU};
use super::scenario::{Load, unit};
use crate::agent::{HOST, Missing, Points, SeriesSource, TICK_MS, metric_index};
use crate::metrics::Point;
use std::time::Duration;

/// The host's load at `second` since the fleet started: percent of all its CPUs.
pub fn host_percent(load: &Load, seed: u64, index: usize, second: u64) -> f64 {
    load.percent(
        Duration::from_secs(second),
        unit(seed, index as u64, second),
    )
}

/// A container's CPU (percent of one core): its `weight` of the host's load, shared among
/// the running containers' `total_weight`.
pub fn cpu_percent(host_percent: f64, weight: f64, total_weight: f64) -> f64 {
    let cores = f64::from(NCPU) * host_percent / 100.0;
    100.0 * cores * weight / total_weight.max(f64::EPSILON)
}

/// A container's memory: its base, swelling a little with the host's load.
pub fn mem_bytes(mem_base: u64, host_percent: f64) -> u64 {
    (mem_base as f64 * (0.8 + 0.4 * host_percent / 100.0)) as u64
}

/// One running container, as the model needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub id: String,
    pub name: String,
    pub weight: f64,
    pub mem_base: u64,
    pub since_ms: i64,
}

/// One engine's load model at `now_ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub load: Load,
    pub seed: u64,
    pub index: usize,
    pub started_ms: i64,
    pub now_ms: i64,
    pub running: Vec<Share>,
    /// Ids and names of its containers that do not run: their series are gaps.
    pub stopped: Vec<(String, String)>,
}

impl Model {
    /// Each value of `index` (host's metrics for `share` None) at `t_ms`: None before the
    /// fleet started and for metrics not simulated.
    fn value(&self, share: Option<&Share>, index: usize, t_ms: i64) -> Option<f64> {
        let second = u64::try_from((t_ms - self.started_ms).div_euclid(1000)).ok()?;
        let percent = host_percent(&self.load, self.seed, self.index, second);
        let running: Vec<&Share> = (self.running.iter())
            .filter(|s| s.since_ms <= t_ms)
            .collect();
        let total: f64 = running.iter().map(|s| s.weight).sum();
        let cpu = |s: &Share| cpu_percent(percent, s.weight, total);
        let mem = |s: &Share| mem_bytes(s.mem_base, percent) as f64;
        match (share, index) {
            (Some(s), 0) => Some(cpu(s)),
            (Some(s), 1) => Some(mem(s)),
            (None, 0) => Some(running.iter().map(|s| cpu(s)).sum::<f64>() / f64::from(NCPU)),
            (None, 1 | 3) => Some(running.iter().map(|s| mem(s)).sum()),
            (None, 2) => Some(running.iter().map(|s| cpu(s)).sum()),
            _ => None,
        }
    }

    /// The running container `target` names (id, name or 12-character id): Ok(None) for
    /// one that does not run.
    fn container(&self, target: &str) -> Result<Option<&Share>, Missing> {
        let names = |id: &str, name: &str| {
            id == target || name == target || (target.len() == 12 && id.starts_with(target))
        };
        if let Some(share) = self.running.iter().find(|s| names(&s.id, &s.name)) {
            return Ok(Some(share));
        }
        if self.stopped.iter().any(|(id, name)| names(id, name)) {
            return Ok(None);
        }
        Err(Missing::Target(target.to_owned()))
    }
}

impl SeriesSource for Model {
    fn series(&self, target: &str, metric: &str, since_ms: i64, step_ms: i64) -> Points {
        let index = metric_index(target, metric)?;
        let (share, from_ms) = if target == HOST {
            (None, self.started_ms)
        } else {
            match self.container(target)? {
                // Its agent started with the fleet: nothing before, as after a restart.
                Some(share) => (Some(share), share.since_ms.max(self.started_ms)),
                // A stopped container: nothing since it stopped, as a real agent.
                None => return Ok(Vec::new()),
            }
        };
        let step = step_ms.max(TICK_MS);
        let start = since_ms.max(from_ms).div_euclid(step).saturating_mul(step);
        let count = usize::try_from((self.now_ms - start).div_euclid(step) + 1).unwrap_or(0);
        Ok((0..count)
            .map(|i| {
                let unix_ms = start + step * i as i64;
                // The first step may begin before the series does: its value is the
                // series' first, as a real agent's would be.
                Point {
                    unix_ms,
                    value: self.value(share, index, unix_ms.max(from_ms)),
                }
            })
            .collect())
    }
}

/// An engine's series with its model built only when one is asked for: most agent
/// requests are for the summary, and the model copies every container's name.
pub struct Lazy<'a> {
    pub engine: &'a Engine,
    pub now_ms: i64,
}

impl SeriesSource for Lazy<'_> {
    fn series(&self, target: &str, metric: &str, since_ms: i64, step_ms: i64) -> Points {
        (self.engine.model(self.now_ms)).series(target, metric, since_ms, step_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::sim::scenario::Pattern;

    fn model(pattern: Pattern) -> Model {
        let share = |id: &str, weight, since_ms| Share {
            id: id.repeat(16),
            name: format!("c-{id}"),
            weight,
            mem_base: 100 << 20,
            since_ms,
        };
        Model {
            load: Load {
                pattern,
                low: 20.0,
                high: 60.0,
                period: Duration::from_secs(100),
            },
            seed: 7,
            index: 3,
            started_ms: 1_000_000,
            now_ms: 1_000_000 + 120_000,
            // a was up before the fleet (and its agent) started.
            running: vec![share("a", 1.0, 900_000), share("b", 3.0, 1_060_000)],
            stopped: vec![("c".repeat(16), "c-c".to_owned())],
        }
    }

    #[test]
    fn containers_share_the_host_load_by_weight_from_their_start() {
        let m = model(Pattern::Steady);
        // Before b started, a carries the host's 20 % of 8 cores alone: 160 % of a core.
        let a = m.series("c-a", "cpu_percent", 0, 10_000).unwrap();
        assert_eq!(a.len(), 13);
        assert_eq!(a[0].unix_ms, 1_000_000, "nothing before its agent started");
        assert_eq!(a[0].value, Some(160.0));
        // From b's start, a takes a quarter and b three quarters.
        assert_eq!(a[6].unix_ms, 1_060_000);
        assert_eq!(a[6].value, Some(40.0));
        let b = m.series(&"b".repeat(12), "cpu_percent", 0, 10_000).unwrap();
        assert_eq!(b[0].unix_ms, 1_060_000, "nothing before its start");
        assert_eq!(b[0].value, Some(120.0));
        // The host: its load, and its containers' memory.
        let cpu = m.series(HOST, "cpu_percent", 0, 60_000).unwrap();
        assert!(cpu.iter().all(|p| p.value == Some(20.0)), "{cpu:?}");
        let mem = m.series(HOST, "mem_used_bytes", 1_080_000, 60_000).unwrap();
        let one = mem_bytes(100 << 20, 20.0) as f64;
        assert_eq!(mem[0].value, Some(2.0 * one));
    }

    #[test]
    fn the_model_follows_the_pattern_and_says_what_it_does_not_simulate() {
        let ramp = model(Pattern::Ramp).series(HOST, "cpu_percent", 0, 50_000);
        let values: Vec<_> = ramp.unwrap().iter().map(|p| p.value).collect();
        assert_eq!(values, [Some(20.0), Some(40.0), Some(60.0)]);
        let m = model(Pattern::Noise);
        let net = m.series("c-a", "net_rx_bps", 1_110_000, 1000).unwrap();
        assert!(net.iter().all(|p| p.value.is_none()), "gaps: not simulated");
        assert_eq!(m.series("c-c", "cpu_percent", 0, 1000), Ok(Vec::new()));
        assert_eq!(
            m.series("nope", "cpu_percent", 0, 1000),
            Err(Missing::Target("nope".into()))
        );
        assert!(matches!(
            m.series(HOST, "nope", 0, 1000),
            Err(Missing::Metric { .. })
        ));
        // Noise is seeded: the same model gives the same points.
        assert_eq!(
            m.series(HOST, "cpu_percent", 0, 1000),
            model(Pattern::Noise).series(HOST, "cpu_percent", 0, 1000)
        );
    }
}
