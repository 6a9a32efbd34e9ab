//! Scale-down: which instances to stop first, so what stays keeps its constraints and
//! its spread.

use super::Candidate;
use super::filter::{HOSTNAME, field, limit};
use crate::domain::app::{AppSpec, ConstraintOp};
use std::cmp::Reverse;
use std::collections::BTreeMap;

/// A running instance of the app being scaled down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The instance's identity (its `wheelhouse.instance` label).
    pub id: String,
    pub host: String,
    /// Higher is newer: a creation time or an instance number.
    pub seq: u64,
    pub healthy: bool,
}

/// The app's constraints that count instances per value of a field other than the
/// hostname (the host's own count is weighed for every app): GROUP_BY, UNIQUE, MAX_PER.
struct Grouped<'s> {
    field: &'s str,
    /// UNIQUE and MAX_PER: the most instances a value may hold.
    limit: Option<u32>,
    /// Instances per value among those that stay (None: hosts without the field).
    counts: BTreeMap<Option<String>, u32>,
}

impl Grouped<'_> {
    /// How badly taking an instance off a host with `value` is wanted: a value over its
    /// limit (or one the constraint cannot place on at all) first, then the value holding
    /// the most, so GROUP_BY stays even and UNIQUE / MAX_PER come back within bounds.
    fn pressure(&self, value: &Option<String>) -> (bool, u32) {
        let count = self.counts.get(value).copied().unwrap_or(0);
        let over = value.is_none() || self.limit.is_some_and(|max| count > max);
        (over, count)
    }
}

/// Chooses `count` instances to stop, in stop order. Each pick prefers, in turn: an
/// instance on an offline or unknown host; one whose GROUP_BY / UNIQUE / MAX_PER value
/// holds more than the constraint allows, then the most instances (each such constraint
/// in the spec's order), so what stays is still within bounds and evenly grouped; an
/// unhealthy one; the host holding the most instances of the app; the most loaded host;
/// the first host name. On that host the newest instance goes first. Each pick updates
/// the counts and load, so a batch keeps the app spread. Deterministic for the same input.
pub fn choose_victims<'a>(
    hosts: &[Candidate],
    spec: &AppSpec,
    instances: &'a [Instance],
    count: usize,
) -> Vec<&'a Instance> {
    struct Group<'a> {
        online: bool,
        cpu: u64,
        mem: u64,
        cpu_cap: u64,
        mem_cap: u64,
        /// The host's value of each grouped constraint's field.
        values: Vec<Option<String>>,
        /// The next victim last, so `pop` takes it.
        queue: Vec<&'a Instance>,
    }
    let mut grouped: Vec<Grouped> = spec
        .constraints
        .iter()
        .filter(|c| c.field != HOSTNAME)
        .filter(|c| {
            matches!(
                c.op,
                ConstraintOp::GroupBy | ConstraintOp::Unique | ConstraintOp::MaxPer(_)
            )
        })
        .map(|c| Grouped {
            field: &c.field,
            limit: limit(&c.op),
            counts: BTreeMap::new(),
        })
        .collect();
    let mut groups: BTreeMap<&str, Group> = BTreeMap::new();
    for inst in instances {
        let group = groups.entry(inst.host.as_str()).or_insert_with(|| {
            let host = hosts.iter().find(|h| h.name == inst.host);
            Group {
                online: host.is_some_and(|h| h.online),
                cpu: host.map_or(0, |h| h.reserved_cpu_millis),
                mem: host.map_or(0, |h| h.reserved_memory),
                cpu_cap: host.map_or(0, |h| h.cpu_millis),
                mem_cap: host.map_or(0, |h| h.memory),
                values: (grouped.iter())
                    .map(|g| host.and_then(|h| field(h, g.field)).map(str::to_owned))
                    .collect(),
                queue: Vec::new(),
            }
        });
        group.queue.push(inst);
        // Instances on offline hosts go first anyway and count for no constraint.
        if group.online {
            for (g, value) in grouped.iter_mut().zip(&group.values) {
                *g.counts.entry(value.clone()).or_default() += 1;
            }
        }
    }
    for group in groups.values_mut() {
        // Healthy and old last in stop order, i.e. first in the queue.
        group.queue.sort_by(|a, b| {
            (b.healthy, Reverse(b.seq), Reverse(&b.id)).cmp(&(
                a.healthy,
                Reverse(a.seq),
                Reverse(&a.id),
            ))
        });
    }
    let load = |g: &Group| {
        let share = |used: u64, cap: u64| {
            if cap == 0 {
                0.0
            } else {
                used as f64 / cap as f64
            }
        };
        share(g.cpu, g.cpu_cap).max(share(g.mem, g.mem_cap))
    };
    let pressure = |grouped: &[Grouped], g: &Group| -> Vec<(bool, u32)> {
        if !g.online {
            return Vec::new();
        }
        (grouped.iter().zip(&g.values))
            .map(|(c, value)| c.pressure(value))
            .collect()
    };
    let mut victims = Vec::with_capacity(count.min(instances.len()));
    while victims.len() < count {
        let pick = groups
            .iter()
            .filter_map(|(name, g)| {
                let next = g.queue.last()?;
                Some((*name, g, pressure(&grouped, g), next.healthy))
            })
            .min_by(|a, b| {
                (a.1.online, Reverse(&a.2), a.3, Reverse(a.1.queue.len()))
                    .cmp(&(b.1.online, Reverse(&b.2), b.3, Reverse(b.1.queue.len())))
                    .then(load(b.1).total_cmp(&load(a.1)))
                    .then(a.0.cmp(b.0))
            })
            .map(|(name, ..)| name);
        let Some(group) = pick.and_then(|name| groups.get_mut(name)) else {
            break;
        };
        if let Some(victim) = group.queue.pop() {
            group.cpu = group.cpu.saturating_sub(spec.cpu_millis());
            group.mem = group.mem.saturating_sub(spec.memory);
            if group.online {
                for (g, value) in grouped.iter_mut().zip(&group.values) {
                    if let Some(n) = g.counts.get_mut(value) {
                        *n = n.saturating_sub(1);
                    }
                }
            }
            victims.push(victim);
        }
    }
    victims
}
