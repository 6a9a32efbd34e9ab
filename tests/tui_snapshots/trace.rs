//! The trace screen: callers, instances and dependencies stacked at 80x24 and side by
//! side at 200x50, the worst hop named on top, problems marked by glyphs.

use super::draw;
use crate::common::models::{text, traced};

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

#[test]
fn trace_with_probe_figures_120x30() {
    let mut model = traced();
    // checkout's host alpha probes payments: one of two endpoints answers.
    let report = serde_json::json!({
        "host": "alpha", "unix_ms": 5000, "period_ms": 5000, "window_ms": 300000, "skipped": 0,
        "dependencies": [{
            "app": "payments", "callers": ["checkout"], "state": "probed", "reason": null,
            "answering": 1, "total": 2,
            "connect_ms": {"last": 0.4, "p50": 0.3, "p95": 840.0},
            "http_path": "/health",
            "response_ms": {"last": 1.5, "p50": 1.2, "p95": 3.0},
            "failures_per_min": 12.0,
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
    model
        .cluster_mut()
        .probes
        .insert("alpha".to_owned(), report);
    let screen = text(&draw(&model, 120, 30));
    assert!(screen.contains("✗ 1/2 p95 840ms"), "{screen}");
    assert!(screen.contains("✗ not an app"), "{screen}");
    assert!(screen.contains("probes: 2 of 3 hops measured"), "{screen}");
    snapshot("trace_probes_120x30", &screen);
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
