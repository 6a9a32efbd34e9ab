//! The grid's cells: each host in its state's colour and glyph, a thousand hosts at once,
//! moving the selection down a drawn column, and pages that keep the selection in view.

use crate::common::models::{find_below, five_hosts, many_hosts, text};
use crate::draw;
use ratatui::style::{Color, Modifier};
use wheelhouse::tui::action::Action;
use wheelhouse::tui::layout::grid_layout;
use wheelhouse::tui::theme::{Level, Theme};
use wheelhouse::tui::update::{Msg, update};

#[test]
fn cells_take_the_theme_colour_of_their_state() {
    let theme = Theme::default_theme();
    let mut model = five_hosts();
    model.ui.selected = 4;
    for (width, height) in [(80, 24), (200, 50)] {
        let buf = draw(&model, width, height);
        for (name, level) in [
            ("alpha", Level::Ok),
            ("bravo", Level::Warn),
            ("charlie", Level::Critical),
            ("delta", Level::Offline),
            ("echo", Level::Unknown),
        ] {
            let (x, y) = find_below(&buf, &format!("{} {name}", theme.glyph(level)), 1)
                .unwrap_or_else(|| panic!("{name} not drawn at {width}x{height}"));
            let cell = &buf[(x, y)];
            assert_eq!(cell.bg, theme.color(level), "{name} at {width}x{height}");
            assert_eq!(cell.fg, theme.palette.cell_text, "{name}");
            let selected = name == "echo";
            assert_eq!(
                cell.modifier.contains(Modifier::REVERSED),
                selected,
                "{name}"
            );
            let marker = buf[(x - 1, y)].symbol();
            assert_eq!(marker == "▶", selected, "{name}: marker {marker:?}");
        }
    }
    // The defaults really differ, so the checks above tell the states apart.
    assert_eq!(theme.color(Level::Critical), Color::Red);
    assert_eq!(theme.color(Level::Warn), Color::Yellow);
    assert_eq!(theme.color(Level::Ok), Color::Green);
}

#[test]
fn a_thousand_hosts_all_show_in_200x50() {
    let theme = Theme::default_theme();
    let model = many_hosts(1000);
    let buf = draw(&model, 200, 50);
    let cells = wheelhouse::tui::grid_cells(200, 50);
    let layout = grid_layout(1000, cells.width, cells.height);
    let glyphs: Vec<String> = Level::ALL
        .iter()
        .map(|&l| theme.glyph(l).to_string())
        .collect();
    let mut drawn = 0;
    for y in cells.top()..cells.bottom() {
        for x in cells.left()..cells.right() {
            drawn += usize::from(glyphs.iter().any(|g| buf[(x, y)].symbol() == g));
        }
    }
    assert_eq!(drawn, 1000);
    // Each host sits where the layout says, in its state's colour and glyph.
    for (i, host) in model.cluster.hosts.iter().enumerate() {
        let r = layout.cell_rect(cells, i);
        let level = theme.level(host.load(), &host.state);
        let cell = &buf[(r.x, r.y)];
        assert_eq!(cell.symbol(), theme.glyph(level).to_string(), "host {i}");
        assert_eq!(cell.bg, theme.color(level), "host {i}");
    }
    // Update moves by the drawn column count.
    let drawn_columns = (cells.left()..cells.right())
        .filter(|&x| {
            let symbol = buf[(x, layout.cell_rect(cells, 0).y)].symbol();
            glyphs.iter().any(|g| g == symbol)
        })
        .count();
    assert_eq!(
        wheelhouse::tui::geometry(200, 50).grid(1000).0,
        drawn_columns
    );
}

#[test]
fn moving_down_selects_the_cell_drawn_below() {
    for count in [5, 30, 400] {
        let mut model = many_hosts(count);
        model.ui.selected = 2;
        let before = find_below(&draw(&model, 80, 24), "▶", 1);
        update(&mut model, Msg::Action(Action::MoveDown));
        let after = find_below(&draw(&model, 80, 24), "▶", 1);
        let (Some(before), Some(after)) = (before, after) else {
            panic!("{count}: no marker");
        };
        let (columns, _) = wheelhouse::tui::geometry(80, 24).grid(count);
        if 2 + columns < count {
            assert_eq!(model.ui.selected, 2 + columns, "{count}");
            assert!(after.1 > before.1, "{count}: {before:?} -> {after:?}");
        } else {
            assert_eq!(model.ui.selected, 2, "{count}");
            assert_eq!(after, before, "{count}");
        }
    }
}

#[test]
fn pages_keep_the_selected_host_visible() {
    let mut model = many_hosts(10_000);
    model.ui.selected = 9_999;
    let buf = draw(&model, 200, 50);
    // The last host is on the last page, whatever the number of pages.
    let screen = text(&buf);
    let page = screen
        .split("page ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.split_once('/'))
        .map(|(at, of)| (at.to_owned(), of.to_owned()));
    assert!(page.as_ref().is_some_and(|(at, of)| at == of), "{screen}");
    assert!(text(&buf).contains("node-09999"));
    assert!(find_below(&buf, "▶", 1).is_some());
}
