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
