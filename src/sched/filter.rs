//! The hard filters, one host at a time, with reasons in operator words.
//!
//! `evaluate` is the reference: it judges every host against the whole current state. The
//! engine uses the same checks but keeps the cross-host ones (UNIQUE, MAX_PER, CLUSTER,
//! GROUP_BY over a field) incremental; the property tests hold the two to the same answers.

use super::{Candidate, SPREAD_WEIGHT};
use crate::domain::app::{AppSpec, ConstraintOp, format_memory, glob_match};
use std::collections::HashMap;

/// A host's changing figures during one batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Load {
    pub cpu: u64,
    pub mem: u64,
    /// Instances of the app being placed.
    pub own: u32,
}

impl Load {
    pub fn of(host: &Candidate, app: &str) -> Load {
        Load {
            cpu: host.reserved_cpu_millis,
            mem: host.reserved_memory,
            own: host.apps.get(app).copied().unwrap_or(0),
        }
    }
}

/// What one batch places, computed once.
pub(super) struct Ctx<'a> {
    pub spec: &'a AppSpec,
    pub need_cpu: u64,
    pub need_mem: u64,
}

impl<'a> Ctx<'a> {
    pub fn new(spec: &'a AppSpec) -> Self {
        Ctx {
            spec,
            // A spec that asks for nothing still fills hosts eventually.
            need_cpu: spec.cpu_millis().max(1),
            need_mem: spec.memory.max(1),
        }
    }
}

pub(super) const HOSTNAME: &str = "hostname";

/// A host's value for a constraint field: `hostname`, `zone`, or a label.
pub(super) fn field<'h>(host: &'h Candidate, name: &str) -> Option<&'h str> {
    match name {
        HOSTNAME => Some(&host.name),
        "zone" => host.zone.as_deref(),
        _ => host.labels.get(name).map(String::as_str),
    }
}

/// Whether a constraint counts instances across hosts sharing a field value.
pub(super) fn is_grouped(op: &ConstraintOp) -> bool {
    matches!(
        op,
        ConstraintOp::Unique
            | ConstraintOp::MaxPer(_)
            | ConstraintOp::GroupBy
            | ConstraintOp::Cluster(None)
    )
}

/// The most instances per field value a UNIQUE or MAX_PER allows.
pub(super) fn limit(op: &ConstraintOp) -> Option<u32> {
    match op {
        ConstraintOp::Unique => Some(1),
        ConstraintOp::MaxPer(n) => Some(*n),
        _ => None,
    }
}

/// Checks that depend only on the host and other apps: they hold for the whole batch.
pub(super) fn fixed(ctx: &Ctx, host: &Candidate) -> Result<(), String> {
    let spec = ctx.spec;
    if !host.online {
        return Err("offline".into());
    }
    if host.cpu_millis == 0 || host.memory == 0 {
        return Err("capacity not reported yet".into());
    }
    if let Some(pin) = &spec.pin
        && &host.name != pin
    {
        return Err(format!("app is pinned to {pin}"));
    }
    if let Some(want) = &spec.zone {
        match &host.zone {
            None => return Err(format!("no zone, want {want}")),
            Some(zone) if zone != want => return Err(format!("zone {zone}, want {want}")),
            Some(_) => {}
        }
    }
    for (key, allowed) in &spec.machine_metadata {
        match field(host, key) {
            None => return Err(format!("no {key} label, want {}", allowed.join(" or "))),
            Some(v) if !allowed.iter().any(|a| a == v) => {
                return Err(format!("{key}={v}, want {}", allowed.join(" or ")));
            }
            Some(_) => {}
        }
    }
    for other in &spec.machine_of {
        if host.apps.get(other).copied().unwrap_or(0) == 0 {
            return Err(format!("no instance of {other} here (machine_of)"));
        }
    }
    for glob in &spec.conflicts {
        let clash = host
            .apps
            .iter()
            .find(|(app, n)| **n > 0 && *app != &spec.name && glob_match(glob, app));
        if let Some((app, _)) = clash {
            return Err(format!("conflicts with {app}"));
        }
    }
    for c in &spec.constraints {
        let name = c.op.name();
        let value = field(host, &c.field);
        match (&c.op, value) {
            (ConstraintOp::Unlike(p), Some(v)) if p.is_match(v) => {
                return Err(format!("{}={v} matches {} (UNLIKE)", c.field, p.as_str()));
            }
            (ConstraintOp::Unlike(_), _) => {}
            (ConstraintOp::Cluster(Some(want)), None) => {
                return Err(format!("no {} label, want {want} (CLUSTER)", c.field));
            }
            (_, None) => return Err(format!("no {} label ({name})", c.field)),
            (ConstraintOp::Like(p), Some(v)) if !p.is_match(v) => {
                return Err(format!(
                    "{}={v} does not match {} (LIKE)",
                    c.field,
                    p.as_str()
                ));
            }
            (ConstraintOp::Cluster(Some(want)), Some(v)) if v != want => {
                return Err(format!("{}={v}, want {want} (CLUSTER)", c.field));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks that change only when this host itself receives an instance.
pub(super) fn host_local(ctx: &Ctx, host: &Candidate, load: Load) -> Result<(), String> {
    let spec = ctx.spec;
    if load.own > 0
        && let Some(glob) = spec.conflicts.iter().find(|g| glob_match(g, &spec.name))
    {
        return Err(format!(
            "already runs {} and conflicts with {glob}",
            spec.name
        ));
    }
    for c in spec.constraints.iter().filter(|c| c.field == HOSTNAME) {
        if let Some(max) = limit(&c.op)
            && load.own >= max
        {
            return Err(format!(
                "holds {} instances, max {max} ({})",
                load.own,
                c.op.name()
            ));
        }
    }
    if load.cpu.saturating_add(ctx.need_cpu) > host.cpu_millis {
        return Err(format!(
            "cpu {}/{} cores reserved, need {}",
            cores(load.cpu),
            cores(host.cpu_millis),
            cores(ctx.need_cpu)
        ));
    }
    if load.mem.saturating_add(ctx.need_mem) > host.memory {
        return Err(format!(
            "memory {} used, need {}",
            memory_ratio(load.mem, host.memory),
            format_memory(ctx.need_mem)
        ));
    }
    Ok(())
}

/// Instances of the app per field value, over online hosts, for each grouped constraint
/// on a field other than hostname (indexed like `spec.constraints`).
pub(super) struct Groups<'h> {
    pub counts: Vec<HashMap<&'h str, u32>>,
    /// Whether any online host holds an instance (CLUSTER on hostname follows it).
    pub any_own: bool,
}

impl<'h> Groups<'h> {
    pub fn count(ctx: &Ctx, hosts: &[&'h Candidate], loads: &[Load]) -> Groups<'h> {
        let constraints = &ctx.spec.constraints;
        let mut counts: Vec<HashMap<&str, u32>> = vec![HashMap::new(); constraints.len()];
        let mut any_own = false;
        for (host, load) in hosts.iter().zip(loads) {
            if !host.online || load.own == 0 {
                continue;
            }
            any_own = true;
            for (c, map) in constraints.iter().zip(counts.iter_mut()) {
                if c.field != HOSTNAME
                    && is_grouped(&c.op)
                    && let Some(v) = field(host, &c.field)
                {
                    *map.entry(v).or_default() += load.own;
                }
            }
        }
        Groups { counts, any_own }
    }
}

/// UNIQUE, MAX_PER and CLUSTER (with no value) against the other hosts' instances.
pub(super) fn grouped(
    ctx: &Ctx,
    host: &Candidate,
    load: Load,
    groups: &Groups,
) -> Result<(), String> {
    for (i, c) in ctx.spec.constraints.iter().enumerate() {
        if c.field == HOSTNAME {
            if c.op == ConstraintOp::Cluster(None) && groups.any_own && load.own == 0 {
                return Err("other hosts hold the instances (CLUSTER hostname)".into());
            }
            continue;
        }
        let Some(v) = field(host, &c.field) else {
            continue;
        };
        let here = groups.counts[i].get(v).copied().unwrap_or(0);
        if let Some(max) = limit(&c.op)
            && here >= max
        {
            return Err(format!(
                "{}={v} holds {here} instances, max {max} ({})",
                c.field,
                c.op.name()
            ));
        }
        if c.op == ConstraintOp::Cluster(None) && here == 0 {
            let mut held: Vec<&str> = groups.counts[i]
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(v, _)| *v)
                .collect();
            held.sort_unstable();
            if let Some(first) = held.first() {
                return Err(format!(
                    "{}={v}, instances are in {}={first} (CLUSTER)",
                    c.field, c.field
                ));
            }
        }
    }
    Ok(())
}

/// Every check but GROUP_BY: a host passing these is "live" for GROUP_BY.
pub(super) fn base(ctx: &Ctx, host: &Candidate, load: Load, groups: &Groups) -> Result<(), String> {
    fixed(ctx, host)?;
    host_local(ctx, host, load)?;
    grouped(ctx, host, load, groups)
}

/// Judges every host against the current state: `Ok` for those a new instance may go to.
pub(super) fn evaluate(ctx: &Ctx, hosts: &[&Candidate], loads: &[Load]) -> Vec<Result<(), String>> {
    let groups = Groups::count(ctx, hosts, loads);
    let mut results: Vec<Result<(), String>> = hosts
        .iter()
        .zip(loads)
        .map(|(h, l)| base(ctx, h, *l, &groups))
        .collect();
    let live: Vec<usize> = (0..hosts.len()).filter(|&i| results[i].is_ok()).collect();
    for (ci, c) in ctx.spec.constraints.iter().enumerate() {
        if c.op != ConstraintOp::GroupBy {
            continue;
        }
        // The value each live host stands for, and its instance count.
        let standing = |i: usize| -> (&str, u32) {
            if c.field == HOSTNAME {
                (hosts[i].name.as_str(), loads[i].own)
            } else {
                let v = field(hosts[i], &c.field).unwrap_or_default();
                (v, groups.counts[ci].get(v).copied().unwrap_or(0))
            }
        };
        let Some((min_value, min)) = live
            .iter()
            .map(|&i| standing(i))
            .min_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)))
        else {
            continue;
        };
        for &i in &live {
            let (v, n) = standing(i);
            if n > min && results[i].is_ok() {
                results[i] = Err(if c.field == HOSTNAME {
                    format!("holds {n} instances, {min_value} only {min} (GROUP_BY hostname)")
                } else {
                    format!(
                        "{f}={v} holds {n} instances, {f}={min_value} only {min} (GROUP_BY)",
                        f = c.field
                    )
                });
            }
        }
    }
    results
}

/// Lower is better: usage after placing one more instance, plus the spread term.
pub(super) fn cost(ctx: &Ctx, host: &Candidate, load: Load) -> f64 {
    let cpu = load.cpu.saturating_add(ctx.need_cpu) as f64 / host.cpu_millis.max(1) as f64;
    let mem = load.mem.saturating_add(ctx.need_mem) as f64 / host.memory.max(1) as f64;
    cpu.max(mem) + SPREAD_WEIGHT * f64::from(load.own)
}

/// Thousandths of a core as "4", "0.25", "3.9".
fn cores(millis: u64) -> String {
    let text = format!("{}.{:03}", millis / 1000, millis % 1000);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// "3.8/4.0 GiB", both in the unit of the total.
fn memory_ratio(used: u64, total: u64) -> String {
    let (div, unit) = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")]
        .into_iter()
        .find(|(shift, _)| total >= 1u64 << shift)
        .map_or((1.0, "B"), |(shift, unit)| ((1u64 << shift) as f64, unit));
    format!("{:.1}/{:.1} {unit}", used as f64 / div, total as f64 / div)
}
