//! History from the agents: for the open host, or for each instance of the app in view
//! from its own host's agent; when to read it, and what to keep.

use super::Effect;
use crate::cluster::{Metrics, instances_of};
use crate::metrics::Point;
use crate::tui::action::Action;
use crate::tui::layout::InstancePages;
use crate::tui::screen::charts::{self, HOST_TARGET, Query};
use crate::tui::screen::{Screen, View};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// What to read of one host's agent: CPU sparklines of `sparks`, charts of `charts`.
struct Read {
    host: String,
    base: String,
    sparks: Vec<String>,
    charts: Vec<String>,
}

/// At a tick: the reads of the view's series, when due (every `REFRESH`, at once after
/// the view opened or its window changed), one per host whose agent answers.
pub(super) fn due(screen: &mut Screen, now: Instant) -> Vec<Effect> {
    let reads = match &screen.ui.view {
        View::Host(name) => host_read(screen, name).into_iter().collect(),
        View::Instances(nav) => instance_reads(screen, &nav.app),
        _ => return Vec::new(),
    };
    let Some(charts) = screen.ui.charts.as_mut() else {
        return Vec::new();
    };
    let recent =
        (charts.asked).is_some_and(|at| now.saturating_duration_since(at) < charts::REFRESH);
    if reads.is_empty() || recent {
        return Vec::new();
    }
    charts.asked = Some(now);
    let window = charts.window;
    (reads.into_iter())
        .map(|read| {
            let sparks: Vec<&str> = read.sparks.iter().map(String::as_str).collect();
            let targets: Vec<&str> = read.charts.iter().map(String::as_str).collect();
            Effect::ReadSeries {
                queries: charts::queries(&read.host, &sparks, &targets, window),
                host: read.host,
                base: read.base,
            }
        })
        .collect()
}

/// The host view's read: every running container's sparkline, the selected container's
/// (or the host's) chart.
fn host_read(screen: &Screen, name: &str) -> Option<Read> {
    let base = agent_base(screen, name)?;
    let host = screen.cluster.host(name)?;
    let shown = screen.shown_containers(host);
    let chart = (shown.get(screen.ui.selected_row)).map_or(HOST_TARGET, |c| c.id.as_str());
    Some(Read {
        host: name.to_owned(),
        base,
        sparks: (shown.iter())
            .filter(|c| c.is_running())
            .map(|c| c.id.clone())
            .collect(),
        charts: vec![chart.to_owned()],
    })
}

/// The instances view's reads: per host whose agent answers, its instances' charts.
fn instance_reads(screen: &Screen, app: &str) -> Vec<Read> {
    let mut by_host: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (host, c, _) in instances_of(&screen.cluster, app) {
        by_host.entry(host.name()).or_default().push(c.id.clone());
    }
    (by_host.into_iter())
        .filter_map(|(host, ids)| {
            Some(Read {
                host: host.to_owned(),
                base: agent_base(screen, host)?,
                sparks: Vec::new(),
                charts: ids,
            })
        })
        .collect()
}

/// The agent's address of a host read through its agent.
fn agent_base(screen: &Screen, host: &str) -> Option<String> {
    let on_agent =
        (screen.cluster.host(host)).is_some_and(|h| matches!(h.metrics, Metrics::Agent { .. }));
    let agent = screen.cluster.agents.get(host).filter(|_| on_agent)?;
    Some(agent.address.clone())
}

/// `host`'s agent's answers, kept if they are for the view still open: the host's, or
/// the app's instances' charts over the window (a read for a view before may come back
/// late).
pub(super) fn on_series(
    screen: &mut Screen,
    host: &str,
    at_ms: i64,
    mut answers: Vec<(Query, Result<Vec<Point>, String>)>,
) {
    let Some(charts) = screen.ui.charts.as_mut() else {
        return;
    };
    match &screen.ui.view {
        View::Host(name) if name == host && charts.of == host => {}
        View::Instances(nav) if charts.of == nav.app => {
            let instances = instances_of(&screen.cluster, &nav.app);
            let ids: BTreeSet<&str> = instances.iter().map(|(_, c, _)| c.id.as_str()).collect();
            let span = charts.window.span_ms();
            answers.retain(|(q, _)| ids.contains(q.target.as_str()) && q.span_ms == span);
        }
        _ => return,
    }
    charts.take(host, answers);
    charts.at_ms = at_ms;
    screen.dirty = true;
}

/// `show_instances`: the app's instances side by side (the Apps panel's app, in a trace
/// the selected caller's or dependency's app or else the traced one, the selected
/// container's app).
pub(super) fn show_instances(screen: &mut Screen) {
    if matches!(screen.ui.view, View::Logs(_) | View::Instances(_)) {
        return;
    }
    match super::trace::aimed_app(screen, "see its instances") {
        Ok(app) => screen.ui.show_instances(&app),
        Err(why) => screen.ui.message = Some(why),
    }
}

/// Scrolls the instances view by a row of cells (a page with the page keys); the last
/// page stays a full one.
pub(super) fn scroll_instances(screen: &mut Screen, action: &Action) {
    let View::Instances(nav) = &screen.ui.view else {
        return;
    };
    let count = instances_of(&screen.cluster, &nav.app).len();
    let pages = InstancePages::new(count, screen.ui.geometry.instance_cells);
    let first = pages.clamp(nav.first_row);
    let first = match action {
        Action::MoveUp => first.saturating_sub(1),
        Action::MoveDown => first + 1,
        Action::PageUp => first.saturating_sub(pages.page),
        Action::PageDown => first + pages.page,
        Action::First => 0,
        Action::Last => pages.rows,
        _ => first,
    };
    if let View::Instances(nav) = &mut screen.ui.view {
        nav.first_row = pages.clamp(first);
    }
}

/// The next chart window, read at the next tick.
pub(super) fn next_window(screen: &mut Screen) {
    if let Some(charts) = &mut screen.ui.charts {
        charts.window = charts.window.next();
        charts.asked = None;
    }
}

/// The selection moved: the chart follows it at the next tick.
pub(super) fn selection_moved(screen: &mut Screen) {
    if let Some(charts) = &mut screen.ui.charts {
        charts.asked = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AgentRecord, Health};
    use crate::tui::update::tests::support::{act, screen, web_container};
    use crate::tui::update::{Msg, update};
    use std::time::Duration;

    /// Host "a" on its agent, with two containers, its view open; host "b" without one.
    fn on_agent() -> Screen {
        let mut s = screen(&["a", "b"]);
        let cluster = s.cluster_mut();
        let a = cluster.host_mut("a").unwrap();
        a.metrics = Metrics::Agent {
            source: "cgroup-v1".into(),
        };
        a.containers = vec![
            web_container("c1", Health::Healthy),
            web_container("c2", Health::Healthy),
        ];
        let record = AgentRecord {
            address: "http://127.0.1.1:9101".into(),
            version: "0".into(),
            started_at_ms: 0,
            cgroup: "cgroup-v1".into(),
        };
        cluster.agents.insert("a".into(), record);
        s.ui.show_host("a");
        s
    }

    fn asks(effects: &[Effect]) -> Option<&Vec<Query>> {
        effects.iter().find_map(|e| match e {
            Effect::ReadSeries { queries, .. } => Some(queries),
            _ => None,
        })
    }

    #[test]
    fn an_open_host_on_its_agent_is_read_every_few_seconds_and_at_once_on_a_change() {
        let mut s = on_agent();
        let t0 = s.now;
        let first = update(&mut s, Msg::Tick(t0));
        let queries = asks(&first).expect("read at the first tick");
        assert!(
            queries
                .iter()
                .any(|q| q.target == "c1" && q.span_ms == 600_000 / 10)
        );
        let soon = update(&mut s, Msg::Tick(t0 + Duration::from_secs(1)));
        assert!(asks(&soon).is_none(), "not again within REFRESH");
        let later = update(&mut s, Msg::Tick(t0 + charts::REFRESH));
        assert!(asks(&later).is_some());
        // A new window, or a move, is read at the next tick.
        act(&mut s, Action::ChartWindow);
        let ten = update(&mut s, Msg::Tick(t0 + charts::REFRESH));
        assert!(asks(&ten).unwrap().iter().any(|q| q.span_ms == 600_000));
        act(&mut s, Action::MoveDown);
        let moved = update(&mut s, Msg::Tick(t0 + charts::REFRESH));
        assert!(
            asks(&moved)
                .unwrap()
                .iter()
                .any(|q| q.target == "c2" && q.span_ms == 600_000)
        );
    }

    #[test]
    fn hosts_without_an_agent_and_other_views_read_nothing() {
        let mut s = on_agent();
        s.cluster_mut().host_mut("a").unwrap().metrics = Metrics::Engine;
        let t0 = s.now;
        assert!(asks(&update(&mut s, Msg::Tick(t0))).is_none());
        let mut s = on_agent();
        s.ui.show_grid();
        assert!(asks(&update(&mut s, Msg::Tick(t0))).is_none());
    }

    #[test]
    fn answers_for_a_host_no_longer_open_are_dropped() {
        let mut s = on_agent();
        let q = charts::queries("a", &["c1"], &["c1"], charts::Window::OneMinute);
        let answers = vec![(q[0].clone(), Ok(Vec::new()))];
        update(
            &mut s,
            Msg::Series {
                host: "b".into(),
                at_ms: 0,
                answers: answers.clone(),
            },
        );
        assert!(s.ui.charts.as_ref().unwrap().series.is_empty());
        update(
            &mut s,
            Msg::Series {
                host: "a".into(),
                at_ms: 90_000,
                answers,
            },
        );
        let charts = s.ui.charts.as_ref().unwrap();
        assert_eq!(charts.series.len(), 1);
        // An agent started 30 s before the answers: its history is younger than 1 m.
        assert_eq!(charts.agent_young(60_000), Some(Duration::from_secs(30)));
        assert_eq!(charts.agent_young(0), None, "older than the window");
    }

    #[test]
    fn an_apps_instances_are_read_from_each_ones_host_agent_and_esc_goes_back() {
        let mut s = on_agent();
        let b = s.cluster_mut().host_mut("b").unwrap();
        b.containers = vec![web_container("c3", Health::Healthy)];
        s.ui.show_grid();
        s.ui.focus = crate::tui::screen::Focus::Apps;
        s.ui.selected_app = Some("web".into());
        act(&mut s, Action::ShowInstances);
        assert!(matches!(&s.ui.view, View::Instances(nav) if nav.app == "web"));
        let t0 = s.now;
        let effects = update(&mut s, Msg::Tick(t0));
        // b has no agent: only a's instances are read, their charts over the window.
        let reads: Vec<(&str, Vec<(&str, &str)>)> = (effects.iter())
            .filter_map(|e| match e {
                Effect::ReadSeries { host, queries, .. } => Some((
                    host.as_str(),
                    (queries.iter())
                        .map(|q| (q.target.as_str(), q.metric.as_str()))
                        .collect(),
                )),
                _ => None,
            })
            .collect();
        let a = vec![
            ("c1", "cpu_percent"),
            ("c1", "mem_bytes"),
            ("c2", "cpu_percent"),
            ("c2", "mem_bytes"),
        ];
        assert_eq!(reads, [("a", a)]);
        // Answers for what is not one of web's instances (a host view's read) are dropped.
        let mut q = charts::queries("a", &[], &["c1", "other"], charts::Window::OneMinute);
        q.extend(charts::queries(
            "a",
            &["c1"],
            &[],
            charts::Window::OneMinute,
        ));
        let answers = q.into_iter().map(|q| (q, Ok(Vec::new()))).collect();
        update(
            &mut s,
            Msg::Series {
                host: "a".into(),
                at_ms: 0,
                answers,
            },
        );
        let kept: Vec<&str> = (s.ui.charts.as_ref().unwrap().series.keys())
            .map(|q| q.target.as_str())
            .collect();
        assert_eq!(kept, ["c1", "c1"]);
        act(&mut s, Action::Back);
        assert_eq!(s.ui.view, View::Grid);
        assert!(s.ui.charts.is_none());
        // From a trace, esc comes back to it; from a host's view, to it with its charts.
        act(&mut s, Action::OpenTrace("web".into()));
        act(&mut s, Action::ShowInstances);
        act(&mut s, Action::Back);
        assert!(matches!(&s.ui.view, View::Trace(nav) if nav.app == "web"));
        s.ui.show_host("a");
        act(&mut s, Action::ShowInstances);
        assert!(matches!(&s.ui.view, View::Instances(nav) if nav.app == "web"));
        act(&mut s, Action::Back);
        assert_eq!(s.ui.view, View::Host("a".into()));
        assert_eq!(s.ui.charts.as_ref().unwrap().of, "a");
    }

    #[test]
    fn the_instances_view_scrolls_by_rows_and_pages_and_stops_at_a_full_last_page() {
        let mut s = on_agent();
        let a = s.cluster_mut().host_mut("a").unwrap();
        a.containers = (0..60)
            .map(|i| web_container(&format!("c{i:02}"), Health::Healthy))
            .collect();
        act(&mut s, Action::OpenInstances("web".into()));
        let first_row = |s: &Screen| match &s.ui.view {
            View::Instances(nav) => nav.first_row,
            other => panic!("{other:?}"),
        };
        // 200x50: 6 columns, so 10 rows of cells, 5 on a page above the note's line.
        let pages = InstancePages::new(60, s.ui.geometry.instance_cells);
        assert_eq!((pages.columns, pages.rows, pages.page), (6, 10, 5));
        act(&mut s, Action::MoveUp);
        assert_eq!(first_row(&s), 0);
        act(&mut s, Action::MoveDown);
        assert_eq!(first_row(&s), 1);
        act(&mut s, Action::PageDown);
        assert_eq!(first_row(&s), 5, "the last page is a full one");
        act(&mut s, Action::MoveDown);
        assert_eq!(first_row(&s), 5);
        act(&mut s, Action::MoveUp);
        act(&mut s, Action::PageUp);
        assert_eq!(first_row(&s), 0);
        act(&mut s, Action::Last);
        assert_eq!(first_row(&s), 5);
        act(&mut s, Action::First);
        assert_eq!(first_row(&s), 0);
    }
}
