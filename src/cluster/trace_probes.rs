//! A hop's figures measured where the caller runs: each caller host's agent reports the
//! callee's endpoints as it probed them (`domain::probe`). Here they are picked per hop
//! and put in words for the trace screen, `ctl trace` and its summary line.

use super::ClusterState;
use crate::domain::probe::{DependencyProbes, DependencyState, Timing};
use std::fmt;

/// Figures measured from the caller's hosts (connect and response times, failures).
#[derive(Debug, Clone, PartialEq)]
pub enum Probes {
    /// No agent on a caller's host reports this hop.
    NotMeasured,
    /// Per caller host whose agent probes the callee, in host order.
    Measured(Vec<HostProbes>),
}

/// One caller host's view of the callee.
#[derive(Debug, Clone, PartialEq)]
pub struct HostProbes {
    pub host: String,
    pub figures: DependencyProbes,
}

/// The hop `caller -> callee` as the agents of the caller's hosts report it.
pub fn probes_of(cluster: &ClusterState, caller: &str, callee: &str) -> Probes {
    let hosts: Vec<HostProbes> = (cluster.probes.iter())
        .filter_map(|(host, report)| {
            let d = (report.dependencies.iter())
                .find(|d| d.app == callee && d.callers.iter().any(|c| c == caller))?;
            Some(HostProbes {
                host: host.clone(),
                figures: d.clone(),
            })
        })
        .collect();
    if hosts.is_empty() {
        Probes::NotMeasured
    } else {
        Probes::Measured(hosts)
    }
}

/// Milliseconds as a reader takes them: "0.42", "8.1", "840".
pub fn ms(value: f64) -> String {
    if value < 1.0 {
        format!("{value:.2}")
    } else if value < 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

fn opt_ms(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), ms)
}

impl HostProbes {
    /// Endpoints do not all answer (or there is none to answer) from this host.
    pub fn failing(&self) -> bool {
        self.figures.state == DependencyState::Probed && self.figures.answering < self.figures.total
    }

    /// The last HTTP status: a failing endpoint's first, else any.
    pub fn http_status(&self) -> Option<u16> {
        let endpoints = &self.figures.endpoints;
        (endpoints.iter().find(|e| !e.ok && e.http_status.is_some()))
            .or_else(|| endpoints.iter().find(|e| e.http_status.is_some()))
            .and_then(|e| e.http_status)
    }

    /// "3/4 endpoints answer, connect p95 840 ms".
    pub fn headline(&self) -> String {
        let f = &self.figures;
        if let Some(reason) = f
            .reason
            .as_ref()
            .filter(|_| f.state != DependencyState::Probed)
        {
            return reason.clone();
        }
        let mut out = format!("{}/{} endpoints answer", f.answering, f.total);
        if let Some(p95) = f.connect_ms.p95 {
            out.push_str(&format!(", connect p95 {} ms", ms(p95)));
        }
        out
    }
}

impl Probes {
    pub fn as_str(&self) -> &'static str {
        match self {
            Probes::NotMeasured => "not_measured",
            Probes::Measured(_) => "measured",
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            Probes::NotMeasured => "no agent probes yet",
            Probes::Measured(_) => "probed by the agents of the caller's hosts",
        }
    }

    /// The caller host that sees the callee worst, if measured.
    pub fn worst(&self) -> Option<&HostProbes> {
        self.ranked().first().copied()
    }

    /// Every caller host, the one that sees the callee worst first: fewest endpoints
    /// answering, then the slowest connect p95 (host order among equals).
    pub fn ranked(&self) -> Vec<&HostProbes> {
        let Probes::Measured(hosts) = self else {
            return Vec::new();
        };
        let share = |h: &HostProbes| {
            let f = &h.figures;
            if f.total == 0 {
                1.0
            } else {
                f.answering as f64 / f.total as f64
            }
        };
        let p95 = |h: &HostProbes| h.figures.connect_ms.p95.unwrap_or(0.0);
        let mut ranked: Vec<&HostProbes> = hosts.iter().collect();
        ranked.sort_by(|a, b| {
            share(a)
                .total_cmp(&share(b))
                .then_with(|| p95(b).total_cmp(&p95(a)))
        });
        ranked
    }

    /// Some caller host sees endpoints not answering.
    pub fn failing(&self) -> bool {
        matches!(self, Probes::Measured(hosts) if hosts.iter().any(HostProbes::failing))
    }

    /// A narrow column's worth: the worst host's "3/4 p95 840ms".
    pub fn short(&self) -> String {
        match self.worst() {
            None => "not measured".to_owned(),
            Some(h) if h.figures.state == DependencyState::NotAnApp => "✗ not an app".to_owned(),
            Some(h) if h.figures.state == DependencyState::NotRegistered => {
                "✗ not registered".to_owned()
            }
            Some(h) => {
                let f = &h.figures;
                let glyph = if h.failing() { "✗" } else { "✓" };
                let p95 = f.connect_ms.p95.map(|p| format!(" p95 {}ms", ms(p)));
                format!(
                    "{glyph} {}/{}{}",
                    f.answering,
                    f.total,
                    p95.unwrap_or_default()
                )
            }
        }
    }
}

/// "0.40/0.30/840 ms": last, p50 and p95, a dash for what is not known.
pub fn times(t: &Timing) -> String {
    format!("{}/{}/{} ms", opt_ms(t.last), opt_ms(t.p50), opt_ms(t.p95))
}

fn timing(label: &str, t: &Timing) -> String {
    format!("{label} last/p50/p95 {}", times(t))
}

impl fmt::Display for HostProbes {
    /// "lab-1: 2/2 endpoints answer, connect last/p50/p95 0.3/0.3/0.5 ms, HTTP 200 last/p50/p95
    /// 1.1/1.0/2.0 ms, 0.0 failures/min".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.figures;
        if p.state != DependencyState::Probed {
            return write!(f, "{}: {}", self.host, self.headline());
        }
        write!(
            f,
            "{}: {}/{} endpoints answer, {}",
            self.host,
            p.answering,
            p.total,
            timing("connect", &p.connect_ms)
        )?;
        if p.http_path.is_some() {
            let status = self
                .http_status()
                .map_or_else(|| "-".to_owned(), |s| s.to_string());
            write!(
                f,
                ", HTTP {status} {}",
                timing("", &p.response_ms).trim_start()
            )?;
        }
        write!(f, ", {:.1} failures/min", p.failures_per_min)
    }
}

impl fmt::Display for Probes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probes::NotMeasured => write!(f, "not measured ({})", self.reason()),
            Probes::Measured(hosts) => {
                for (i, h) in hosts.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{h}")?;
                }
                Ok(())
            }
        }
    }
}
