//! Random hosts, specs and counts: the fast engine agrees with the reference filters, never
//! breaks a hard constraint or over-commits a host, and gives the same answer every time.

use super::filter::{Ctx, Load, cost, evaluate, field};
use super::*;
use crate::domain::app::{Constraint, ConstraintOp, glob_match};
use proptest::prelude::*;
use proptest::sample::select;

const GIB: u64 = 1 << 30;

fn opt(values: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(0.8, select(values).prop_map(str::to_owned))
}

/// Reserved share in percent: mostly room to spare, sometimes full.
fn pct() -> impl Strategy<Value = u64> {
    prop_oneof![3 => 0u64..=50, 1 => 50u64..=100]
}

fn hosts() -> impl Strategy<Value = Vec<Candidate>> {
    let host = (
        prop::bool::weighted(0.9),
        prop_oneof![1 => Just(0u32), 20 => 1u32..=8],
        prop_oneof![1 => Just(0u64), 20 => 1u64..=16],
        (pct(), pct()),
        (
            opt(&["a", "b", "c"]),
            opt(&["r0", "r1", "r2", "r3"]),
            opt(&["ssd", "hdd", "nvme"]),
        ),
        (
            prop_oneof![2 => Just(0u32), 1 => 1u32..4],
            prop_oneof![3 => Just(0u32), 1 => 1u32..3],
            0u32..3,
        ),
    );
    prop::collection::vec(host, 0..16).prop_map(|hosts| {
        hosts
            .into_iter()
            .enumerate()
            .map(
                |(
                    i,
                    (online, ncpu, gib, (cpu_pct, mem_pct), (zone, rack, disk), (own, db, cache)),
                )| {
                    let mut h = Candidate::new(format!("h{i:02}"), ncpu, gib * GIB);
                    h.online = online;
                    h.zone = zone;
                    for (key, value) in [("rack", rack), ("disk", disk)] {
                        if let Some(v) = value {
                            h.labels.insert(key.into(), v);
                        }
                    }
                    h.reserved_cpu_millis = h.cpu_millis * cpu_pct / 100;
                    h.reserved_memory = h.memory * mem_pct / 100;
                    for (app, n) in [("web", own), ("db-1", db), ("cache", cache)] {
                        if n > 0 {
                            h.apps.insert(app.into(), n);
                        }
                    }
                    h
                },
            )
            .collect()
    })
}

const CONFLICTS: &[&[&str]] = &[&["db*"], &["web"], &["db*", "we?"]];

const CONSTRAINTS: &[&[&str]] = &[
    &["rack", "UNIQUE"],
    &["zone", "UNIQUE"],
    &["hostname", "UNIQUE"],
    &["zone", "GROUP_BY"],
    &["rack", "GROUP_BY"],
    &["hostname", "GROUP_BY"],
    &["disk", "LIKE", "ssd|nvme"],
    &["rack", "UNLIKE", "r0"],
    &["hostname", "MAX_PER", "2"],
    &["rack", "MAX_PER", "3"],
    &["zone", "CLUSTER", "a"],
    &["rack", "CLUSTER"],
    &["zone", "CLUSTER"],
    &["hostname", "CLUSTER"],
];

fn specs() -> impl Strategy<Value = AppSpec> {
    (
        select(&[0.1, 0.1, 0.25, 0.5, 1.0, 2.0][..]),
        select(&[64u64 << 20, 64 << 20, 256 << 20, GIB, 3 * GIB][..]),
        (
            prop::option::weighted(0.15, Just("a".to_owned())),
            prop::option::weighted(0.05, 0usize..14),
        ),
        (prop::bool::weighted(0.1), prop::bool::weighted(0.15)),
        prop_oneof![3 => Just(&[][..]), 2 => select(CONFLICTS)],
        prop::collection::vec(select(CONSTRAINTS), 0..3),
    )
        .prop_map(
            |(cpus, memory, (zone, pin), (machine_of, metadata), conflicts, constraints)| {
                let mut spec = AppSpec::new("web", "wh-demo:1");
                spec.cpus = cpus;
                spec.memory = memory;
                spec.zone = zone.filter(|_| pin.is_none());
                spec.pin = pin.map(|i| format!("h{i:02}"));
                if machine_of {
                    spec.machine_of = vec!["cache".into()];
                }
                if metadata {
                    spec.machine_metadata
                        .insert("disk".into(), vec!["ssd".into(), "nvme".into()]);
                }
                spec.conflicts = conflicts.iter().map(|c| (*c).to_owned()).collect();
                spec.constraints = constraints
                    .iter()
                    .map(|c| Constraint::parse(c).expect("valid constraint"))
                    .collect();
                spec
            },
        )
}

/// The obvious algorithm: judge every host before every decision.
fn reference(hosts: &[Candidate], spec: &AppSpec, count: u32) -> Placement {
    let mut sorted: Vec<&Candidate> = hosts.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let ctx = Ctx::new(spec);
    let mut loads: Vec<Load> = sorted.iter().map(|h| Load::of(h, &spec.name)).collect();
    let mut placed = Vec::new();
    while placed.len() < count as usize {
        let results = evaluate(&ctx, &sorted, &loads);
        let best = (0..sorted.len())
            .filter(|&i| results[i].is_ok())
            .min_by(|&a, &b| {
                cost(&ctx, sorted[a], loads[a])
                    .total_cmp(&cost(&ctx, sorted[b], loads[b]))
                    .then(a.cmp(&b))
            });
        let Some(i) = best else { break };
        loads[i].cpu += ctx.need_cpu;
        loads[i].mem += ctx.need_mem;
        loads[i].own += 1;
        placed.push(sorted[i].name.clone());
    }
    let unplaced = (placed.len() < count as usize).then(|| {
        let mut reasons: Vec<(String, String)> = sorted
            .iter()
            .zip(evaluate(&ctx, &sorted, &loads))
            .filter_map(|(h, r)| r.err().map(|why| (h.name.clone(), why)))
            .collect();
        if let Some(pin) = &spec.pin
            && !hosts.iter().any(|h| &h.name == pin)
        {
            reasons.push((pin.clone(), "no such host".into()));
            reasons.sort();
        }
        Unplaceable {
            app: spec.name.clone(),
            wanted: count,
            placed: placed.len() as u32,
            reasons,
        }
    });
    Placement {
        hosts: placed,
        unplaced,
    }
}

/// Checks the outcome against the spec directly, without the filter module.
fn check_hard_constraints(
    hosts: &[Candidate],
    spec: &AppSpec,
    placement: &Placement,
) -> Result<(), String> {
    let by_name: BTreeMap<&str, &Candidate> = hosts.iter().map(|h| (h.name.as_str(), h)).collect();
    let new = placement.counts();
    let own = |h: &Candidate| h.apps.get("web").copied().unwrap_or(0);
    let total = |h: &Candidate| own(h) + new.get(h.name.as_str()).copied().unwrap_or(0);
    for (&name, &n) in &new {
        let h = by_name[name];
        let fail = |what: &str| Err(format!("{name} breaks {what}"));
        if !h.online {
            return fail("online");
        }
        if h.reserved_cpu_millis + u64::from(n) * spec.cpu_millis() > h.cpu_millis {
            return fail("cpu");
        }
        if h.reserved_memory + u64::from(n) * spec.memory > h.memory {
            return fail("memory");
        }
        if spec.pin.as_ref().is_some_and(|p| p != name) {
            return fail("pin");
        }
        if spec.zone.is_some() && spec.zone != h.zone {
            return fail("zone");
        }
        if !spec
            .machine_metadata
            .iter()
            .all(|(k, vs)| h.labels.get(k).is_some_and(|v| vs.contains(v)))
        {
            return fail("machine_metadata");
        }
        if !spec
            .machine_of
            .iter()
            .all(|a| h.apps.get(a).is_some_and(|n| *n > 0))
        {
            return fail("machine_of");
        }
        for glob in &spec.conflicts {
            let others = h
                .apps
                .iter()
                .any(|(a, n)| *n > 0 && a != "web" && glob_match(glob, a));
            if others || (glob_match(glob, "web") && total(h) > 1) {
                return fail("conflicts");
            }
        }
        for c in &spec.constraints {
            let v = field(h, &c.field);
            let ok = match &c.op {
                ConstraintOp::Like(p) => v.is_some_and(|v| p.is_match(v)),
                ConstraintOp::Unlike(p) => !v.is_some_and(|v| p.is_match(v)),
                ConstraintOp::Cluster(Some(want)) => v == Some(want.as_str()),
                _ => v.is_some(),
            };
            if !ok {
                return fail(&c.to_string());
            }
        }
    }
    let online: Vec<&Candidate> = hosts.iter().filter(|h| h.online).collect();
    for c in &spec.constraints {
        let mut per_value: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
        for h in &online {
            if let Some(v) = field(h, &c.field) {
                let entry = per_value.entry(v).or_default();
                entry.0 += own(h);
                entry.1 += total(h) - own(h);
            }
        }
        let limit = match c.op {
            ConstraintOp::Unique => Some(1),
            ConstraintOp::MaxPer(n) => Some(n),
            _ => None,
        };
        if let Some(max) = limit
            && per_value
                .values()
                .any(|(before, added)| *added > 0 && before + added > max)
        {
            return Err(format!("{c} exceeded: {per_value:?}"));
        }
        if c.op == ConstraintOp::Cluster(None) {
            let held = per_value.values().filter(|(b, a)| b + a > 0).count();
            let held_before = per_value.values().filter(|(b, _)| *b > 0).count();
            if held > held_before.max(1) {
                return Err(format!("{c} spread over {per_value:?}"));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn engine_agrees_with_the_reference(hosts in hosts(), spec in specs(), count in 0u32..40) {
        let fast = place(&hosts, &spec, count);
        prop_assert_eq!(&fast, &reference(&hosts, &spec, count));
        prop_assert_eq!(fast.unplaced.is_some(), fast.hosts.len() < count as usize);
        if let Some(why) = &fast.unplaced {
            prop_assert!(why.reasons.len() >= hosts.len());
        }
    }

    #[test]
    fn no_placement_breaks_a_hard_constraint(hosts in hosts(), spec in specs(), count in 0u32..40) {
        let placement = place(&hosts, &spec, count);
        let checked = check_hard_constraints(&hosts, &spec, &placement);
        prop_assert!(checked.is_ok(), "{:?} for {:?}", checked, placement.hosts);
    }

    #[test]
    fn placement_is_deterministic(hosts in hosts(), spec in specs(), count in 0u32..40) {
        let first = place(&hosts, &spec, count);
        prop_assert_eq!(&first, &place(&hosts, &spec, count));
        let reversed: Vec<Candidate> = hosts.iter().rev().cloned().collect();
        prop_assert_eq!(&first, &place(&reversed, &spec, count));
    }

    /// With nothing else in the way, GROUP_BY leaves the values at most one apart among
    /// those that received instances.
    #[test]
    fn group_by_spreads_evenly(zones in prop::collection::vec((0usize..3, 0u32..4), 1..10), count in 0u32..30) {
        let spec = {
            let mut s = AppSpec::new("web", "i");
            s.constraints = vec![Constraint::parse(&["zone", "GROUP_BY"]).expect("valid")];
            s
        };
        let hosts: Vec<Candidate> = zones
            .iter()
            .enumerate()
            .map(|(i, (z, own))| Candidate::new(format!("h{i}"), 64, 256 * GIB)
                .with_zone(["a", "b", "c"][*z])
                .with_instances(&spec, *own))
            .collect();
        let placement = place(&hosts, &spec, count);
        prop_assert!(placement.is_complete());
        let mut per_zone: BTreeMap<&str, (u32, bool)> = BTreeMap::new();
        for h in &hosts {
            per_zone.entry(h.zone.as_deref().unwrap_or_default()).or_default().0 += h.apps["web"];
        }
        for name in &placement.hosts {
            let h = hosts.iter().find(|h| &h.name == name).expect("known host");
            let e = per_zone.get_mut(h.zone.as_deref().unwrap_or_default()).expect("zone");
            *e = (e.0 + 1, true);
        }
        let min = per_zone.values().map(|e| e.0).min().unwrap_or(0);
        for (zone, (n, got)) in &per_zone {
            prop_assert!(!got || *n <= min + 1, "zone {} has {} (min {}): {:?}", zone, n, min, per_zone);
        }
    }
}

/// Online hosts, each in one of four zones, with one to four instances of `web` each.
fn victim_cases() -> impl Strategy<Value = (Vec<Candidate>, Vec<victims::Instance>, usize)> {
    let host = (select(&["a", "b", "c", "d"][..]), 1usize..5, pct());
    (prop::collection::vec(host, 1..10), 0usize..30).prop_map(|(hosts, count)| {
        let mut candidates = Vec::new();
        let mut instances = Vec::new();
        for (i, (zone, n, cpu_pct)) in hosts.into_iter().enumerate() {
            let mut c = Candidate::new(format!("h{i:02}"), 4, 4 * GIB).with_zone(zone);
            c.reserved_cpu_millis = c.cpu_millis * cpu_pct / 100;
            for k in 0..n {
                let seq = (i * 10 + k) as u64;
                instances.push(victims::Instance {
                    id: seq.to_string(),
                    host: c.name.clone(),
                    seq,
                    healthy: k % 3 != 2,
                });
            }
            candidates.push(c);
        }
        (candidates, instances, count)
    })
}

fn left_per_zone(
    hosts: &[Candidate],
    instances: &[victims::Instance],
    chosen: &[&victims::Instance],
) -> (BTreeMap<String, u32>, BTreeMap<String, u32>) {
    let zone = |i: &victims::Instance| {
        let h = hosts.iter().find(|h| h.name == i.host);
        h.and_then(|h| h.zone.clone()).unwrap_or_default()
    };
    let (mut before, mut after) = (BTreeMap::new(), BTreeMap::new());
    for i in instances {
        *before.entry(zone(i)).or_default() += 1;
        if !chosen.contains(&i) {
            *after.entry(zone(i)).or_default() += 1;
        } else {
            after.entry(zone(i)).or_default();
        }
    }
    (before, after)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// GROUP_BY: an instance is only ever taken from a zone that, once it gave it up,
    /// holds at least as many as any other zone less one: what stays is as even as
    /// stopping alone can make it (a returning host never empties its zone).
    #[test]
    fn victims_keep_group_by_as_even_as_it_can_be((hosts, instances, count) in victim_cases()) {
        let spec = AppSpec {
            constraints: vec![Constraint::parse(&["zone", "GROUP_BY"]).expect("valid")],
            ..AppSpec::new("web", "wh-demo:1")
        };
        let chosen = choose_victims(&hosts, &spec, &instances, count);
        prop_assert_eq!(chosen.len(), count.min(instances.len()));
        prop_assert_eq!(&chosen, &choose_victims(&hosts, &spec, &instances, count));
        let (before, after) = left_per_zone(&hosts, &instances, &chosen);
        let most = after.values().copied().max().unwrap_or(0);
        for (zone, left) in &after {
            if before[zone] > *left {
                prop_assert!(left + 1 >= most, "took from {zone}: {before:?} -> {after:?}");
            }
        }
    }

    /// UNIQUE / MAX_PER: given enough stops, what stays is within the bound.
    #[test]
    fn victims_bring_max_per_within_bounds((hosts, instances, count) in victim_cases(), max in 1u32..4) {
        let op = if max == 1 { "UNIQUE" } else { "MAX_PER" };
        let text = max.to_string();
        let parts: Vec<&str> = if max == 1 { vec!["zone", op] } else { vec!["zone", op, &text] };
        let spec = AppSpec {
            constraints: vec![Constraint::parse(&parts).expect("valid")],
            ..AppSpec::new("web", "wh-demo:1")
        };
        let chosen = choose_victims(&hosts, &spec, &instances, count);
        let (before, after) = left_per_zone(&hosts, &instances, &chosen);
        let excess: u32 = before.values().map(|n| n.saturating_sub(max)).sum();
        if count as u32 >= excess {
            prop_assert!(after.values().all(|n| *n <= max), "{before:?} -> {after:?}");
        }
    }
}
