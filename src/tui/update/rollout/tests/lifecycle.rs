//! How long a rollout stays on screen, and quitting while one runs.

use super::*;
use crate::cluster::{ClusterEvent, RolloutEvent};
use crate::tui::update::hear;

#[test]
fn q_mid_rollout_asks_and_says_the_rollout_keeps_running() {
    let mut m = cluster();
    rolling(&mut m, Phase::Progressing);
    act(&mut m, Action::Quit);
    assert!(!m.quit, "a rollout is under way: ask first");
    assert_eq!(
        question(&m),
        "the rollout of web keeps running in the controller: quit?"
    );
    act(&mut m, Action::Cancel);
    assert!(!m.quit && m.ui.dialog.is_none());
    act(&mut m, Action::Quit);
    act(&mut m, Action::Confirm);
    assert!(m.quit, "y quits");
}

#[test]
fn q_asks_while_a_confirmed_change_is_unanswered_and_not_after() {
    let mut m = cluster();
    act(&mut m, Action::RollingRestart);
    assert_eq!(act(&mut m, Action::Confirm).len(), 1, "the restart is sent");
    act(&mut m, Action::Quit);
    assert!(!m.quit);
    assert_eq!(
        question(&m),
        "1 change(s) you confirmed not yet written to etcd; quitting now may lose them: quit?"
    );
    act(&mut m, Action::Cancel);
    update(&mut m, Msg::Done(Err("refused".into())));
    act(&mut m, Action::Quit);
    assert!(m.quit, "nothing in flight, no rollout: q quits at once");
}

#[test]
fn a_rolled_back_rollout_is_shown_for_a_while_then_dropped() {
    let rolled_back = || Phase::RolledBack {
        reason: "web.1 unhealthy".into(),
    };
    let mut m = cluster();
    rolling(&mut m, Phase::Progressing);
    assert_eq!(crate::tui::screen::shown_rollouts(&m).len(), 1);
    rolling(&mut m, rolled_back());
    assert_eq!(
        crate::tui::screen::shown_rollouts(&m).len(),
        1,
        "the reason matters"
    );
    let later = m.now + crate::tui::screen::LINGER / 2;
    update(&mut m, Msg::Tick(later));
    rolling(&mut m, rolled_back());
    assert_eq!(
        crate::tui::screen::shown_rollouts(&m).len(),
        1,
        "a repeat is no news"
    );
    let later = m.now + crate::tui::screen::LINGER;
    update(&mut m, Msg::Tick(later));
    assert!(
        crate::tui::screen::shown_rollouts(&m).is_empty(),
        "then it goes"
    );
    rolling(&mut m, Phase::Succeeded);
    assert!(
        crate::tui::screen::shown_rollouts(&m).is_empty(),
        "success needs no bar"
    );
}

/// Issue 9 item 2: a rollout record that cannot be read marks its app's row until a
/// readable record (or its removal) arrives.
#[test]
fn a_broken_rollout_record_marks_the_app_until_it_is_readable_again() {
    let mut m = cluster();
    let broken = |reason: &str| crate::cluster::BrokenRecord {
        name: "web".into(),
        key: "/wheelhouse/rollouts/web".into(),
        reason: reason.into(),
    };
    let snapshot = RolloutEvent::Snapshot(RolloutListing {
        rollouts: vec![],
        commands: vec![],
        broken: vec![broken("bad JSON")],
    });
    hear(&mut m, ClusterEvent::Rollouts(snapshot));
    let mark = |m: &Screen| {
        let statuses = crate::cluster::app_statuses(&m.cluster);
        let web = statuses.into_iter().find(|s| s.name == "web");
        web.and_then(|s| s.broken)
    };
    assert_eq!(mark(&m).as_deref(), Some("rollout (bad JSON)"));
    rolling(&mut m, Phase::Paused { reason: "x".into() });
    assert_eq!(mark(&m), None);
    hear(
        &mut m,
        ClusterEvent::Rollouts(RolloutEvent::Change(RolloutChange::Broken(broken(
            "no phase",
        )))),
    );
    assert_eq!(mark(&m).as_deref(), Some("rollout (no phase)"));
    let removed = RolloutEvent::Change(RolloutChange::Removed { app: "web".into() });
    hear(&mut m, ClusterEvent::Rollouts(removed));
    assert_eq!(mark(&m), None);
}
