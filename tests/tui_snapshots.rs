//! Snapshots of the drawn screens (as text) at two terminal sizes, and checks of the Apps
//! panel beside the grid; the grid's cell colours, glyphs and paging are in grid.rs.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use std::time::Duration;
use wheelhouse::cluster::{AppRecord, EtcdState};
use wheelhouse::domain::app::AppSpec;
use wheelhouse::domain::{Container, Health};
use wheelhouse::ops::Command;
use wheelhouse::tui::action::Action;
use wheelhouse::tui::layout::grid_layout;
use wheelhouse::tui::screen::{Dialog, Focus, Screen, View};
use wheelhouse::tui::theme::{Level, Theme};

mod common;
#[path = "tui_snapshots/grid.rs"]
mod grid;
#[path = "tui_snapshots/instances.rs"]
mod instances;
#[path = "tui_snapshots/logs.rs"]
mod logs;
#[path = "tui_snapshots/trace.rs"]
mod trace;

use common::models::{GIB, container, draw_themed, find_below, five_hosts, many_hosts, text};

fn draw(model: &Screen, width: u16, height: u16) -> Buffer {
    draw_themed(model, &Theme::default_theme(), width, height)
}

fn with_view(mut model: Screen, view: View, row: usize) -> Screen {
    model.ui.view = view;
    model.ui.selected_row = row;
    model
}

#[test]
fn grid_80x24() {
    let mut model = five_hosts();
    model.ui.selected = 1;
    insta::assert_snapshot!("grid_80x24", text(&draw(&model, 80, 24)));
}

#[test]
fn grid_200x50() {
    let mut model = five_hosts();
    model.ui.selected = 1;
    model.ui.message = Some("opened bravo".to_owned());
    insta::assert_snapshot!("grid_200x50", text(&draw(&model, 200, 50)));
}

#[test]
fn grid_of_thirty_hosts_80x24_is_compact() {
    let mut model = many_hosts(30);
    model.ui.selected = 12;
    insta::assert_snapshot!("grid_compact_80x24", text(&draw(&model, 80, 24)));
}

#[test]
fn grid_of_a_thousand_hosts_200x50_is_one_char_per_host() {
    let mut model = many_hosts(1000);
    model.ui.selected = 205;
    insta::assert_snapshot!("grid_tiny_200x50", text(&draw(&model, 200, 50)));
}

#[test]
fn host_80x24() {
    let model = with_view(five_hosts(), View::Host("alpha".to_owned()), 1);
    insta::assert_snapshot!("host_80x24", text(&draw(&model, 80, 24)));
}

#[test]
fn host_200x50() {
    let model = with_view(five_hosts(), View::Host("charlie".to_owned()), 0);
    insta::assert_snapshot!("host_200x50", text(&draw(&model, 200, 50)));
}

#[test]
fn host_on_its_agent_120x30() {
    insta::assert_snapshot!(
        "host_agent_120x30",
        text(&draw(&common::models::on_its_agent(), 120, 30))
    );
}

#[test]
fn host_on_its_agent_200x50() {
    insta::assert_snapshot!(
        "host_agent_200x50",
        text(&draw(&common::models::on_its_agent(), 200, 50))
    );
}

#[test]
fn offline_host_80x24() {
    let model = with_view(five_hosts(), View::Host("delta".to_owned()), 0);
    insta::assert_snapshot!("host_offline_80x24", text(&draw(&model, 80, 24)));
}

#[test]
fn a_foreign_container_is_marked_in_the_host_view_at_any_width() {
    let mut model = with_view(five_hosts(), View::Host("alpha".to_owned()), 0);
    // Told apart by image: at 80 columns the NAME column has room for the mark only.
    let mut stray = container("stray", "running", Health::None, None, None);
    stray.image = "busybox:stray".to_owned();
    stray
        .labels
        .insert("wheelhouse.app".to_owned(), "web".to_owned());
    let mut instance = container("web.9", "running", Health::None, None, None);
    owned(&mut instance, "web");
    if let Some(alpha) = model.cluster_mut().host_mut("alpha") {
        alpha.containers.extend([stray, instance]);
    }
    for (width, height) in [(80, 24), (200, 50)] {
        let screen = text(&draw(&model, width, height));
        let line = |text: &str| {
            (screen.lines())
                .find(|l| l.contains(text))
                .unwrap_or_else(|| panic!("{text} not drawn at {width}x{height}:\n{screen}"))
                .to_owned()
        };
        assert!(
            line("busybox:stray").contains("foreign:"),
            "{width}x{height}:\n{screen}"
        );
        assert!(
            !line("web.9").contains("foreign"),
            "{width}x{height}:\n{screen}"
        );
    }
}

#[test]
fn help_80x24() {
    let mut model = five_hosts();
    model.ui.help = true;
    insta::assert_snapshot!("help_80x24", text(&draw(&model, 80, 24)));
}

#[test]
fn tiny_terminals_draw_without_panicking() {
    for (width, height) in [(0, 0), (1, 1), (3, 2), (12, 3), (30, 6)] {
        for view in [View::Grid, View::Host("alpha".to_owned())] {
            for help in [false, true] {
                let mut model = with_view(five_hosts(), view.clone(), 2);
                model.ui.help = help;
                model.ui.message = Some("a long message that cannot fit anywhere".to_owned());
                let buf = draw(&model, width, height);
                assert_eq!(buf.area, Rect::new(0, 0, width, height));
            }
        }
    }
}

#[test]
fn the_status_bar_reports_hosts_containers_etcd_and_age() {
    let mut model = five_hosts();
    let line = |model: &Screen| {
        text(&draw(model, 120, 24))
            .lines()
            .last()
            .unwrap_or("")
            .to_owned()
    };
    let bar = line(&model);
    for part in [
        "3/5 online",
        "9 containers",
        "etcd connected",
        "data 2s ago",
        "?/f1 help",
    ] {
        assert!(bar.contains(part), "{part:?} missing from {bar:?}");
    }
    model.cluster_mut().etcd = EtcdState::Unreachable {
        error: "refused".to_owned(),
        since: model.now - Duration::from_secs(30),
    };
    model.cluster_mut().last_data = None;
    model.ui.message = Some("no such host".to_owned());
    let bar = line(&model);
    for part in ["etcd unreachable 30s", "data —", "no such host"] {
        assert!(bar.contains(part), "{part:?} missing from {bar:?}");
    }
    model.cluster_mut().etcd = EtcdState::Disabled;
    assert!(line(&model).contains("etcd disabled"));
}

/// Labels `c` as the controller labels an instance of `app`.
fn owned(c: &mut Container, app: &str) {
    for (key, value) in [
        ("wheelhouse.app", app),
        ("wheelhouse.instance", "1"),
        ("wheelhouse.revision", "7"),
    ] {
        c.labels.insert(key.to_owned(), value.to_owned());
    }
}

/// Five hosts; web (4 wanted) runs on alpha and charlie, api (0 wanted) nowhere, and
/// "legacy" runs on bravo with no spec.
fn with_apps() -> Screen {
    let mut model = five_hosts();
    let spec = |name: &str, image: &str, instances: u32| {
        let mut s = AppSpec::new(name, image);
        s.instances = instances;
        s
    };
    model.cluster_mut().apps = [
        ("web", spec("web", "wheelhouse/demo:1", 4), 11),
        ("api", spec("api", "wheelhouse/demo:2", 0), 5),
    ]
    .into_iter()
    .map(|(name, spec, revision)| (name.to_owned(), AppRecord { spec, revision }))
    .collect();
    let labelled = |mut c: Container, app: &str| {
        owned(&mut c, app);
        c
    };
    let web = |n: &str, health| {
        labelled(
            container(n, "running", health, Some(5.0), Some(GIB / 8)),
            "web",
        )
    };
    let hosts = [
        (
            "alpha",
            vec![
                web("web.1", Health::Healthy),
                web("web.2", Health::Starting),
            ],
        ),
        ("charlie", vec![web("web.3", Health::Healthy)]),
        (
            "bravo",
            vec![labelled(
                container("legacy.1", "running", Health::None, None, None),
                "legacy",
            )],
        ),
    ];
    for (host, containers) in hosts {
        if let Some(h) = model.cluster_mut().host_mut(host) {
            h.containers.extend(containers);
        }
    }
    model
}

fn apps_focused(mut model: Screen, app: &str) -> Screen {
    model.ui.focus = Focus::Apps;
    model.ui.selected_app = Some(app.to_owned());
    model
}

#[test]
fn grid_and_apps_side_by_side_120x30() {
    let model = apps_focused(with_apps(), "web");
    insta::assert_snapshot!("grid_apps_120x30", text(&draw(&model, 120, 30)));
}

#[test]
fn grid_and_apps_stacked_80x24() {
    let model = with_apps();
    insta::assert_snapshot!("grid_apps_80x24", text(&draw(&model, 80, 24)));
}

#[test]
fn scale_prompt_and_question_120x30() {
    let mut model = apps_focused(with_apps(), "web");
    model.ui.dialog = Some(Dialog::ScalePrompt {
        app: "web".to_owned(),
        current: 4,
        seen: 11,
        input: "-3".to_owned(),
        error: Some("instances must not be negative (got -3)".to_owned()),
    });
    insta::assert_snapshot!("scale_prompt_120x30", text(&draw(&model, 120, 30)));
    model.ui.dialog = Some(Dialog::Confirm {
        question: "scale web 4 → 32?".to_owned(),
        action: Action::Run(Command::Scale {
            app: "web".to_owned(),
            count: 32,
            seen: Some(11),
        }),
    });
    let screen = text(&draw(&model, 120, 30));
    assert!(screen.contains("scale web 4 → 32?"), "{screen}");
    assert!(screen.contains("y yes · n/esc/ctrl-c no"), "{screen}");
}

#[test]
fn the_apps_panel_counts_desired_running_healthy_and_hosts() {
    let model = with_apps();
    let screen = text(&draw(&model, 200, 50));
    let row = |app: &str| {
        screen
            .lines()
            .find(|l| l.contains(&format!("│ {app} ")) || l.contains(&format!("  {app} ")))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    assert!(
        row("web").contains("wheelhouse/demo:1 4 3 2 2 alpha,charlie"),
        "{screen}"
    );
    assert!(row("api").contains("wheelhouse/demo:2 0 0 0 —"), "{screen}");
    assert!(row("legacy").contains("— 1 1 1 bravo"), "{screen}");
}

#[test]
fn the_selected_apps_hosts_are_marked_without_colour() {
    let theme = Theme::default_theme();
    // Large cells: the mark sits in the marker column, before the state glyph, also on
    // the selected host (alpha), which stays reversed.
    let model = apps_focused(with_apps(), "web");
    let buf = draw(&model, 120, 30);
    for (name, level, marked) in [
        ("alpha", Level::Ok, true),
        ("charlie", Level::Critical, true),
        ("delta", Level::Offline, false),
    ] {
        let (x, y) = find_below(&buf, &format!("{} {name}", theme.glyph(level)), 1)
            .unwrap_or_else(|| panic!("{name} not drawn"));
        let mark = buf[(x - 1, y)].symbol();
        assert_eq!(mark == "◆", marked, "{name}: {mark:?}");
    }
    // Not while the grid has the focus.
    let mut unfocused = model.clone();
    unfocused.ui.focus = Focus::Grid;
    assert!(find_below(&draw(&unfocused, 120, 30), "◆", 1).is_none());

    // One character per host: the host's glyph is underlined and marked at its left.
    let mut many = many_hosts(1000);
    let spec = AppSpec::new("batch", "wheelhouse/demo:1");
    many.cluster_mut()
        .apps
        .insert("batch".to_owned(), AppRecord { spec, revision: 3 });
    for i in [0, 1, 250] {
        let mut c = container("batch", "running", Health::None, None, None);
        owned(&mut c, "batch");
        std::sync::Arc::make_mut(&mut many.cluster_mut().hosts[i])
            .containers
            .push(c);
    }
    let many = apps_focused(many, "batch");
    let buf = draw(&many, 200, 50);
    let cells = wheelhouse::tui::grid_cells(200, 50);
    let layout = grid_layout(1000, cells.width, cells.height);
    for i in [0usize, 1, 2, 250] {
        let r = layout.cell_rect(cells, i);
        let underlined = buf[(r.x, r.y)].modifier.contains(Modifier::UNDERLINED);
        let marked = buf[(r.x - 1, r.y)].symbol() == "◆";
        let expected = i != 2 && i != 0;
        // Host 0 is also the selected host: its gutter keeps the selection marker.
        assert_eq!(underlined, i != 2, "host {i} underlined");
        assert_eq!(marked, expected, "host {i} marked");
    }
}

/// web rolling from demo:1 to demo:2: 2 old, 2 new of which 1 healthy.
fn rolling_web(model: &mut Screen, phase: wheelhouse::plan::rollout::Phase) {
    use wheelhouse::plan::{labels, rollout};
    let from = AppSpec::new("web", "wheelhouse/demo:1");
    let to = AppSpec::new("web", "wheelhouse/demo:2");
    let mut state = rollout::RolloutState::new(
        "web",
        labels::revision(&from),
        labels::revision(&to),
        4,
        to.update.clone(),
        &Default::default(),
        0,
    );
    state.phase = phase;
    state.counts = rollout::Counts {
        old: 2,
        new: 2,
        new_available: 1,
        ..Default::default()
    };
    let record = wheelhouse::cluster::Rollout {
        state,
        from_spec: Some(from),
        to_spec: to,
    };
    model
        .cluster_mut()
        .rollouts
        .insert("web".to_owned(), record);
}

#[test]
fn a_rollout_shows_its_bar_and_marks_the_hosts_it_changes_120x30() {
    use wheelhouse::plan::rollout::Phase;
    use wheelhouse::tui::widgets::grid::CHANGING;
    let mut model = apps_focused(with_apps(), "web");
    rolling_web(
        &mut model,
        Phase::Paused {
            reason: "web.4 failed its health check".to_owned(),
        },
    );
    let screen = text(&draw(&model, 120, 30));
    insta::assert_snapshot!("rollout_progress_120x30", screen);
    assert!(screen.contains("rollouts (1)"), "{screen}");
    assert!(screen.contains("▕███▒▒▒░░░░░░▏"), "{screen}");
    assert!(
        screen.contains("paused: web.4 failed its health check"),
        "{screen}"
    );
    // Hosts holding web instances not on the new revision carry the glyph, not only a colour.
    let marks = screen
        .lines()
        .map(|l| l.matches(CHANGING).count())
        .sum::<usize>();
    assert!(marks >= 2, "{screen}");
    // A succeeded rollout needs no bar and changes no host.
    rolling_web(&mut model, Phase::Succeeded);
    let screen = text(&draw(&model, 120, 30));
    assert!(
        !screen.contains("rollouts (") && !screen.contains(CHANGING),
        "{screen}"
    );
}

#[test]
fn the_image_prompt_and_the_history_list_120x30() {
    use wheelhouse::ops::HistoryEntry;
    use wheelhouse::tui::screen::{HistoryList, ImagePrompt};
    let mut model = apps_focused(with_apps(), "web");
    model.ui.image_prompt = Some(ImagePrompt {
        app: "web".to_owned(),
        current: "wheelhouse/demo:1".to_owned(),
        input: "wheelhouse/demo:2".to_owned(),
        choices: Some(Ok(vec![
            "wheelhouse/demo:1".to_owned(),
            "wheelhouse/demo:2".to_owned(),
            "wheelhouse/demo:broken".to_owned(),
        ])),
        pick: Some(1),
        error: None,
        submit: false,
    });
    let screen = text(&draw(&model, 120, 30));
    insta::assert_snapshot!("image_prompt_120x30", screen);
    assert!(
        screen.contains("enter ok · esc/ctrl-c cancel · tab next image"),
        "{screen}"
    );
    model.ui.image_prompt = None;
    let entry = |revision, image: &str, same| HistoryEntry {
        revision,
        image: image.to_owned(),
        instances: 4,
        when: Some("2025-01-31 12:00:00".to_owned()),
        same_as_current: same,
    };
    model.ui.history = Some(HistoryList {
        app: "web".to_owned(),
        entries: Some(Ok(vec![
            entry(41, "wheelhouse/demo:1", true),
            entry(30, "wheelhouse/demo:0", false),
        ])),
        selected: 1,
    });
    let screen = text(&draw(&model, 120, 30));
    insta::assert_snapshot!("history_120x30", screen);
    assert!(
        screen.contains("history of web · enter roll back · esc close"),
        "{screen}"
    );
    assert!(screen.contains("wheelhouse/demo:1 (run"), "{screen}");
}

#[test]
fn at_80x24_a_rollout_takes_one_line_rather_than_a_blank_box() {
    use wheelhouse::plan::rollout::Phase;
    let mut model = with_apps();
    rolling_web(&mut model, Phase::Progressing);
    let screen = text(&draw(&model, 80, 24));
    let line = screen.lines().find(|l| l.contains("web progressing"));
    assert!(
        line.is_some_and(|l| l.contains("wheelhouse/demo:1 → wheelhouse/demo:2")),
        "{screen}"
    );
}

#[test]
fn the_wallboard_has_no_selection_no_help_hint_and_larger_cells() {
    use wheelhouse::tui::screen::wallboard::Wallboard;
    let mut model = five_hosts();
    model.principal.mode = wheelhouse::ops::Mode::ReadOnly;
    model.wallboard = Some(Wallboard::new(Duration::from_secs(10), model.now));
    let screen = text(&draw(&model, 200, 50));
    assert!(!screen.contains('▶') && !screen.contains('▼'), "{screen}");
    assert!(!screen.contains("help"), "{screen}");
    assert!(screen.contains("READ-ONLY"), "{screen}");
    // In the cockpit cells are 19 columns and a gap apart; on the wall, wider.
    let row = screen
        .lines()
        .find(|l| l.contains("alpha") && l.contains("bravo"))
        .unwrap_or_default();
    let (alpha, bravo) = (row.find("alpha"), row.find("bravo"));
    let apart = bravo.zip(alpha).map(|(b, a)| row[a..b].chars().count());
    assert!(apart.is_some_and(|n| n > 20), "{apart:?}: {screen}");
}

/// Text from the cluster (an app label, an image, an engine's error) as hostile as it gets
/// never reaches the terminal as anything it would act on, in any view.
#[test]
fn hostile_cluster_text_is_drawn_harmless() {
    const HOSTILE: &str = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202e}\u{9b}";
    let mut model = with_apps();
    let mut spec = AppSpec::new("evil", format!("demo{HOSTILE}:1"));
    spec.instances = 1;
    model
        .cluster_mut()
        .apps
        .insert("evil".to_owned(), AppRecord { spec, revision: 3 });
    if let Some(host) = model.cluster_mut().host_mut("alpha") {
        let mut c = container(
            &format!("evil{HOSTILE}"),
            "running",
            Health::None,
            None,
            None,
        );
        c.labels
            .insert("wheelhouse.app".to_owned(), format!("evil{HOSTILE}"));
        c.image = format!("demo{HOSTILE}:1");
        host.containers.push(c);
    }
    model.ui.message = Some(format!("engine said {HOSTILE}"));
    let views = [
        apps_focused(model.clone(), "evil"),
        with_view(model.clone(), View::Host("alpha".to_owned()), 0),
    ];
    for model in views {
        let buffer = draw(&model, 160, 40);
        for cell in &buffer.content {
            assert!(
                !cell
                    .symbol()
                    .contains(wheelhouse::domain::sanitize::needs_care),
                "{:?} in:\n{}",
                cell.symbol(),
                text(&buffer)
            );
        }
        let shown = text(&buffer);
        assert!(
            !shown.contains("pwned") && !shown.contains("[2J"),
            "{shown}"
        );
        assert!(shown.contains("evil"), "{shown}");
    }
}
