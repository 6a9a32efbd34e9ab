use crate::cluster::{AppRecord, ClusterEvent, Host, HostSource, HostState};
use crate::domain::app::AppSpec;
use crate::domain::{Container, Health, HostSpec};
use crate::plan::labels;
use crate::tui::action::Action;
use crate::tui::screen::{Focus, Screen, View};
use crate::tui::update::{Msg, update};
use std::collections::BTreeMap;
use std::time::Instant;

/// `web` depends on `api`, `api` on `db`; one instance of each of web and api on h1.
fn screen() -> Screen {
    let mut specs = Vec::new();
    for (name, deps) in [("web", vec!["api"]), ("api", vec!["db"]), ("db", vec![])] {
        let mut spec = AppSpec::new(name, "wheelhouse/demo:1");
        spec.depends_on = deps.into_iter().map(str::to_owned).collect();
        specs.push(spec);
    }
    let containers = specs[..2]
        .iter()
        .map(|spec| Container {
            id: format!("{}-0123456789abcdef", spec.name),
            name: format!("{}.1", spec.name),
            image: spec.image.clone(),
            state: "running".into(),
            status: "Up 1 minute".into(),
            health: Health::None,
            labels: labels::labels(spec, 1, labels::revision(spec), &[]),
            cpu_percent: None,
            mem_bytes: None,
            ports: Vec::new(),
            restarts: None,
        })
        .collect();
    let spec = HostSpec {
        name: "h1".into(),
        engine: "unix:///x".into(),
        address: None,
        zone: None,
        labels: BTreeMap::new(),
        tls: None,
    };
    let mut host = Host::new(spec, HostSource::Config);
    host.state = HostState::Online;
    host.containers = containers;
    let mut screen = Screen::with_hosts(Instant::now(), vec![host]);
    for spec in specs {
        (screen.cluster_mut().apps).insert(spec.name.clone(), AppRecord { spec, revision: 1 });
    }
    screen.ui.focus = Focus::Apps;
    screen.ui.selected_app = Some("web".into());
    screen
}

fn act(screen: &mut Screen, action: Action) {
    let _ = update(screen, Msg::Action(action));
}

fn at(screen: &Screen) -> Option<(String, String, usize)> {
    match &screen.ui.view {
        View::Trace(nav) => Some((nav.breadcrumb(), nav.app.clone(), nav.row)),
        _ => None,
    }
}

#[test]
fn enter_opens_the_trace_follows_hops_and_esc_walks_back() {
    let mut s = screen();
    act(&mut s, Action::Open);
    assert_eq!(at(&s), Some(("web".into(), "web".into(), 0)));
    // web: no callers, one instance, one dependency (api): down reaches api.
    act(&mut s, Action::MoveDown);
    act(&mut s, Action::Open);
    assert_eq!(at(&s).map(|a| a.0), Some("web → api".into()));
    // api: web calls it (row 0); right jumps to its instance, again to db.
    act(&mut s, Action::MoveRight);
    act(&mut s, Action::MoveRight);
    act(&mut s, Action::Open);
    assert_eq!(at(&s).map(|a| a.0), Some("web → api → db".into()));
    act(&mut s, Action::Back);
    assert_eq!(at(&s), Some(("web → api".into(), "api".into(), 2)));
    act(&mut s, Action::MoveLeft);
    assert_eq!(at(&s).map(|a| a.2), Some(1), "left: the first instance");
    act(&mut s, Action::Back);
    act(&mut s, Action::Back);
    assert_eq!(
        s.ui.view,
        View::Grid,
        "at the root, back where it was opened"
    );
    assert_eq!(s.ui.focus, Focus::Apps);
}

#[test]
fn enter_on_an_instance_follows_nothing() {
    let mut s = screen();
    act(&mut s, Action::Open);
    act(&mut s, Action::Open);
    assert_eq!(at(&s).map(|a| a.0), Some("web".into()));
    assert!(
        s.ui.message
            .as_deref()
            .is_some_and(|m| m.contains("caller"))
    );
}

#[test]
fn a_container_row_opens_its_apps_trace_and_esc_returns_to_the_host() {
    let mut s = screen();
    s.ui.show_host("h1");
    s.ui.selected_row = 1;
    act(&mut s, Action::ShowTrace);
    assert_eq!(at(&s).map(|a| a.1), Some("api".into()));
    act(&mut s, Action::Back);
    assert_eq!(s.ui.view, View::Host("h1".into()));
}

#[test]
fn the_command_line_opens_a_trace_and_refuses_an_unknown_app() {
    let mut s = screen();
    let parse = |s: &Screen, line: &str| crate::tui::update::parse_command(line, s);
    assert_eq!(parse(&s, "trace db"), Ok(Action::OpenTrace("db".into())));
    assert!(parse(&s, "trace nope").is_err_and(|e| e.contains("no app named nope")));
    act(&mut s, Action::OpenTrace("db".into()));
    assert_eq!(at(&s).map(|a| a.1), Some("db".into()));
}

#[test]
fn the_trace_stays_open_when_the_picture_changes() {
    let mut s = screen();
    act(&mut s, Action::Open);
    let _ = crate::tui::update::hear(
        &mut s,
        ClusterEvent::Engine(crate::cluster::DataEvent::Containers {
            host: "h1".into(),
            containers: Vec::new(),
        }),
    );
    assert_eq!(at(&s).map(|a| a.1), Some("web".into()));
}
