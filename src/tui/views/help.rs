//! The help overlay, generated from the active keymap and theme: every section's actions
//! with their keys, and the grid's glyph legend. Nothing here is a hand-written key list.

use crate::tui::action::Action;
use crate::tui::format::percent;
use crate::tui::keymap::{Keymap, Section};
use crate::tui::layout::centred;
use crate::tui::macros::{RECORD, REPLAY};
use crate::tui::screen::View;
use crate::tui::theme::{Level, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

/// Blank columns between two columns of sections.
const COLUMN_GAP: u16 = 3;

/// A heading and its lines, kept together in one column.
struct Part {
    lines: Vec<Line<'static>>,
}

impl Part {
    fn width(&self) -> u16 {
        let w = self.lines.iter().map(Line::width).max().unwrap_or(0);
        u16::try_from(w).unwrap_or(u16::MAX)
    }

    fn height(&self) -> u16 {
        u16::try_from(self.lines.len()).unwrap_or(u16::MAX)
    }
}

/// The sections that matter where help was opened: the keys that work everywhere, then
/// the view's own. Dialogs show their keys in the dialog itself.
pub fn sections_for(view: &View) -> &'static [Section] {
    match view {
        View::Grid => &[Section::Global, Section::Grid, Section::Apps],
        View::Host(_) => &[Section::Global, Section::Host],
        View::Trace(_) => &[Section::Global, Section::Trace],
        View::Logs(_) => &[Section::Global, Section::Logs],
        View::Instances(_) => &[Section::Global, Section::Instances],
    }
}

/// The sections' parts laid out for `area`: in columns side by side, or in one column that
/// scrolls when they do not fit.
struct Flow {
    parts: Vec<Part>,
    footer: Vec<Line<'static>>,
    footer_rows: u16,
    /// Rows for the columns.
    room: u16,
    columns: Vec<Flowed>,
    scrolling: bool,
}

impl Flow {
    fn new(keymap: &Keymap, theme: &Theme, sections: &[Section], area: Rect) -> Flow {
        let parts: Vec<Part> = sections
            .iter()
            .map(|&section| keys_part(keymap, section, theme))
            .filter(|p| p.lines.len() > 1)
            .collect();
        let footer = legend(theme);
        let footer_rows = u16::try_from(footer.len() + 1).unwrap_or(u16::MAX);
        // Inside the border: the columns, then the legend and the closing hint.
        let room = area.height.saturating_sub(2 + footer_rows + 2).max(1);
        let mut columns = flow(&parts, room);
        let scrolling = columns.len() > 1 && columns_width(&columns) + 4 > area.width;
        if scrolling {
            columns = vec![Flowed {
                parts: (0..parts.len()).collect(),
                width: parts.iter().map(Part::width).max().unwrap_or(0),
                height: parts.iter().map(Part::height).sum(),
            }];
        }
        Flow {
            parts,
            footer,
            footer_rows,
            room,
            columns,
            scrolling,
        }
    }
}

/// Whether help, drawn in `area`, is one column that scrolls: only then do the moving keys
/// scroll it instead of closing it (the loop hands this to `update`).
pub fn scrolls(keymap: &Keymap, theme: &Theme, view: &View, area: Rect) -> bool {
    Flow::new(keymap, theme, sections_for(view), area).scrolling
}

/// The moving keys that scroll help, by their first key: "down/up pagedown/pageup home".
fn scroll_keys(keymap: &Keymap) -> String {
    let hints = keymap.section_hints(Section::Grid);
    let key = |action: &Action| {
        (hints.iter()).find(|(_, a)| a == action).map_or_else(
            || action.name().to_owned(),
            |(keys, _)| first_key(keys).to_owned(),
        )
    };
    let [down, up, page_down, page_up, first] = SCROLL_ACTIONS.each_ref().map(key);
    format!("{down}/{up} {page_down}/{page_up} {first}")
}

/// The first of "up/k" (a lone "/" is a key of its own).
fn first_key(keys: &str) -> &str {
    match keys.split_once('/') {
        Some((first, _)) if !first.is_empty() => first,
        _ => keys,
    }
}

/// The actions that scroll help when it scrolls (the ones `update` scrolls it with).
pub const SCROLL_ACTIONS: [Action; 5] = [
    Action::MoveDown,
    Action::MoveUp,
    Action::PageDown,
    Action::PageUp,
    Action::First,
];

/// `scroll` is the first line shown when the columns do not fit side by side and help
/// becomes one column that scrolls.
pub fn render(
    keymap: &Keymap,
    theme: &Theme,
    sections: &[Section],
    scroll: usize,
    area: Rect,
    buf: &mut Buffer,
) {
    let Flow {
        parts,
        mut footer,
        footer_rows,
        room,
        columns,
        scrolling,
    } = Flow::new(keymap, theme, sections, area);
    let total = usize::from(columns.first().map_or(0, |c| c.height));
    let skip = if scrolling {
        scroll.min(total.saturating_sub(usize::from(room)))
    } else {
        0
    };
    footer.push(if scrolling {
        Line::styled(
            format!(
                "{} scroll · any other key closes this help",
                scroll_keys(keymap)
            ),
            theme.muted(),
        )
    } else {
        Line::styled("any key closes this help", theme.muted())
    });

    let footer_width = footer.iter().map(Line::width).max().unwrap_or(0);
    let content_width =
        columns_width(&columns).max(u16::try_from(footer_width).unwrap_or(u16::MAX));
    let content_height = columns.iter().map(|c| c.height).max().unwrap_or(0) + footer_rows;
    let popup = centred(area, content_width + 4, content_height + 2);
    Clear.render(popup, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Line::styled(" help ", theme.title()));
    let inner = block.inner(popup);
    block.render(popup, buf);
    let inner = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    };

    let bottom = inner.bottom().saturating_sub(footer_rows);
    let mut x = inner.x;
    for column in &columns {
        let lines = column
            .parts
            .iter()
            .flat_map(|&i| &parts[i].lines)
            .skip(skip);
        for (y, line) in (inner.y..bottom).zip(lines) {
            if x < inner.right() {
                buf.set_line(x, y, line, inner.right() - x);
            }
        }
        x = x.saturating_add(column.width + COLUMN_GAP);
    }
    let top = bottom.max(inner.y);
    for (y, line) in (top..inner.bottom()).zip(&footer) {
        buf.set_line(inner.x, y, line, inner.width);
    }
}

fn columns_width(columns: &[Flowed]) -> u16 {
    columns.iter().map(|c| c.width).sum::<u16>()
        + COLUMN_GAP * u16::try_from(columns.len().saturating_sub(1)).unwrap_or(0)
}

/// A column of parts, top to bottom.
struct Flowed {
    parts: Vec<usize>,
    width: u16,
    height: u16,
}

/// Fills columns top to bottom, starting a new column when the next part would not fit.
fn flow(parts: &[Part], room: u16) -> Vec<Flowed> {
    let mut columns: Vec<Flowed> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        match columns.last_mut() {
            Some(c) if c.height + part.height() <= room => {
                c.parts.push(i);
                c.height += part.height();
                c.width = c.width.max(part.width());
            }
            _ => columns.push(Flowed {
                parts: vec![i],
                width: part.width(),
                height: part.height(),
            }),
        }
    }
    columns
}

fn heading(text: &str, theme: &Theme) -> Line<'static> {
    Line::styled(text.to_owned(), theme.title())
}

/// "Grid" then one line per bound action: keys, padded, then what the action does.
fn keys_part(keymap: &Keymap, section: Section, theme: &Theme) -> Part {
    let hints = keymap.section_hints(section);
    // Named macros bound in this section, described by their steps; everywhere, the
    // recording keys (where the keymap leaves them free).
    let mut macros: Vec<(String, String)> = keymap
        .macro_hints(section)
        .into_iter()
        .map(|(keys, m)| (keys, format!("macro {}: {}", m.name, m.describe())))
        .collect();
    if section == Section::Global {
        let free = |c: char| {
            !hints
                .iter()
                .any(|(keys, _)| keys.split('/').any(|k| k == c.to_string()))
        };
        if free(RECORD) {
            macros.push((
                format!("{RECORD} a-z"),
                format!("record a macro ({RECORD} stops)"),
            ));
        }
        if free(REPLAY) {
            macros.push((format!("{REPLAY} a-z"), "play a macro".to_owned()));
        }
    }
    let key_width = hints
        .iter()
        .map(|(k, _)| k)
        .chain(macros.iter().map(|(k, _)| k))
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(0);
    let title = match section {
        Section::Global => "Everywhere",
        Section::Grid => "Grid",
        Section::Apps => "Apps panel",
        Section::Host => "Host",
        Section::Trace => "Trace",
        Section::Instances => "Instances",
        Section::Logs => "Logs",
        Section::Prompt => "Prompt",
        Section::Confirm => "Confirm",
    };
    let mut lines = vec![heading(title, theme)];
    lines.extend(hints.into_iter().map(|(keys, action)| {
        Line::from(vec![
            Span::styled(format!("  {keys:<key_width$}  "), theme.text()),
            Span::styled(action.description(), theme.muted()),
        ])
    }));
    lines.extend(macros.into_iter().map(|(keys, text)| {
        Line::from(vec![
            Span::styled(format!("  {keys:<key_width$}  "), theme.text()),
            Span::styled(text, theme.muted()),
        ])
    }));
    lines.push(Line::default());
    Part { lines }
}

/// What each cell glyph means, drawn in the cell colours, with the theme's thresholds:
/// two short lines, so they fit under the keys on any terminal.
fn legend(theme: &Theme) -> Vec<Line<'static>> {
    let t = theme.thresholds;
    let mut states = vec![Span::styled("cells ", theme.title())];
    for level in Level::ALL {
        let (style, glyph) = theme.cell(level);
        let meaning = match level {
            Level::Ok => format!("<{}", percent(t.warn)),
            Level::Warn => format!("≥{}", percent(t.warn)),
            Level::Critical => format!("≥{}", percent(t.critical)),
            // "down" and "unknown" say it already.
            Level::Offline | Level::Unknown => String::new(),
        };
        states.push(Span::styled(format!("{glyph}"), style));
        states.push(Span::styled(format!(" {} ", level.label()), theme.text()));
        states.push(Span::styled(format!("{meaning}  "), theme.muted()));
    }
    let g = &theme.glyphs;
    let marks = Line::from(vec![
        Span::styled(format!("      {} ", g.selected), theme.title()),
        Span::styled("selected  ", theme.text()),
        Span::styled(format!("{} ", g.selected_column), theme.title()),
        Span::styled("its column  ", theme.text()),
        Span::styled("load = max of CPU % and memory %", theme.muted()),
    ]);
    vec![Line::default(), Line::from(states), marks]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(scroll: usize, width: u16, height: u16) -> String {
        let area = Rect::new(0, 0, width, height);
        let mut buf = Buffer::empty(area);
        let keymap = Keymap::default_keymap();
        let sections = sections_for(&View::Grid);
        render(
            &keymap,
            &Theme::default_theme(),
            sections,
            scroll,
            area,
            &mut buf,
        );
        buf.content().iter().map(|c| c.symbol()).collect()
    }

    #[test]
    fn a_small_terminal_scrolls_one_column_and_a_wide_one_shows_all() {
        let top = screen(0, 80, 24);
        assert!(
            top.contains("Everywhere")
                && top.contains(
                    "down/up pagedown/pageup home scroll · any other key closes this help"
                ),
            "{top}"
        );
        let bottom = screen(1000, 80, 24);
        assert!(
            !bottom.contains("Everywhere"),
            "scrolled past the first section"
        );
        assert!(
            bottom.contains("promote the canary"),
            "the last line is reachable"
        );
        assert!(
            bottom.contains("scroll · any other key closes"),
            "at the end the moving keys still scroll (back up): the hint says so"
        );
        let wide = screen(0, 200, 50);
        assert!(wide.contains("Everywhere") && wide.contains("promote the canary"));
        assert!(!wide.contains("scroll ·"));
    }

    #[test]
    fn named_macros_are_listed_with_their_keys_and_steps() {
        let source =
            "[macros]\nlook = [\"first\", \"open\"]\n[grid]\nrun_macro.look = [\"ctrl-t\"]\n";
        let keymap = Keymap::parse(std::path::Path::new("k.toml"), source).expect("keymap");
        let area = Rect::new(0, 0, 200, 50);
        let mut buf = Buffer::empty(area);
        render(
            &keymap,
            &Theme::default_theme(),
            sections_for(&View::Grid),
            0,
            area,
            &mut buf,
        );
        let text: String = buf.content().iter().map(|c| c.symbol()).collect();
        assert!(
            text.contains("ctrl-t") && text.contains("macro look:"),
            "{text}"
        );
        assert!(
            text.contains("Q a-z")
                && text.contains("record a macro (Q stops)")
                && text.contains("@ a-z")
                && text.contains("play a macro"),
            "{text}"
        );
    }
}
