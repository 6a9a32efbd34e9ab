//! Desired vs actual: the steps that make them agree. Pure and deterministic.
//!
//! [`plan`] takes the app specs, the actual state rebuilt from container labels
//! ([`crate::cluster::ClusterState::actual`]), the service registrations and the hosts each app must avoid
//! for now, and returns [`Step`]s in the order they must run: deregistrations, then stops,
//! then starts, then registrations (an endpoint is always deregistered before its container
//! is stopped).
//!
//! Per app:
//! - instances on a dead host are lost: they do not count and are replaced elsewhere (their
//!   numbers stay taken while the model remembers them); on an unreachable host (within the
//!   grace period) they still count, and nothing there is placed or stopped;
//! - on online hosts, a failed container (exited, created but never started), a crash-looping
//!   one, one unhealthy past its grace, a second instance with a number already held, and
//!   every instance of a deleted app are stopped; surplus instances are chosen by
//!   [`crate::sched::choose_victims`] (so a host that comes back after its instances were
//!   replaced gives up exactly the surplus);
//! - missing instances are placed by [`crate::sched::place`] on the lowest free instance
//!   numbers, each with the lowest free ports of its host's range; what cannot be placed is
//!   reported host by host in [`Plan::unplaced`];
//! - running, healthy instances are registered (with their first port, if the app has
//!   ports); anything else registered is deregistered.
//!
//! Planning against the state the steps produce gives no steps.

mod actual;
pub mod labels;
mod ports;
mod reconcile;
pub mod rollout;

pub use actual::{Actual, HostView, Instance, Liveness, RunState};
pub use labels::Identity;
pub use ports::{DEFAULT_RANGE, HOST_LABEL as PORTS_LABEL, PortRange};

use crate::domain::app::AppSpec;
use crate::sched::Unplaceable;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Service registrations the planner knows of: (app, instance) -> container id.
pub type Registered = BTreeMap<(String, u32), String>;

/// Hosts each app must not be placed on now, with the reason for the operator:
/// app -> host -> reason (e.g. "crash-looped here", "no image wheelhouse/demo:9").
pub type Avoid = BTreeMap<String, BTreeMap<String, String>>;

/// What the planner decides from.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub specs: &'a BTreeMap<String, AppSpec>,
    pub actual: &'a Actual,
    pub registered: &'a Registered,
    pub avoid: &'a Avoid,
    /// Apps left alone: their record cannot be read and no good spec is known, so
    /// nothing of theirs is started, stopped, registered or deregistered (their
    /// instances still hold their hosts' capacity).
    pub frozen: &'a BTreeSet<String>,
}

/// A new instance to create and start.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    pub app: String,
    pub instance: u32,
    pub host: String,
    /// The host's address, for $ADDRESS (None: the container binds every address).
    pub address: Option<String>,
    /// The container name: `<app>.<instance>.<short revision>`.
    pub name: String,
    pub revision: i64,
    /// (port name, host port) in the spec's order; the first is $PORT.
    pub ports: Vec<(String, u16)>,
    pub spec: AppSpec,
}

impl Start {
    /// The first port: $PORT, and the one HTTP health checks probe.
    pub fn port(&self) -> Option<u16> {
        self.ports.first().map(|(_, p)| *p)
    }

    /// The labels the container is created with.
    pub fn labels(&self) -> BTreeMap<String, String> {
        labels::labels(&self.spec, self.instance, self.revision, &self.ports)
    }
}

/// Why an instance is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// More instances than the spec asks for.
    Surplus,
    /// The app's spec is gone.
    Deleted,
    /// The container exited (or never started) and will not run again by itself.
    Failed,
    /// Docker kept restarting it; it is replaced on another host.
    CrashLoop,
    /// Unhealthy for longer than its grace: it is replaced, wherever placement decides.
    Unhealthy,
    /// Another instance holds the same number.
    Duplicate,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StopReason::Surplus => "surplus",
            StopReason::Deleted => "app deleted",
            StopReason::Failed => "failed",
            StopReason::CrashLoop => "crash-looping",
            StopReason::Unhealthy => "unhealthy too long",
            StopReason::Duplicate => "duplicate instance number",
        })
    }
}

/// An instance to stop and remove.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    pub app: String,
    pub instance: u32,
    pub host: String,
    /// The container's id.
    pub container: String,
    pub name: String,
    pub reason: StopReason,
}

impl Stop {
    /// Stopping this instance of `app`, for `reason`.
    pub fn of(app: &str, instance: &Instance, reason: StopReason) -> Stop {
        Stop {
            app: app.to_owned(),
            instance: instance.id.instance,
            host: instance.host.clone(),
            container: instance.container.clone(),
            name: instance.name.clone(),
            reason,
        }
    }
}

/// A healthy endpoint, stored as JSON at `/services/<app>/<instance>` (app and instance
/// are in the key): where the instance runs, and its first port on its host's address.
/// An app without ports has no port; the field is then left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub host: String,
    /// The host's address, or its name when it has none.
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The container's id.
    pub container: String,
    /// The app revision the instance runs (the `wheelhouse.revision` label).
    pub revision: i64,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.address),
            None => write!(f, "{} (no port)", self.address),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Boxed: a start carries the whole spec, the other steps a few names.
    Start(Box<Start>),
    Stop(Stop),
    Register {
        app: String,
        instance: u32,
        endpoint: Endpoint,
    },
    /// Removes the registration of `container` (only if it still names that container).
    Deregister {
        app: String,
        instance: u32,
        container: String,
    },
}

impl Step {
    pub fn app(&self) -> &str {
        match self {
            Step::Start(s) => &s.app,
            Step::Stop(s) => &s.app,
            Step::Register { app, .. } | Step::Deregister { app, .. } => app,
        }
    }
}

impl fmt::Display for Start {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "start {} on {}", self.name, self.host)
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stop {} on {} ({})", self.name, self.host, self.reason)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Start(s) => s.fmt(f),
            Step::Stop(s) => s.fmt(f),
            Step::Register {
                app,
                instance,
                endpoint,
            } => write!(f, "register {app}/{instance} at {endpoint}"),
            Step::Deregister { app, instance, .. } => write!(f, "deregister {app}/{instance}"),
        }
    }
}

/// The steps, in the order they must run, and what could not be placed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub unplaced: Vec<Unplaceable>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn starts(&self) -> impl Iterator<Item = &Start> {
        self.steps.iter().filter_map(|s| match s {
            Step::Start(start) => Some(&**start),
            _ => None,
        })
    }

    pub fn stops(&self) -> impl Iterator<Item = &Stop> {
        self.steps.iter().filter_map(|s| match s {
            Step::Stop(stop) => Some(stop),
            _ => None,
        })
    }
}

/// Plans the steps that bring `input.actual` to the specs.
pub fn plan(input: &Input) -> Plan {
    reconcile::plan(input)
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
