//! An app's instances side by side: each instance@host with its figures, and its CPU and
//! memory charts from its host's agent (a gap where the agent had nothing), or why there
//! are none (a host without an agent).

use super::draw;
use crate::common::models::{instances, text};

#[test]
fn instances_80x24() {
    let screen = text(&draw(&instances(), 80, 24));
    assert!(screen.contains("checkout: 2 instances"), "{screen}");
    assert!(screen.contains("no agent on bravo"), "{screen}");
    snapshot("instances_80x24", &screen);
}

#[test]
fn instances_200x50() {
    let screen = text(&draw(&instances(), 200, 50));
    let alpha = screen.find("@alpha").expect("alpha's cell");
    let bravo = screen.find("@bravo").expect("bravo's cell");
    // Side by side: on the same line.
    assert_eq!(
        screen[..alpha].lines().count(),
        screen[..bravo].lines().count()
    );
    snapshot("instances_200x50", &screen);
}

fn snapshot(name: &str, screen: &str) {
    insta::with_settings!({snapshot_path => "../snapshots"}, {
        insta::assert_snapshot!(name, screen);
    });
}
