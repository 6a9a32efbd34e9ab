use super::*;
use crate::agent::history::SeriesSource;
use crate::domain::probe::{CatalogApp, ProbeAddress};

fn catalog(api_endpoints: usize) -> ProbeCatalog {
    let mut apps = BTreeMap::new();
    let app = |deps: &[&str]| CatalogApp {
        depends_on: deps.iter().map(|d| (*d).to_owned()).collect(),
        ..CatalogApp::default()
    };
    apps.insert("web".to_owned(), app(&["api", "ledger", "cache"]));
    apps.insert("cron".to_owned(), app(&["api"]));
    apps.insert("cache".to_owned(), app(&[]));
    let mut api = app(&[]);
    api.http_path = Some("/health".to_owned());
    for i in 0..api_endpoints {
        api.endpoints.insert(
            format!("api-{i:03}"),
            ProbeAddress {
                address: "127.0.0.1".to_owned(),
                port: u16::try_from(20000 + i).ok(),
            },
        );
    }
    apps.insert("api".to_owned(), api);
    ProbeCatalog { apps }
}

fn local(apps: &[&str]) -> BTreeSet<String> {
    apps.iter().map(|a| (*a).to_owned()).collect()
}

#[test]
fn a_round_covers_the_dependencies_of_the_apps_running_here_only() {
    let mut p = Prober::new("lab-1");
    let round = p.plan(&catalog(2), &local(&["web", "cron"]));
    assert_eq!(round.targets.len(), 2);
    assert!(round.targets.iter().all(|t| t.dependency == "api"));
    assert_eq!(round.targets[0].http_path.as_deref(), Some("/health"));
    let report = p.report(&round, 1000);
    let states: Vec<(&str, DependencyState, &[String])> = (report.dependencies.iter())
        .map(|d| (d.app.as_str(), d.state, d.callers.as_slice()))
        .collect();
    assert_eq!(
        states,
        vec![
            (
                "api",
                DependencyState::Probed,
                &["cron".to_owned(), "web".to_owned()][..]
            ),
            (
                "cache",
                DependencyState::NotRegistered,
                &["web".to_owned()][..]
            ),
            ("ledger", DependencyState::NotAnApp, &["web".to_owned()][..]),
        ]
    );
    assert_eq!(
        report.dependencies[2].reason.as_deref(),
        Some("ledger is declared but not an app")
    );
    // Nothing probed yet: listed, none answering.
    assert_eq!(
        (
            report.dependencies[0].answering,
            report.dependencies[0].total
        ),
        (0, 2)
    );
    // An app with no callers here probes nothing.
    assert!(p.plan(&catalog(2), &local(&["api"])).targets.is_empty());
    assert!(p.plan(&catalog(2), &local(&[])).dependencies.is_empty());
}

#[test]
fn rounds_are_bounded_and_take_turns_over_many_endpoints() {
    let mut p = Prober::new("lab-1");
    let n = MAX_PER_ROUND + 36;
    let mut probed = BTreeSet::new();
    for _ in 0..2 {
        let round = p.plan(&catalog(n), &local(&["web"]));
        assert_eq!(round.targets.len(), MAX_PER_ROUND);
        assert_eq!(round.skipped, n - MAX_PER_ROUND);
        probed.extend(round.targets.iter().map(|t| t.instance.clone()));
    }
    assert_eq!(probed.len(), n, "two rounds reach every endpoint");
}

#[test]
fn outcomes_make_the_figures_and_the_history() {
    let mut p = Prober::new("lab-1");
    let mut history = History::default();
    let round = p.plan(&catalog(2), &local(&["web"]));
    let ok = Outcome {
        connect_ms: Some(0.5),
        http_status: Some(200),
        response_ms: Some(2.0),
        error: None,
    };
    let refused = Outcome {
        error: Some("connect: refused".to_owned()),
        ..Outcome::default()
    };
    p.record(&round.targets[0], &ok, 5000, &mut history);
    p.record(&round.targets[1], &refused, 5000, &mut history);
    let report = p.report(&round, 5000);
    let api = &report.dependencies[0];
    assert_eq!((api.answering, api.total), (1, 2));
    assert_eq!(api.connect_ms.p95, Some(0.5));
    assert_eq!(api.response_ms.last, Some(2.0));
    assert_eq!(api.failures_per_min, 1.0);
    assert_eq!(api.endpoints[1].error.as_deref(), Some("connect: refused"));
    assert_eq!(api.endpoints[0].address, "127.0.0.1:20000");
    let key = series_key("api", "api-000");
    let points = history.series(&key, "connect_ms", 0, 1000).unwrap();
    assert_eq!(points.last().and_then(|p| p.value), Some(0.5));
    let failures = history
        .series(&series_key("api", "api-001"), "failures", 0, 1000)
        .unwrap();
    assert_eq!(failures.last().and_then(|p| p.value), Some(1.0));
    // api-001 is deregistered: it leaves the counts, its failure counts for the window.
    let round = p.plan(&catalog(1), &local(&["web"]));
    let report = p.report(&round, 10_000);
    assert_eq!(report.dependencies[0].total, 1);
    assert_eq!(report.dependencies[0].failures_per_min, 1.0);
    let report = p.report(&round, 5000 + WINDOW_MS + 1);
    assert_eq!(report.dependencies[0].failures_per_min, 0.0);
    // Not probed for a window (the bound kept it out, say): no figures left, not stale ones.
    assert_eq!(report.dependencies[0].connect_ms, Default::default());
}
