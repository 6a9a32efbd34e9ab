//! One host: a header with where it is and what it reports, above its containers.

use crate::model::{Container, Health, Host, HostState, Model};
use crate::tui::format::{age, bytes, percent};
use crate::tui::layout::split_top;
use crate::tui::theme::{Level, Theme};
use crate::tui::widgets::table::{Column, DataTable, Field};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Padding, Paragraph, Widget};

/// Header lines inside the box.
const HEADER_LINES: u16 = 4;

const COLUMNS: [Column; 6] = [
    Column::new("NAME", Constraint::Fill(1)),
    Column::new("STATE", Constraint::Length(10)),
    Column::new("HEALTH", Constraint::Length(9)),
    Column::new("IMAGE", Constraint::Fill(1)),
    Column::new("CPU", Constraint::Length(6)).right(),
    Column::new("MEM", Constraint::Length(10)).right(),
];

pub fn render(model: &Model, name: &str, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(host) = model.host(name) else {
        let gone = format!(" host {name} is no longer in the inventory");
        Line::styled(gone, theme.muted()).render(area, buf);
        return;
    };
    let (header_area, table_area) = split_top(area, HEADER_LINES + 2);
    header(model, host, theme, header_area, buf);
    let shown = model.shown_containers(host);
    let title = match &model.ui.container_filter {
        None => format!("containers ({})", host.containers.len()),
        Some(f) => format!(
            "containers ({}/{}) /{}",
            shown.len(),
            host.containers.len(),
            f.text()
        ),
    };
    let rows = shown.iter().map(|c| row(c, theme)).collect();
    let empty = match model.ui.container_filter {
        None => "no containers",
        Some(_) => "no container matches the filter (esc clears it)",
    };
    DataTable::new(title, &COLUMNS, theme)
        .rows(rows)
        .selected(model.ui.selected_row)
        .empty(empty)
        .render(table_area, buf);
}

fn header(model: &Model, host: &Host, theme: &Theme, area: Rect, buf: &mut Buffer) {
    // A line's first label is padded so the values line up; later ones are not.
    let head = |text: &'static str| Span::styled(format!("{text:<8}"), theme.muted());
    let label = |text: &'static str| Span::styled(format!("{text} "), theme.muted());
    let value = |text: String| Span::styled(text, theme.text());
    let gap = || Span::raw("   ");
    let spec = &host.spec;
    let load = host.load();
    let level = theme.level(load, &host.state);
    let (cell_style, glyph) = theme.cell(level);

    let mut state = vec![
        head("state"),
        Span::styled(format!(" {glyph} "), cell_style),
        Span::styled(format!(" {}", level.label()), theme.level_text(level)),
    ];
    match (&host.state, load) {
        (HostState::Online, Some(load)) => state.push(value(format!(
            "   load {}   CPU {}   MEM {}",
            percent(load.score()),
            percent(load.cpu),
            percent(load.mem)
        ))),
        (HostState::Online, None) => state.push(value("   no figures yet".to_owned())),
        (HostState::Offline { error, since }, _) => state.push(value(format!(
            " for {}: {error}",
            age(model.now.saturating_duration_since(*since))
        ))),
        (HostState::Unknown, _) => state.push(value("   not heard from yet".to_owned())),
    }

    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".to_owned());
    let engine = vec![
        head("engine"),
        value(spec.engine.clone()),
        gap(),
        label("address"),
        value(or_dash(&spec.address)),
        gap(),
        label("zone"),
        value(or_dash(&spec.zone)),
    ];

    let docker = match &host.info {
        Some(info) => vec![
            head("docker"),
            value(info.version.clone()),
            gap(),
            label("cpus"),
            value(info.ncpu.to_string()),
            gap(),
            label("memory"),
            value(bytes(info.mem_total)),
            gap(),
            label("hostname"),
            value(info.hostname.clone()),
        ],
        None => vec![head("docker"), value("—".to_owned())],
    };

    let labels = if spec.labels.is_empty() {
        "—".to_owned()
    } else {
        let pairs: Vec<String> = spec
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        pairs.join(", ")
    };
    let lines = vec![
        Line::from(state),
        Line::from(engine),
        Line::from(docker),
        Line::from(vec![head("labels"), value(labels)]),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .padding(Padding::horizontal(1))
        .border_style(theme.border())
        .title(Line::styled(format!(" {} ", host.name()), theme.title()));
    Paragraph::new(lines).block(block).render(area, buf);
}

fn row(c: &Container, theme: &Theme) -> Vec<Field> {
    let plain = Style::default();
    let state_style = match c.state.as_str() {
        "running" => theme.level_text(Level::Ok),
        "restarting" | "paused" => theme.level_text(Level::Warn),
        "dead" => theme.level_text(Level::Critical),
        _ => theme.muted(),
    };
    let (health, health_style) = match c.health {
        Health::None => ("—", theme.muted()),
        Health::Starting => ("starting", theme.level_text(Level::Warn)),
        Health::Healthy => ("healthy", theme.level_text(Level::Ok)),
        Health::Unhealthy => ("unhealthy", theme.level_text(Level::Critical)),
    };
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "—".to_owned());
    vec![
        (c.name.clone(), plain),
        (c.state.clone(), state_style),
        (health.to_owned(), health_style),
        (c.image.clone(), plain),
        (or_dash(c.cpu_percent.map(percent)), plain),
        (or_dash(c.mem_bytes.map(bytes)), plain),
    ]
}
