//! The trace screen: callers, instances and dependencies stacked at 80x24 and side by
//! side at 200x50, the worst hop named on top, problems marked by glyphs.

use super::draw;
use crate::common::models::{text, traced};
use wheelhouse::tui::screen::Screen;

#[test]
fn trace_80x24() {
    let screen = text(&draw(&traced(), 80, 24));
    assert!(
        screen.contains("✗ checkout → payments: 0/2 endpoints registered"),
        "{screen}"
    );
    snapshot("trace_80x24", &screen);
}

#[test]
fn trace_200x50() {
    let mut model = traced();
    model.ui.show_trace("payments");
    let screen = text(&draw(&model, 200, 50));
    assert!(
        screen.contains("checkout → payments"),
        "the breadcrumb:\n{screen}"
    );
    snapshot("trace_200x50", &screen);
}

/// checkout's hosts probe payments: from alpha one of two endpoints answers, from bravo
/// both; both report ledger as not an app.
fn probed() -> Screen {
    let mut model = traced();
    for (host, answering, p95, failures) in [("alpha", 1, 840.0, 12.0), ("bravo", 2, 0.5, 0.0)] {
        let report = serde_json::json!({
            "host": host, "unix_ms": 5000, "period_ms": 5000, "window_ms": 300000, "skipped": 0,
            "dependencies": [{
                "app": "payments", "callers": ["checkout"], "state": "probed", "reason": null,
                "answering": answering, "total": 2,
                "connect_ms": {"last": 0.4, "p50": 0.3, "p95": p95},
                "http_path": "/health",
                "response_ms": {"last": 1.5, "p50": 1.2, "p95": 3.0},
                "failures_per_min": failures,
                "endpoints": [],
            }, {
                "app": "ledger", "callers": ["checkout"], "state": "not_an_app",
                "reason": "ledger is declared but not an app", "answering": 0, "total": 0,
                "connect_ms": {"last": null, "p50": null, "p95": null}, "http_path": null,
                "response_ms": {"last": null, "p50": null, "p95": null},
                "failures_per_min": 0.0, "endpoints": [],
            }],
        });
        let report = serde_json::from_value(report).unwrap();
        model.cluster_mut().probes.insert(host.to_owned(), report);
    }
    model
}

#[test]
fn trace_with_probe_figures_120x30() {
    let screen = text(&draw(&probed(), 120, 30));
    // The hop's row: the worst host's figures; then every caller host, the worst first.
    assert!(screen.contains("✗ 1/2 p95 840ms"), "{screen}");
    let alpha = screen.find("↳ alpha").expect("alpha's row");
    let bravo = screen.find("↳ bravo").expect("bravo's row");
    assert!(alpha < bravo, "the worst host first:\n{screen}");
    assert!(
        screen.contains("conn 0.40/0.30/840 ms, HTTP - 1.5/1.2/3.0 ms, 12.0 fail/min"),
        "{screen}"
    );
    assert!(screen.contains("✗ not an app"), "{screen}");
    assert!(screen.contains("probes: 2 of 3 hops measured"), "{screen}");
    snapshot("trace_probes_120x30", &screen);
    // On a terminal wide enough for three lists side by side, the host rows keep their
    // width: the lists stack.
    let wide = text(&draw(&probed(), 200, 50));
    assert!(
        wide.contains("conn 0.40/0.30/840 ms, HTTP - 1.5/1.2/3.0 ms, 12.0 fail/min"),
        "{wide}"
    );
}

#[test]
fn host_rows_give_way_to_more_hosts_when_room_runs_out() {
    let screen = text(&draw(&probed(), 80, 18));
    // The summary still names the worst hop, and each hop keeps its own row.
    assert!(
        screen.contains("✗ checkout → payments: 0/2 endpoints registered"),
        "{screen}"
    );
    assert!(screen.contains("more hosts"), "{screen}");
    assert!(
        screen.contains("✗ payments") && screen.contains("✗ ledger"),
        "{screen}"
    );
    snapshot("trace_probes_80x18", &screen);
}

#[test]
fn trace_help_lists_its_keys() {
    let mut model = traced();
    model.ui.help = true;
    let screen = text(&draw(&model, 120, 40));
    assert!(screen.contains("Trace"), "{screen}");
    assert!(
        screen.contains("open the selected host / app / hop"),
        "{screen}"
    );
}

/// Kept with the other screens' snapshots, in tests/snapshots/.
fn snapshot(name: &str, screen: &str) {
    insta::with_settings!({snapshot_path => "../snapshots"}, {
        insta::assert_snapshot!(name, screen);
    });
}
