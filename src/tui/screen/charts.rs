//! History read from the hosts' agents: for the open host, a CPU sparkline per container
//! over the last two minutes and the chart of the selected container (or the host) over
//! the chosen window; for an app's instances, each one's chart, read from its own host.
//! Gaps (agent down, container stopped) stay gaps, never zeros.

use crate::metrics::Point;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How often the open host's series are read again.
pub const REFRESH: Duration = Duration::from_secs(5);
/// The span of the sparkline column, and its step: one bar per step.
pub const SPARK_SPAN_MS: i64 = 120_000;
pub const SPARK_STEP_MS: i64 = 10_000;
/// The target the agent names the host by.
pub const HOST_TARGET: &str = "host";

/// The chart's span; each has 60 points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Window {
    #[default]
    OneMinute,
    TenMinutes,
    OneHour,
}

impl Window {
    pub fn span_ms(self) -> i64 {
        match self {
            Window::OneMinute => 60_000,
            Window::TenMinutes => 600_000,
            Window::OneHour => 3_600_000,
        }
    }

    /// One point per step, 60 over the span.
    pub fn step_ms(self) -> i64 {
        self.span_ms() / 60
    }

    pub fn next(self) -> Window {
        match self {
            Window::OneMinute => Window::TenMinutes,
            Window::TenMinutes => Window::OneHour,
            Window::OneHour => Window::OneMinute,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Window::OneMinute => "1 m",
            Window::TenMinutes => "10 m",
            Window::OneHour => "1 h",
        }
    }
}

/// One series asked of `host`'s agent: `target`'s `metric` over the last `span_ms`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Query {
    pub host: String,
    /// A container id, or `HOST_TARGET`.
    pub target: String,
    pub metric: String,
    pub span_ms: i64,
    pub step_ms: i64,
}

/// What the open host's view, or an app's instances view, knows of its history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Charts {
    /// The host these are of, or the app.
    pub of: String,
    pub window: Window,
    /// When the series were last asked for; None: ask at the next tick.
    pub asked: Option<Instant>,
    /// The answers, by query; a query the agent could not answer holds why.
    pub series: BTreeMap<Query, Result<Vec<Option<f64>>, String>>,
    /// When the answers were asked for (unix ms).
    pub at_ms: i64,
}

impl Charts {
    pub fn new(of: &str) -> Charts {
        Charts {
            of: of.to_owned(),
            ..Charts::default()
        }
    }

    /// Takes `host`'s agent's answers, replacing what was read from it before.
    pub fn take(&mut self, host: &str, answers: Vec<(Query, Result<Vec<Point>, String>)>) {
        self.series.retain(|q, _| q.host != host);
        self.series.extend(
            (answers.into_iter())
                .map(|(q, a)| (q, a.map(|points| points.iter().map(|p| p.value).collect()))),
        );
    }

    /// The values of `target`'s `metric` as last read for the sparkline column.
    pub fn spark(&self, target: &str) -> Option<&[Option<f64>]> {
        self.values(target, "cpu_percent", SPARK_SPAN_MS)
    }

    /// The values of the chart's `metric` for `target` over the window.
    pub fn chart(&self, target: &str, metric: &str) -> Option<&[Option<f64>]> {
        self.values(target, metric, self.window.span_ms())
    }

    fn values(&self, target: &str, metric: &str, span_ms: i64) -> Option<&[Option<f64>]> {
        (self.series.iter())
            .find(|(q, _)| q.target == target && q.metric == metric && q.span_ms == span_ms)
            .and_then(|(_, a)| a.as_deref().ok())
    }

    /// How long before the answers the agent started, when that is within the chart's
    /// window: its history begins there (an agent restarted keeps nothing from before).
    pub fn agent_young(&self, started_at_ms: i64) -> Option<Duration> {
        let up_ms = self.at_ms.saturating_sub(started_at_ms);
        (up_ms >= 0 && up_ms < self.window.span_ms())
            .then(|| Duration::from_millis(u64::try_from(up_ms).unwrap_or(0)))
    }

    /// Why an agent could not answer, if one could not.
    pub fn error(&self) -> Option<&str> {
        self.series
            .values()
            .find_map(|a| a.as_ref().err())
            .map(String::as_str)
    }

    /// Why the agent could not answer for `target`, if it could not.
    pub fn error_of(&self, target: &str) -> Option<&str> {
        (self.series.iter())
            .filter(|(q, _)| q.target == target)
            .find_map(|(_, a)| a.as_ref().err())
            .map(String::as_str)
    }
}

/// What to ask `host`'s agent for: every listed container's CPU over the sparkline span,
/// and each chart target's CPU and memory over the window (the host's are named
/// differently).
pub fn queries(host: &str, containers: &[&str], charts: &[&str], window: Window) -> Vec<Query> {
    let query = |target: &str, metric: &str, span_ms: i64, step_ms: i64| Query {
        host: host.to_owned(),
        target: target.to_owned(),
        metric: metric.to_owned(),
        span_ms,
        step_ms,
    };
    let mut all: Vec<Query> = (containers.iter())
        .map(|id| query(id, "cpu_percent", SPARK_SPAN_MS, SPARK_STEP_MS))
        .collect();
    for chart in charts {
        for metric in ["cpu_percent", memory_metric(chart)] {
            all.push(query(chart, metric, window.span_ms(), window.step_ms()));
        }
    }
    all.sort();
    all.dedup();
    all
}

/// The memory series of a chart target: the host's counts what its processes use.
pub fn memory_metric(target: &str) -> &'static str {
    if target == HOST_TARGET {
        "mem_used_bytes"
    } else {
        "mem_bytes"
    }
}

/// A text sparkline of `values`, one character each: eighth blocks scaled to `max`, a gap
/// a space.
pub fn spark_text(values: &[Option<f64>], max: f64) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    (values.iter())
        .map(|v| match v {
            None => ' ',
            Some(v) if !v.is_finite() || max <= 0.0 => BARS[0],
            Some(v) => {
                let at = (v.max(0.0) / max * (BARS.len() - 1) as f64).round() as usize;
                BARS[at.min(BARS.len() - 1)]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_stay_gaps_and_bars_scale_to_the_max() {
        let text = spark_text(
            &[Some(0.0), None, Some(50.0), Some(100.0), Some(250.0)],
            100.0,
        );
        assert_eq!(text, "▁ ▅██");
        assert_eq!(spark_text(&[Some(f64::NAN), Some(1.0)], 0.0), "▁▁");
    }

    #[test]
    fn queries_cover_every_container_and_the_chart_in_its_window() {
        let q = queries("h", &["c1", "c2"], &["c1"], Window::TenMinutes);
        let spark = |id: &str| Query {
            host: "h".into(),
            target: id.into(),
            metric: "cpu_percent".into(),
            span_ms: SPARK_SPAN_MS,
            step_ms: SPARK_STEP_MS,
        };
        assert!(q.contains(&spark("c1")) && q.contains(&spark("c2")));
        let chart = (q.iter()).filter(|q| q.target == "c1" && q.span_ms == 600_000);
        let metrics: Vec<&str> = chart.map(|q| q.metric.as_str()).collect();
        assert_eq!(metrics, ["cpu_percent", "mem_bytes"]);
        assert_eq!(Window::TenMinutes.step_ms(), 10_000);
        let host = queries("h", &[], &[HOST_TARGET], Window::OneHour);
        assert!(host.iter().any(|q| q.metric == "mem_used_bytes"));
        assert_eq!(Window::OneHour.next(), Window::OneMinute);
    }

    #[test]
    fn answers_replace_what_was_read_and_errors_are_kept() {
        let mut charts = Charts::new("h");
        let q = queries("h", &["c1"], &["c1"], Window::OneMinute);
        let point = |v| Point {
            unix_ms: 0,
            value: v,
        };
        let answers = q
            .iter()
            .map(|q| (q.clone(), Ok(vec![point(Some(1.0)), point(None)])))
            .collect();
        charts.take("h", answers);
        assert_eq!(charts.spark("c1"), Some(&[Some(1.0), None][..]));
        assert_eq!(
            charts.chart("c1", "mem_bytes"),
            Some(&[Some(1.0), None][..])
        );
        assert_eq!(charts.error(), None);
        charts.take(
            "h",
            vec![(q[0].clone(), Err("agent at x unreachable".into()))],
        );
        assert_eq!(charts.spark("c1"), None);
        assert_eq!(charts.error(), Some("agent at x unreachable"));
        assert_eq!(charts.error_of("c1"), Some("agent at x unreachable"));
        // Another host's answers leave these alone.
        let other = queries("g", &[], &["c9"], Window::OneMinute);
        let answers = other.into_iter().map(|q| (q, Ok(vec![point(Some(2.0))])));
        charts.take("g", answers.collect());
        assert_eq!(charts.error_of("c1"), Some("agent at x unreachable"));
        assert_eq!(charts.chart("c9", "cpu_percent"), Some(&[Some(2.0)][..]));
    }
}
