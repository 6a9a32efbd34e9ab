//! The terminal: one operator's `Screen` over the feed's cluster picture, what keys ask of
//! it (`action`) and how it changes (`update`); the event loop, views, widgets, theme and
//! keymap.
//!
//! Drawing reads `&Screen` only: no IO, no locks, no state kept between frames.

pub mod action;
mod clock;
pub mod export;
pub mod format;
pub mod keymap;
pub mod layout;
pub mod macros;
pub mod run;
pub mod screen;
pub mod script;
mod terminal;
pub mod theme;
mod tomlfile;
pub mod update;
pub mod views;
pub mod widgets;

use crate::tui::action::Action;
use crate::tui::screen::{InstancesNav, LogsNav, Screen, TraceNav, View};
use keymap::{Keymap, Section};
use layout::Geometry;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;
use theme::Theme;
use widgets::command_line::CommandLineBar;
use widgets::dialog::DialogBox;
use widgets::status_bar::StatusBar;

/// Draws one frame: the current view, the status bar, an open dialog, and help on top.
pub fn draw(frame: &mut Frame, screen: &Screen) {
    let (theme, keymap) = (&screen.theme, &screen.keymap);
    let regions = layout::regions(frame.area());
    let buf = frame.buffer_mut();
    match &screen.ui.view {
        View::Grid if let Some(wallboard) = &screen.wallboard => {
            views::wallboard::render(screen, theme, wallboard, regions.main, buf);
        }
        View::Grid => {
            let panels = views::apps::panels(regions.main);
            views::grid::render(screen, theme, panels.grid, buf);
            views::apps::render(screen, theme, keymap, &panels, buf);
        }
        View::Host(name) => views::host::render(screen, name, theme, regions.main, buf),
        View::Trace(nav) => views::trace::render(screen, nav, theme, regions.main, buf),
        View::Logs(nav) => views::logs::render(screen, nav, theme, regions.main, buf),
        View::Instances(nav) => views::instances::render(screen, nav, theme, regions.main, buf),
    }
    // Nobody at a wall screen opens help.
    let help_keys = keymap
        .hints(Section::for_ui(&screen.ui))
        .into_iter()
        .find(|(_, action)| *action == Action::ToggleHelp && screen.wallboard.is_none())
        .map(|(keys, _)| keys);
    // The `:` / `/` line takes the status bar's place while open; a filter in force keeps
    // a tag at its left.
    match (&screen.ui.command, screen.ui.active_filter()) {
        (Some(line), _) => CommandLineBar::new(line, theme).render(regions.status, buf),
        (None, Some(filter)) => {
            let rest = widgets::command_line::render_filter_tag(filter, theme, regions.status, buf);
            StatusBar::new(screen, theme, help_keys).render(rest, buf);
        }
        (None, None) => StatusBar::new(screen, theme, help_keys).render(regions.status, buf),
    }
    DialogBox::new(screen, theme, keymap).render(regions.main, buf);
    if screen.ui.help {
        let sections = views::help::sections_for(&screen.ui.view);
        views::help::render(
            keymap,
            theme,
            sections,
            screen.ui.help_scroll,
            regions.main,
            buf,
        );
    }
    // Whatever a view drew from the cluster, nothing reaches the terminal that it acts on.
    crate::domain::sanitize::scrub_cells(&mut buf.content);
}

/// Where the grid's cells go on a `width` x `height` terminal, as `draw` lays them out.
pub fn grid_cells(width: u16, height: u16) -> Rect {
    let regions = layout::regions(Rect::new(0, 0, width, height));
    layout::grid_view(views::apps::panels(regions.main).grid).cells
}

/// The layout `update` pages by on a `width` x `height` terminal, help not measured (it
/// fits): what a screen starts with, and tests.
pub fn geometry(width: u16, height: u16) -> Geometry {
    let main = layout::regions(Rect::new(0, 0, width, height)).main;
    Geometry {
        width,
        height,
        grid_cells: grid_cells(width, height),
        apps_rows: views::apps::visible_rows(main),
        // What the host view's chrome (six rows) leaves to its container table.
        host_rows: usize::from(height.saturating_sub(6)).max(1),
        logs_rows: views::logs::rows(main),
        instance_cells: layout::split_top(main, 1).1,
        help_scrolls_grid: false,
        help_scrolls_host: false,
        help_scrolls_trace: false,
        help_scrolls_logs: false,
        help_scrolls_instances: false,
    }
}

/// The layout `update` pages by, help measured with this keymap and theme: the loop's
/// on each resize and theme change.
pub fn measure(width: u16, height: u16, keymap: &Keymap, theme: &Theme) -> Geometry {
    let main = layout::regions(Rect::new(0, 0, width, height)).main;
    let scrolls = |view: &View| views::help::scrolls(keymap, theme, view, main);
    Geometry {
        help_scrolls_grid: scrolls(&View::Grid),
        help_scrolls_host: scrolls(&View::Host(String::new())),
        help_scrolls_trace: scrolls(&View::Trace(Box::new(TraceNav::new("", View::Grid)))),
        help_scrolls_logs: scrolls(&View::Logs(Box::new(LogsNav::new("", "", View::Grid)))),
        help_scrolls_instances: scrolls(&View::Instances(Box::new(InstancesNav::new(
            "",
            View::Grid,
        )))),
        ..geometry(width, height)
    }
}
