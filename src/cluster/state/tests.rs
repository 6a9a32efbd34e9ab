//! Copies that share hosts, and agents' figures over the engine's.

use super::*;

fn host(name: &str) -> Host {
    let spec = HostSpec {
        name: name.to_owned(),
        engine: format!("unix:///run/{name}.sock"),
        address: None,
        zone: None,
        labels: BTreeMap::new(),
        tls: None,
    };
    Host::new(spec, HostSource::Config)
}

#[test]
fn a_published_copy_shares_its_hosts_and_keeps_them_as_they_were() {
    let now = Instant::now();
    let mut feed = ClusterState::with_hosts(vec![host("a"), host("b")]);
    let published = feed.clone();
    assert!((feed.hosts.iter().zip(&published.hosts)).all(|(x, y)| Arc::ptr_eq(x, y)));
    let down = DataEvent::Down {
        host: "b".into(),
        error: "refused".into(),
    };
    feed.apply(ClusterEvent::Engine(down), now);
    assert!(
        Arc::ptr_eq(&feed.hosts[0], &published.hosts[0]),
        "a is untouched"
    );
    assert!(
        !Arc::ptr_eq(&feed.hosts[1], &published.hosts[1]),
        "b is copied"
    );
    assert!(matches!(feed.hosts[1].state, HostState::Offline { .. }));
    assert_eq!(
        published.hosts[1].state,
        HostState::Unknown,
        "the copy keeps its b"
    );
}

#[test]
fn a_list_that_brings_nothing_new_leaves_the_host_shared() {
    let now = Instant::now();
    let mut feed = ClusterState::with_hosts(vec![host("a")]);
    let listed = || DataEvent::Containers {
        host: "a".into(),
        containers: vec![container("c1")],
    };
    feed.apply(ClusterEvent::Engine(listed()), now);
    let published = feed.clone();
    let later = now + std::time::Duration::from_secs(1);
    feed.apply(ClusterEvent::Engine(listed()), later);
    assert!(Arc::ptr_eq(&feed.hosts[0], &published.hosts[0]));
    assert_eq!(feed.last_data, Some(later), "the data is still fresh");
    let mut changed = vec![container("c1")];
    changed[0].status = "Up 2 seconds".into();
    let relisted = DataEvent::Containers {
        host: "a".into(),
        containers: changed,
    };
    feed.apply(ClusterEvent::Engine(relisted), later);
    assert!(!Arc::ptr_eq(&feed.hosts[0], &published.hosts[0]));
    assert_eq!(feed.hosts[0].containers[0].status, "Up 2 seconds");
}

fn container(id: &str) -> Container {
    Container {
        id: id.to_owned(),
        name: id.to_owned(),
        image: "img".to_owned(),
        state: crate::domain::ContainerState::Running,
        status: "Up 1 second".to_owned(),
        health: crate::domain::Health::None,
        labels: BTreeMap::new(),
        cpu_percent: None,
        mem_bytes: None,
        ports: Vec::new(),
        restarts: None,
        last_check: None,
    }
}

#[test]
fn an_agents_figures_stand_until_it_goes_and_the_engine_takes_over() {
    let now = Instant::now();
    let mut c = ClusterState::with_hosts(vec![host("a")]);
    let list = || {
        ClusterEvent::Engine(DataEvent::Containers {
            host: "a".into(),
            containers: vec![container("c1")],
        })
    };
    c.apply(list(), now);
    let record = AgentRecord {
        address: "http://127.0.1.1:9101".into(),
        version: "0".into(),
        started_at_ms: 0,
        cgroup: "cgroup-v1".into(),
    };
    let put = Watch::Change(AgentChange::Put("a".into(), record));
    let changes = c.apply(ClusterEvent::Agents(put), now);
    let address = Some("http://127.0.1.1:9101".to_owned());
    assert_eq!(
        changes,
        vec![Change::Agent {
            host: "a".into(),
            address
        }]
    );
    let figures = crate::domain::AgentFigures {
        id: "c1".into(),
        cpu_percent: Some(42.0),
        mem_bytes: 4096,
        io: crate::domain::IoRates {
            net_rx_bps: Some(10.0),
            ..Default::default()
        },
    };
    let reading = DataEvent::Agent {
        host: "a".into(),
        source: "cgroup-v1".into(),
        containers: vec![figures],
    };
    c.apply(ClusterEvent::Engine(reading), now);
    let a = c.host("a").unwrap();
    assert_eq!(
        a.metrics,
        Metrics::Agent {
            source: "cgroup-v1".into()
        }
    );
    assert_eq!(a.containers[0].cpu_percent, Some(42.0));
    assert_eq!(a.agent["c1"].io.net_rx_bps, Some(10.0));
    // The engine lists again, without figures: the agent's stand.
    c.apply(list(), now);
    assert_eq!(c.host("a").unwrap().containers[0].cpu_percent, Some(42.0));
    let down = DataEvent::AgentDown {
        host: "a".into(),
        error: "refused".into(),
    };
    c.apply(ClusterEvent::Engine(down), now);
    let a = c.host("a").unwrap();
    assert!(matches!(a.metrics, Metrics::Fallback { .. }));
    assert!(a.agent.is_empty());
    let gone = Watch::Change(AgentChange::Gone("a".into()));
    let changes = c.apply(ClusterEvent::Agents(gone), now);
    assert_eq!(
        changes,
        vec![Change::Agent {
            host: "a".into(),
            address: None
        }]
    );
    assert_eq!(c.host("a").unwrap().metrics, Metrics::Engine);
}

#[test]
fn the_registry_follows_registrations_and_drops_an_app_left_without_endpoints() {
    use crate::cluster::{ServiceChange, ServiceEvent};
    let now = Instant::now();
    let mut cluster = ClusterState::default();
    let endpoint = crate::plan::Endpoint {
        host: "h1".into(),
        address: "127.0.1.1".into(),
        port: Some(20000),
        container: "c1".into(),
        revision: 1,
    };
    let registered = ServiceChange::Registered {
        app: "api".into(),
        instance: "1".into(),
        endpoint: endpoint.clone(),
    };
    cluster.apply(
        ClusterEvent::Services(ServiceEvent::Change(registered)),
        now,
    );
    assert_eq!(cluster.services["api"]["1"], endpoint);
    let gone = ServiceChange::Deregistered {
        app: "api".into(),
        instance: "1".into(),
    };
    cluster.apply(ClusterEvent::Services(ServiceEvent::Change(gone)), now);
    assert!(cluster.services.is_empty());
    let all = BTreeMap::from([(
        "web".to_owned(),
        BTreeMap::from([("2".to_owned(), endpoint)]),
    )]);
    cluster.apply(
        ClusterEvent::Services(ServiceEvent::Snapshot(all.clone())),
        now,
    );
    assert_eq!(*cluster.services, all);
}

#[test]
fn a_hosts_cell_is_complete_once_every_running_container_has_a_cpu_figure() {
    let now = Instant::now();
    let mut c = ClusterState::with_hosts(vec![host("a"), host("b")]);
    let complete = |c: &ClusterState| c.hosts.iter().map(|h| h.complete()).collect::<Vec<_>>();
    assert_eq!(complete(&c), [false, false]);
    let down = DataEvent::Down {
        host: "b".into(),
        error: "refused".into(),
    };
    c.apply(ClusterEvent::Engine(down), now);
    let up = DataEvent::Up {
        host: "a".into(),
        info: crate::domain::HostInfo::default(),
    };
    c.apply(ClusterEvent::Engine(up), now);
    let listed = DataEvent::Containers {
        host: "a".into(),
        containers: vec![container("c1")],
    };
    c.apply(ClusterEvent::Engine(listed), now);
    assert_eq!(complete(&c), [false, true], "a's c1 has no figure yet");
    let stats = DataEvent::Stats {
        host: "a".into(),
        id: "c1".into(),
        cpu_percent: 3.0,
        mem_bytes: 1,
    };
    c.apply(ClusterEvent::Engine(stats), now);
    assert_eq!(complete(&c), [true, true]);
}

#[test]
fn an_agents_read_that_comes_before_the_engines_list_is_not_lost() {
    let now = Instant::now();
    let mut c = ClusterState::with_hosts(vec![host("a")]);
    let figures = crate::domain::AgentFigures {
        id: "c1".into(),
        cpu_percent: Some(7.0),
        mem_bytes: 512,
        io: crate::domain::IoRates::default(),
    };
    let reading = DataEvent::Agent {
        host: "a".into(),
        source: "cgroup-v1".into(),
        containers: vec![figures],
    };
    c.apply(ClusterEvent::Engine(reading), now);
    let listed = DataEvent::Containers {
        host: "a".into(),
        containers: vec![container("c1"), container("c2")],
    };
    c.apply(ClusterEvent::Engine(listed), now);
    let seen: Vec<_> = (c.hosts[0].containers.iter())
        .map(|x| (x.cpu_percent, x.mem_bytes))
        .collect();
    assert_eq!(seen, vec![(Some(7.0), Some(512)), (None, None)]);
}
