use super::*;
use crate::domain::app::Constraint;

const GIB: u64 = 1 << 30;

fn app(cpus: f64, memory: u64) -> AppSpec {
    let mut spec = AppSpec::new("web", "wh-demo:1");
    spec.cpus = cpus;
    spec.memory = memory;
    spec
}

fn host(name: &str) -> Candidate {
    Candidate::new(name, 4, 4 * GIB)
}

fn with(spec: &AppSpec, constraints: &[&[&str]]) -> AppSpec {
    let mut spec = spec.clone();
    spec.constraints = constraints
        .iter()
        .map(|c| Constraint::parse(c).expect("valid constraint"))
        .collect();
    spec
}

fn counts(p: &Placement) -> Vec<(&str, u32)> {
    p.counts().into_iter().collect()
}

fn reason<'a>(p: &'a Placement, host: &str) -> &'a str {
    let why = p.unplaced.as_ref().expect("something unplaced");
    why.reasons
        .iter()
        .find(|(h, _)| h == host)
        .map(|(_, r)| r.as_str())
        .unwrap_or_else(|| panic!("no reason for {host} in {why}"))
}

#[test]
fn nine_over_three_equal_hosts_is_three_each() {
    let hosts = [host("lab-1"), host("lab-2"), host("lab-3")];
    let p = place(&hosts, &app(0.1, 64 << 20), 9);
    assert!(p.is_complete());
    assert_eq!(counts(&p), [("lab-1", 3), ("lab-2", 3), ("lab-3", 3)]);
    // Round-robin in name order: each decision sees the previous ones.
    assert_eq!(p.hosts[..3], ["lab-1", "lab-2", "lab-3"]);
}

#[test]
fn a_fuller_host_gets_fewer() {
    let mut busy = host("a");
    busy.reserved_cpu_millis = 2000;
    let hosts = [busy, host("b"), host("c")];
    let p = place(&hosts, &app(0.1, 64 << 20), 9);
    let c = p.counts();
    assert!(c.get("a").copied().unwrap_or(0) < c["c"], "{c:?}");
    assert!(c["b"].abs_diff(c["c"]) <= 1, "{c:?}");
    assert_eq!(p.hosts.len(), 9);
}

#[test]
fn the_least_used_host_wins_and_ties_go_to_the_first_name() {
    let mut used = host("a");
    used.reserved_memory = GIB;
    let p = place(&[host("c"), used, host("b")], &app(0.1, 64 << 20), 1);
    assert_eq!(p.hosts, ["b"]);
    let p = place(&[host("z"), host("y"), host("x")], &app(0.1, 64 << 20), 1);
    assert_eq!(p.hosts, ["x"]);
}

#[test]
fn a_bigger_host_takes_more() {
    let hosts = [Candidate::new("big", 16, 16 * GIB), host("small")];
    let p = place(&hosts, &app(0.5, 256 << 20), 10);
    assert!(p.counts()["big"] > p.counts()["small"], "{:?}", p.counts());
}

#[test]
fn offline_and_unreported_hosts_take_nothing() {
    let mut down = host("a");
    down.online = false;
    let unknown = Candidate::new("b", 0, 0);
    let p = place(&[down, unknown, host("c")], &app(1.0, GIB), 5);
    assert_eq!(p.hosts, ["c", "c", "c", "c"]);
    assert_eq!(reason(&p, "a"), "offline");
    assert_eq!(reason(&p, "b"), "capacity not reported yet");
    assert_eq!(reason(&p, "c"), "cpu 4/4 cores reserved, need 1");
}

#[test]
fn capacity_reasons_read_like_an_operator_would_say_them() {
    let mut h = host("web-3");
    h.reserved_memory = 38 * GIB / 10;
    let p = place(&[h], &app(0.25, 512 << 20), 1);
    assert_eq!(reason(&p, "web-3"), "memory 3.8/4.0 GiB used, need 512 MiB");
    let mut h = host("web-4");
    h.reserved_cpu_millis = 3900;
    let p = place(&[h], &app(0.25, 64 << 20), 1);
    assert_eq!(reason(&p, "web-4"), "cpu 3.9/4 cores reserved, need 0.25");
    let shown = p.unplaced.expect("unplaced").to_string();
    assert_eq!(
        shown,
        "cannot place 1 of 1 instances of web:\n  web-4: cpu 3.9/4 cores reserved, need 0.25"
    );
}

#[test]
fn memory_fills_exactly_and_no_further() {
    let p = place(&[host("a")], &app(0.01, GIB), 6);
    assert_eq!(p.hosts.len(), 4);
    let why = p.unplaced.expect("two left");
    assert_eq!((why.wanted, why.placed), (6, 4));
    assert!(
        why.to_string()
            .starts_with("cannot place 2 of 6 instances of web:")
    );
}

#[test]
fn no_hosts_at_all() {
    let p = place(&[], &app(0.1, 64 << 20), 1);
    assert_eq!(
        p.unplaced.expect("none").to_string(),
        "cannot place 1 of 1 instances of web: no hosts known"
    );
    assert!(place(&[], &app(0.1, 64 << 20), 0).is_complete());
}

#[test]
fn pin_keeps_to_one_host_and_names_a_missing_one() {
    let mut spec = app(1.0, GIB);
    spec.pin = Some("b".into());
    let p = place(&[host("a"), host("b")], &spec, 5);
    assert_eq!(p.hosts, ["b"; 4]);
    assert_eq!(reason(&p, "a"), "app is pinned to b");
    spec.pin = Some("gone".into());
    let p = place(&[host("a")], &spec, 1);
    assert_eq!(reason(&p, "gone"), "no such host");
}

#[test]
fn zone_filters_and_says_which_zone() {
    let mut spec = app(0.1, 64 << 20);
    spec.zone = Some("a".into());
    let hosts = [
        host("w-1").with_zone("b"),
        host("w-2").with_zone("a"),
        host("w-3"),
    ];
    let p = place(&hosts, &spec, 2);
    assert_eq!(p.hosts, ["w-2", "w-2"]);
    spec.pin = Some("w-1".into());
    let p = place(&hosts, &spec, 1);
    assert_eq!(reason(&p, "w-1"), "zone b, want a");
    assert_eq!(reason(&p, "w-3"), "app is pinned to w-1");
    spec.pin = None;
    spec.zone = Some("c".into());
    let p = place(&hosts, &spec, 1);
    assert_eq!(reason(&p, "w-3"), "no zone, want c");
}

#[test]
fn machine_of_follows_the_other_app() {
    let cache = AppSpec::new("cache", "c:1");
    let mut spec = app(0.1, 64 << 20);
    spec.machine_of = vec!["cache".into()];
    let hosts = [host("a"), host("b").with_instances(&cache, 1), host("c")];
    let p = place(&hosts, &spec, 3);
    assert_eq!(p.hosts, ["b"; 3]);
    spec.instances = 0;
    let p = place(&hosts[..1], &spec, 1);
    assert_eq!(reason(&p, "a"), "no instance of cache here (machine_of)");
}

#[test]
fn conflicts_match_globs_and_name_the_app() {
    let db = AppSpec::new("db-main", "db:1");
    let mut spec = app(0.1, 64 << 20);
    spec.conflicts = vec!["db*".into()];
    let hosts = [host("web-1").with_instances(&db, 1), host("web-2")];
    let p = place(&hosts, &spec, 2);
    assert_eq!(p.hosts, ["web-2", "web-2"]);
    let p = place(&hosts[..1], &spec, 1);
    assert_eq!(reason(&p, "web-1"), "conflicts with db-main");
}

#[test]
fn conflicting_with_itself_means_one_per_host() {
    let mut spec = app(0.1, 64 << 20);
    spec.conflicts = vec!["we?".into()];
    let hosts = [host("a"), host("b"), host("c")];
    let p = place(&hosts, &spec, 4);
    assert_eq!(p.hosts, ["a", "b", "c"]);
    assert_eq!(reason(&p, "a"), "already runs web and conflicts with we?");
}

#[test]
fn machine_metadata_ands_keys_and_ors_values() {
    let mut spec = app(0.1, 64 << 20);
    spec.machine_metadata
        .insert("disk".into(), vec!["ssd".into(), "nvme".into()]);
    spec.machine_metadata
        .insert("arch".into(), vec!["amd64".into()]);
    let hosts = [
        host("a")
            .with_label("disk", "ssd")
            .with_label("arch", "amd64"),
        host("b")
            .with_label("disk", "nvme")
            .with_label("arch", "amd64"),
        host("c")
            .with_label("disk", "hdd")
            .with_label("arch", "amd64"),
        host("d")
            .with_label("disk", "ssd")
            .with_label("arch", "arm64"),
        host("e").with_label("arch", "amd64"),
    ];
    let p = place(&hosts, &spec, 400);
    assert_eq!(p.counts().keys().copied().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(reason(&p, "c"), "disk=hdd, want ssd or nvme");
    assert_eq!(reason(&p, "d"), "arch=arm64, want amd64");
    assert_eq!(reason(&p, "e"), "no disk label, want ssd or nvme");
}

fn racks() -> Vec<Candidate> {
    ["r1", "r1", "r2", "r2", "r3"]
        .iter()
        .enumerate()
        .map(|(i, rack)| host(&format!("h{i}")).with_label("rack", *rack))
        .collect()
}

#[test]
fn unique_allows_one_per_value_across_the_batch() {
    let spec = with(&app(0.1, 64 << 20), &[&["rack", "UNIQUE"]]);
    let p = place(&racks(), &spec, 5);
    assert_eq!(p.hosts, ["h0", "h2", "h4"]);
    assert_eq!(
        reason(&p, "h1"),
        "rack=r1 holds 1 instances, max 1 (UNIQUE)"
    );
    // An existing instance counts, on any host of the rack.
    let mut hosts = racks();
    hosts[1].add_instances(&spec, 1);
    let p = place(&hosts, &spec, 5);
    assert_eq!(p.hosts, ["h2", "h4"]);
}

#[test]
fn max_per_caps_each_value_and_each_host() {
    let spec = with(&app(0.1, 64 << 20), &[&["rack", "MAX_PER", "3"]]);
    let p = place(&racks(), &spec, 20);
    assert_eq!(p.hosts.len(), 9);
    let spec = with(&app(0.1, 64 << 20), &[&["hostname", "MAX_PER", "2"]]);
    let p = place(&racks(), &spec, 20);
    assert_eq!(p.hosts.len(), 10);
    assert_eq!(reason(&p, "h0"), "holds 2 instances, max 2 (MAX_PER)");
    let spec = with(&app(0.1, 64 << 20), &[&["hostname", "UNIQUE"]]);
    assert_eq!(place(&racks(), &spec, 20).hosts.len(), 5);
}

#[test]
fn cluster_with_a_value_is_a_filter() {
    let spec = with(&app(0.1, 64 << 20), &[&["rack", "CLUSTER", "r2"]]);
    let p = place(&racks(), &spec, 4);
    assert_eq!(p.hosts, ["h2", "h3", "h2", "h3"]);
    let mut hosts = racks();
    hosts.push(host("bare"));
    let p = place(&hosts, &spec, 1000);
    assert_eq!(reason(&p, "h0"), "rack=r1, want r2 (CLUSTER)");
    assert_eq!(reason(&p, "bare"), "no rack label, want r2 (CLUSTER)");
}

#[test]
fn cluster_without_a_value_follows_the_first_instance() {
    let spec = with(&app(0.1, 64 << 20), &[&["rack", "CLUSTER"]]);
    let mut hosts = racks();
    hosts[0].reserved_cpu_millis = 100;
    let p = place(&hosts, &spec, 4);
    // h1 is the least used; its rack r1 then holds every instance.
    assert_eq!(p.hosts, ["h1", "h0", "h1", "h0"]);
    let mut hosts = racks();
    hosts[4].add_instances(&spec, 1);
    let p = place(&hosts, &spec, 2);
    assert_eq!(p.hosts, ["h4", "h4"]);
    let p = place(&hosts, &spec, 1000);
    assert_eq!(
        reason(&p, "h0"),
        "rack=r1, instances are in rack=r3 (CLUSTER)"
    );
    let spec = with(&app(0.1, 64 << 20), &[&["hostname", "CLUSTER"]]);
    assert_eq!(place(&racks(), &spec, 3).hosts, ["h0"; 3]);
}

#[test]
fn group_by_spreads_evenly_over_values() {
    let spec = with(&app(0.1, 64 << 20), &[&["rack", "GROUP_BY"]]);
    // r1 and r2 have two hosts each, r3 one: by host count r3 would get fewer.
    let p = place(&racks(), &spec, 9);
    let mut per_rack = [0; 3];
    for h in &p.hosts {
        per_rack[(h[1..].parse::<usize>().expect("index")) / 2] += 1;
    }
    assert_eq!(per_rack, [3, 3, 3]);
    // Existing skew is evened out first.
    let mut hosts = racks();
    hosts[0].add_instances(&spec, 2);
    let p = place(&hosts, &spec, 2);
    assert_eq!(p.hosts, ["h2", "h4"]);
}

#[test]
fn group_by_counts_only_values_that_can_take_an_instance() {
    let spec = with(&app(0.1, 64 << 20), &[&["zone", "GROUP_BY"]]);
    let hosts = [
        host("a1").with_zone("a"),
        host("b1").with_zone("b").with_instances(&spec, 1),
        host("c1"),
    ];
    let p = place(&hosts, &spec, 3);
    assert_eq!(p.hosts, ["a1", "a1", "b1"]);
    let p = place(&hosts, &spec, 1000);
    assert_eq!(reason(&p, "c1"), "no zone label (GROUP_BY)");
    // Once zone a is full, zone b takes the rest.
    let mut hosts = hosts.to_vec();
    hosts[0].reserved_cpu_millis = 3900;
    let p = place(&hosts, &spec, 3);
    assert_eq!(p.hosts, ["a1", "b1", "b1"]);
}

#[test]
fn group_bys_that_contradict_each_other_stop_with_reasons() {
    let spec = with(
        &app(0.1, 64 << 20),
        &[&["zone", "GROUP_BY"], &["rack", "GROUP_BY"]],
    );
    let mut full = host("e")
        .with_zone("a")
        .with_label("rack", "r2")
        .with_instances(&spec, 1);
    full.reserved_cpu_millis = 4000;
    let hosts = [
        full,
        host("p").with_zone("a").with_label("rack", "r1"),
        host("q").with_zone("b").with_label("rack", "r2"),
    ];
    let p = place(&hosts, &spec, 1);
    assert!(p.hosts.is_empty());
    assert_eq!(reason(&p, "e"), "cpu 4/4 cores reserved, need 0.1");
    assert_eq!(
        reason(&p, "p"),
        "zone=a holds 1 instances, zone=b only 0 (GROUP_BY)"
    );
    assert_eq!(
        reason(&p, "q"),
        "rack=r2 holds 1 instances, rack=r1 only 0 (GROUP_BY)"
    );
}

#[test]
fn group_by_hostname_evens_out_hosts_first() {
    let spec = with(&app(0.1, 64 << 20), &[&["hostname", "GROUP_BY"]]);
    let mut hosts = racks();
    hosts[0].add_instances(&spec, 3);
    let p = place(&hosts, &spec, 8);
    assert_eq!(p.counts().get("h0"), None);
    assert_eq!(
        p.counts().values().copied().collect::<Vec<_>>(),
        [2, 2, 2, 2]
    );
}

#[test]
fn like_and_unlike_match_labels() {
    let hosts = [
        host("a").with_label("disk", "ssd"),
        host("b").with_label("disk", "hdd"),
        host("c")
            .with_label("disk", "nvme")
            .with_label("rack", "r9"),
        host("d"),
    ];
    let spec = with(
        &app(0.1, 64 << 20),
        &[&["disk", "LIKE", "ssd|nvme"], &["rack", "UNLIKE", "r9"]],
    );
    let p = place(&hosts, &spec, 1000);
    assert_eq!(p.counts().keys().copied().collect::<Vec<_>>(), ["a"]);
    assert_eq!(reason(&p, "b"), "disk=hdd does not match ssd|nvme (LIKE)");
    assert_eq!(reason(&p, "c"), "rack=r9 matches r9 (UNLIKE)");
    assert_eq!(reason(&p, "d"), "no disk label (LIKE)");
}

#[test]
fn each_constraint_field_can_be_hostname_zone_or_label() {
    let hosts = [host("web-1").with_zone("a"), host("web-2").with_zone("b")];
    let spec = with(&app(0.1, 64 << 20), &[&["hostname", "LIKE", "web-[2-9]"]]);
    assert_eq!(place(&hosts, &spec, 1).hosts, ["web-2"]);
    let spec = with(&app(0.1, 64 << 20), &[&["zone", "UNLIKE", "b"]]);
    assert_eq!(place(&hosts, &spec, 1).hosts, ["web-1"]);
}

fn inst(id: &str, host: &str, seq: u64) -> Instance {
    Instance {
        id: id.into(),
        host: host.into(),
        seq,
        healthy: true,
    }
}

#[test]
fn victims_come_from_the_host_with_most_instances_newest_first() {
    let spec = app(0.1, 64 << 20);
    let mut b = host("b");
    b.reserved_memory = GIB;
    let hosts = [host("a"), b];
    let running = [
        inst("1", "a", 1),
        inst("2", "a", 5),
        inst("3", "a", 3),
        inst("4", "b", 2),
    ];
    let ids: Vec<&str> = choose_victims(&hosts, &spec, &running, 3)
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(ids, ["2", "3", "4"]);
    assert_eq!(choose_victims(&hosts, &spec, &running, 10).len(), 4);
}

#[test]
fn victims_prefer_offline_hosts_then_unhealthy_then_load() {
    let spec = app(0.1, 64 << 20);
    let mut down = host("z");
    down.online = false;
    let mut loaded = host("c");
    loaded.reserved_cpu_millis = 3000;
    let hosts = [host("a"), down, loaded];
    let mut sick = inst("sick", "a", 1);
    sick.healthy = false;
    let running = [
        inst("a2", "a", 2),
        sick,
        inst("z1", "z", 1),
        inst("c1", "c", 1),
        inst("lost", "gone", 9),
    ];
    let ids: Vec<&str> = choose_victims(&hosts, &spec, &running, 5)
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    // "gone" is unknown and "z" offline: both first, by name; then the unhealthy one;
    // then the more loaded of two hosts with one instance each.
    assert_eq!(ids, ["lost", "z1", "sick", "c1", "a2"]);
}

#[test]
fn victims_keep_the_app_spread() {
    let spec = app(0.1, 64 << 20);
    let hosts = [host("a"), host("b"), host("c")];
    let running: Vec<Instance> = (0..9)
        .map(|i| inst(&i.to_string(), ["a", "b", "c"][i % 3], i as u64))
        .collect();
    let chosen = choose_victims(&hosts, &spec, &running, 6);
    let mut left: BTreeMap<&str, u32> = BTreeMap::new();
    for i in running.iter().filter(|i| !chosen.contains(i)) {
        *left.entry(i.host.as_str()).or_default() += 1;
    }
    assert_eq!(
        left.into_iter().collect::<Vec<_>>(),
        [("a", 1), ("b", 1), ("c", 1)]
    );
    // The oldest instance on each host survives.
    assert!(running[..3].iter().all(|i| !chosen.contains(&i)));
}

#[test]
fn victims_keep_group_by_zone_when_a_host_returns() {
    // a-1 (zone a) came back holding web/1 after its replacement went to zone b: the
    // surplus must come from zone b, or zone a is left with nothing.
    let spec = with(&app(0.1, 64 << 20), &[&["zone", "GROUP_BY"]]);
    let hosts = [
        host("a-1").with_zone("a"),
        host("b-1").with_zone("b"),
        host("b-2").with_zone("b"),
    ];
    let running = [
        inst("1", "a-1", 1),
        inst("2", "b-1", 2),
        inst("3", "b-2", 3),
    ];
    let ids: Vec<&str> = choose_victims(&hosts, &spec, &running, 1)
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    // Zone b gives one up (of two equal hosts, the first by name); zone a keeps web/1.
    assert_eq!(ids, ["2"]);
}

#[test]
fn victims_bring_unique_and_max_per_back_within_bounds_before_health() {
    let spec = with(&app(0.1, 64 << 20), &[&["rack", "UNIQUE"]]);
    let hosts = [
        host("h1").with_label("rack", "r1"),
        host("h2").with_label("rack", "r1"),
        host("h3").with_label("rack", "r2"),
    ];
    let mut sick = inst("3", "h3", 3);
    sick.healthy = false;
    let running = [inst("1", "h1", 1), inst("2", "h2", 2), sick];
    let ids: Vec<&str> = choose_victims(&hosts, &spec, &running, 1)
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    // Rack r1 holds two, UNIQUE allows one: one goes there, before the unhealthy one.
    assert_eq!(ids, ["1"]);

    let spec = with(&app(0.1, 64 << 20), &[&["zone", "MAX_PER", "2"]]);
    let hosts = [host("a1").with_zone("a"), host("b1").with_zone("b")];
    let running = [
        inst("1", "a1", 1),
        inst("2", "a1", 2),
        inst("3", "a1", 3),
        inst("4", "b1", 4),
    ];
    let ids: Vec<&str> = choose_victims(&hosts, &spec, &running, 1)
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(ids, ["3"]);
}
