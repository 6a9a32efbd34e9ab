use super::*;
use crate::domain::Health;
use std::collections::{BTreeMap, BTreeSet};

mod placement;

const GIB: u64 = 1 << 30;

pub(super) fn host(name: &str, liveness: Liveness) -> HostView {
    HostView {
        name: name.to_owned(),
        zone: None,
        labels: BTreeMap::new(),
        address: Some(format!("127.0.9.{}", name.len())),
        liveness,
        ncpu: 4,
        mem_total: 8 * GIB,
        ports: Ok(DEFAULT_RANGE),
        instances: Vec::new(),
    }
}

pub(super) fn web(instances: u32) -> AppSpec {
    let mut spec = AppSpec::new("web", "wheelhouse/demo:1");
    spec.instances = instances;
    spec.ports = vec!["http".into()];
    spec
}

/// A running instance of `spec` on `host` with number `n` and port `port`.
pub(super) fn running(spec: &AppSpec, host: &str, n: u32, port: u16) -> Instance {
    let rev = labels::revision(spec);
    let ports: Vec<(String, u16)> = spec.ports.iter().map(|p| (p.clone(), port)).collect();
    Instance {
        id: Identity::from_labels(&labels::labels(spec, n, rev, &ports)).expect("labels"),
        host: host.to_owned(),
        container: format!("c-{}-{n}-{host}", spec.name),
        name: labels::container_name(&spec.name, n, rev),
        state: RunState::Running,
        health: Health::Healthy,
        crash_looping: false,
        unhealthy_past_grace: false,
    }
}

/// The state the steps produce: started instances run but are not yet healthy.
pub(super) fn apply(actual: &mut Actual, registered: &mut Registered, plan: &Plan) {
    apply_avoiding(actual, registered, &mut Avoid::new(), plan);
}

/// `apply`, and the hosts an app crash-looped or exited on are avoided from then on, as
/// the controller does.
pub(super) fn apply_avoiding(
    actual: &mut Actual,
    registered: &mut Registered,
    avoid: &mut Avoid,
    plan: &Plan,
) {
    for stop in plan.stops() {
        if matches!(stop.reason, StopReason::CrashLoop | StopReason::Failed) {
            avoid
                .entry(stop.app.clone())
                .or_default()
                .insert(stop.host.clone(), "failed here".to_owned());
        }
    }
    for step in &plan.steps {
        match step {
            Step::Start(s) => {
                let host = actual.hosts.iter_mut().find(|h| h.name == s.host);
                let host = host.expect("start on a known host");
                host.instances.push(Instance {
                    id: Identity::from_labels(&s.labels()).expect("labels"),
                    host: s.host.clone(),
                    container: format!("c-{}-{}-{}", s.app, s.instance, s.host),
                    name: s.name.clone(),
                    state: RunState::Running,
                    health: Health::Starting,
                    crash_looping: false,
                    unhealthy_past_grace: false,
                });
            }
            Step::Stop(s) => {
                let host = actual.hosts.iter_mut().find(|h| h.name == s.host);
                let host = host.expect("stop on a known host");
                let before = host.instances.len();
                host.instances.retain(|i| i.container != s.container);
                assert_eq!(
                    host.instances.len() + 1,
                    before,
                    "stop of a known container"
                );
            }
            Step::Register {
                app,
                instance,
                endpoint,
            } => {
                registered.insert((app.clone(), *instance), endpoint.container.clone());
            }
            Step::Deregister { app, instance, .. } => {
                registered.remove(&(app.clone(), *instance));
            }
        }
    }
}

pub(super) fn healthy_all(actual: &mut Actual) {
    for inst in actual.instances_mut() {
        inst.health = Health::Healthy;
    }
}

fn three() -> Actual {
    Actual {
        hosts: ["lab-1", "lab-2", "lab-3"]
            .into_iter()
            .map(|n| host(n, Liveness::Online))
            .collect(),
    }
}

fn specs(list: &[AppSpec]) -> BTreeMap<String, AppSpec> {
    list.iter().map(|s| (s.name.clone(), s.clone())).collect()
}

fn run(specs: &BTreeMap<String, AppSpec>, actual: &Actual, registered: &Registered) -> Plan {
    run_avoiding(specs, actual, registered, &Avoid::new())
}

fn run_avoiding(
    specs: &BTreeMap<String, AppSpec>,
    actual: &Actual,
    registered: &Registered,
    avoid: &Avoid,
) -> Plan {
    plan(&Input {
        specs,
        actual,
        registered,
        avoid,
        frozen: &BTreeSet::new(),
    })
}

fn per_host(actual: &Actual, app: &str) -> Vec<(String, usize)> {
    actual
        .hosts
        .iter()
        .map(|h| {
            let n = h.instances.iter().filter(|i| i.id.app == app).count();
            (h.name.clone(), n)
        })
        .collect()
}

fn counts(actual: &Actual, app: &str) -> Vec<usize> {
    per_host(actual, app).into_iter().map(|(_, n)| n).collect()
}

/// Plans, applies and marks everything healthy until nothing is left to do.
fn converge(
    specs: &BTreeMap<String, AppSpec>,
    actual: &mut Actual,
    registered: &mut Registered,
) -> usize {
    for round in 0..5 {
        let p = run(specs, actual, registered);
        if p.is_empty() {
            return round;
        }
        apply(actual, registered, &p);
        healthy_all(actual);
    }
    panic!("no convergence in 5 rounds");
}

#[test]
fn nine_instances_spread_three_three_three() {
    let mut actual = three();
    let p = run(&specs(&[web(9)]), &actual, &Registered::new());
    assert!(p.unplaced.is_empty());
    assert_eq!(p.starts().count(), 9);
    let numbers: Vec<u32> = p.starts().map(|s| s.instance).collect();
    assert_eq!(numbers, (1..=9).collect::<Vec<_>>());
    let first = p.starts().next().expect("a start");
    assert_eq!(
        first.name,
        format!("web.1.{:08x}", first.revision & 0xffff_ffff)
    );
    assert_eq!(first.address.as_deref(), Some("127.0.9.5"));
    // Each host's instances get the lowest ports of its range, one each.
    let mut ports: BTreeMap<&str, Vec<u16>> = BTreeMap::new();
    for s in p.starts() {
        ports.entry(s.host.as_str()).or_default().extend(s.port());
    }
    for list in ports.values() {
        assert_eq!(list, &[20000, 20001, 20002]);
    }
    apply(&mut actual, &mut Registered::new(), &p);
    assert_eq!(counts(&actual, "web"), [3, 3, 3]);
}

#[test]
fn planning_the_result_again_gives_nothing() {
    let mut actual = three();
    let mut registered = Registered::new();
    let specs = specs(&[web(9)]);
    let p = run(&specs, &actual, &registered);
    apply(&mut actual, &mut registered, &p);
    assert_eq!(run(&specs, &actual, &registered), Plan::default());
    // Once healthy, only registrations; then nothing.
    healthy_all(&mut actual);
    let p = run(&specs, &actual, &registered);
    assert_eq!(p.steps.len(), 9);
    assert!(p.steps.iter().all(|s| matches!(s, Step::Register { .. })));
    apply(&mut actual, &mut registered, &p);
    assert!(run(&specs, &actual, &registered).is_empty());
    assert_eq!(registered.len(), 9);
}

#[test]
fn scale_down_keeps_the_spread_and_deregisters_before_stopping() {
    let mut actual = three();
    let mut registered = Registered::new();
    converge(&specs(&[web(9)]), &mut actual, &mut registered);
    let p = run(&specs(&[web(5)]), &actual, &registered);
    assert_eq!(p.stops().count(), 4);
    let kinds: Vec<&str> = p
        .steps
        .iter()
        .map(|s| match s {
            Step::Deregister { .. } => "deregister",
            Step::Stop(_) => "stop",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, [["deregister"; 4], ["stop"; 4]].concat());
    for stop in p.stops() {
        assert_eq!(stop.reason, StopReason::Surplus);
        assert!(p.steps.iter().any(|s| matches!(s,
            Step::Deregister { instance, container, .. }
                if *instance == stop.instance && *container == stop.container)));
    }
    apply(&mut actual, &mut registered, &p);
    let mut c = counts(&actual, "web");
    c.sort_unstable();
    assert_eq!(c, [1, 2, 2]);
    assert_eq!(registered.len(), 5);
}

#[test]
fn a_dead_hosts_instances_are_replaced_and_the_surplus_stopped_on_return() {
    let mut actual = three();
    let mut registered = Registered::new();
    let specs = specs(&[web(9)]);
    converge(&specs, &mut actual, &mut registered);

    // Briefly unreachable: its instances still count, nothing moves.
    actual.hosts[2].liveness = Liveness::Unreachable;
    assert!(run(&specs, &actual, &registered).is_empty());

    actual.hosts[2].liveness = Liveness::Dead;
    let p = run(&specs, &actual, &registered);
    assert_eq!(p.starts().count(), 3);
    assert!(p.starts().all(|s| s.host != "lab-3"));
    let new: Vec<u32> = p.starts().map(|s| s.instance).collect();
    assert_eq!(new, [10, 11, 12], "lost numbers stay taken");
    assert_eq!(
        p.steps
            .iter()
            .filter(|s| matches!(s, Step::Deregister { .. }))
            .count(),
        3
    );
    assert_eq!(p.stops().count(), 0, "a dead host cannot be reached");
    apply(&mut actual, &mut registered, &p);
    healthy_all(&mut actual);
    converge(&specs, &mut actual, &mut registered);

    actual.hosts[2].liveness = Liveness::Online;
    let p = run(&specs, &actual, &registered);
    assert_eq!(p.stops().count(), 3);
    assert!(p.stops().all(|s| s.reason == StopReason::Surplus));
    assert!(p.starts().next().is_none());
    apply(&mut actual, &mut registered, &p);
    assert_eq!(counts(&actual, "web").iter().sum::<usize>(), 9);
    assert_eq!(counts(&actual, "web"), [3, 3, 3]);
    converge(&specs, &mut actual, &mut registered);
    assert_eq!(registered.len(), 9);
}

#[test]
fn failed_and_crash_looping_instances_are_replaced_elsewhere() {
    let spec = web(2);
    let mut actual = three();
    let mut exited = running(&spec, "lab-1", 1, 20000);
    exited.state = RunState::Failed;
    let mut looping = running(&spec, "lab-2", 2, 20000);
    looping.crash_looping = true;
    looping.state = RunState::Restarting;
    actual.hosts[0].instances.push(exited);
    actual.hosts[1].instances.push(looping);
    let avoid = Avoid::from([(
        "web".to_owned(),
        BTreeMap::from([("lab-2".to_owned(), "crash-looped here".to_owned())]),
    )]);
    let p = run_avoiding(&specs(&[spec]), &actual, &Registered::new(), &avoid);
    let reasons: Vec<StopReason> = p.stops().map(|s| s.reason).collect();
    assert_eq!(reasons, [StopReason::Failed, StopReason::CrashLoop]);
    let starts: Vec<(&str, u32)> = p.starts().map(|s| (s.host.as_str(), s.instance)).collect();
    // Neither goes back where an instance just failed.
    assert_eq!(starts, [("lab-3", 3), ("lab-3", 4)]);
}

#[test]
fn an_instance_unhealthy_past_its_grace_is_deregistered_stopped_and_replaced() {
    let spec = web(2);
    let specs = specs(std::slice::from_ref(&spec));
    let mut actual = Actual {
        hosts: vec![host("lab-1", Liveness::Online)],
    };
    let healthy = running(&spec, "lab-1", 1, 20000);
    let mut sick = running(&spec, "lab-1", 2, 20001);
    sick.health = Health::Unhealthy;
    actual.hosts[0].instances.extend([healthy, sick.clone()]);
    let mut registered = Registered::from([
        (("web".to_owned(), 1), "c-web-1-lab-1".to_owned()),
        (("web".to_owned(), 2), sick.container.clone()),
    ]);
    // Unhealthy within its grace: only deregistered, never stopped.
    let p = run(&specs, &actual, &registered);
    assert_eq!(p.steps.len(), 1, "{:?}", p.steps);
    assert!(matches!(&p.steps[0], Step::Deregister { instance: 2, .. }));

    actual.hosts[0].instances[1].unhealthy_past_grace = true;
    let p = run(&specs, &actual, &registered);
    let kinds: Vec<String> = p.steps.iter().map(ToString::to_string).collect();
    assert_eq!(
        kinds,
        [
            "deregister web/2".to_owned(),
            format!("stop {} on lab-1 (unhealthy too long)", sick.name),
            format!(
                "start {} on lab-1",
                labels::container_name("web", 3, labels::revision(&spec))
            ),
        ],
        "deregistered, stopped, then replaced: on its own host, the only one"
    );
    // The replacement runs; once healthy it is registered and nothing else is left.
    apply(&mut actual, &mut registered, &p);
    assert_eq!(counts(&actual, "web"), [2]);
    healthy_all(&mut actual);
    converge(&specs, &mut actual, &mut registered);
    assert_eq!(registered.len(), 2);
}

#[test]
fn instances_of_apps_without_ports_are_registered_without_a_port() {
    let mut worker = web(2);
    worker.name = "worker".into();
    worker.ports.clear();
    let specs = specs(&[worker]);
    let (mut actual, mut registered) = (three(), Registered::new());
    let p = run(&specs, &actual, &registered);
    apply(&mut actual, &mut registered, &p);
    healthy_all(&mut actual);
    let p = run(&specs, &actual, &registered);
    let endpoints: Vec<&Endpoint> = p
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Register { endpoint, .. } => Some(endpoint),
            _ => None,
        })
        .collect();
    assert_eq!(endpoints.len(), 2, "{:?}", p.steps);
    for e in endpoints {
        assert_eq!(e.port, None);
        assert!(e.address.starts_with("127.0.9."), "{e:?}");
        assert_eq!(e.to_string(), format!("{} (no port)", e.address));
    }
    apply(&mut actual, &mut registered, &p);
    assert_eq!(registered.len(), 2);
    assert!(run(&specs, &actual, &registered).is_empty());
}

#[test]
fn duplicate_numbers_keep_one() {
    let spec = web(2);
    let mut actual = three();
    actual.hosts[0]
        .instances
        .push(running(&spec, "lab-1", 1, 20000));
    let mut dup = running(&spec, "lab-2", 1, 20000);
    dup.health = Health::Unhealthy;
    actual.hosts[1].instances.push(dup);
    let mut registered = Registered::new();
    let p = run(&specs(std::slice::from_ref(&spec)), &actual, &registered);
    let stops: Vec<(&str, StopReason)> = p.stops().map(|s| (s.host.as_str(), s.reason)).collect();
    assert_eq!(stops, [("lab-2", StopReason::Duplicate)]);
    assert_eq!(p.starts().count(), 1);
    apply(&mut actual, &mut registered, &p);
    converge(&specs(&[spec]), &mut actual, &mut registered);
    let numbers: BTreeSet<u32> = actual.instances().map(|i| i.id.instance).collect();
    assert_eq!(numbers.len(), actual.instances().count());
}

#[test]
fn a_deleted_app_is_deregistered_then_stopped() {
    let mut actual = three();
    let mut registered = Registered::new();
    converge(&specs(&[web(3)]), &mut actual, &mut registered);
    let p = run(&BTreeMap::new(), &actual, &registered);
    assert_eq!(p.stops().count(), 3);
    assert!(p.stops().all(|s| s.reason == StopReason::Deleted));
    assert!(matches!(p.steps[0], Step::Deregister { .. }));
    apply(&mut actual, &mut registered, &p);
    assert_eq!(actual.instances().count(), 0);
    assert!(registered.is_empty());
}

#[test]
fn a_frozen_app_without_a_spec_keeps_its_instances_registrations_and_capacity() {
    let mut actual = three();
    let mut registered = Registered::new();
    converge(&specs(&[web(3)]), &mut actual, &mut registered);
    let frozen = BTreeSet::from(["web".to_owned()]);
    // Another app that fills what is left: web's reservations still count.
    let mut big = AppSpec::new("big", "wheelhouse/demo:1");
    big.instances = 3;
    big.cpus = 3.95;
    let p = plan(&Input {
        specs: &specs(&[big]),
        actual: &actual,
        registered: &registered,
        avoid: &Avoid::new(),
        frozen: &frozen,
    });
    assert!(p.steps.iter().all(|s| s.app() != "web"), "{:?}", p.steps);
    assert_eq!(p.starts().count(), 0, "web's 0.1 CPU per host leaves 3.9");
    assert_eq!(p.unplaced.len(), 1);
}

#[test]
fn unreachable_hosts_take_nothing_new_and_lose_nothing() {
    let mut actual = three();
    actual.hosts[1].liveness = Liveness::Unreachable;
    let spec = web(4);
    actual.hosts[1]
        .instances
        .push(running(&spec, "lab-2", 1, 20000));
    let registered = Registered::from([(("web".to_owned(), 1), "c-web-1-lab-2".to_owned())]);
    let p = run(&specs(&[spec]), &actual, &registered);
    assert_eq!(p.starts().count(), 3);
    assert!(p.starts().all(|s| s.host != "lab-2"));
    assert!(!p.steps.iter().any(|s| matches!(s, Step::Deregister { .. })));
}

#[test]
fn a_changed_container_behind_a_number_is_registered_over_without_deregistering() {
    let spec = web(1);
    let mut actual = three();
    actual.hosts[0]
        .instances
        .push(running(&spec, "lab-1", 1, 20000));
    let registered = Registered::from([(("web".to_owned(), 1), "old".to_owned())]);
    let p = run(&specs(&[spec]), &actual, &registered);
    assert_eq!(p.steps.len(), 1);
    match &p.steps[0] {
        Step::Register { endpoint, .. } => {
            assert_eq!(endpoint.container, "c-web-1-lab-1");
            assert_eq!(endpoint.port, Some(20000));
            assert_eq!(endpoint.address, "127.0.9.5");
        }
        other => panic!("{other:?}"),
    }
}
