//! The fleet model: seeds, load sharing, restarts, refusals.

use super::*;
use crate::lab::sim::scenario::Action;

fn act(fleet: &Fleet, hosts: &str, what: What, now_ms: i64) {
    let action = Action {
        time: None,
        hosts: hosts.into(),
        what,
        delay: None,
        count: None,
        image: None,
    };
    fleet.act(&action.check(fleet.engines.len()).unwrap(), now_ms);
}

#[test]
fn the_same_seed_makes_the_same_fleet() {
    let ids = |seed| {
        let fleet = Fleet::new(3, 7, seed, &[], 0);
        fleet
            .engines
            .iter()
            .flat_map(|e| e.list(true, |_| true, 0))
            .map(|c| c.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(1), ids(1));
    assert_ne!(ids(1), ids(2));
    assert_eq!(ids(1).len(), 7);
}

#[test]
fn load_is_shared_by_weight_and_adds_up_to_the_host_pattern() {
    let steady = Load {
        pattern: Pattern::Steady,
        low: 50.0,
        high: 50.0,
        period: Duration::from_secs(60),
    };
    let fleet = Fleet::new(1, 5, 3, &[Some(steady)], 0);
    let e = &fleet.engines[0];
    e.tick(1, 1000);
    let s = e.summary(0, 1000);
    let total: f64 = s
        .containers
        .iter()
        .filter_map(|c| c.figures.as_ref()?.rates.cpu_percent)
        .sum();
    assert!((total - 400.0).abs() < 1e-6, "{total}");
    assert!((s.machine.cpu_percent.unwrap() - 50.0).abs() < 1e-6);
}

#[test]
fn crashed_containers_come_back_by_their_policy_and_count_a_restart() {
    let fleet = Fleet::new(1, 0, 3, &[], 0);
    let e = &fleet.engines[0];
    let mut body = ContainerCreateBody {
        image: Some(format!("{}:1", images::REPO)),
        ..Default::default()
    };
    body.host_config = Some(bollard::models::HostConfig {
        restart_policy: Some(bollard::models::RestartPolicy {
            name: Some(RestartPolicyNameEnum::ALWAYS),
            maximum_retry_count: None,
        }),
        ..Default::default()
    });
    let id = e.create(Some("web-1"), body.clone(), 0).unwrap();
    assert_eq!(e.create(Some("web-1"), body, 0).unwrap_err().status, 409);
    assert!(e.change(&id[..6], "start", 0).unwrap());
    act(&fleet, "1", What::Crash, 500);
    assert_eq!(e.counts(), (1, 0));
    e.tick(2, 2000);
    assert_eq!(e.counts(), (1, 1));
    assert_eq!(e.with("web-1", |c| c.restarts).unwrap(), 1);
    assert_eq!(e.remove("web-1", false, 2000).unwrap_err().status, 409);
    e.remove("web-1", true, 2000).unwrap();
    assert_eq!(e.with(&id, |_| ()).unwrap_err().status, 404);
}

#[test]
fn unknown_images_and_failing_pulls_are_refused() {
    let fleet = Fleet::new(2, 0, 3, &[], 0);
    let e = &fleet.engines[1];
    let body = ContainerCreateBody {
        image: Some("nope:1".into()),
        ..Default::default()
    };
    assert_eq!(e.create(None, body, 0).unwrap_err().status, 404);
    act(&fleet, "2", What::PullFail, 0);
    assert!(e.pull("nope:1").is_err());
    assert!(fleet.engines[0].pull("nope:1").is_ok());
    act(&fleet, "all", What::PullOk, 0);
    assert!(e.pull("nope:1").is_ok());
    assert!(e.has_image("nope:1"));
}

#[test]
fn engines_are_found_by_name_only_when_it_is_theirs() {
    let fleet = Fleet::new(12, 0, 3, &[], 0);
    assert_eq!(fleet.engine("sim-0012").map(|e| e.index), Some(11));
    for bad in ["sim-0013", "sim-0", "sim-12", "x", "sim-"] {
        assert!(fleet.engine(bad).is_none(), "{bad}");
    }
}
