//! A trace: the breadcrumb and the worst hop on top, then the app's callers, its
//! instances and its dependencies side by side (stacked on narrow terminals, and when
//! caller hosts have probe rows). Computed from the screen's picture each frame, so its
//! figures are the latest.

use super::host::{ID_MIN_WIDTH, health_field, short_uptime};
use super::trace_hops::{self, verdict_level, wanted_rows};
use crate::cluster::{Node, Probes, Trace};
use crate::domain::ContainerState;
use crate::tui::format::percent;
use crate::tui::layout::split_top;
use crate::tui::screen::{Screen, TraceNav, TraceRow, trace_row};
use crate::tui::theme::{Level, Theme};
use crate::tui::widgets::table::{Column, DataTable, Field, leave_out};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use std::time::Instant;

/// From this width the three lists stand side by side (unless caller hosts have rows).
const SIDE_BY_SIDE: u16 = 160;

/// Where the ID and REV columns are in `NODE_COLUMNS`.
const ID_COLUMN: usize = 2;
const REV_COLUMN: usize = 3;
/// Below this width the revision is left out too, so host, container and last check
/// keep room to be read.
const REV_MIN_WIDTH: u16 = 100;

const NODE_COLUMNS: [Column; 10] = [
    Column::new("HOST", Constraint::Fill(1)),
    Column::new("CONTAINER", Constraint::Fill(2)),
    Column::new("ID", Constraint::Length(12)),
    Column::new("REV", Constraint::Length(8)),
    Column::new("HEALTH", Constraint::Length(9)),
    // The last health check: when, and why it failed.
    Column::new("LAST CHECK", Constraint::Fill(2)),
    Column::new("UP", Constraint::Length(6)),
    Column::new("RST", Constraint::Length(3)).right(),
    Column::new("ENDPOINT", Constraint::Length(16)).fit(),
    Column::new("LOAD", Constraint::Length(4)).right(),
];

pub fn render(screen: &Screen, nav: &TraceNav, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let trace = Trace::of(&screen.cluster, &nav.app);
    let (top, body) = split_top(area, 2);
    let worst = trace.worst().map(|h| h.verdict);
    let level = match worst {
        _ if !trace.known => Level::Critical,
        None => Level::Ok,
        Some(v) => verdict_level(v),
    };
    let lines = vec![
        Line::from(vec![
            Span::styled(" trace ", theme.muted()),
            Span::styled(nav.breadcrumb(), theme.title()),
            Span::styled(probes_note(&trace), theme.muted()),
        ]),
        Line::from(Span::styled(
            format!(" {}", trace.summary()),
            theme.level_text(level),
        )),
    ];
    for (line, y) in lines.into_iter().zip(top.y..top.bottom()) {
        line.render(
            Rect {
                y,
                height: 1,
                ..top
            },
            buf,
        );
    }
    let (c, d) = (
        wanted_rows(&trace.callers),
        wanted_rows(&trace.dependencies),
    );
    // A caller host's probe figures need a list's whole width: with any, the lists stack
    // on a wide terminal too.
    let host_rows = c > trace.callers.len() || d > trace.dependencies.len();
    let [callers, nodes, deps] = if body.width >= SIDE_BY_SIDE && !host_rows {
        Layout::horizontal([
            Constraint::Percentage(22),
            Constraint::Percentage(56),
            Constraint::Percentage(22),
        ])
        .areas(body)
    } else {
        let rows = |n: usize| u16::try_from(n).unwrap_or(u16::MAX).saturating_add(3);
        Layout::vertical([
            Constraint::Max(rows(c.max(1))),
            Constraint::Min(4),
            Constraint::Max(rows(d.max(1))),
        ])
        .areas(body)
    };
    let (on_caller, on_node, on_dep) = match trace_row(&trace, nav.row) {
        Some(TraceRow::Caller(i)) => (Some(i), None, None),
        Some(TraceRow::Instance(i)) => (None, Some(i), None),
        Some(TraceRow::Dependency(i)) => (None, None, Some(i)),
        None => (None, None, None),
    };
    trace_hops::render(
        "callers",
        &trace.callers,
        true,
        on_caller,
        theme,
        callers,
        buf,
    );
    let title = format!("{} instances ({})", trace.app, trace.instances.len());
    let rows = (trace.instances.iter())
        .map(|n| node_row(n, screen.now, theme))
        .collect();
    let skip: Vec<usize> = [(ID_MIN_WIDTH, ID_COLUMN), (REV_MIN_WIDTH, REV_COLUMN)]
        .into_iter()
        .filter_map(|(min, column)| (nodes.width < min).then_some(column))
        .collect();
    let (columns, rows) = leave_out(&NODE_COLUMNS, rows, &skip);
    let mut table = DataTable::new(title, &columns, theme)
        .rows(rows)
        .empty(if trace.known {
            "no instances"
        } else {
            "not an app in the picture"
        });
    if let Some(row) = on_node {
        table = table.selected(row);
    }
    table.render(nodes, buf);
    let deps_title = "dependencies";
    trace_hops::render(
        deps_title,
        &trace.dependencies,
        false,
        on_dep,
        theme,
        deps,
        buf,
    );
}

/// Where the hops' figures come from.
fn probes_note(trace: &Trace) -> String {
    let measured = (trace.hops())
        .filter(|h| matches!(h.probes, Probes::Measured(_)))
        .count();
    if measured == 0 {
        "   probes: not measured (no agent probes yet)".to_owned()
    } else {
        format!(
            "   probes: {measured} of {} hops measured by the callers' agents",
            trace.hops().count()
        )
    }
}

fn node_row(node: &Node, now: Instant, theme: &Theme) -> Vec<Field> {
    let plain = Style::default();
    let dash = || "—".to_owned();
    let (health, health_style) = if node.state == ContainerState::Running {
        health_field(node.health, theme)
    } else {
        (
            format!("✗ {}", node.state.as_str()),
            theme.level_text(Level::Critical),
        )
    };
    let check_style = match &node.last_check {
        Some(c) if c.ok() => theme.level_text(Level::Ok),
        Some(_) => theme.level_text(Level::Critical),
        None => theme.muted(),
    };
    let endpoint = match &node.endpoint {
        Some(e) => (e.to_string(), plain),
        None => ("✗ not registered".to_owned(), theme.level_text(Level::Warn)),
    };
    vec![
        (node.host.clone(), plain),
        (node.container.clone(), plain),
        (node.id.clone(), theme.muted()),
        // As container names spell it (8 hex digits).
        (
            format!("{:08x}", node.revision & 0xffff_ffff),
            theme.muted(),
        ),
        (health, health_style),
        (node.check_words(now), check_style),
        (
            node.uptime.as_deref().map_or_else(dash, short_uptime),
            plain,
        ),
        (node.restarts.map_or_else(dash, |n| n.to_string()), plain),
        endpoint,
        (node.host_load.map_or_else(dash, percent), plain),
    ]
}
