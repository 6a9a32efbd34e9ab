//! The terminal: event loop, views, widgets, theme and keymap.
//!
//! Drawing reads `&Model` only: no IO, no locks, no state kept between frames.

pub mod format;
pub mod keymap;
pub mod layout;
pub mod run;
mod terminal;
pub mod theme;
mod tomlfile;
pub mod views;
pub mod widgets;

use crate::action::Action;
use crate::model::{Model, View};
use keymap::Keymap;
use ratatui::Frame;
use ratatui::widgets::Widget;
use theme::Theme;
use widgets::status_bar::StatusBar;

/// Draws one frame: the current view, the status bar, and help on top when open.
pub fn draw(frame: &mut Frame, model: &Model, theme: &Theme, keymap: &Keymap) {
    let screen = layout::screen(frame.area());
    let buf = frame.buffer_mut();
    match &model.ui.view {
        View::Grid => views::grid::render(model, theme, screen.main, buf),
        View::Host(name) => views::host::render(model, name, theme, screen.main, buf),
    }
    let help_keys = keymap
        .hints(&model.ui.view)
        .into_iter()
        .find(|(_, action)| *action == Action::ToggleHelp)
        .map(|(keys, _)| keys);
    StatusBar::new(model, theme, help_keys).render(screen.status, buf);
    if model.ui.help {
        views::help::render(keymap, theme, screen.main, buf);
    }
}

/// Grid columns for `count` hosts on a `width` x `height` terminal; update moves by this.
pub fn grid_columns(count: usize, width: u16, height: u16) -> usize {
    layout::terminal_grid_layout(count, width, height).columns
}

/// Visible grid rows for `count` hosts on a `width` x `height` terminal (a page).
pub fn grid_rows(count: usize, width: u16, height: u16) -> usize {
    layout::terminal_grid_layout(count, width, height).rows
}
