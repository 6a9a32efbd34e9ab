//! The open host's history: when to read it from the host's agent, and what to keep.

use super::Effect;
use crate::cluster::Metrics;
use crate::metrics::Point;
use crate::tui::screen::charts::{self, HOST_TARGET, Query};
use crate::tui::screen::{Screen, View};
use std::time::Instant;

/// At a tick: the read of the open host's series, when one is due (every `REFRESH`, at
/// once after the view opened or its window changed) and the host's agent answers.
pub(super) fn due(screen: &mut Screen, now: Instant) -> Option<Effect> {
    let View::Host(name) = &screen.ui.view else {
        return None;
    };
    let host = screen.cluster.host(name)?;
    if !matches!(host.metrics, Metrics::Agent { .. }) {
        return None;
    }
    let base = screen.cluster.agents.get(name)?.address.clone();
    let shown = screen.shown_containers(host);
    let chart = (shown.get(screen.ui.selected_row)).map_or(HOST_TARGET, |c| c.id.as_str());
    let running: Vec<&str> = (shown.iter())
        .filter(|c| c.is_running())
        .map(|c| c.id.as_str())
        .collect();
    let charts = screen.ui.charts.as_mut()?;
    if charts
        .asked
        .is_some_and(|at| now.saturating_duration_since(at) < charts::REFRESH)
    {
        return None;
    }
    charts.asked = Some(now);
    let queries = charts::queries(&running, chart, charts.window);
    Some(Effect::ReadSeries {
        host: name.clone(),
        base,
        queries,
    })
}

/// The agent's answers, kept if the host's view is still the one open.
pub(super) fn on_series(
    screen: &mut Screen,
    host: &str,
    at_ms: i64,
    answers: Vec<(Query, Result<Vec<Point>, String>)>,
) {
    if let Some(charts) = screen.ui.charts.as_mut().filter(|c| c.host == host) {
        charts.take(answers);
        charts.at_ms = at_ms;
        screen.dirty = true;
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
    use crate::tui::action::Action;
    use crate::tui::update::tests::support::{act, screen, web_container};
    use crate::tui::update::{Msg, update};
    use std::time::Duration;

    /// Host "a" on its agent, with two containers, its view open.
    fn on_agent() -> Screen {
        let mut s = screen(&["a"]);
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
        let q = charts::queries(&["c1"], "c1", charts::Window::OneMinute);
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
}
