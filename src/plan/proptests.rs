//! Random clusters: hosts online, unreachable or dead; apps with random counts and sizes,
//! with or without ports; existing instances in any state (crash-looping, unhealthy past
//! their grace), with clashing numbers; stale registrations. The plan, applied, plans to
//! nothing; converged state never holds more than desired, never two instances with one
//! number, nothing to replace on an online host, and starts never over-commit a host.

use super::tests::{apply, apply_avoiding, healthy_all, host, running, web};
use super::*;
use crate::domain::Health;
use proptest::prelude::*;
use proptest::sample::select;
use std::collections::BTreeSet;

const APPS: [&str; 3] = ["web", "api", "db"];

#[derive(Debug, Clone)]
struct Existing {
    app: usize,
    host: usize,
    number: u32,
    state: RunState,
    health: Health,
    crash_looping: bool,
    unhealthy_past_grace: bool,
}

fn existing() -> impl Strategy<Value = Existing> {
    (
        0..APPS.len(),
        0usize..5,
        1u32..8,
        select(vec![
            RunState::Running,
            RunState::Running,
            RunState::Running,
            RunState::Restarting,
            RunState::Failed,
            RunState::Removing,
        ]),
        select(vec![Health::Healthy, Health::Unhealthy, Health::Starting]),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(app, host, number, state, health, crash_looping, unhealthy_past_grace)| Existing {
                app,
                host,
                number,
                state,
                health,
                crash_looping,
                unhealthy_past_grace,
            },
        )
}

#[derive(Debug, Clone)]
struct Case {
    liveness: Vec<Liveness>,
    ncpu: Vec<u32>,
    /// Per app: instances wanted (None: no spec) and cores per instance.
    apps: Vec<(Option<u32>, f64)>,
    existing: Vec<Existing>,
    registered: Vec<(usize, u32)>,
    avoid: Vec<(usize, usize)>,
}

fn case() -> impl Strategy<Value = Case> {
    let liveness = select(vec![
        Liveness::Online,
        Liveness::Online,
        Liveness::Online,
        Liveness::Unreachable,
        Liveness::Dead,
    ]);
    (
        prop::collection::vec((liveness, 1u32..=4), 1..=5),
        prop::collection::vec(
            (
                prop::option::weighted(0.85, 0u32..12),
                select(vec![0.1, 0.5, 1.0]),
            ),
            APPS.len(),
        ),
        prop::collection::vec(existing(), 0..16),
        prop::collection::vec((0..APPS.len(), 1u32..10), 0..4),
        prop::collection::vec((0..APPS.len(), 0usize..5), 0..3),
    )
        .prop_map(|(hosts, apps, existing, registered, avoid)| Case {
            liveness: hosts.iter().map(|h| h.0).collect(),
            ncpu: hosts.iter().map(|h| h.1).collect(),
            apps,
            existing,
            registered,
            avoid,
        })
}

fn build(case: &Case) -> (BTreeMap<String, AppSpec>, Actual, Registered, Avoid) {
    let spec_of = |i: usize, cpus: f64| {
        let mut spec = web(1);
        spec.name = APPS[i].to_owned();
        spec.cpus = cpus;
        // db serves no port: registered all the same.
        if spec.name == "db" {
            spec.ports.clear();
        }
        spec
    };
    let mut specs = BTreeMap::new();
    for (i, (instances, cpus)) in case.apps.iter().enumerate() {
        if let Some(n) = instances {
            let mut spec = spec_of(i, *cpus);
            spec.instances = *n;
            specs.insert(spec.name.clone(), spec);
        }
    }
    let mut actual = Actual {
        hosts: (0..case.liveness.len())
            .map(|i| {
                let mut h = host(&format!("h{i}"), case.liveness[i]);
                h.ncpu = case.ncpu[i];
                h
            })
            .collect(),
    };
    for (k, e) in case.existing.iter().enumerate() {
        let Some(h) = actual.hosts.get_mut(e.host) else {
            continue;
        };
        let spec = spec_of(e.app, case.apps[e.app].1);
        let port = 20000 + u16::try_from(k).unwrap_or(0);
        let mut inst = running(&spec, &h.name, e.number, port);
        inst.container = format!("x{k}");
        inst.state = e.state;
        inst.health = e.health;
        inst.crash_looping = e.crash_looping;
        inst.unhealthy_past_grace = e.unhealthy_past_grace;
        h.instances.push(inst);
    }
    let registered = case
        .registered
        .iter()
        .map(|(app, n)| ((APPS[*app].to_owned(), *n), format!("reg-{n}")))
        .collect();
    let mut avoid = Avoid::new();
    for (app, h) in &case.avoid {
        avoid
            .entry(APPS[*app].to_owned())
            .or_default()
            .insert(format!("h{h}"), "avoid".to_owned());
    }
    (specs, actual, registered, avoid)
}

fn counted<'a>(actual: &'a Actual, app: &str) -> Vec<&'a Instance> {
    actual
        .hosts
        .iter()
        .filter(|h| h.liveness != Liveness::Dead)
        .flat_map(|h| h.instances.iter())
        .filter(|i| i.id.app == app && i.state.occupies())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn plans_converge_and_keep_their_promises(case in case()) {
        let (specs, mut actual, mut registered, mut avoid) = build(&case);
        let input = |a: &Actual, r: &Registered, avoid: &Avoid| {
            plan(&Input { specs: &specs, actual: a, registered: r, avoid, frozen: &BTreeSet::new() })
        };
        let first = input(&actual, &registered, &avoid);
        // Deterministic.
        prop_assert_eq!(&first, &input(&actual, &registered, &avoid));
        let avoided_before = avoid.clone();
        // New instance numbers are never held by any instance of the app.
        for s in first.starts() {
            prop_assert!(!actual.instances().any(|i| i.id.app == s.app && i.id.instance == s.instance));
        }
        // Starts go to online hosts not avoided, and never over-commit them.
        apply_avoiding(&mut actual, &mut registered, &mut avoid, &first);
        for s in first.starts() {
            let h = actual.host(&s.host).expect("known host");
            prop_assert_eq!(h.liveness, Liveness::Online);
            // Not on an avoided host, nor where the instance it replaces failed.
            prop_assert!(!avoid.get(&s.app).is_some_and(|a| a.contains_key(&s.host)));
            prop_assert!(!avoided_before.get(&s.app).is_some_and(|a| a.contains_key(&s.host)));
            let reserved = h.candidate().reserved_cpu_millis;
            prop_assert!(reserved <= u64::from(h.ncpu) * 1000, "{} over-committed", s.host);
        }
        // Nothing the controller condemned is left running on a host it can reach.
        let condemned = actual
            .hosts
            .iter()
            .filter(|h| h.liveness == Liveness::Online)
            .flat_map(|h| h.instances.iter())
            .filter(|i| i.state != RunState::Removing)
            .find(|i| i.crash_looping || i.unhealthy_past_grace);
        prop_assert!(condemned.is_none(), "left: {:?}", condemned);
        // Idempotent: the state the steps produce plans to nothing.
        let second = input(&actual, &registered, &avoid);
        prop_assert!(second.is_empty(), "second plan: {:?}", second.steps);
        // Healthy instances get registered, then nothing is left to do.
        healthy_all(&mut actual);
        let third = input(&actual, &registered, &avoid);
        let only_registers = third.steps.iter().all(|s| matches!(s, Step::Register { .. }));
        prop_assert!(only_registers, "third plan: {:?}", third.steps);
        apply(&mut actual, &mut registered, &third);
        prop_assert!(input(&actual, &registered, &avoid).is_empty());

        for app in APPS {
            let desired = specs.get(app).map_or(0, |s| s.instances as usize);
            let list = counted(&actual, app);
            let unreachable = list
                .iter()
                .filter(|i| actual.host(&i.host).is_some_and(|h| h.liveness == Liveness::Unreachable))
                .count();
            // Never more than desired, unless unreachable hosts alone hold more (a number
            // held twice counts once: the copy on the unreachable host goes when it returns).
            let numbers: BTreeSet<u32> = list.iter().map(|i| i.id.instance).collect();
            prop_assert!(numbers.len() <= desired.max(unreachable), "{app}: {} > {desired}", numbers.len());
            // Never two instances with one number on reachable hosts.
            let online: Vec<u32> = list
                .iter()
                .filter(|i| actual.host(&i.host).is_some_and(|h| h.liveness == Liveness::Online))
                .map(|i| i.id.instance)
                .collect();
            let unique: BTreeSet<u32> = online.iter().copied().collect();
            prop_assert_eq!(unique.len(), online.len(), "{}: {:?}", app, online);
            // Every serving instance on a reachable host is registered, ports or not.
            for i in list.iter().filter(|i| i.is_serving()) {
                let online = actual.host(&i.host).is_some_and(|h| h.liveness == Liveness::Online);
                if online {
                    prop_assert_eq!(registered.get(&(app.to_owned(), i.id.instance)), Some(&i.container));
                }
            }
            // Registrations point at serving instances only.
            for ((a, n), container) in &registered {
                if a != app { continue; }
                let inst = actual.instances().find(|i| &i.container == container);
                prop_assert!(inst.is_some_and(|i| i.id.instance == *n && i.id.app == app));
            }
        }
    }
}
