//! Scale-down: which instances to stop first.

use super::Candidate;
use crate::model::app::AppSpec;
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

/// Chooses `count` instances to stop, in stop order. Each pick prefers, in turn: an
/// instance on an offline or unknown host, an unhealthy one, the host holding the most
/// instances of the app, the most loaded host, the first host name; on that host the
/// newest instance goes first. Each pick updates the host's count and load, so a batch
/// keeps the app spread. Deterministic for the same input.
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
        /// The next victim last, so `pop` takes it.
        queue: Vec<&'a Instance>,
    }
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
                queue: Vec::new(),
            }
        });
        group.queue.push(inst);
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
    let mut victims = Vec::with_capacity(count.min(instances.len()));
    while victims.len() < count {
        let pick = groups
            .iter()
            .filter_map(|(name, g)| g.queue.last().map(|next| (*name, g, next.healthy)))
            .min_by(|a, b| {
                (a.1.online, a.2, Reverse(a.1.queue.len()))
                    .cmp(&(b.1.online, b.2, Reverse(b.1.queue.len())))
                    .then(load(b.1).total_cmp(&load(a.1)))
                    .then(a.0.cmp(b.0))
            })
            .map(|(name, _, _)| name);
        let Some(group) = pick.and_then(|name| groups.get_mut(name)) else {
            break;
        };
        if let Some(victim) = group.queue.pop() {
            group.cpu = group.cpu.saturating_sub(spec.cpu_millis());
            group.mem = group.mem.saturating_sub(spec.memory);
            victims.push(victim);
        }
    }
    victims
}
