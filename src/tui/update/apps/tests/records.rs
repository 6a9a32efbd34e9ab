//! What the Apps panel makes of the records etcd holds: specs, broken records, foreign containers, placement problems.

use super::*;
use crate::cluster::{AppEvent, ClusterEvent, EtcdEvent};
use crate::tui::update::hear;

#[test]
fn app_events_keep_the_specs() {
    let mut m = cluster();
    let spec = |name: &str, n: u32| {
        let mut s = AppSpec::new(name, "wheelhouse/demo:2");
        s.instances = n;
        s
    };
    hear(
        &mut m,
        ClusterEvent::Apps(AppEvent::Snapshot(AppListing {
            apps: vec![(spec("web", 2), 30), (spec("db", 1), 31)],
            broken: Vec::new(),
            revision: 31,
        })),
    );
    let names: Vec<&String> = m.cluster.apps.keys().collect();
    assert_eq!(names, ["db", "web"], "a snapshot replaces what was known");
    hear(
        &mut m,
        ClusterEvent::Apps(AppEvent::Change(AppChange::Put {
            app: Box::new(spec("web", 6)),
            mod_revision: 32,
        })),
    );
    assert_eq!(
        m.cluster
            .apps
            .get("web")
            .map(|r| (r.spec.instances, r.revision)),
        Some((6, 32))
    );
    hear(
        &mut m,
        ClusterEvent::Apps(AppEvent::Change(AppChange::Deleted {
            name: "db".into(),
            revision: 33,
        })),
    );
    assert!(!m.cluster.apps.contains_key("db"));
    hear(
        &mut m,
        ClusterEvent::Etcd(EtcdEvent::Unreachable {
            error: "refused".into(),
        }),
    );
    assert!(matches!(m.cluster.etcd, EtcdState::Unreachable { .. }));
    assert_eq!(
        m.cluster.apps.len(),
        1,
        "the last known specs stay while etcd is away"
    );
}

#[test]
fn a_broken_record_keeps_the_last_good_spec_and_marks_the_row() {
    let mut m = cluster();
    let mut spec = AppSpec::new("s4", "wheelhouse/demo:1");
    spec.instances = 3;
    let broken = |reason: &str| crate::cluster::BrokenRecord {
        name: "s4".into(),
        key: "/wheelhouse/apps/s4".into(),
        reason: reason.into(),
    };
    hear(
        &mut m,
        ClusterEvent::Apps(AppEvent::Change(AppChange::Put {
            app: Box::new(spec.clone()),
            mod_revision: 40,
        })),
    );
    hear(
        &mut m,
        ClusterEvent::Apps(AppEvent::Change(AppChange::Broken {
            record: broken("bad JSON"),
            mod_revision: 41,
        })),
    );
    let row = |m: &Screen| {
        app_statuses(&m.cluster)
            .into_iter()
            .find(|s| s.name == "s4")
    };
    let s4 = row(&m).expect("s4 still listed");
    assert_eq!(
        (s4.desired, s4.broken.as_deref()),
        (Some(3), Some("bad JSON"))
    );
    // A fresh listing (after a compaction) keeps it too.
    hear(
        &mut m,
        ClusterEvent::Apps(AppEvent::Snapshot(AppListing {
            apps: Vec::new(),
            broken: vec![broken("still bad")],
            revision: 42,
        })),
    );
    let s4 = row(&m).expect("s4 still listed");
    assert_eq!(
        (s4.desired, s4.broken.as_deref()),
        (Some(3), Some("still bad"))
    );
    // A good record again clears the mark.
    hear(
        &mut m,
        ClusterEvent::Apps(AppEvent::Change(AppChange::Put {
            app: Box::new(spec),
            mod_revision: 43,
        })),
    );
    assert_eq!(row(&m).and_then(|s| s.broken), None);
    // Broken with no good spec ever read: listed as broken, with no desired count.
    hear(
        &mut m,
        ClusterEvent::Apps(AppEvent::Snapshot(AppListing {
            apps: Vec::new(),
            broken: vec![crate::cluster::BrokenRecord {
                name: "s5".into(),
                key: "/wheelhouse/apps/s5".into(),
                reason: "bad".into(),
            }],
            revision: 44,
        })),
    );
    let s5 = app_statuses(&m.cluster)
        .into_iter()
        .find(|s| s.name == "s5");
    assert_eq!(
        s5.map(|s| (s.desired, s.broken)),
        Some((None, Some("bad".into())))
    );
}

#[test]
fn containers_the_controller_did_not_start_are_foreign_not_counted() {
    let mut m = cluster();
    let mut stray = managed("web", 9, "running", Health::None);
    stray.name = "stray".into();
    stray.labels = [("wheelhouse.app".to_owned(), "web".to_owned())].into();
    containers(
        &mut m,
        "a",
        vec![managed("web", 1, "running", Health::None), stray],
    );
    let web = app_statuses(&m.cluster)
        .into_iter()
        .find(|s| s.name == "web");
    let web = web.expect("web listed");
    assert_eq!(
        (web.running, web.healthy),
        (1, 1),
        "the stray is not an instance"
    );
    assert_eq!(web.foreign, ["a/stray"]);
    assert_eq!(web.hosts, ["a"]);
}

#[test]
fn placement_problems_reach_the_apps_rows_and_leave_them() {
    use crate::cluster::PlacementEvent;
    use crate::sched::Unplaceable;
    let mut m = cluster();
    let problem = Unplaceable {
        app: "web".into(),
        wanted: 3,
        placed: 0,
        reasons: vec![("a".into(), "cpu 1.9/2 cores reserved, need 1.9".into())],
    };
    hear(
        &mut m,
        ClusterEvent::Placement(PlacementEvent::Snapshot(
            [("web".to_owned(), problem.clone())].into(),
        )),
    );
    let web = |m: &Screen| {
        app_statuses(&m.cluster)
            .into_iter()
            .find(|s| s.name == "web")
    };
    assert_eq!(
        web(&m).and_then(|s| s.unplaced).as_deref(),
        Some("3 unplaced: a: cpu 1.9/2 cores reserved, need 1.9")
    );
    hear(
        &mut m,
        ClusterEvent::Placement(PlacementEvent::Change(PlacementChange::Cleared(
            "web".into(),
        ))),
    );
    assert_eq!(web(&m).and_then(|s| s.unplaced), None);
    hear(
        &mut m,
        ClusterEvent::Placement(PlacementEvent::Change(PlacementChange::Put(problem))),
    );
    assert!(web(&m).and_then(|s| s.unplaced).is_some());
}
