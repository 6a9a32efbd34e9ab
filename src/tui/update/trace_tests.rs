use crate::cluster::{ClusterEvent, DataEvent};
use crate::tui::action::Action;
use crate::tui::screen::{Focus, Screen, View};
use crate::tui::update::{Msg, hear, parse_command, update};
use std::sync::Arc;
use std::time::Instant;

/// The trace tests' picture: cron -> web -> api (two instances, both registered) and
/// web -> ledger (not an app); the Apps panel focused on web.
fn screen() -> Screen {
    let mut screen = Screen::new(Instant::now());
    screen.cluster = Arc::new(crate::cluster::trace::tests::picture(2));
    screen.ui.focus = Focus::Apps;
    screen.ui.selected_app = Some("web".into());
    screen
}

fn act(screen: &mut Screen, action: Action) {
    let _ = update(screen, Msg::Action(action));
}

/// (breadcrumb, row) while a trace is open.
fn at(screen: &Screen) -> Option<(String, usize)> {
    match &screen.ui.view {
        View::Trace(nav) => Some((nav.breadcrumb(), nav.row)),
        _ => None,
    }
}

#[test]
fn enter_opens_the_trace_follows_hops_and_esc_walks_back() {
    let mut s = screen();
    act(&mut s, Action::Open);
    assert_eq!(at(&s), Some(("web".into(), 0)), "on its caller, cron");
    // web: cron (row 0), its instance (1), api (2), ledger (3).
    act(&mut s, Action::MoveDown);
    act(&mut s, Action::MoveDown);
    act(&mut s, Action::Open);
    assert_eq!(at(&s), Some(("web → api".into(), 0)));
    // api: web calls it (row 0), then its two instances; nothing after them.
    act(&mut s, Action::MoveRight);
    act(&mut s, Action::MoveRight);
    assert_eq!(at(&s).map(|a| a.1), Some(1), "right: the first instance");
    act(&mut s, Action::MoveLeft);
    act(&mut s, Action::Open);
    assert_eq!(at(&s), Some(("web → api → web".into(), 0)));
    act(&mut s, Action::Back);
    act(&mut s, Action::Back);
    assert_eq!(at(&s), Some(("web".into(), 2)), "back where it was");
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
    act(&mut s, Action::MoveDown);
    act(&mut s, Action::Open);
    assert_eq!(at(&s), Some(("web".into(), 1)));
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
    assert_eq!(at(&s).map(|a| a.0), Some("api".into()));
    act(&mut s, Action::Back);
    assert_eq!(s.ui.view, View::Host("h1".into()));
}

#[test]
fn the_command_line_opens_a_trace_and_refuses_an_unknown_app() {
    let mut s = screen();
    assert_eq!(
        parse_command("trace cron", &s),
        Ok(Action::OpenTrace("cron".into()))
    );
    let unknown = |app: &str| format!("trace: no app named {app}");
    assert_eq!(parse_command("trace nope", &s), Err(unknown("nope")));
    assert_eq!(parse_command("trace ledger", &s), Err(unknown("ledger")));
    act(&mut s, Action::OpenTrace("cron".into()));
    assert_eq!(at(&s).map(|a| a.0), Some("cron".into()));
}

#[test]
fn m_in_a_trace_opens_the_selected_apps_instances_and_the_command_line_names_one() {
    let mut s = screen();
    act(&mut s, Action::Open);
    // web: cron (row 0), its instance (1), api (2). On an instance's row m aims at the
    // traced app; on a caller's or a dependency's, at that app.
    for (row, app) in [(0, "cron"), (1, "web"), (2, "api")] {
        while at(&s).is_some_and(|(_, at)| at < row) {
            act(&mut s, Action::MoveDown);
        }
        act(&mut s, Action::ShowInstances);
        assert!(
            matches!(&s.ui.view, View::Instances(nav) if nav.app == app),
            "row {row}: {:?}",
            s.ui.view
        );
        act(&mut s, Action::Back);
        assert_eq!(at(&s), Some(("web".into(), row)));
    }
    assert_eq!(parse_command("instances", &s), Ok(Action::ShowInstances));
    assert_eq!(
        parse_command("instances api", &s),
        Ok(Action::OpenInstances("api".into()))
    );
    let refused = parse_command("instances nope", &s);
    assert_eq!(refused, Err("instances: no app named nope".into()));
    s.ui.show_grid();
    s.ui.focus = Focus::Grid;
    act(&mut s, Action::ShowInstances);
    let said = s.ui.message.as_deref().unwrap_or("");
    assert_eq!(
        said,
        "select an app in the Apps panel (tab) to see its instances"
    );
}

#[test]
fn the_trace_stays_open_when_the_picture_changes() {
    let mut s = screen();
    act(&mut s, Action::Open);
    act(&mut s, Action::Last);
    let gone = DataEvent::Containers {
        host: "h1".into(),
        containers: Vec::new(),
    };
    let _ = hear(&mut s, ClusterEvent::Engine(gone));
    assert_eq!(at(&s), Some(("web".into(), 3)));
}
