use crate::domain::logs::{LogLine, LogSource, Stream};
use crate::ops::{Mode, Principal};
use crate::tui::action::Action;
use crate::tui::screen::{Focus, LogBatch, Screen, View};
use crate::tui::update::{Effect, Msg, parse_command, update};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The trace tests' picture (web, api, cron on h1), the host view of h1 open.
fn screen() -> Screen {
    let mut screen = Screen::new(Instant::now());
    screen.cluster = Arc::new(crate::cluster::trace::tests::picture(2));
    screen.ui.show_host("h1");
    screen.ui.geometry.logs_rows = 5;
    screen
}

fn act(screen: &mut Screen, action: Action) -> Vec<Effect> {
    update(screen, Msg::Action(action))
}

fn line(n: usize) -> LogLine {
    LogLine {
        unix_nanos: i64::try_from(n).unwrap_or(0),
        stream: if n % 10 == 9 {
            Stream::Stderr
        } else {
            Stream::Stdout
        },
        source: LogSource {
            tag: Arc::from("web.1"),
            container: Arc::from("web-1"),
            host: Arc::from("h1"),
        },
        text: format!("line {n}"),
    }
}

/// Hands lines `from..to` to the screen as its stream's batch, like the loop does.
fn hear_lines(screen: &mut Screen, from: usize, to: usize) {
    let stream = screen.log_streams;
    let batch = LogBatch {
        lines: (from..to).map(line).collect(),
        ..LogBatch::default()
    };
    let _ = update(screen, Msg::Logs { stream, batch });
}

/// The logs of h1's first container, open, with `n` lines.
fn open(n: usize) -> Screen {
    let mut s = screen();
    let effects = act(&mut s, Action::ShowLogs);
    assert!(
        matches!(
            &effects[..],
            [Effect::StreamLogs {
                since: None,
                stream: 1,
                ..
            }]
        ),
        "{effects:?}"
    );
    hear_lines(&mut s, 0, n);
    s
}

fn top(s: &Screen) -> Option<u64> {
    s.logs.as_ref().and_then(|p| p.top)
}

#[test]
fn l_on_a_container_opens_its_logs_and_esc_returns_and_stops_the_stream() {
    let mut s = open(3);
    let View::Logs(nav) = &s.ui.view else {
        panic!("not the logs view: {:?}", s.ui.view);
    };
    assert_eq!(nav.from, View::Host("h1".into()));
    assert_eq!(s.logs.as_ref().map(|p| p.buffer.len()), Some(3));
    assert_eq!(act(&mut s, Action::Back), [Effect::StopLogs]);
    assert_eq!(s.ui.view, View::Host("h1".into()));
    assert!(s.logs.is_none());
}

#[test]
fn l_on_an_app_and_the_command_line_open_an_apps_logs() {
    let mut s = screen();
    s.ui.show_grid();
    s.ui.focus = Focus::Apps;
    s.ui.selected_app = Some("api".into());
    let effects = act(&mut s, Action::ShowLogs);
    assert!(
        matches!(&effects[..], [Effect::StreamLogs { target, .. }] if target == "api"),
        "{effects:?}"
    );
    assert_eq!(
        parse_command("logs web", &s),
        Ok(Action::OpenLogs("web".into()))
    );
    assert_eq!(
        parse_command("logs nothing-here", &s),
        Err("logs: no container or app named nothing-here".into())
    );
    // A second :logs replaces the first; esc still goes back to the grid.
    let effects = act(&mut s, Action::OpenLogs("web".into()));
    assert!(matches!(
        &effects[..],
        [Effect::StreamLogs { stream: 2, .. }]
    ));
    act(&mut s, Action::Back);
    assert_eq!((s.ui.view.clone(), s.ui.focus), (View::Grid, Focus::Apps));
}

#[test]
fn another_view_opened_from_the_logs_stops_the_stream() {
    let mut s = open(3);
    assert_eq!(
        act(&mut s, Action::OpenHost("h1".into())),
        [Effect::StopLogs]
    );
    assert!(s.logs.is_none());
}

#[test]
fn moving_up_stops_following_and_the_end_follows_again() {
    let mut s = open(20);
    assert_eq!(top(&s), None, "following at first");
    act(&mut s, Action::MoveUp);
    assert_eq!(top(&s), Some(14), "the page was 15..20; one up");
    hear_lines(&mut s, 20, 30);
    assert_eq!(top(&s), Some(14), "new lines do not move a scrolled view");
    act(&mut s, Action::PageUp);
    act(&mut s, Action::First);
    assert_eq!(top(&s), Some(0));
    act(&mut s, Action::Last);
    assert_eq!(top(&s), None);
    act(&mut s, Action::LogsFollow);
    assert_eq!(top(&s), Some(25), "f: stop following where the view is");
    for _ in 0..10 {
        act(&mut s, Action::MoveDown);
    }
    assert_eq!(top(&s), None, "moving down to the end follows again");
}

#[test]
fn paused_lines_are_kept_and_counted_not_shown() {
    let mut s = open(10);
    act(&mut s, Action::LogsPause);
    hear_lines(&mut s, 10, 17);
    let pane = s.logs.as_ref().expect("open");
    assert_eq!(
        (pane.shown_end(), pane.unseen(), pane.buffer.len()),
        (10, 7, 17)
    );
    act(&mut s, Action::LogsPause);
    assert_eq!(s.logs.as_ref().map(|p| p.shown_end()), Some(17));
}

#[test]
fn a_full_buffer_drops_the_oldest_and_a_scrolled_view_stays_on_kept_lines() {
    let mut s = screen();
    s.log_lines = 8;
    act(&mut s, Action::ShowLogs);
    hear_lines(&mut s, 0, 8);
    act(&mut s, Action::First);
    hear_lines(&mut s, 8, 20);
    let pane = s.logs.as_ref().expect("open");
    assert_eq!(
        (pane.buffer.len(), pane.first(), pane.top),
        (8, 12, Some(12))
    );
}

#[test]
fn search_jumps_to_the_newest_match_then_n_and_shift_n_move() {
    let mut s = open(40);
    act(&mut s, Action::FilterPrompt);
    for c in "LINE 1".chars() {
        act(&mut s, Action::Input(c));
    }
    act(&mut s, Action::Confirm);
    let found = |s: &Screen| s.logs.as_ref().and_then(|p| p.found);
    assert_eq!(found(&s), Some(19), "case ignored: the newest of 1, 10..19");
    act(&mut s, Action::SearchPrev);
    assert_eq!(found(&s), Some(18));
    act(&mut s, Action::SearchNext);
    act(&mut s, Action::SearchNext);
    assert_eq!(found(&s), Some(19), "down to 19, then nothing below: stays");
    assert!(
        s.ui.message
            .as_deref()
            .is_some_and(|m| m.contains("no match"))
    );
    assert_eq!(top(&s), Some(19));
    // Esc on the prompt clears the search.
    act(&mut s, Action::FilterPrompt);
    act(&mut s, Action::Cancel);
    assert_eq!(s.logs.as_ref().map(|p| p.search.as_str()), Some(""));
}

#[test]
fn since_restarts_the_stream_and_drops_its_lines_and_answers() {
    let mut s = open(5);
    act(&mut s, Action::LogsWrap);
    let effects = act(&mut s, Action::LogsSince5m);
    assert!(matches!(
        &effects[..],
        [Effect::StreamLogs { stream: 2, since: Some(d), .. }] if *d == Duration::from_secs(300)
    ));
    let pane = s.logs.as_ref().expect("open");
    assert!(
        pane.buffer.is_empty() && pane.wrap,
        "lines go, settings stay"
    );
    // A late batch of the first stream is not taken.
    let batch = LogBatch {
        lines: vec![line(1)],
        ..LogBatch::default()
    };
    let _ = update(&mut s, Msg::Logs { stream: 1, batch });
    assert_eq!(s.logs.as_ref().map(|p| p.buffer.len()), Some(0));
    // s cycles on: 15m, 1h, then everything kept.
    let sinces: Vec<_> = (0..3)
        .map(|_| match &act(&mut s, Action::LogsSince)[..] {
            [Effect::StreamLogs { since, .. }] => since.map(|d| d.as_secs()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sinces, [Some(900), Some(3600), None]);
}

#[test]
fn wrap_and_timestamps_toggle_and_a_gone_container_keeps_its_lines() {
    let mut s = open(3);
    act(&mut s, Action::LogsWrap);
    act(&mut s, Action::LogsTimestamps);
    let pane = s.logs.as_ref().expect("open");
    assert!(pane.wrap && pane.timestamps);
    let stream = s.log_streams;
    let batch = LogBatch {
        ended: Some("the container stopped or went away; its lines stay".into()),
        ..LogBatch::default()
    };
    let _ = update(&mut s, Msg::Logs { stream, batch });
    let pane = s.logs.as_ref().expect("still open");
    assert_eq!(pane.buffer.len(), 3);
    assert!(pane.ended.is_some());
}

#[test]
fn saving_asks_the_loop_and_read_only_screens_refuse_it() {
    let mut s = open(3);
    assert_eq!(act(&mut s, Action::LogsSave), [Effect::SaveLogs(None)]);
    assert_eq!(
        parse_command("save /tmp/x.txt", &s),
        Ok(Action::SaveLogs("/tmp/x.txt".into()))
    );
    s.principal = Principal::local(Mode::ReadOnly);
    for action in [Action::LogsSave, Action::SaveLogs("/tmp/x.txt".into())] {
        let effects = act(&mut s, action);
        assert!(
            matches!(&effects[..], [Effect::AuditRefusal(r)] if r.verb == "save"),
            "{effects:?}"
        );
        assert!(
            s.ui.message
                .as_deref()
                .is_some_and(|m| m.starts_with("read-only"))
        );
    }
}

#[test]
fn l_in_a_trace_opens_an_instances_container_or_a_hops_app_and_esc_returns_to_it() {
    let mut s = screen();
    s.ui.show_grid();
    s.ui.show_trace("web");
    let target = |effects: Vec<Effect>| match &effects[..] {
        [Effect::StreamLogs { target, .. }] => target.clone(),
        other => panic!("{other:?}"),
    };
    // web: cron (row 0), its instance (1), api (2).
    act(&mut s, Action::MoveDown);
    assert_eq!(
        target(act(&mut s, Action::ShowLogs)),
        "web1-0123456",
        "the short id: a prefix the engines know"
    );
    act(&mut s, Action::Back);
    assert!(matches!(&s.ui.view, View::Trace(nav) if nav.row == 1));
    act(&mut s, Action::MoveDown);
    assert_eq!(target(act(&mut s, Action::ShowLogs)), "api");
    act(&mut s, Action::Back);
    act(&mut s, Action::First);
    assert_eq!(target(act(&mut s, Action::ShowLogs)), "cron");
}
