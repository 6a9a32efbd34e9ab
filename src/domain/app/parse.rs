//! TOML app specs: every field keeps its span so each error names file:line:col.

use super::units::{check_cpus, parse_memory, validate_instances};
use super::update::{self, Amount, FailureAction, UpdatePolicy};
use super::{AppSpec, Constraint, HealthCheck, Probe, RestartPolicy};
use crate::domain::{Bounds, FileError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;
use toml::{Spanned, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApp {
    name: Spanned<String>,
    image: Spanned<String>,
    command: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    env: BTreeMap<Spanned<String>, Spanned<Value>>,
    instances: Option<Spanned<Value>>,
    cpus: Option<Spanned<Value>>,
    memory: Option<Spanned<Value>>,
    #[serde(default)]
    ports: Vec<Spanned<String>>,
    health: Option<Spanned<RawHealth>>,
    restart: Option<Spanned<String>>,
    zone: Option<Spanned<String>>,
    pin: Option<Spanned<String>>,
    #[serde(default)]
    machine_of: Vec<Spanned<String>>,
    #[serde(default)]
    conflicts: Vec<Spanned<String>>,
    #[serde(default)]
    machine_metadata: BTreeMap<Spanned<String>, Spanned<Value>>,
    #[serde(default)]
    constraints: Vec<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    depends_on: Vec<Spanned<String>>,
    update: Option<Spanned<RawUpdate>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHealth {
    command: Option<Spanned<Vec<String>>>,
    http: Option<Spanned<String>>,
    interval: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    start_period: Option<Spanned<String>>,
    retries: Option<Spanned<i64>>,
    replace_after: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpdate {
    max_surge: Option<Spanned<Value>>,
    max_unavailable: Option<Spanned<Value>>,
    min_ready: Option<Spanned<String>>,
    healthy_deadline: Option<Spanned<String>>,
    progress_deadline: Option<Spanned<String>>,
    failure_action: Option<Spanned<String>>,
    max_failure_ratio: Option<Spanned<Value>>,
    canary: Option<Spanned<Value>>,
    history_limit: Option<Spanned<Value>>,
}

/// Collects field-level checks against one file's text.
struct Checker<'a> {
    path: &'a Path,
    source: &'a str,
}

impl Checker<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> FileError {
        FileError::at(self.path, self.source, span, message)
    }

    /// Runs a shared check on a spanned value, locating its complaint.
    fn check<T>(
        &self,
        value: &Spanned<T>,
        f: impl FnOnce(&T) -> Result<(), String>,
    ) -> Result<(), FileError> {
        f(value.get_ref()).map_err(|m| self.err(value.span(), m))
    }
}

pub(super) fn from_toml(
    path: &Path,
    source: &str,
    max_instances: u32,
) -> Result<AppSpec, FileError> {
    let raw: RawApp = toml::from_str(source).map_err(|e| FileError::from_toml(path, source, &e))?;
    let c = Checker { path, source };
    c.check(&raw.name, |n| super::check_app_name("name", n))?;
    c.check(&raw.image, |i| super::check_image(i))?;
    let mut spec = AppSpec::new(raw.name.get_ref().clone(), raw.image.get_ref().clone());
    if let Some(command) = raw.command {
        c.check(&command, |cmd| super::check_command(cmd))?;
        spec.command = Some(command.into_inner());
    }
    if let Some(n) = raw.instances {
        spec.instances = match n.get_ref() {
            Value::Integer(i) => validate_instances(*i, max_instances),
            other => Err(format!(
                "instances must be a whole number, not {}",
                describe(other)
            )),
        }
        .map_err(|m| c.err(n.span(), m))?;
    }
    if let Some(cpus) = raw.cpus {
        spec.cpus = match cpus.get_ref() {
            Value::Integer(i) => Ok(*i as f64),
            Value::Float(f) => Ok(*f),
            other => Err(format!(
                "cpus must be a number of cores like 0.25, not {}",
                describe(other)
            )),
        }
        .and_then(|v| check_cpus(v).map(|()| v))
        .map_err(|m| c.err(cpus.span(), m))?;
    }
    if let Some(memory) = raw.memory {
        spec.memory = match memory.get_ref() {
            Value::Integer(i) if *i >= 0 => parse_memory(&i.to_string()),
            Value::Integer(i) => Err(format!("memory must not be negative (got {i})")),
            Value::String(s) => parse_memory(s),
            other => Err(format!(
                "memory must be a size like \"512MiB\", not {}",
                describe(other)
            )),
        }
        .map_err(|m| c.err(memory.span(), m))?;
    }
    spec.ports = raw.ports.iter().map(|p| p.get_ref().clone()).collect();
    super::check_ports(&spec.ports)
        .map_err(|(i, m)| c.err(raw.ports.get(i).map_or(0..0, Spanned::span), m))?;
    let reserved = super::port_env_names(&spec.ports);
    for (key, value) in raw.env {
        c.check(&key, |k| super::check_env_key(k, &reserved))?;
        let text = scalar_text(value.get_ref()).ok_or_else(|| {
            c.err(
                value.span(),
                format!("env {} must be a string", key.get_ref()),
            )
        })?;
        spec.env.insert(key.into_inner(), text);
    }
    if let Some(health) = raw.health {
        spec.health = Some(health_check(&c, health, &spec.ports)?);
    }
    if let Some(restart) = raw.restart {
        spec.restart = RestartPolicy::parse(restart.get_ref()).ok_or_else(|| {
            c.err(
                restart.span(),
                format!(
                    "restart {:?} must be one of: no, on-failure, always, unless-stopped",
                    restart.get_ref()
                ),
            )
        })?;
    }
    if let Some(zone) = raw.zone {
        c.check(&zone, |z| super::check_not_empty("zone", z))?;
        spec.zone = Some(zone.into_inner());
    }
    if let Some(pin) = raw.pin {
        c.check(&pin, |p| super::check_pin(p))?;
        spec.pin = Some(pin.into_inner());
    }
    for other in raw.machine_of {
        c.check(&other, |o| super::check_machine_of(&spec.name, o))?;
        spec.machine_of.push(other.into_inner());
    }
    for glob in raw.conflicts {
        c.check(&glob, |g| super::check_conflict(g))?;
        spec.conflicts.push(glob.into_inner());
    }
    for (key, values) in raw.machine_metadata {
        let list = string_list(values.get_ref()).ok_or_else(|| {
            c.err(
                values.span(),
                format!(
                    "machine_metadata.{} must be a string or a list of strings",
                    key.get_ref()
                ),
            )
        })?;
        c.check(&key, |k| super::check_metadata(k, &list))?;
        spec.machine_metadata.insert(key.into_inner(), list);
    }
    for constraint in raw.constraints {
        let parts: Vec<&str> = constraint
            .get_ref()
            .iter()
            .map(|p| p.get_ref().as_str())
            .collect();
        let parsed = Constraint::parse(&parts).map_err(|e| {
            let span = constraint
                .get_ref()
                .get(e.part)
                .map_or(constraint.span(), |p| p.span());
            c.err(span, e.message)
        })?;
        spec.constraints.push(parsed);
    }
    for dep in raw.depends_on {
        c.check(&dep, |d| super::check_dependency(&spec.name, d))?;
        spec.depends_on.push(dep.into_inner());
    }
    if let Some(raw) = raw.update {
        spec.update = update_policy(&c, raw)?;
    }
    Ok(spec)
}

fn update_policy(c: &Checker, raw: Spanned<RawUpdate>) -> Result<UpdatePolicy, FileError> {
    let table = raw.span();
    let raw = raw.into_inner();
    let mut policy = UpdatePolicy::default();
    if let Some(v) = &raw.max_surge {
        policy.max_surge = amount(c, "max_surge", v)?;
    }
    if let Some(v) = &raw.max_unavailable {
        policy.max_unavailable = amount(c, "max_unavailable", v)?;
    }
    update::check_budgets(policy.max_surge, policy.max_unavailable).map_err(|m| {
        let span = raw.max_unavailable.as_ref().or(raw.max_surge.as_ref());
        c.err(span.map_or(table.clone(), Spanned::span), m)
    })?;
    if let Some(v) = &raw.min_ready {
        policy.min_ready = duration(c, "update.min_ready", v, update::MIN_READY)?;
    }
    if let Some(v) = &raw.healthy_deadline {
        policy.healthy_deadline = duration(c, "update.healthy_deadline", v, update::DEADLINE)?;
    }
    if let Some(v) = &raw.progress_deadline {
        policy.progress_deadline = duration(c, "update.progress_deadline", v, update::DEADLINE)?;
    }
    update::check_progress_after_ready(policy.progress_deadline, policy.min_ready).map_err(
        |m| {
            let span = raw.progress_deadline.as_ref().or(raw.min_ready.as_ref());
            c.err(span.map_or(table.clone(), Spanned::span), m)
        },
    )?;
    if let Some(v) = raw.failure_action {
        policy.failure_action = FailureAction::parse(v.get_ref()).ok_or_else(|| {
            c.err(
                v.span(),
                format!(
                    "update.failure_action {:?} must be one of: pause, rollback, continue",
                    v.get_ref()
                ),
            )
        })?;
    }
    if let Some(v) = raw.max_failure_ratio {
        policy.max_failure_ratio = match v.get_ref() {
            Value::Float(f) => Ok(*f),
            Value::Integer(i) => Ok(*i as f64),
            other => Err(format!(
                "update.max_failure_ratio must be a number like 0.2, not {}",
                describe(other)
            )),
        }
        .and_then(|r| update::check_failure_ratio(r).map(|()| r))
        .map_err(|m| c.err(v.span(), m))?;
    }
    if let Some(v) = raw.canary {
        policy.canary = match v.get_ref() {
            Value::Integer(i) => u32::try_from(*i)
                .map_err(|_| format!("update.canary {i} must be 0 or a count of instances")),
            other => Err(format!(
                "update.canary must be a count of instances, not {}",
                describe(other)
            )),
        }
        .map_err(|m| c.err(v.span(), m))?;
    }
    if let Some(v) = raw.history_limit {
        let n = match v.get_ref() {
            Value::Integer(i) => update::check_history_limit(*i).map(|()| *i),
            other => Err(format!(
                "update.history_limit must be a count, not {}",
                describe(other)
            )),
        }
        .map_err(|m| c.err(v.span(), m))?;
        policy.history_limit = u32::try_from(n).unwrap_or(UpdatePolicy::DEFAULT_HISTORY_LIMIT);
    }
    Ok(policy)
}

/// `max_surge` and `max_unavailable`: 2 or "25%".
fn amount(c: &Checker, what: &str, value: &Spanned<Value>) -> Result<Amount, FileError> {
    match value.get_ref() {
        Value::Integer(i) => u32::try_from(*i)
            .map(Amount::Count)
            .map_err(|_| format!("update.{what} {i} must be 0 or more instances")),
        Value::String(s) => Amount::parse(s).map_err(|m| format!("update.{what} {m}")),
        other => Err(format!(
            "update.{what} must be a count like 1 or a percentage like \"25%\", not {}",
            describe(other)
        )),
    }
    .map_err(|m| c.err(value.span(), m))
}

/// A duration within `bounds`, or an error at the value saying why not.
fn duration(
    c: &Checker,
    what: &str,
    value: &Spanned<String>,
    bounds: Bounds,
) -> Result<Duration, FileError> {
    bounds
        .parse(what, value.get_ref())
        .map_err(|m| c.err(value.span(), m))
}

fn health_check(
    c: &Checker,
    raw: Spanned<RawHealth>,
    ports: &[String],
) -> Result<HealthCheck, FileError> {
    let span = raw.span();
    let raw = raw.into_inner();
    let (probe, probe_span) = match (raw.command, raw.http) {
        (Some(command), None) => (Probe::Command(command.get_ref().clone()), command.span()),
        (None, Some(http)) => (Probe::Http(http.get_ref().clone()), http.span()),
        (Some(_), Some(http)) => {
            return Err(c.err(http.span(), "health takes either command or http, not both"));
        }
        (None, None) => {
            // The image's own check: only when it is going to be replaced is ours to say.
            let timing = [&raw.interval, &raw.timeout, &raw.start_period];
            if let Some(set) = timing.into_iter().flatten().next() {
                return Err(c.err(
                    set.span(),
                    "health timings need command = [...] or http = \"/path\"; without \
                     either the image's own HEALTHCHECK keeps its timing",
                ));
            }
            if let Some(retries) = &raw.retries {
                return Err(c.err(
                    retries.span(),
                    "health.retries needs command = [...] or http = \"/path\"",
                ));
            }
            (Probe::Image, span)
        }
    };
    super::check_probe(&probe, ports).map_err(|m| c.err(probe_span, m))?;
    let mut check = HealthCheck::new(probe);
    let timings = [
        (raw.interval, &mut check.interval, "interval"),
        (raw.timeout, &mut check.timeout, "timeout"),
        (raw.start_period, &mut check.start_period, "start_period"),
        (raw.replace_after, &mut check.replace_after, "replace_after"),
    ];
    for (value, slot, what) in timings {
        if let Some(value) = value {
            *slot = duration(c, &format!("health.{what}"), &value, super::timing(what))?;
        }
    }
    if let Some(retries) = raw.retries {
        c.check(&retries, |n| super::check_retries(*n))?;
        check.retries = u32::try_from(*retries.get_ref()).unwrap_or(HealthCheck::DEFAULT_RETRIES);
    }
    Ok(check)
}

/// Env values may be written as numbers or booleans; containers see text.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn string_list(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("the string {s:?}"),
        other => format!("a {}", other.type_str()),
    }
}
