//! The logs screen: an app's instances merged (tags), stderr marked, search matches
//! reversed, paused with lines waiting, at 80x24 and 200x50; wrapped at 80x24.

use super::draw;
use crate::common::models::{logged, text};
use ratatui::style::Modifier;

#[test]
fn logs_80x24() {
    let buf = draw(&logged(), 80, 24);
    let screen = text(&buf);
    assert!(screen.contains("paused, 5 new"), "{screen}");
    assert!(screen.contains("checkout.1 ! order 52 failed"), "{screen}");
    assert!(!screen.contains("order 55"), "paused: not shown\n{screen}");
    // The match of the search is in reverse video.
    let (x, y) = crate::common::models::find_below(&buf, "order 53", 0).expect("shown");
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
    assert!(!buf[(x + 6, y)].modifier.contains(Modifier::REVERSED));
    snapshot("logs_80x24", &screen);
}

#[test]
fn logs_200x50() {
    let screen = text(&draw(&logged(), 200, 50));
    assert!(screen.contains("checkout.1 "), "{screen}");
    snapshot("logs_200x50", &screen);
}

#[test]
fn logs_wrapped_80x24() {
    let mut model = logged();
    if let Some(pane) = model.logs.as_mut() {
        pane.wrap = true;
        pane.timestamps = false;
    }
    let screen = text(&draw(&model, 80, 24));
    // The long line goes on on the next row.
    assert!(screen.contains("\nxxxxxxxx"), "{screen}");
    snapshot("logs_wrapped_80x24", &screen);
}

#[test]
fn logs_help_lists_its_keys() {
    let mut model = logged();
    model.ui.help = true;
    let screen = text(&draw(&model, 120, 40));
    assert!(screen.contains("Logs"), "{screen}");
    assert!(screen.contains("pause / resume"), "{screen}");
}

fn snapshot(name: &str, screen: &str) {
    insta::with_settings!({snapshot_path => "../snapshots"}, {
        insta::assert_snapshot!(name, screen);
    });
}
