//! Probes from this host: every `PERIOD` (jittered) the agent takes the apps its host's
//! containers belong to, their dependencies and the dependencies' registered endpoints
//! (a catalog `agentd` reads from etcd), and probes each endpoint (`probe_net`). At most
//! `MAX_PER_ROUND` endpoints a round, `CONCURRENCY` at a time; when there are more, the
//! rounds take turns over them. Results go to the history (per endpoint series) and to
//! a recent window for percentiles, and the report is what `GET /v1/probes` serves.

use super::api::SharedState;
use super::history::History;
use super::probe_net::{self, Outcome};
use super::probe_window::{self, Sample, WINDOW_MS, Window};
use super::run::now_ms;
use crate::domain::probe::{
    DependencyProbes, DependencyState, EndpointProbe, ProbeCatalog, ProbeReport,
};
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;
use tokio::sync::watch;

/// Time between two rounds, before jitter.
pub const PERIOD: Duration = Duration::from_secs(5);
/// Up to this much is added to each period, so agents do not probe in step.
const JITTER_MS: u64 = 1000;
/// Endpoints probed in one round at most.
pub const MAX_PER_ROUND: usize = 64;
/// Probes in flight at once.
const CONCURRENCY: usize = 8;

/// One endpoint to probe this round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub dependency: String,
    pub instance: String,
    pub address: String,
    pub port: u16,
    pub http_path: Option<String>,
}

/// A round: the endpoints to probe and every dependency the report covers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Round {
    pub targets: Vec<Target>,
    /// Endpoints left for later rounds by `MAX_PER_ROUND`.
    pub skipped: usize,
    dependencies: Vec<Planned>,
}

#[derive(Debug, Clone, PartialEq)]
struct Planned {
    app: String,
    callers: Vec<String>,
    state: DependencyState,
    http_path: Option<String>,
    /// (instance, "ADDRESS:PORT", port known)
    endpoints: Vec<(String, String, bool)>,
}

/// What the prober remembers of one endpoint.
#[derive(Default)]
struct Seen {
    window: Window,
    last: Option<EndpointProbe>,
}

/// The prober's state between rounds.
#[derive(Default)]
pub struct Prober {
    host: String,
    seen: BTreeMap<(String, String), Seen>,
    /// Where the next round starts among the endpoints, when they exceed the bound.
    cursor: usize,
}

/// The history key of one endpoint's series.
pub fn series_key(dependency: &str, instance: &str) -> String {
    format!("probe:{dependency}:{instance}")
}

impl Prober {
    pub fn new(host: &str) -> Prober {
        Prober {
            host: host.to_owned(),
            ..Prober::default()
        }
    }

    /// The round for `local` apps (those running here) under `catalog`.
    pub fn plan(&mut self, catalog: &ProbeCatalog, local: &BTreeSet<String>) -> Round {
        let mut callers: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for app in local {
            for dep in catalog.apps.get(app).iter().flat_map(|a| &a.depends_on) {
                let list = callers.entry(dep.as_str()).or_default();
                if !list.contains(app) {
                    list.push(app.clone());
                }
            }
        }
        let mut round = Round::default();
        let mut all = Vec::new();
        for (dep, callers) in callers {
            let Some(spec) = catalog.apps.get(dep) else {
                round
                    .dependencies
                    .push(planned(dep, callers, DependencyState::NotAnApp));
                continue;
            };
            if spec.endpoints.is_empty() {
                let mut p = planned(dep, callers, DependencyState::NotRegistered);
                p.http_path.clone_from(&spec.http_path);
                round.dependencies.push(p);
                continue;
            }
            let mut p = planned(dep, callers, DependencyState::Probed);
            p.http_path.clone_from(&spec.http_path);
            for (instance, e) in &spec.endpoints {
                let shown = e
                    .port
                    .map_or_else(|| e.address.clone(), |port| format!("{}:{port}", e.address));
                p.endpoints
                    .push((instance.clone(), shown, e.port.is_some()));
                if let Some(port) = e.port {
                    all.push(Target {
                        dependency: dep.to_owned(),
                        instance: instance.clone(),
                        address: e.address.clone(),
                        port,
                        http_path: spec.http_path.clone(),
                    });
                }
            }
            round.dependencies.push(p);
        }
        if all.len() > MAX_PER_ROUND {
            let start = self.cursor % all.len();
            all.rotate_left(start);
            round.skipped = all.len() - MAX_PER_ROUND;
            all.truncate(MAX_PER_ROUND);
            self.cursor = start + MAX_PER_ROUND;
        }
        round.targets = all;
        round
    }

    /// Keeps one probe's outcome: window, last result and history series.
    pub fn record(
        &mut self,
        target: &Target,
        outcome: &Outcome,
        at_ms: i64,
        history: &mut History,
    ) {
        let failed = outcome.error.is_some();
        let seen = (self.seen)
            .entry((target.dependency.clone(), target.instance.clone()))
            .or_default();
        seen.window.push(Sample {
            at_ms,
            connect_ms: outcome.connect_ms,
            response_ms: outcome.response_ms,
            failed,
        });
        seen.last = Some(EndpointProbe {
            instance: target.instance.clone(),
            address: format!("{}:{}", target.address, target.port),
            ok: !failed,
            at_ms,
            connect_ms: outcome.connect_ms,
            http_status: outcome.http_status,
            response_ms: outcome.response_ms,
            error: outcome.error.clone(),
        });
        let values = [
            outcome.connect_ms,
            outcome.response_ms,
            Some(f64::from(u8::from(failed))),
        ];
        history.record_probe(
            &series_key(&target.dependency, &target.instance),
            &values,
            at_ms,
        );
    }

    /// The report after `round`. An endpoint no longer registered leaves the counts at
    /// once, but its failures count for the window (callers met them), then it is
    /// forgotten.
    pub fn report(&mut self, round: &Round, now_ms: i64) -> ProbeReport {
        let listed: BTreeSet<(String, String)> = (round.dependencies.iter())
            .flat_map(|d| d.endpoints.iter().map(|e| (d.app.clone(), e.0.clone())))
            .collect();
        self.seen.retain(|k, seen| {
            let recent =
                (seen.window.samples()).any(|s| now_ms.saturating_sub(s.at_ms) <= WINDOW_MS);
            listed.contains(k) || recent
        });
        let dependencies = (round.dependencies.iter())
            .map(|d| self.dependency(d, now_ms))
            .collect();
        ProbeReport {
            host: self.host.clone(),
            unix_ms: now_ms,
            period_ms: u64::try_from(PERIOD.as_millis()).unwrap_or(u64::MAX),
            window_ms: WINDOW_MS,
            skipped: round.skipped,
            dependencies,
        }
    }

    fn dependency(&self, d: &Planned, now_ms: i64) -> DependencyProbes {
        let seen: Vec<&Seen> = (d.endpoints.iter())
            .filter_map(|e| self.seen.get(&(d.app.clone(), e.0.clone())))
            .collect();
        // A window is trimmed when it takes a sample; one not probed lately is here.
        let recent = |s: &&Sample| now_ms.saturating_sub(s.at_ms) <= WINDOW_MS;
        let samples = || seen.iter().flat_map(|s| s.window.samples()).filter(recent);
        let endpoints: Vec<EndpointProbe> = (d.endpoints.iter())
            .map(|(instance, address, has_port)| {
                let last = self.seen.get(&(d.app.clone(), instance.clone()));
                last.and_then(|s| s.last.clone())
                    .unwrap_or_else(|| EndpointProbe {
                        instance: instance.clone(),
                        address: address.clone(),
                        ok: false,
                        at_ms: now_ms,
                        connect_ms: None,
                        http_status: None,
                        response_ms: None,
                        error: Some(if *has_port {
                            "not probed yet".to_owned()
                        } else {
                            "registered without a port".to_owned()
                        }),
                    })
            })
            .collect();
        let reason = match d.state {
            DependencyState::Probed => None,
            DependencyState::NotRegistered => Some(format!("{} has no registered endpoint", d.app)),
            DependencyState::NotAnApp => Some(format!("{} is declared but not an app", d.app)),
        };
        DependencyProbes {
            app: d.app.clone(),
            callers: d.callers.clone(),
            state: d.state,
            reason,
            answering: endpoints.iter().filter(|e| e.ok).count(),
            total: endpoints.len(),
            connect_ms: probe_window::timing(samples(), |s| s.connect_ms),
            http_path: d.http_path.clone(),
            response_ms: probe_window::timing(samples(), |s| s.response_ms),
            failures_per_min: probe_window::failures_per_min(
                (self.seen.iter())
                    .filter(|((app, _), _)| *app == d.app)
                    .flat_map(|(_, s)| s.window.samples())
                    .filter(recent),
                now_ms,
            ),
            endpoints,
        }
    }
}

fn planned(app: &str, callers: Vec<String>, state: DependencyState) -> Planned {
    Planned {
        app: app.to_owned(),
        callers,
        state,
        http_path: None,
        endpoints: Vec::new(),
    }
}

/// A random pause up to `JITTER_MS` (std's per-instance random hash keys are the source).
fn jitter() -> Duration {
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    Duration::from_millis(random % JITTER_MS)
}

async fn probe_target(t: Target) -> (Target, Outcome) {
    let outcome = probe_net::probe(&t.address, t.port, t.http_path.as_deref()).await;
    (t, outcome)
}

/// Probes forever, publishing each round's report into `shared`.
pub async fn probe_forever(
    mut prober: Prober,
    catalog: watch::Receiver<Option<ProbeCatalog>>,
    shared: SharedState,
) {
    loop {
        tokio::time::sleep(PERIOD + jitter()).await;
        let local: BTreeSet<String> = {
            let guard = shared
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            (guard.summary.iter())
                .flat_map(|s| &s.containers)
                .filter_map(|c| c.app.clone())
                .collect()
        };
        let round = match &*catalog.borrow() {
            Some(catalog) => prober.plan(catalog, &local),
            None => Round::default(),
        };
        let outcomes: Vec<(Target, Outcome)> = futures::stream::iter(round.targets.clone())
            .map(probe_target)
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let now = now_ms();
        let mut guard = shared
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (target, outcome) in &outcomes {
            prober.record(target, outcome, now, &mut guard.history);
        }
        // The next summary (within a second) names this round.
        guard.probes = Some(prober.report(&round, now));
    }
}

#[cfg(test)]
#[path = "probe_tests.rs"]
mod tests;
