//! An app's instances side by side: each instance@host with its figures, and its CPU and
//! memory charts from its host's agent (a gap where the agent had nothing), or why there
//! are none (a host without an agent).

use super::draw;
use crate::common::models::{instances, text};
use wheelhouse::tui::screen::View;

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

#[test]
fn many_instances_scroll_a_page_at_a_time_80x24() {
    let mut model = instances();
    // 30 more instances of checkout on bravo: 32 in 16 rows of two, two rows a page.
    let bravo = model.cluster_mut().host_mut("bravo").unwrap();
    let template = (bravo.containers.iter())
        .find(|c| c.name.starts_with("checkout"))
        .unwrap()
        .clone();
    for n in 3..=32 {
        let mut c = template.clone();
        c.id = format!("{}{n:02}", c.id);
        c.labels.insert("wheelhouse.instance".into(), n.to_string());
        bravo.containers.push(c);
    }
    let first = text(&draw(&model, 80, 24));
    assert!(first.contains("instances 1–4 of 32"), "{first}");
    assert!(first.contains("checkout.1@alpha"), "{first}");
    let View::Instances(nav) = &mut model.ui.view else {
        panic!("the instances view is open");
    };
    nav.first_row = 5;
    let later = text(&draw(&model, 80, 24));
    assert!(later.contains("instances 11–14 of 32"), "{later}");
    assert!(later.contains("checkout.11@bravo"), "{later}");
    assert!(!later.contains("checkout.1@alpha"), "{later}");
    snapshot("instances_scrolled_80x24", &later);
}

fn snapshot(name: &str, screen: &str) {
    insta::with_settings!({snapshot_path => "../snapshots"}, {
        insta::assert_snapshot!(name, screen);
    });
}
