//! Per container and per host, one series per metric, fed from each tick's summary. A
//! container's series outlive it by `RETAIN`, so a stopped container's last hour reads
//! back (the time since it stopped is simply not there).

use super::summary::{CONTAINER_METRICS, HOST_METRICS, Summary};
use super::{Point, Resolution, Series};
use std::collections::BTreeMap;

/// The key of the host's own series.
pub const HOST: &str = "host";
/// Series of probed endpoints: one per (dependency, instance), keyed "probe:APP:INSTANCE".
pub const PROBE_METRICS: [&str; 3] = ["connect_ms", "response_ms", "failures"];
const PROBE_PREFIX: &str = "probe:";
/// How long a vanished container's series are kept.
const RETAIN_MS: i64 = 3_600_000;
/// Every series ticks once a second, the agent's sampling period.
pub const TICK_MS: i64 = 1000;

struct Entry {
    name: String,
    series: Vec<Series>,
    last_seen_ms: i64,
}

#[derive(Default)]
pub struct History {
    entries: BTreeMap<String, Entry>,
}

/// Why a series could not be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    Target(String),
    Metric { metric: String, known: Vec<String> },
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::Target(t) => write!(
                f,
                "no container {t:?} on this host (give an id, a 12-character id, a name, or \"host\")"
            ),
            Missing::Metric { metric, known } => {
                write!(f, "no metric {metric:?}; known: {}", known.join(", "))
            }
        }
    }
}

/// A series' points, or why it has none.
pub type Points = Result<Vec<Point>, Missing>;

/// Where a series' points come from: an agent's kept history, or the fleet simulator's
/// load model (which keeps none and computes them).
pub trait SeriesSource {
    /// The points of `metric` for `target` since `since_ms`, one per `step_ms`.
    fn series(&self, target: &str, metric: &str, since_ms: i64, step_ms: i64) -> Points;
}

/// Where `metric` stands among `target`'s series ("host", a probe's key, or a container).
pub fn metric_index(target: &str, metric: &str) -> Result<usize, Missing> {
    let metrics: &[&str] = if target == HOST {
        &HOST_METRICS
    } else if target.starts_with(PROBE_PREFIX) {
        &PROBE_METRICS
    } else {
        &CONTAINER_METRICS
    };
    metrics
        .iter()
        .position(|m| *m == metric)
        .ok_or_else(|| Missing::Metric {
            metric: metric.to_owned(),
            known: metrics.iter().map(|m| (*m).to_owned()).collect(),
        })
}

/// Values rounded to what a reader can tell apart: CPU to a hundredth of a percent,
/// memory to a page (4 KiB), rates to whole units. Quantised values compress well.
fn resolution(metric: &str) -> Resolution {
    let quantum = if metric.ends_with("cpu_percent") {
        0.01
    } else if metric.ends_with("mem_bytes") || metric == "mem_used_bytes" {
        4096.0
    } else if metric.ends_with("_ms") {
        // Probe times to 10 µs.
        0.01
    } else {
        1.0
    };
    Resolution {
        tick_ms: TICK_MS,
        quantum,
    }
}

impl History {
    /// Appends one tick: the host's series and every listed container's.
    pub fn record(&mut self, summary: &Summary) {
        let now = summary.unix_ms;
        self.push(HOST, HOST, &HOST_METRICS, &summary.host_values(), now);
        for c in &summary.containers {
            let values = c.figures.as_ref().map_or([None; 8], |f| f.values());
            self.push(&c.id, &c.name, &CONTAINER_METRICS, &values, now);
        }
        self.entries
            .retain(|_, e| now.saturating_sub(e.last_seen_ms) <= RETAIN_MS);
    }

    /// Appends one probe of an endpoint (`key` from `probe::series_key`): connect and
    /// response times in ms, 1 for a failure. Kept like a container's, for `RETAIN_MS`
    /// after its last probe.
    pub fn record_probe(&mut self, key: &str, values: &[Option<f64>; 3], now: i64) {
        self.push(key, key, &PROBE_METRICS, values, now);
    }

    fn push(&mut self, key: &str, name: &str, metrics: &[&str], values: &[Option<f64>], now: i64) {
        let entry = self.entries.entry(key.to_owned()).or_insert_with(|| Entry {
            name: name.to_owned(),
            series: metrics.iter().map(|m| Series::new(resolution(m))).collect(),
            last_seen_ms: now,
        });
        entry.last_seen_ms = now;
        for (series, value) in entry.series.iter_mut().zip(values) {
            series.push(now, *value);
        }
    }

    /// Bytes held by every series.
    pub fn bytes(&self) -> usize {
        self.entries
            .values()
            .flat_map(|e| &e.series)
            .map(Series::bytes)
            .sum()
    }
}

impl SeriesSource for History {
    /// The points of `metric` for `target` ("host", a container id, its 12-character
    /// short id, or its name) since `since_ms`, one per `step_ms`.
    fn series(&self, target: &str, metric: &str, since_ms: i64, step_ms: i64) -> Points {
        let found = self.entries.get(target).or_else(|| {
            self.entries
                .iter()
                .find(|(id, e)| e.name == target || (target.len() == 12 && id.starts_with(target)))
                .map(|(_, e)| e)
        });
        let entry = found.ok_or_else(|| Missing::Target(target.to_owned()))?;
        let index = metric_index(target, metric)?;
        Ok(entry
            .series
            .get(index)
            .map(|s| s.points(since_ms, step_ms))
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::summary::{ContainerSummary, Figures, Machine};

    fn summary(unix_ms: i64, containers: &[(&str, &str, Option<f64>)]) -> Summary {
        Summary {
            host: "h".into(),
            version: "0".into(),
            started_at_ms: 0,
            unix_ms,
            source: "cgroup-v1".into(),
            machine: Machine {
                cpu_percent: Some(12.5),
                mem_total_bytes: 100,
                mem_available_bytes: 40,
                ..Machine::default()
            },
            containers_sum: Figures::default(),
            history_bytes: 0,
            probes_at_ms: None,
            containers: containers
                .iter()
                .map(|(id, name, cpu)| ContainerSummary {
                    id: (*id).into(),
                    name: (*name).into(),
                    app: None,
                    instance: None,
                    figures: cpu.map(|cpu| {
                        let mut f = Figures::default();
                        f.rates.cpu_percent = Some(cpu);
                        f
                    }),
                })
                .collect(),
        }
    }

    const ID: &str = "0123456789abcdef0123";

    #[test]
    fn series_by_id_short_id_name_and_host() {
        let mut h = History::default();
        h.record(&summary(1000, &[(ID, "web-1", Some(40.0))]));
        h.record(&summary(2000, &[(ID, "web-1", None)]));
        let by_id = h.series(ID, "cpu_percent", 0, 1000).unwrap();
        assert_eq!(
            by_id.iter().map(|p| p.value).collect::<Vec<_>>(),
            [Some(40.0), None]
        );
        assert_eq!(
            h.series("0123456789ab", "cpu_percent", 0, 1000),
            Ok(by_id.clone())
        );
        assert_eq!(h.series("web-1", "cpu_percent", 0, 1000), Ok(by_id));
        let used = h.series(HOST, "mem_used_bytes", 0, 1000).unwrap();
        // Memory is kept to the page: 60 bytes read back within half of 4 KiB.
        let read = used[0].value.unwrap();
        assert!((read - 60.0).abs() <= 2048.0, "{read}");
        assert!(h.bytes() > 0);
    }

    #[test]
    fn unknown_targets_and_metrics_say_what_exists() {
        let mut h = History::default();
        h.record(&summary(1000, &[(ID, "web-1", Some(1.0))]));
        let missing = h.series("nope", "cpu_percent", 0, 1000).unwrap_err();
        assert!(missing.to_string().contains("no container \"nope\""));
        let missing = h.series(HOST, "mem_bytes", 0, 1000).unwrap_err();
        assert!(missing.to_string().contains("mem_used_bytes"), "{missing}");
    }

    #[test]
    fn a_vanished_container_is_kept_for_an_hour() {
        let mut h = History::default();
        h.record(&summary(1000, &[(ID, "web-1", Some(1.0))]));
        h.record(&summary(1000 + RETAIN_MS, &[]));
        assert!(h.series(ID, "cpu_percent", 0, 1000).is_ok());
        h.record(&summary(2000 + RETAIN_MS, &[]));
        assert!(h.series(ID, "cpu_percent", 0, 1000).is_err());
    }
}
