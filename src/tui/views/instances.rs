//! An app's instances side by side: per instance (instance@host) its current figures and
//! its CPU and memory over the charts' window, read from the agent of its own host; in
//! columns, wrapping to rows when there are many, a page of rows at a time when they do
//! not all fit. A host without an agent says so in its instance's cell.

use crate::cluster::{Host, Metrics, instances_of};
use crate::domain::Container;
use crate::plan::Identity;
use crate::tui::format::{bytes, percent};
use crate::tui::layout::{InstancePages, split_bottom, split_top};
use crate::tui::screen::charts::Charts;
use crate::tui::screen::{InstancesNav, Screen};
use crate::tui::theme::{Level, Theme};
use crate::tui::widgets::history::cpu_and_memory;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

pub fn render(screen: &Screen, nav: &InstancesNav, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let app = nav.app.as_str();
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
    let pages = InstancePages::new(instances.len(), body);
    let first = pages.clamp(nav.first_row) * pages.columns;
    let shown = cells(&pages, body, instances.len() - first);
    let last = first + shown.len();
    for (rect, (host, container, id)) in shown.into_iter().zip(&instances[first..]) {
        cell(host, container, id, charts, theme, rect, buf);
    }
    if pages.rows > pages.page {
        let (_, note) = split_bottom(body, 1);
        let text = format!(
            " instances {}–{last} of {}: the move keys scroll",
            first + 1,
            instances.len()
        );
        Line::styled(text, theme.level_text(Level::Warn)).render(note, buf);
    }
}

/// Where the cells of one page go in `body`, for the `left` instances from its first on;
/// the last column and row take what division left over.
fn cells(pages: &InstancePages, body: Rect, left: usize) -> Vec<Rect> {
    let shown = left.min(pages.page * pages.columns);
    let rows_u16 = u16::try_from(pages.page).unwrap_or(u16::MAX);
    let cols_u16 = u16::try_from(pages.columns).unwrap_or(u16::MAX);
    let (cell_w, cell_h) = (body.width / cols_u16, pages.height / rows_u16);
    (0..shown)
        .map(|i| {
            let (row, col) = (i / pages.columns, i % pages.columns);
            let (row, col) = (
                u16::try_from(row).unwrap_or(0),
                u16::try_from(col).unwrap_or(0),
            );
            let width = if col + 1 == cols_u16 {
                body.width - col * cell_w
            } else {
                cell_w
            };
            let height = if row + 1 == rows_u16 {
                pages.height - row * cell_h
            } else {
                cell_h
            };
            Rect::new(body.x + col * cell_w, body.y + row * cell_h, width, height)
        })
        .collect()
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
    fn cells_wrap_to_rows_and_pages_scroll() {
        let body = Rect::new(0, 1, 80, 25);
        let layout = |count| {
            let pages = InstancePages::new(count, body);
            (pages, cells(&pages, body, count))
        };
        let (pages, two) = layout(2);
        assert_eq!(pages.rows, pages.page, "no note's line");
        assert_eq!(two, [Rect::new(0, 1, 40, 25), Rect::new(40, 1, 40, 25)]);
        let (_, five) = layout(5);
        assert_eq!(five.len(), 5);
        assert_eq!(five[2], Rect::new(0, 9, 40, 8), "wrapped to a second row");
        assert_eq!(
            five[4],
            Rect::new(0, 17, 40, 9),
            "the last row takes the rest"
        );
        // 40 instances: 2 columns, 20 rows, 3 a page above the note's line.
        let (pages, some) = layout(40);
        assert_eq!((pages.columns, pages.rows, pages.page), (2, 20, 3));
        assert_eq!(some.len(), 6);
        assert!(some.iter().all(|r| r.bottom() <= 25));
        // The last page is a full one; a page that starts late holds what is left.
        assert_eq!(pages.clamp(100), 17);
        assert_eq!(cells(&pages, body, 40 - 17 * 2).len(), 6);
        let (pages, odd) = (InstancePages::new(5, Rect::new(0, 1, 80, 10)), 5);
        assert_eq!((pages.rows, pages.page, pages.clamp(9)), (3, 1, 2));
        assert_eq!(cells(&pages, body, odd - 2 * 2).len(), 1);
        // A tiny area still gets one cell, never a division by zero.
        let tiny = Rect::new(0, 0, 5, 2);
        let pages = InstancePages::new(3, tiny);
        assert_eq!(cells(&pages, tiny, 3).len(), 1);
    }
}
