//! The trace of one app (issue 13): its instances between its callers (apps whose spec
//! `depends_on` names it) and its dependencies, each hop with what the picture knows of
//! it today (endpoints registered out of instances running) and the figures the agents
//! of the caller's hosts measure (`trace_probes`); where no agent reports a hop, it says
//! so ([`Probes::NotMeasured`]) rather than showing a number.

use super::trace_probes::probes_of;
pub use super::trace_probes::{HostProbes, Probes};
use super::{ClusterState, Host};
use crate::domain::check::{LastCheck, no_check_words};
use crate::domain::duration::age;
use crate::domain::{Container, ContainerState, Health};
use crate::plan::{Endpoint, Identity};
use std::time::Instant;

/// One app in the middle, its callers on the left and its dependencies on the right.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub app: String,
    /// The app has a spec, a container or a registered endpoint in the picture.
    pub known: bool,
    pub instances: Vec<Node>,
    /// Callers, in name order: each hop is caller -> this app.
    pub callers: Vec<Hop>,
    /// Dependencies, in the spec's order: each hop is this app -> dependency.
    pub dependencies: Vec<Hop>,
}

/// One instance of the app: a managed container and what the registry says of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub host: String,
    pub container: String,
    /// The id as `docker ps` shows it (12 characters).
    pub id: String,
    pub instance: u32,
    pub revision: i64,
    pub state: ContainerState,
    pub health: Health,
    /// From the engine's status text ("3 minutes"); None when it is not up.
    pub uptime: Option<String>,
    /// None until an inspect has answered.
    pub restarts: Option<u32>,
    /// The engine's last run of its health check; None without one (see `health`).
    pub last_check: Option<LastCheck>,
    /// The endpoint registered for this container; None: not registered.
    pub endpoint: Option<Endpoint>,
    /// The host's load score in percent; None until the engine reported it.
    pub host_load: Option<f64>,
}

impl Node {
    /// The last health check in words as of `now`: "✓ 12s ago", "✗ 3s ago: exit 1 …",
    /// "no health check".
    pub fn check_words(&self, now: Instant) -> String {
        match &self.last_check {
            Some(check) => check.describe(check.age(now).map(age)),
            None => no_check_words(self.health != Health::None).to_owned(),
        }
    }
}

/// An edge of the trace, caller -> callee, with what is known of the callee's endpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    pub caller: String,
    pub callee: String,
    /// The callee's registered endpoints.
    pub registered: usize,
    /// The callee's managed containers (running or not).
    pub instances: usize,
    pub verdict: Verdict,
    pub probes: Probes,
}

/// How a hop looks from the registry, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Every instance has an endpoint.
    Healthy,
    /// Some instances have none.
    Partial,
    /// Registered endpoints do not all answer from a caller's host.
    NotAnswering,
    /// The callee has no spec: declared as a dependency but not an app.
    NotAnApp,
    /// The callee is an app with no registered endpoint.
    NotRegistered,
}

impl Verdict {
    /// A glyph that says it without colour.
    pub fn glyph(self) -> &'static str {
        match self {
            Verdict::Healthy => "✓",
            Verdict::Partial => "⚠",
            Verdict::NotAnswering => "✗",
            Verdict::NotAnApp | Verdict::NotRegistered => "✗",
        }
    }

    /// The name `ctl trace -o json` gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Healthy => "healthy",
            Verdict::Partial => "partial",
            Verdict::NotAnswering => "not_answering",
            Verdict::NotAnApp => "not_an_app",
            Verdict::NotRegistered => "not_registered",
        }
    }
}

impl Hop {
    /// "0/2 endpoints registered", "3/4 endpoints answer from lab-1, connect p95 840 ms",
    /// or why there is nothing to count.
    pub fn describe(&self) -> String {
        match self.verdict {
            Verdict::NotAnswering => match self.probes.worst() {
                Some(h) => format!("{} from {}", h.headline(), h.host),
                None => "endpoints do not answer".to_owned(),
            },
            Verdict::NotAnApp => format!("{} is declared but not an app", self.callee),
            Verdict::NotRegistered if self.instances == 0 => {
                format!("no registered endpoint ({} has no instance)", self.callee)
            }
            _ => format!(
                "{}/{} endpoints registered",
                self.registered, self.instances
            ),
        }
    }
}

impl Trace {
    /// The trace of `app` in `cluster` (an app the picture does not know has no instance,
    /// no caller and no dependency, and `known` false).
    pub fn of(cluster: &ClusterState, app: &str) -> Trace {
        let spec = cluster.apps.get(app).map(|r| &r.spec);
        let callers = (cluster.apps.values())
            .filter(|r| r.spec.depends_on.iter().any(|d| d == app))
            .map(|r| hop(cluster, &r.spec.name, app))
            .collect();
        let mut deps: Vec<&String> = Vec::new();
        for dep in spec.iter().flat_map(|s| &s.depends_on) {
            if !deps.contains(&dep) {
                deps.push(dep);
            }
        }
        let dependencies = deps.into_iter().map(|d| hop(cluster, app, d)).collect();
        let instances = nodes(cluster, app);
        Trace {
            app: app.to_owned(),
            known: spec.is_some() || !instances.is_empty() || cluster.services.contains_key(app),
            instances,
            callers,
            dependencies,
        }
    }

    /// Every hop, callers first.
    pub fn hops(&self) -> impl Iterator<Item = &Hop> {
        self.callers.iter().chain(&self.dependencies)
    }

    /// The worst hop (the first of the worst), if any hop is not healthy.
    pub fn worst(&self) -> Option<&Hop> {
        let mut worst: Option<&Hop> = None;
        for hop in self.hops().filter(|h| h.verdict != Verdict::Healthy) {
            if worst.is_none_or(|w| hop.verdict > w.verdict) {
                worst = Some(hop);
            }
        }
        worst
    }

    /// One line naming the worst hop, or saying all are healthy.
    pub fn summary(&self) -> String {
        if !self.known {
            return format!("✗ {} is not an app in the picture", self.app);
        }
        match self.worst() {
            Some(hop) => format!(
                "{} {} → {}: {}",
                hop.verdict.glyph(),
                hop.caller,
                hop.callee,
                hop.describe()
            ),
            None if self.hops().next().is_none() => {
                format!("✓ {} has no callers and no dependencies", self.app)
            }
            None => "✓ all hops healthy".to_owned(),
        }
    }
}

/// The managed containers of `app` on every host, by host then instance number.
fn nodes(cluster: &ClusterState, app: &str) -> Vec<Node> {
    let endpoints = cluster.services.get(app);
    (instances_of(cluster, app).into_iter())
        .map(|(host, c, id)| Node {
            host: host.name().to_owned(),
            container: c.name.clone(),
            id: c.short_id().to_owned(),
            instance: id.instance,
            revision: id.revision,
            state: c.state.clone(),
            health: c.health,
            uptime: c.uptime().map(str::to_owned),
            restarts: c.restarts,
            last_check: c.last_check.clone(),
            endpoint: endpoints
                .and_then(|e| e.values().find(|e| e.container == c.id))
                .cloned(),
            host_load: host.load().map(|l| l.score()),
        })
        .collect()
}

/// `app`'s managed containers with their hosts and identities, by host then instance:
/// the trace's instances, and the instances view's cells.
pub fn instances_of<'a>(
    cluster: &'a ClusterState,
    app: &str,
) -> Vec<(&'a Host, &'a Container, Identity)> {
    let mut all: Vec<_> = (cluster.hosts.iter())
        .flat_map(|host| host.containers.iter().map(move |c| (&**host, c)))
        .filter_map(|(host, c)| {
            let id = Identity::from_labels(&c.labels).filter(|i| i.app == app)?;
            Some((host, c, id))
        })
        .collect();
    all.sort_by(|a, b| (a.0.name(), a.2.instance).cmp(&(b.0.name(), b.2.instance)));
    all
}

/// `caller -> callee`, judged by the callee's registered endpoints.
fn hop(cluster: &ClusterState, caller: &str, callee: &str) -> Hop {
    let registered = cluster.services.get(callee).map_or(0, |e| e.len());
    let instances = (cluster.hosts.iter())
        .flat_map(|h| &h.containers)
        .filter_map(|c| Identity::from_labels(&c.labels))
        .filter(|i| i.app == callee)
        .count();
    let probes = probes_of(cluster, caller, callee);
    let verdict = if !cluster.apps.contains_key(callee) {
        Verdict::NotAnApp
    } else if registered == 0 {
        Verdict::NotRegistered
    } else if probes.failing() {
        Verdict::NotAnswering
    } else if registered < instances {
        Verdict::Partial
    } else {
        Verdict::Healthy
    };
    Hop {
        caller: caller.to_owned(),
        callee: callee.to_owned(),
        registered,
        instances,
        verdict,
        probes,
    }
}

#[cfg(test)]
#[path = "trace_tests.rs"]
pub(crate) mod tests;
