//! The help overlay, generated from the active keymap and theme: every section's actions
//! with their keys, and the grid's glyph legend. Nothing here is a hand-written key list.

use crate::model::View;
use crate::tui::format::percent;
use crate::tui::keymap::{Keymap, Section};
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
    }
}

pub fn render(keymap: &Keymap, theme: &Theme, sections: &[Section], area: Rect, buf: &mut Buffer) {
    let mut parts: Vec<Part> = sections
        .iter()
        .map(|&section| keys_part(keymap, section, theme))
        .filter(|p| p.lines.len() > 1)
        .collect();
    parts.push(legend(theme));
    let footer = Line::styled("any key closes this help", theme.muted());

    // Inside the border, one blank line and the footer take 2 rows.
    let room = area.height.saturating_sub(4).max(1);
    let columns = flow(&parts, room);
    let content_width: u16 = columns.iter().map(|c| c.width).sum::<u16>()
        + COLUMN_GAP * u16::try_from(columns.len().saturating_sub(1)).unwrap_or(0);
    let content_height = columns.iter().map(|c| c.height).max().unwrap_or(0);
    let width = (content_width + 4).min(area.width);
    let height = (content_height + 4).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
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

    let mut x = inner.x;
    for column in &columns {
        let mut y = inner.y;
        for &i in &column.parts {
            for line in &parts[i].lines {
                if y >= inner.bottom().saturating_sub(2) || x >= inner.right() {
                    break;
                }
                buf.set_line(x, y, line, inner.right() - x);
                y += 1;
            }
        }
        x = x.saturating_add(column.width + COLUMN_GAP);
    }
    if inner.height >= 1 {
        buf.set_line(inner.x, inner.bottom() - 1, &footer, inner.width);
    }
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
    let key_width = hints
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let title = match section {
        Section::Global => "Everywhere",
        Section::Grid => "Grid",
        Section::Apps => "Apps panel",
        Section::Host => "Host",
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
    lines.push(Line::default());
    Part { lines }
}

/// What each cell glyph means, drawn in the cell colours, with the theme's thresholds.
fn legend(theme: &Theme) -> Part {
    let t = theme.thresholds;
    let mut lines = vec![heading("Grid cells", theme)];
    for level in Level::ALL {
        let (style, glyph) = theme.cell(level);
        let meaning = match level {
            Level::Ok => format!("load below {}", percent(t.warn)),
            Level::Warn => format!("load {} or more", percent(t.warn)),
            Level::Critical => format!("load {} or more", percent(t.critical)),
            Level::Offline => "engine not answering".to_owned(),
            Level::Unknown => "not heard from yet".to_owned(),
        };
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(format!("{glyph}"), style),
            Span::styled(format!(" {:<8}", level.label()), theme.text()),
            Span::styled(meaning, theme.muted()),
        ]));
    }
    let g = &theme.glyphs;
    lines.push(Line::from(vec![
        Span::styled(format!("  {}", g.selected), theme.title()),
        Span::styled(" selected   shown reversed", theme.text()),
    ]));
    lines.push(Line::from(vec![
        Span::styled(format!("  {}", g.selected_column), theme.title()),
        Span::styled(" its column (1 char per host)", theme.text()),
    ]));
    lines.push(Line::styled(
        "  load: max of CPU and memory %",
        theme.muted(),
    ));
    Part { lines }
}
