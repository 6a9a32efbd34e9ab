//! An app: what the operator wants running (stored as JSON at /wheelhouse/apps/<app>).
//!
//! Operators write app specs as TOML (`AppSpec::from_toml`, errors name file:line:col);
//! etcd holds them as JSON (`to_json` / `from_json`). Both paths share one set of checks.

mod constraint;
mod parse;
mod units;
mod update;

pub use constraint::{Constraint, ConstraintError, ConstraintOp, Pattern, glob_match};
pub use units::{format_memory, parse_instances, parse_memory, validate_instances};
pub use update::{Amount, FailureAction, Resolved, UpdatePolicy};

use crate::domain::{Bounds, FileError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

/// The most instances one app may ask for unless the operator's config raises it.
pub const DEFAULT_MAX_INSTANCES: u32 = 1000;
/// Per-instance CPU when the spec names none, in cores.
pub const DEFAULT_CPUS: f64 = 0.1;
/// Per-instance memory when the spec names none: 64 MiB.
pub const DEFAULT_MEMORY: u64 = 64 << 20;
/// Docker refuses memory limits below 6 MiB.
pub const MIN_MEMORY: u64 = 6 << 20;
/// Anything above 4 TiB per instance is a typo, not a plan.
pub const MAX_MEMORY: u64 = 4 << 40;
/// Docker's NanoCpus granularity makes 0.01 the smallest useful share.
pub const MIN_CPUS: f64 = 0.01;
pub const MAX_CPUS: f64 = 1024.0;
/// Named ports per app: each instance gets a number for each, so more is a mistake.
pub const MAX_PORTS: usize = 100;

/// Desired state of one app. JSON field names are the TOML keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSpec {
    pub name: String,
    pub image: String,
    /// Overrides the image's command; `None` keeps the image's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    pub instances: u32,
    /// Cores per instance (applied as NanoCpus).
    pub cpus: f64,
    /// Bytes per instance (applied as Memory = MemorySwap).
    pub memory: u64,
    /// Port names: the first is `$PORT`, each is also `$PORT_<NAME>`; numbers are allocated
    /// per instance by the scheduler.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthCheck>,
    #[serde(default)]
    pub restart: RestartPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// An admin pin to one host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// Apps this one must share a host with (fleet's MachineOf).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machine_of: Vec<String>,
    /// App name globs ("db*") this one must not share a host with (fleet's Conflicts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// Host field -> allowed values: keys ANDed, values ORed (fleet's MachineMetadata).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub machine_metadata: BTreeMap<String, Vec<String>>,
    /// Marathon-style constraints, e.g. `["rack", "UNIQUE"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
    /// Services this app calls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// How a new revision replaces the running one; specs stored before it existed get
    /// the defaults.
    #[serde(default)]
    pub update: UpdatePolicy,
    /// Bumped by a rolling restart: part of the revision hash, so the same spec with the
    /// next generation rolls every instance onto a fresh container.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub restart_generation: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How an instance proves it is healthy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub probe: Probe,
    #[serde(with = "millis")]
    pub interval: Duration,
    #[serde(with = "millis")]
    pub timeout: Duration,
    /// Failures during this grace period after start do not count.
    #[serde(with = "millis")]
    pub start_period: Duration,
    /// Consecutive failures before the instance is unhealthy.
    pub retries: u32,
    /// How long an instance may stay unhealthy before it is replaced (doubled for each
    /// replacement of the app the controller still remembers). Specs stored before it
    /// existed get the default; the default is left out of the JSON.
    #[serde(
        default = "default_replace_after",
        skip_serializing_if = "is_default_replace_after",
        with = "millis"
    )]
    pub replace_after: Duration,
}

impl HealthCheck {
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
    pub const DEFAULT_RETRIES: u32 = 3;
    pub const DEFAULT_REPLACE_AFTER: Duration = Duration::from_secs(30);

    /// A check with the default timings.
    pub fn new(probe: Probe) -> Self {
        HealthCheck {
            probe,
            interval: Self::DEFAULT_INTERVAL,
            timeout: Self::DEFAULT_TIMEOUT,
            start_period: Duration::ZERO,
            retries: Self::DEFAULT_RETRIES,
            replace_after: Self::DEFAULT_REPLACE_AFTER,
        }
    }

    /// How long an unhealthy instance of an app with `check` is left before it is replaced
    /// (an app without a check can still be unhealthy by its image's own HEALTHCHECK).
    pub fn replace_after(check: Option<&HealthCheck>) -> Duration {
        check.map_or(Self::DEFAULT_REPLACE_AFTER, |c| c.replace_after)
    }
}

fn default_replace_after() -> Duration {
    HealthCheck::DEFAULT_REPLACE_AFTER
}

fn is_default_replace_after(d: &Duration) -> bool {
    *d == HealthCheck::DEFAULT_REPLACE_AFTER
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Probe {
    /// Run inside the container by Docker's own health check (exit 0 = healthy).
    Command(Vec<String>),
    /// An HTTP path probed on the instance's first port; 2xx and 3xx are healthy.
    Http(String),
    /// The image's own HEALTHCHECK, as the image sets it (a `[health]` naming neither
    /// command nor http, there to set `replace_after`).
    Image,
}

/// Docker's restart policies, by Docker's own names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    No,
    #[default]
    OnFailure,
    Always,
    UnlessStopped,
}

impl RestartPolicy {
    pub const ALL: [RestartPolicy; 4] = [
        RestartPolicy::No,
        RestartPolicy::OnFailure,
        RestartPolicy::Always,
        RestartPolicy::UnlessStopped,
    ];

    /// The name Docker's API and CLI use.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::No => "no",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Always => "always",
            RestartPolicy::UnlessStopped => "unless-stopped",
        }
    }

    pub fn parse(text: &str) -> Option<RestartPolicy> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

/// A spec from etcd that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("app spec is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("app spec {app:?} is invalid: {message}")]
    Invalid { app: String, message: String },
}

impl AppSpec {
    /// A spec with every optional setting at its default: one instance, `DEFAULT_CPUS`,
    /// `DEFAULT_MEMORY`, restart on failure, no ports, no health check, no constraints,
    /// the default update policy.
    pub fn new(name: impl Into<String>, image: impl Into<String>) -> Self {
        AppSpec {
            name: name.into(),
            image: image.into(),
            command: None,
            env: BTreeMap::new(),
            instances: 1,
            cpus: DEFAULT_CPUS,
            memory: DEFAULT_MEMORY,
            ports: Vec::new(),
            health: None,
            restart: RestartPolicy::default(),
            zone: None,
            pin: None,
            machine_of: Vec::new(),
            conflicts: Vec::new(),
            machine_metadata: BTreeMap::new(),
            constraints: Vec::new(),
            depends_on: Vec::new(),
            update: UpdatePolicy::default(),
            restart_generation: 0,
        }
    }

    /// Parses an operator's TOML file, allowing up to `DEFAULT_MAX_INSTANCES` instances.
    pub fn from_toml(path: &Path, source: &str) -> Result<AppSpec, FileError> {
        Self::from_toml_max(path, source, DEFAULT_MAX_INSTANCES)
    }

    /// Parses an operator's TOML file with the configured instance maximum; every error
    /// names `path:line:col`.
    pub fn from_toml_max(
        path: &Path,
        source: &str,
        max_instances: u32,
    ) -> Result<AppSpec, FileError> {
        parse::from_toml(path, source, max_instances)
    }

    /// The JSON stored in etcd.
    pub fn to_json(&self) -> Result<String, SpecError> {
        Ok(serde_json::to_string(self)?)
    }

    /// Reads a spec from etcd and checks it like a TOML file would be checked (the instance
    /// maximum aside: that is the caller's configured limit).
    pub fn from_json(bytes: &[u8]) -> Result<AppSpec, SpecError> {
        let spec: AppSpec = serde_json::from_slice(bytes)?;
        spec.validate().map_err(|message| SpecError::Invalid {
            app: spec.name.clone(),
            message,
        })?;
        Ok(spec)
    }

    /// Every check except the instance maximum, for specs that did not come from TOML.
    pub fn validate(&self) -> Result<(), String> {
        check_app_name("name", &self.name)?;
        check_image(&self.image)?;
        if let Some(command) = &self.command {
            check_command(command)?;
        }
        units::check_cpus(self.cpus)?;
        units::check_memory(self.memory)?;
        check_ports(&self.ports).map_err(|(_, m)| m)?;
        let reserved = port_env_names(&self.ports);
        for key in self.env.keys() {
            check_env_key(key, &reserved)?;
        }
        if let Some(health) = &self.health {
            check_health(health, &self.ports)?;
        }
        if let Some(zone) = &self.zone {
            check_not_empty("zone", zone)?;
        }
        if let Some(pin) = &self.pin {
            check_pin(pin)?;
        }
        for other in &self.machine_of {
            check_machine_of(&self.name, other)?;
        }
        for glob in &self.conflicts {
            check_conflict(glob)?;
        }
        for (key, values) in &self.machine_metadata {
            check_metadata(key, values)?;
        }
        for dep in &self.depends_on {
            check_dependency(&self.name, dep)?;
        }
        self.update.validate()
    }

    /// CPU per instance in thousandths of a core (what the scheduler adds up exactly).
    pub fn cpu_millis(&self) -> u64 {
        units::cpu_millis(self.cpus)
    }

    /// Docker's NanoCpus for this spec.
    pub fn nano_cpus(&self) -> i64 {
        (self.cpu_millis() as i64).saturating_mul(1_000_000)
    }

    /// The environment variable naming port `name`'s number: `PORT_<NAME>`.
    pub fn port_env(name: &str) -> String {
        format!("PORT_{}", name.to_ascii_uppercase())
    }
}

/// App, service and dependency names: used in container names, etcd keys and DNS-like
/// service names, so lowercase letters, digits and inner '-' only, at most 63 long.
pub fn valid_app_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn check_app_name(what: &str, name: &str) -> Result<(), String> {
    if valid_app_name(name) {
        Ok(())
    } else {
        Err(format!(
            "{what} {name:?} must be 1-63 lowercase letters, digits or inner '-'"
        ))
    }
}

/// Not empty, and free of control characters (which have no business in a name, an image,
/// a zone or a metadata key, and would reach operators' terminals).
pub(crate) fn check_not_empty(what: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    check_no_controls(what, value)
}

/// Names the first control character (C0 including tab, DEL, C1) or bidi override and its
/// position, without echoing the value.
pub(crate) fn check_no_controls(what: &str, value: &str) -> Result<(), String> {
    let found = value
        .chars()
        .enumerate()
        .find(|&(_, c)| c == '\t' || crate::domain::sanitize::needs_care(c));
    match found {
        Some((at, c)) => Err(format!(
            "{what} holds the control character {} at character {}; only env values may",
            c.escape_unicode(),
            at + 1
        )),
        None => Ok(()),
    }
}

fn check_image(image: &str) -> Result<(), String> {
    check_not_empty("image", image)?;
    if image.chars().any(char::is_whitespace) {
        return Err(format!("image {image:?} must not contain spaces"));
    }
    Ok(())
}

fn check_command(command: &[String]) -> Result<(), String> {
    if command.first().is_none_or(|c| c.is_empty()) {
        return Err("command is empty; leave it out to run the image's own command".into());
    }
    for (i, arg) in command.iter().enumerate() {
        check_no_controls(&format!("command[{i}]"), arg)?;
    }
    Ok(())
}

/// Names, no repeats, at most `MAX_PORTS`, in one pass; an error names the index of the
/// port it is about.
fn check_ports(ports: &[String]) -> Result<(), (usize, String)> {
    if ports.len() > MAX_PORTS {
        return Err((
            MAX_PORTS,
            format!(
                "an app has at most {MAX_PORTS} ports; this one lists {}",
                ports.len()
            ),
        ));
    }
    let mut seen = HashSet::with_capacity(ports.len());
    for (i, port) in ports.iter().enumerate() {
        check_port_name(port).map_err(|m| (i, m))?;
        if !seen.insert(port.as_str()) {
            return Err((i, format!("port {port:?} is listed twice")));
        }
    }
    Ok(())
}

/// The variables wheelhouse sets to an instance's ports (none without ports).
fn port_env_names(ports: &[String]) -> HashSet<String> {
    if ports.is_empty() {
        return HashSet::new();
    }
    let named = ports.iter().map(|p| AppSpec::port_env(p));
    std::iter::once("PORT".to_owned()).chain(named).collect()
}

fn check_port_name(port: &str) -> Result<(), String> {
    let ok = port.len() <= 32
        && port.starts_with(|c: char| c.is_ascii_lowercase())
        && port
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "port name {port:?} must be lowercase letters, digits or '_', starting with a letter"
        ))
    }
}

fn check_env_key(key: &str, reserved: &HashSet<String>) -> Result<(), String> {
    if key.is_empty() || key.contains(['=', '\0']) {
        return Err(format!("env name {key:?} must be non-empty, without '='"));
    }
    if reserved.contains(key) {
        return Err(format!(
            "env {key} is set by wheelhouse to the instance's port; leave it out"
        ));
    }
    Ok(())
}

fn check_health(health: &HealthCheck, ports: &[String]) -> Result<(), String> {
    check_probe(&health.probe, ports)?;
    check_timing("interval", health.interval)?;
    check_timing("timeout", health.timeout)?;
    check_timing("start_period", health.start_period)?;
    check_timing("replace_after", health.replace_after)?;
    check_retries(i64::from(health.retries))
}

fn check_probe(probe: &Probe, ports: &[String]) -> Result<(), String> {
    match probe {
        Probe::Command(command) => {
            if command.first().is_none_or(|c| c.is_empty()) {
                return Err("health.command is empty".into());
            }
        }
        Probe::Http(path) => {
            if !path.starts_with('/') || path.chars().any(char::is_whitespace) {
                return Err(format!(
                    "health.http {path:?} must be a path like \"/health\""
                ));
            }
            if ports.is_empty() {
                return Err("health.http probes the first port, but the app has no ports".into());
            }
        }
        Probe::Image => {}
    }
    Ok(())
}

/// Interval and timeout: 100ms to 1h; the start period may also be zero; replace_after is
/// at least 1s, so an always-unhealthy image cannot be replaced in a tight loop.
fn timing(what: &str) -> Bounds {
    let min = match what {
        "start_period" => Duration::ZERO,
        "replace_after" => Duration::from_secs(1),
        _ => Duration::from_millis(100),
    };
    Bounds::new(min, Duration::from_secs(3600))
}

fn check_timing(what: &str, d: Duration) -> Result<(), String> {
    timing(what).check(&format!("health.{what}"), d)
}

fn check_retries(n: i64) -> Result<(), String> {
    if (1..=100).contains(&n) {
        Ok(())
    } else {
        Err(format!("health.retries {n} must be 1 to 100"))
    }
}

fn check_pin(pin: &str) -> Result<(), String> {
    if crate::domain::valid_name(pin) {
        Ok(())
    } else {
        Err(format!("pin {pin:?} is not a host name"))
    }
}

fn check_machine_of(app: &str, other: &str) -> Result<(), String> {
    check_app_name("machine_of entry", other)?;
    if other == app {
        return Err(format!("machine_of names {app:?} itself"));
    }
    Ok(())
}

fn check_conflict(glob: &str) -> Result<(), String> {
    let ok = !glob.is_empty()
        && glob.len() <= 63
        && glob
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '*' | '?'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "conflicts entry {glob:?} must be an app name, '*' and '?' allowed"
        ))
    }
}

fn check_metadata(key: &str, values: &[String]) -> Result<(), String> {
    check_not_empty("machine_metadata key", key)?;
    if values.is_empty() {
        return Err(format!("machine_metadata.{key} lists no allowed values"));
    }
    for value in values {
        check_no_controls(&format!("machine_metadata.{key}"), value)?;
    }
    Ok(())
}

fn check_dependency(app: &str, dep: &str) -> Result<(), String> {
    check_app_name("depends_on entry", dep)?;
    if dep == app {
        return Err(format!("depends_on names {app:?} itself"));
    }
    Ok(())
}

/// Durations in JSON as whole milliseconds.
mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests;
