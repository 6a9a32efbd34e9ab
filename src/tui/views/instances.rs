//! An app's instances side by side: per instance (instance@host) its current figures and
//! its CPU and memory over the charts' window, read from the agent of its own host; in
//! columns, wrapping to rows when there are many. A host without an agent says so in its
//! instance's cell.

use crate::cluster::{Host, Metrics, instances_of};
use crate::domain::Container;
use crate::plan::Identity;
use crate::tui::format::{bytes, percent};
use crate::tui::layout::split_top;
use crate::tui::screen::Screen;
use crate::tui::screen::charts::Charts;
use crate::tui::theme::{Level, Theme};
use crate::tui::widgets::history::cpu_and_memory;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

/// A cell narrower than this cuts its charts' titles to nothing.
const MIN_WIDTH: u16 = 30;
/// Its two lines of figures and two charts of one row of bars each.
const MIN_HEIGHT: u16 = 8;

pub fn render(screen: &Screen, app: &str, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let instances = instances_of(&screen.cluster, app);
    let charts = screen.ui.charts.as_ref().filter(|c| c.of == app);
    let window = charts.map_or("", |c| c.window.label());
    let (head, body) = split_top(area, 1);
    let count = match instances.len() {
        1 => "1 instance".to_owned(),
        n => format!("{n} instances"),
    };
    let title = format!(" {app}: {count}, CPU and memory over {window} (c)");
    Line::styled(title, theme.title()).render(head, buf);
    if instances.is_empty() {
        let none = format!(" {app} has no instance on any host");
        Line::styled(none, theme.muted()).render(body, buf);
        return;
    }
    let (cells, left_out) = cells(instances.len(), body);
    for (rect, (host, container, id)) in cells.into_iter().zip(&instances) {
        cell(host, container, id, charts, theme, rect, buf);
    }
    if left_out > 0 {
        let (_, note) = crate::tui::layout::split_bottom(body, 1);
        let text = format!(" +{left_out} more instances: a larger terminal shows them");
        Line::styled(text, theme.level_text(Level::Warn)).render(note, buf);
    }
}

/// Where `count` cells go in `area`: as many columns as fit (at most one per instance),
/// rows of equal height; the cells that do not fit are counted, and then the last line is
/// left for saying so.
fn cells(count: usize, area: Rect) -> (Vec<Rect>, usize) {
    let fit_columns = usize::from((area.width / MIN_WIDTH).max(1));
    let columns = fit_columns.min(count).max(1);
    let rows_wanted = count.div_ceil(columns);
    let fit_rows = usize::from((area.height / MIN_HEIGHT).max(1));
    let (rows, height) = if rows_wanted <= fit_rows {
        (rows_wanted, area.height)
    } else {
        // The note's line comes off the bottom.
        let height = area.height.saturating_sub(1);
        (usize::from((height / MIN_HEIGHT).max(1)), height)
    };
    let shown = count.min(rows * columns);
    let rows_u16 = u16::try_from(rows).unwrap_or(u16::MAX);
    let cols_u16 = u16::try_from(columns).unwrap_or(u16::MAX);
    let (cell_w, cell_h) = (area.width / cols_u16, height / rows_u16);
    let rects = (0..shown)
        .map(|i| {
            let (row, col) = (i / columns, i % columns);
            let (row, col) = (
                u16::try_from(row).unwrap_or(0),
                u16::try_from(col).unwrap_or(0),
            );
            // The last column and row take what division left over.
            let width = if col + 1 == cols_u16 {
                area.width - col * cell_w
            } else {
                cell_w
            };
            let height = if row + 1 == rows_u16 {
                height - row * cell_h
            } else {
                cell_h
            };
            Rect::new(area.x + col * cell_w, area.y + row * cell_h, width, height)
        })
        .collect();
    (rects, count - shown)
}

/// One instance: its name and state, its current figures, then its CPU chart above its
/// memory chart, or why there is no history.
fn cell(
    host: &Host,
    c: &Container,
    id: &Identity,
    charts: Option<&Charts>,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let (head, below) = split_top(area, 2);
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "—".to_owned());
    let state_style = if c.is_running() {
        theme.level_text(Level::Ok)
    } else {
        theme.level_text(Level::Warn)
    };
    let state = match c.uptime() {
        Some(up) if c.is_running() => format!("up {up}"),
        _ => c.state.to_string(),
    };
    let name = format!(" {}.{}@{} ", id.app, id.instance, host.name());
    let lines = [
        Line::from(vec![
            Span::styled(name, theme.title()),
            Span::styled(state, state_style),
        ]),
        Line::from(vec![
            Span::styled(" CPU ", theme.muted()),
            Span::styled(or_dash(c.cpu_percent.map(percent)), theme.text()),
            Span::styled("  MEM ", theme.muted()),
            Span::styled(or_dash(c.mem_bytes.map(bytes)), theme.text()),
        ]),
    ];
    ratatui::widgets::Paragraph::new(lines.to_vec()).render(head, buf);
    let why_not = match (&host.metrics, charts) {
        (Metrics::Engine, _) => Some(format!("no agent on {}: no history", host.name())),
        (Metrics::Fallback { error }, _) => Some(format!("⚠ agent not read: {error}")),
        (Metrics::Agent { .. }, None) => Some("no history read yet".to_owned()),
        (Metrics::Agent { .. }, Some(charts)) => {
            (charts.error_of(&c.id)).map(|e| format!("⚠ no history from the agent: {e}"))
        }
    };
    if let Some(text) = why_not {
        let style = match host.metrics {
            Metrics::Engine => theme.muted(),
            _ => theme.level_text(Level::Warn),
        };
        Line::styled(format!(" {text}"), style).render(below, buf);
        return;
    }
    let Some(charts) = charts else {
        return;
    };
    let (cpu, mem) = split_top(below, below.height / 2);
    let titles = ["CPU".to_owned(), "memory".to_owned()];
    cpu_and_memory(charts, &c.id, titles, [cpu, mem], theme, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_wrap_to_rows_and_count_what_does_not_fit() {
        let area = Rect::new(0, 1, 80, 25);
        let (two, out) = cells(2, area);
        assert_eq!(out, 0);
        assert_eq!(two, [Rect::new(0, 1, 40, 25), Rect::new(40, 1, 40, 25)]);
        let (five, out) = cells(5, area);
        assert_eq!((five.len(), out), (5, 0));
        assert_eq!(five[2], Rect::new(0, 9, 40, 8), "wrapped to a second row");
        assert_eq!(
            five[4],
            Rect::new(0, 17, 40, 9),
            "the last row takes the rest"
        );
        // 40 instances: 2 columns of 3 rows fit above the note's line.
        let (some, out) = cells(40, area);
        assert_eq!((some.len(), out), (6, 34));
        assert!(some.iter().all(|r| r.bottom() <= 25));
        // A tiny area still gets one cell, never a division by zero.
        let (one, out) = cells(3, Rect::new(0, 0, 5, 2));
        assert_eq!((one.len(), out), (1, 2));
    }
}
