use super::*;
use crate::cluster::{AppRecord, Host, HostSource, HostState};
use crate::domain::app::AppSpec;
use crate::domain::{Container, HostSpec};
use crate::plan::labels;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn spec(name: &str, deps: &[&str]) -> AppSpec {
    let mut spec = AppSpec::new(name, "wheelhouse/demo:1");
    spec.depends_on = deps.iter().map(|d| (*d).to_owned()).collect();
    spec
}

fn container(spec: &AppSpec, instance: u32) -> Container {
    let rev = labels::revision(spec);
    Container {
        id: format!("{}{instance}-0123456789abcdef", spec.name),
        name: labels::container_name(&spec.name, instance, rev),
        image: spec.image.clone(),
        state: "running".into(),
        status: "Up 3 minutes (healthy)".into(),
        health: Health::Healthy,
        labels: labels::labels(spec, instance, rev, &[]),
        cpu_percent: None,
        mem_bytes: None,
        ports: Vec::new(),
        restarts: Some(1),
        last_check: None,
    }
}

fn endpoint(c: &Container) -> Endpoint {
    Endpoint {
        host: "h1".into(),
        address: "127.0.1.1".into(),
        port: Some(20000),
        container: c.id.clone(),
        revision: 1,
    }
}

/// `web` calls `api` (two instances, `registered` of them registered) and `ledger`
/// (declared, not an app); `cron` calls `web`.
pub(crate) fn picture(registered: usize) -> ClusterState {
    let web = spec("web", &["api", "ledger"]);
    let api = spec("api", &[]);
    let cron = spec("cron", &["web"]);
    let containers = vec![container(&web, 1), container(&api, 1), container(&api, 2)];
    let mut services: crate::cluster::Registry = BTreeMap::new();
    services
        .entry("web".into())
        .or_default()
        .insert("1".into(), endpoint(&containers[0]));
    for (n, c) in containers[1..].iter().take(registered).enumerate() {
        services
            .entry("api".into())
            .or_default()
            .insert((n + 1).to_string(), endpoint(c));
    }
    let host = HostSpec {
        name: "h1".into(),
        engine: "unix:///x".into(),
        address: None,
        zone: None,
        labels: BTreeMap::new(),
        tls: None,
    };
    let mut h = Host::new(host, HostSource::Config);
    h.state = HostState::Online;
    h.containers = containers;
    let mut cluster = ClusterState::with_hosts(vec![h]);
    for s in [web, api, cron] {
        let record = AppRecord {
            spec: s,
            revision: 1,
        };
        cluster.apps.insert(record.spec.name.clone(), record);
    }
    cluster.services = services.into();
    cluster
}

#[test]
fn the_trace_holds_instances_callers_and_dependencies() {
    let trace = Trace::of(&picture(1), "web");
    assert!(trace.known);
    assert_eq!(trace.instances.len(), 1);
    let node = &trace.instances[0];
    assert_eq!(node.id.len(), 12);
    assert_eq!(node.uptime.as_deref(), Some("3 minutes"));
    assert!(node.endpoint.is_some(), "web's instance is registered");
    let callers: Vec<_> = trace.callers.iter().map(|h| h.caller.as_str()).collect();
    assert_eq!(callers, ["cron"]);
    let deps: Vec<_> = (trace.dependencies.iter())
        .map(|h| (h.callee.as_str(), h.verdict, h.registered, h.instances))
        .collect();
    assert_eq!(
        deps,
        [
            ("api", Verdict::Partial, 1, 2),
            ("ledger", Verdict::NotAnApp, 0, 0)
        ]
    );
    assert!(trace.hops().all(|h| h.probes == Probes::NotMeasured));
}

#[test]
fn the_summary_names_the_worst_hop() {
    let cluster = picture(0);
    assert_eq!(
        Trace::of(&cluster, "web").summary(),
        "✗ web → api: 0/2 endpoints registered"
    );
    assert_eq!(
        Trace::of(&picture(2), "api").summary(),
        "✓ all hops healthy"
    );
    assert_eq!(
        Trace::of(&cluster, "nope").summary(),
        "✗ nope is not an app in the picture"
    );
    let ledger = Trace::of(&cluster, "ledger");
    assert!(!ledger.known);
    assert!(ledger.instances.is_empty() && ledger.dependencies.is_empty());
}

#[test]
fn an_instance_without_an_endpoint_says_so() {
    let trace = Trace::of(&picture(1), "api");
    let registered: Vec<_> = trace
        .instances
        .iter()
        .map(|n| n.endpoint.is_some())
        .collect();
    assert_eq!(registered, [true, false]);
    assert_eq!(
        Probes::NotMeasured.to_string(),
        "not measured (no agent probes yet)"
    );
}

/// h1's agent's report: web's dependency api, `answering` of two endpoints answer.
fn report(answering: usize) -> crate::domain::probe::ProbeReport {
    use crate::domain::probe::{
        DependencyProbes, DependencyState, EndpointProbe, ProbeReport, Timing,
    };
    let endpoints = (0..2)
        .map(|i| EndpointProbe {
            instance: format!("api-{i}"),
            address: format!("127.0.1.1:{}", 20000 + i),
            ok: i < answering,
            at_ms: 5000,
            connect_ms: (i < answering).then_some(0.4),
            http_status: (i < answering).then_some(200),
            response_ms: (i < answering).then_some(1.5),
            error: (i >= answering).then(|| "connect: refused".to_owned()),
        })
        .collect();
    let timing = Timing {
        last: Some(0.4),
        p50: Some(0.3),
        p95: Some(840.0),
    };
    ProbeReport {
        host: "h1".into(),
        unix_ms: 5000,
        period_ms: 5000,
        window_ms: 300_000,
        skipped: 0,
        dependencies: vec![DependencyProbes {
            app: "api".into(),
            callers: vec!["web".into()],
            state: DependencyState::Probed,
            reason: None,
            answering,
            total: 2,
            connect_ms: timing,
            http_path: Some("/health".into()),
            response_ms: timing,
            failures_per_min: 2.0 - answering as f64,
            endpoints,
        }],
    }
}

#[test]
fn a_callers_agent_fills_the_hop_and_a_silent_endpoint_is_the_worst_hop() {
    let mut cluster = picture(2);
    cluster.probes.insert("h1".into(), report(2));
    let trace = Trace::of(&cluster, "web");
    let api = &trace.dependencies[0];
    assert_eq!(api.verdict, Verdict::Healthy);
    let Probes::Measured(hosts) = &api.probes else {
        panic!("{:?}", api.probes)
    };
    assert_eq!(hosts[0].host, "h1");
    assert_eq!(api.probes.short(), "✓ 2/2 p95 840ms");
    assert_eq!(
        api.probes.to_string(),
        "h1: 2/2 endpoints answer, connect last/p50/p95 0.40/0.30/840 ms, \
         HTTP 200 last/p50/p95 0.40/0.30/840 ms, 0.0 failures/min"
    );
    // Hops no agent reports stay not measured: cron -> web, web -> ledger.
    assert_eq!(trace.callers[0].probes, Probes::NotMeasured);
    assert_eq!(trace.dependencies[1].probes, Probes::NotMeasured);
    // An endpoint stops answering: the hop is the worst, named with its figures.
    cluster.probes.insert("h1".into(), report(1));
    let trace = Trace::of(&cluster, "web");
    assert_eq!(trace.dependencies[0].verdict, Verdict::NotAnswering);
    // web's summary names ledger (not an app is worse); api's names the hop from web.
    assert!(
        trace.summary().contains("web → ledger"),
        "{}",
        trace.summary()
    );
    let api_trace = Trace::of(&cluster, "api");
    assert_eq!(api_trace.callers[0].verdict, Verdict::NotAnswering);
    assert_eq!(
        api_trace.summary(),
        "✗ web → api: 1/2 endpoints answer, connect p95 840 ms from h1"
    );
}

proptest! {
    #[test]
    fn any_picture_traces_without_panic_and_lists_each_dependency_once(
        deps in proptest::collection::vec(
            proptest::collection::vec("[a-d]", 0..6), 1..5),
        registered in 0usize..3,
        app in "[a-e]",
        extra in proptest::collection::vec(("[a-e]", 0u32..4, any::<bool>()), 0..8),
    ) {
        let mut cluster = picture(registered);
        for (i, d) in deps.iter().enumerate() {
            let name = ["a", "b", "c", "d"][i % 4];
            let d: Vec<&str> = d.iter().map(String::as_str).collect();
            let record = AppRecord { spec: spec(name, &d), revision: 1 };
            cluster.apps.insert(name.to_owned(), record);
        }
        // Instances of any app (with a spec or not), registered or not, twice or not.
        for (name, n, register) in extra {
            let c = container(&spec(&name, &[]), n);
            if register {
                let endpoints = cluster.services.entry(name.clone()).or_default();
                endpoints.insert(n.to_string(), endpoint(&c));
            }
            if let Some(h) = cluster.host_mut("h1") {
                h.containers.push(c);
            }
        }
        let trace = Trace::of(&cluster, &app);
        let _ = trace.summary();
        let declared = cluster.apps.get(&app).map(|r| r.spec.depends_on.clone()).unwrap_or_default();
        for dep in &declared {
            let n = trace.dependencies.iter().filter(|h| &h.callee == dep).count();
            prop_assert_eq!(n, 1);
        }
        prop_assert!(trace.dependencies.iter().all(|h| declared.contains(&h.callee)));
        let callers = cluster.apps.values().filter(|r| r.spec.depends_on.contains(&app)).count();
        prop_assert_eq!(trace.callers.len(), callers);
    }
}

#[test]
fn an_instance_says_its_last_check_or_why_there_is_none() {
    use crate::domain::check::LastCheck;
    use std::time::{Duration, Instant};
    let mut cluster = picture(1);
    let now = Instant::now();
    let host = std::sync::Arc::make_mut(&mut cluster.hosts[0]);
    host.containers[0].last_check = Some(LastCheck {
        started: None,
        ended: None,
        ended_at: now.checked_sub(Duration::from_secs(12)),
        exit_code: 0,
        output: String::new(),
    });
    host.containers[1].health = Health::None;
    let words = |app: &str, i: usize| Trace::of(&cluster, app).instances[i].check_words(now);
    assert_eq!(words("web", 0), "✓ 12s ago");
    // api.1 has no check configured; api.2 has one that has not run yet.
    assert_eq!(words("api", 0), "no health check");
    assert_eq!(words("api", 1), "no check yet");
}
