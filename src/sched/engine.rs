//! The placement loop, fast enough for 10,000 instances on 1,000 hosts.
//!
//! Hosts that can take an instance are kept in partitions: hosts sharing the same values
//! for every field a cross-host constraint counts over (UNIQUE, MAX_PER, GROUP_BY and
//! CLUSTER on zone or a label). Each partition holds a min-heap by cost, and a host's cost
//! depends only on its own figures, so a decision is one pass over the partitions plus one
//! heap pop. All filters only ever get stricter within a batch, so a host or a partition
//! that fails once is dropped for good; GROUP_BY alone may pass a value again later, which
//! is why it is checked per decision against counts kept per value.

use super::filter::{self, Ctx, Groups, HOSTNAME, Load};
use super::{Candidate, Placement, Unplaceable};
use crate::domain::app::{AppSpec, ConstraintOp};
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

/// A host's place in its partition's heap; ordered by spread (GROUP_BY hostname only),
/// cost, then name rank.
#[derive(Debug, Clone, Copy)]
struct Entry {
    spread: u32,
    cost: f64,
    rank: usize,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.spread
            .cmp(&other.spread)
            .then(self.cost.total_cmp(&other.cost))
            .then(self.rank.cmp(&other.rank))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

enum Kind {
    Limit(u32),
    GroupBy,
    /// CLUSTER with no value; `open` until the first instance fixes the value.
    Cluster {
        open: bool,
    },
}

/// One cross-host constraint over a field other than hostname, with its values interned.
struct Slot {
    kind: Kind,
    counts: Vec<u32>,
    /// Live hosts per value (GROUP_BY compares only values some live host has).
    live: Vec<u32>,
    parts: Vec<Vec<usize>>,
}

struct Part {
    keys: Vec<usize>,
    heap: BinaryHeap<Reverse<Entry>>,
    alive: bool,
}

struct Engine<'a> {
    ctx: Ctx<'a>,
    hosts: Vec<&'a Candidate>,
    loads: Vec<Load>,
    slots: Vec<Slot>,
    parts: Vec<Part>,
    spread_by_host: bool,
    /// CLUSTER on hostname with no instance anywhere yet: the first pick takes all.
    cluster_host_open: bool,
}

pub(super) fn place(candidates: &[Candidate], spec: &AppSpec, count: u32) -> Placement {
    let mut hosts: Vec<&Candidate> = candidates.iter().collect();
    hosts.sort_by(|a, b| a.name.cmp(&b.name));
    let mut engine = Engine::new(Ctx::new(spec), hosts);
    // Bounded: a huge count must not allocate before hosts run out of room.
    let mut placed = Vec::with_capacity((count as usize).min(1 << 16));
    while placed.len() < count as usize {
        let Some((part, rank)) = engine.best() else {
            break;
        };
        engine.commit(part, rank);
        placed.push(engine.hosts[rank].name.clone());
    }
    let unplaced = (placed.len() < count as usize).then(|| Unplaceable {
        app: spec.name.clone(),
        wanted: count,
        placed: placed.len() as u32,
        reasons: engine.reasons(),
    });
    Placement {
        hosts: placed,
        unplaced,
    }
}

impl<'a> Engine<'a> {
    fn new(ctx: Ctx<'a>, hosts: Vec<&'a Candidate>) -> Self {
        let spec = ctx.spec;
        let loads: Vec<Load> = hosts.iter().map(|h| Load::of(h, &spec.name)).collect();
        let groups = Groups::count(&ctx, &hosts, &loads);
        let live: Vec<bool> = hosts
            .iter()
            .zip(&loads)
            .map(|(h, l)| filter::base(&ctx, h, *l, &groups).is_ok())
            .collect();
        let grouped: Vec<(&str, Kind, usize)> = spec
            .constraints
            .iter()
            .enumerate()
            .filter(|(_, c)| c.field != HOSTNAME && filter::is_grouped(&c.op))
            .map(|(i, c)| {
                let kind = match &c.op {
                    ConstraintOp::GroupBy => Kind::GroupBy,
                    ConstraintOp::Cluster(_) => Kind::Cluster {
                        open: groups.counts[i].values().all(|n| *n == 0),
                    },
                    op => Kind::Limit(filter::limit(op).unwrap_or(1)),
                };
                (c.field.as_str(), kind, i)
            })
            .collect();
        let mut slots = Vec::with_capacity(grouped.len());
        let mut keys: Vec<Vec<usize>> = vec![Vec::with_capacity(grouped.len()); hosts.len()];
        for (field, kind, ci) in grouped {
            // Intern the values of live hosts; only they can take instances, and their
            // values are the only ones UNIQUE, MAX_PER and GROUP_BY compare.
            let mut ids: HashMap<&str, usize> = HashMap::new();
            for (rank, host) in hosts.iter().enumerate() {
                if let (true, Some(v)) = (live[rank], filter::field(host, field)) {
                    let next = ids.len();
                    keys[rank].push(*ids.entry(v).or_insert(next));
                }
            }
            let mut counts = vec![0; ids.len()];
            for (v, n) in &groups.counts[ci] {
                if let Some(&id) = ids.get(v) {
                    counts[id] = *n;
                }
            }
            slots.push(Slot {
                kind,
                counts,
                live: vec![0; ids.len()],
                parts: vec![Vec::new(); ids.len()],
            });
        }
        let spread_by_host = spec
            .constraints
            .iter()
            .any(|c| c.field == HOSTNAME && c.op == ConstraintOp::GroupBy);
        let cluster_host_open = !groups.any_own
            && spec
                .constraints
                .iter()
                .any(|c| c.field == HOSTNAME && c.op == ConstraintOp::Cluster(None));
        let mut engine = Engine {
            ctx,
            hosts,
            loads,
            slots,
            parts: Vec::new(),
            spread_by_host,
            cluster_host_open,
        };
        let mut by_key: HashMap<Vec<usize>, usize> = HashMap::new();
        for (rank, key) in keys.into_iter().enumerate() {
            if !live[rank] {
                continue;
            }
            let next = engine.parts.len();
            let part = *by_key.entry(key.clone()).or_insert(next);
            if part == next {
                for (slot, &v) in engine.slots.iter_mut().zip(&key) {
                    slot.parts[v].push(part);
                }
                engine.parts.push(Part {
                    keys: key,
                    heap: BinaryHeap::new(),
                    alive: true,
                });
            }
            engine.push(part, rank);
        }
        engine
    }

    fn entry(&self, rank: usize) -> Entry {
        let load = self.loads[rank];
        Entry {
            spread: if self.spread_by_host { load.own } else { 0 },
            cost: filter::cost(&self.ctx, self.hosts[rank], load),
            rank,
        }
    }

    /// Adds a live host to its partition and to the live counts of its values.
    fn push(&mut self, part: usize, rank: usize) {
        let entry = self.entry(rank);
        let p = &mut self.parts[part];
        for (slot, &v) in self.slots.iter_mut().zip(&p.keys) {
            slot.live[v] += 1;
        }
        p.heap.push(Reverse(entry));
    }

    /// Takes `n` live hosts of a partition out of the live counts.
    fn unlive(&mut self, part: usize, n: u32) {
        for (slot, &v) in self.slots.iter_mut().zip(&self.parts[part].keys) {
            slot.live[v] -= n;
        }
    }

    /// Drops a whole partition: a constraint now excludes every host in it.
    fn kill(&mut self, part: usize) {
        if !self.parts[part].alive {
            return;
        }
        let n = self.parts[part].heap.len() as u32;
        self.unlive(part, n);
        self.parts[part].alive = false;
        self.parts[part].heap.clear();
    }

    /// The partition and host the next instance goes to.
    fn best(&mut self) -> Option<(usize, usize)> {
        let mins: Vec<Option<u32>> = self
            .slots
            .iter()
            .map(|s| match s.kind {
                Kind::GroupBy => (0..s.counts.len())
                    .filter(|&v| s.live[v] > 0)
                    .map(|v| s.counts[v])
                    .min(),
                _ => None,
            })
            .collect();
        let parts = &self.parts;
        let tops = || {
            parts
                .iter()
                .enumerate()
                .filter(|(_, p)| p.alive)
                .filter_map(|(i, p)| p.heap.peek().map(|Reverse(e)| (i, p, *e)))
        };
        let host_min = if self.spread_by_host {
            tops().map(|(_, _, e)| e.spread).min()
        } else {
            Some(0)
        };
        tops()
            .filter(|(_, p, e)| {
                Some(e.spread) == host_min
                    && self
                        .slots
                        .iter()
                        .zip(&p.keys)
                        .zip(&mins)
                        .all(|((s, &v), min)| match min {
                            Some(min) => s.counts[v] == *min,
                            None => true,
                        })
            })
            .min_by(|a, b| a.2.cost.total_cmp(&b.2.cost).then(a.2.rank.cmp(&b.2.rank)))
            .map(|(i, _, e)| (i, e.rank))
    }

    /// Places one instance on the host at the top of `part`, then applies what changed.
    fn commit(&mut self, part: usize, rank: usize) {
        self.parts[part].heap.pop();
        self.unlive(part, 1);
        let load = &mut self.loads[rank];
        load.cpu = load.cpu.saturating_add(self.ctx.need_cpu);
        load.mem = load.mem.saturating_add(self.ctx.need_mem);
        load.own += 1;
        let keys = self.parts[part].keys.clone();
        for (s, &v) in keys.iter().enumerate() {
            let slot = &mut self.slots[s];
            slot.counts[v] += 1;
            let doomed: Vec<usize> = match slot.kind {
                Kind::Limit(max) if slot.counts[v] >= max => slot.parts[v].clone(),
                Kind::Cluster { open: true } => {
                    slot.kind = Kind::Cluster { open: false };
                    (0..slot.parts.len())
                        .filter(|&o| o != v)
                        .flat_map(|o| slot.parts[o].iter().copied())
                        .collect()
                }
                _ => Vec::new(),
            };
            for p in doomed {
                self.kill(p);
            }
        }
        if self.cluster_host_open {
            self.cluster_host_open = false;
            let alive = self.parts[part].alive;
            for p in 0..self.parts.len() {
                self.kill(p);
            }
            // The chosen host alone may take the rest; its partition lives on for it.
            self.parts[part].alive = alive;
        }
        let host = self.hosts[rank];
        if self.parts[part].alive && filter::host_local(&self.ctx, host, self.loads[rank]).is_ok() {
            self.push(part, rank);
        }
    }

    /// Every host's reason, from the reference filters on the current state.
    fn reasons(&self) -> Vec<(String, String)> {
        let results = filter::evaluate(&self.ctx, &self.hosts, &self.loads);
        let mut reasons: Vec<(String, String)> = self
            .hosts
            .iter()
            .zip(results)
            .filter_map(|(h, r)| r.err().map(|why| (h.name.clone(), why)))
            .collect();
        if let Some(pin) = &self.ctx.spec.pin
            && !self.hosts.iter().any(|h| &h.name == pin)
        {
            reasons.push((pin.clone(), "no such host".into()));
            reasons.sort();
        }
        reasons
    }
}
