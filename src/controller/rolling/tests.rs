use super::*;
use crate::cluster::PendingCommand;
use crate::cluster::RolloutChange;
use crate::domain::app::Amount;
use crate::plan::rollout::Command;
use crate::plan::{HostView, Identity, RunState};

fn spec(image: &str, instances: u32) -> AppSpec {
    let mut s = AppSpec::new("web", image);
    s.instances = instances;
    s.update.max_surge = Amount::Count(1);
    s.update.max_unavailable = Amount::Count(0);
    s.update.min_ready = Duration::ZERO;
    s
}

fn instance(n: u32, revision: i64, health: Health) -> Instance {
    Instance {
        id: Identity {
            app: "web".into(),
            instance: n,
            revision,
            ports: BTreeMap::new(),
            port: None,
            cpu_millis: 100,
            memory: 64 << 20,
        },
        host: "h1".into(),
        container: format!("c{n}-{revision}"),
        name: format!("web.{n}"),
        state: RunState::Running,
        health,
        crash_looping: false,
        unhealthy_past_grace: false,
    }
}

fn actual(instances: Vec<Instance>) -> Actual {
    Actual {
        hosts: vec![HostView {
            name: "h1".into(),
            zone: None,
            labels: BTreeMap::new(),
            address: None,
            liveness: Liveness::Online,
            ncpu: 2,
            mem_total: 2 << 30,
            ports: Ok(crate::plan::DEFAULT_RANGE),
            instances,
        }],
    }
}

fn specs(s: &AppSpec) -> BTreeMap<String, AppSpec> {
    BTreeMap::from([(s.name.clone(), s.clone())])
}

/// A rolling app as the round would have stored it.
fn begun(r: &mut Rolling, from: &AppSpec, to: &AppSpec, a: &Actual) {
    let list: Vec<&Instance> = a.instances().collect();
    let state = RolloutState::new(
        "web",
        labels::revision(from),
        labels::revision(to),
        to.instances,
        to.update.clone(),
        &observe(&list, &BTreeSet::new()),
        1_000,
    );
    r.saved(Rollout {
        state,
        from_spec: Some(from.clone()),
        to_spec: to.clone(),
    });
}

/// demo:1 → demo:2 begun over two demo:1 instances of this health.
fn two_begun(health: Health) -> (AppSpec, AppSpec, Actual, Rolling) {
    let (v1, v2) = (spec("demo:1", 2), spec("demo:2", 2));
    let r1 = labels::revision(&v1);
    let a = actual(vec![instance(1, r1, health), instance(2, r1, health)]);
    let mut r = Rolling::default();
    begun(&mut r, &v1, &v2, &a);
    (v1, v2, a, r)
}

#[test]
fn a_new_revision_begins_a_rollout_from_the_majority() {
    let (v1, v2) = (spec("demo:1", 3), spec("demo:2", 3));
    let (r1, r2) = (labels::revision(&v1), labels::revision(&v2));
    let a = actual(vec![
        instance(1, r1, Health::Healthy),
        instance(2, r1, Health::Healthy),
        instance(3, 7, Health::Healthy),
    ]);
    let mut r = Rolling::default();
    let none = HashSet::new();
    let tick = r.tick(&specs(&v1), &a, &none, 0, Instant::now());
    // Only instance 3 runs another revision than v1's.
    assert_eq!(tick.initiations.len(), 1);
    assert_eq!(tick.initiations[0].from_revision, 7);
    let tick = r.tick(&specs(&v2), &a, &none, 0, Instant::now());
    assert_eq!(tick.initiations.len(), 1);
    assert_eq!(tick.initiations[0].from_revision, r1, "the majority");
    assert_eq!(labels::revision(&tick.initiations[0].to_spec), r2);
    let hold = &tick.held["web"];
    assert_eq!(
        (hold.starts, hold.spec.instances),
        (0, 3),
        "no stop, no start"
    );
    // Every instance on the spec's revision: nothing to roll.
    let same = actual(vec![instance(1, r2, Health::Healthy)]);
    let tick = r.tick(&specs(&spec("demo:2", 1)), &same, &none, 0, Instant::now());
    assert!(tick.initiations.is_empty() && tick.held.is_empty());
}

#[test]
fn a_failed_revision_is_not_retried_but_a_new_one_is() {
    let (_, v2, a, mut r) = two_begun(Health::Healthy);
    if let Some(stored) = r.rollouts.get_mut("web") {
        stored.state.phase = Phase::Failed {
            reason: "no host has image".into(),
        };
    }
    let none = HashSet::new();
    let tick = r.tick(&specs(&v2), &a, &none, 0, Instant::now());
    assert!(tick.initiations.is_empty() && tick.held.is_empty());
    let tick = r.tick(&specs(&spec("demo:3", 2)), &a, &none, 0, Instant::now());
    assert_eq!(tick.initiations.len(), 1);
}

#[test]
fn steps_become_placed_starts_and_deregistered_stops() {
    let (v1, v2) = (spec("demo:1", 2), spec("demo:2", 2));
    let (r1, r2) = (labels::revision(&v1), labels::revision(&v2));
    let a = actual(vec![
        instance(1, r1, Health::Healthy),
        instance(2, r1, Health::Healthy),
    ]);
    let mut r = Rolling::default();
    begun(&mut r, &v1, &v2, &a);
    let none = HashSet::new();
    // Surge 1: one start of the new revision first, planned with the new spec.
    let tick = r.tick(&specs(&v2), &a, &none, 2_000, Instant::now());
    let hold = &tick.held["web"];
    assert_eq!(hold.starts, 1);
    assert_eq!(hold.spec.instances, 3);
    assert_eq!(labels::revision(&hold.spec), r2);
    assert_eq!(tick.writes.len(), 1, "stored before it runs");
    r.saved(tick.writes[0].rollout.clone());
    // The new one is up and healthy: an old one leaves the registry, then stops.
    let mut now_up = actual(vec![
        instance(1, r1, Health::Healthy),
        instance(2, r1, Health::Healthy),
        instance(3, r2, Health::Healthy),
    ]);
    let tick = r.tick(&specs(&v2), &now_up, &none, 3_000, Instant::now());
    let steps = &tick.writes[0].steps;
    assert!(
        matches!(&steps[..], [Step::Deregister { instance: 1, .. }, Step::Stop(s)] if s.instance == 1),
        "{steps:?}"
    );
    r.hide_leaving(&mut now_up, Instant::now());
    let health: Vec<Health> = now_up.instances().map(|i| i.health).collect();
    assert_eq!(
        health,
        [Health::Unhealthy, Health::Healthy, Health::Healthy]
    );
}

#[test]
fn no_step_until_the_probes_have_answered() {
    let (_, v2, a, mut r) = two_begun(Health::Starting);
    r.take_over(r.rollouts.values().cloned().collect(), 5_000);
    let unknown: HashSet<String> = a.instances().map(|i| i.container.clone()).collect();
    let tick = r.tick(&specs(&v2), &a, &unknown, 6_000, Instant::now());
    assert!(tick.writes.is_empty(), "held, not stepped");
    assert_eq!(tick.held["web"].starts, 0);
    let tick = r.tick(&specs(&v2), &a, &HashSet::new(), 6_000, Instant::now());
    assert_eq!(tick.writes.len(), 1);
}

#[test]
fn commands_are_applied_once_or_dropped_with_why() {
    let (_, v2, a, mut r) = two_begun(Health::Healthy);
    let command = |c: Command| StoredCommand {
        app: "web".into(),
        command: PendingCommand {
            command: c,
            who: "ops".into(),
            at_ms: 0,
        },
        mod_revision: 42,
    };
    assert!(
        r.on_event(RolloutEvent::Change(RolloutChange::Command(command(
            Command::Pause
        ))))
    );
    let none = HashSet::new();
    let tick = r.tick(&specs(&v2), &a, &none, 2_000, Instant::now());
    let w = &tick.writes[0];
    assert_eq!(w.applied, Some(42));
    assert!(matches!(w.rollout.state.phase, Phase::Paused { .. }));
    assert!(w.steps.is_empty() && tick.held["web"].starts == 0, "paused");
    assert_eq!(w.audits[0].who, "ops");
    r.saved(w.rollout.clone());
    assert!(
        r.on_event(RolloutEvent::Change(RolloutChange::Command(command(
            Command::Promote
        ))))
    );
    let tick = r.tick(&specs(&v2), &a, &none, 3_000, Instant::now());
    assert_eq!(tick.discards.len(), 1);
    assert!(tick.discards[0].1.contains("not waiting for a promote"));
}

#[test]
fn a_deleted_app_fails_its_rollout() {
    let (v1, v2) = (spec("demo:1", 1), spec("demo:2", 1));
    let a = actual(vec![instance(1, labels::revision(&v1), Health::Healthy)]);
    let mut r = Rolling::default();
    begun(&mut r, &v1, &v2, &a);
    let tick = r.tick(&BTreeMap::new(), &a, &HashSet::new(), 2_000, Instant::now());
    assert!(tick.held.is_empty(), "reconcile removes the instances");
    assert_eq!(
        tick.writes[0].rollout.state.phase,
        Phase::Failed {
            reason: "the app was deleted".into()
        }
    );
}

#[test]
fn a_restart_marker_names_one_container_not_every_id_it_starts() {
    let mut inst = instance(1, 1, Health::Healthy);
    inst.container = "a1b2c3d4e5f6a7b8c9d0".into();
    let marked =
        |keys: &[&str]| -> BTreeSet<String> { keys.iter().map(|k| (*k).to_owned()).collect() };
    assert!(!restart_asked(&marked(&["a"]), &inst));
    assert!(!restart_asked(&marked(&["a1b2c3d4e5f"]), &inst));
    assert!(!restart_asked(&marked(&["a1b2c3d4e5f6-x"]), &inst));
    assert!(restart_asked(&marked(&["a1b2c3d4e5f6"]), &inst));
    assert!(restart_asked(&marked(&["a1b2c3d4e5f6a7b8c9d0"]), &inst));
    assert!(restart_asked(&marked(&["web.1"]), &inst));
    inst.container = "c1".into();
    assert!(restart_asked(&marked(&["c1"]), &inst));
}
