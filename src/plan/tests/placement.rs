//! Where instances go: reasons when nothing fits, constraints, host port ranges, and apps
//! planned together sharing capacity.

use super::*;
use crate::domain::app::Constraint;

#[test]
fn nothing_fits_says_why_host_by_host() {
    let mut spec = web(2);
    spec.machine_metadata = BTreeMap::from([("disk".to_owned(), vec!["ssd".to_owned()])]);
    let mut actual = three();
    actual.hosts[0].labels.insert("disk".into(), "ssd".into());
    let avoid = Avoid::from([(
        "web".to_owned(),
        BTreeMap::from([("lab-1".to_owned(), "no image wheelhouse/demo:1".to_owned())]),
    )]);
    let p = run_avoiding(&specs(&[spec]), &actual, &Registered::new(), &avoid);
    assert!(p.is_empty());
    let u = p.unplaced.first().expect("unplaced");
    assert_eq!((u.wanted, u.placed), (2, 0));
    let reasons: BTreeMap<&str, &str> = u
        .reasons
        .iter()
        .map(|(h, r)| (h.as_str(), r.as_str()))
        .collect();
    assert_eq!(reasons["lab-1"], "no image wheelhouse/demo:1");
    assert_eq!(reasons["lab-2"], "no disk label, want ssd");
}

#[test]
fn constraints_are_honoured() {
    let mut spec = web(6);
    spec.constraints = vec![Constraint::parse(&["rack", "MAX_PER", "2"]).expect("constraint")];
    let mut actual = three();
    for (h, rack) in actual.hosts.iter_mut().zip(["r1", "r1", "r2"]) {
        h.labels.insert("rack".into(), rack.into());
    }
    let p = run(&specs(&[spec]), &actual, &Registered::new());
    let racks: Vec<&str> = p
        .starts()
        .map(|s| if s.host == "lab-3" { "r2" } else { "r1" })
        .collect();
    assert_eq!(racks.iter().filter(|r| **r == "r1").count(), 2);
    assert_eq!(racks.iter().filter(|r| **r == "r2").count(), 2);
    assert_eq!(p.unplaced.first().map(|u| u.placed), Some(4));
}

#[test]
fn port_ranges_from_host_labels() {
    let mut actual = three();
    actual.hosts[0]
        .labels
        .insert(PORTS_LABEL.into(), "30000-30000".into());
    actual.hosts[0].ports = PortRange::for_host(&actual.hosts[0].labels);
    actual.hosts[1]
        .labels
        .insert(PORTS_LABEL.into(), "x".into());
    actual.hosts[1].ports = PortRange::for_host(&actual.hosts[1].labels);
    let p = run(&specs(&[web(4)]), &actual, &Registered::new());
    let on: Vec<(&str, Option<u16>)> = p.starts().map(|s| (s.host.as_str(), s.port())).collect();
    assert!(on.contains(&("lab-1", Some(30000))));
    assert_eq!(on.iter().filter(|(h, _)| *h == "lab-1").count(), 1);
    assert!(on.iter().all(|(h, _)| *h != "lab-2"));
    assert_eq!(on.len(), 4);
    // An app without ports does not care about ports.
    let mut plain = web(1);
    plain.ports.clear();
    plain.name = "plain".into();
    let p = run(&specs(&[plain]), &actual, &Registered::new());
    assert_eq!(p.starts().map(|s| s.port()).collect::<Vec<_>>(), [None]);
}

#[test]
fn apps_planned_together_do_not_overcommit() {
    let mut a = web(3);
    a.name = "a".into();
    a.cpus = 3.0;
    let mut b = a.clone();
    b.name = "b".into();
    let mut actual = three();
    let p = run(&specs(&[a, b]), &actual, &Registered::new());
    assert_eq!(p.starts().count(), 3, "one 3-core instance per 4-core host");
    assert_eq!(p.unplaced.len(), 1);
    apply(&mut actual, &mut Registered::new(), &p);
    for h in &actual.hosts {
        assert!(h.candidate().reserved_cpu_millis <= 4000);
    }
}
