//! One host: a header with where it is and what it reports, above its containers.

use crate::cluster::{Host, HostState, Metrics};
use crate::domain::{Container, ContainerState, Health, IoRates};
use crate::tui::format::{age, bytes, percent};
use crate::tui::layout::{split_bottom, split_left, split_top};
use crate::tui::screen::Screen;
use crate::tui::screen::charts::{Charts, HOST_TARGET, spark_text};
use crate::tui::theme::{Level, Theme};
use crate::tui::widgets::history::cpu_and_memory;
use crate::tui::widgets::table::{Column, DataTable, Field, leave_out};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Padding, Paragraph, Widget};
use std::time::Duration;

/// Before the name of a container labelled as an app's that the controller did not start.
const FOREIGN: &str = "foreign:";

/// Header lines inside the box.
const HEADER_LINES: u16 = 5;

/// Below this width the ID column is left out (the rest keep their room); the trace's
/// instance list does the same.
pub const ID_MIN_WIDTH: u16 = 120;
/// Where the ID column is in `COLUMNS` (and in a row).
const ID_COLUMN: usize = 1;
/// Below this width the network and disk columns are left out too.
const IO_MIN_WIDTH: u16 = 100;
/// Where the NET and DISK columns are in `COLUMNS`.
const IO_COLUMNS: [usize; 2] = [9, 10];
/// Where the CPU sparkline column is (shown for a host read through its agent).
const SPARK_COLUMN: usize = 11;
/// The charts' rows below the table, when the table keeps at least `TABLE_MIN_ROWS`.
const CHART_ROWS: u16 = 7;
const TABLE_MIN_ROWS: u16 = 8;

const COLUMNS: [Column; 12] = [
    Column::new("NAME", Constraint::Fill(1)),
    Column::new("ID", Constraint::Length(12)),
    // "up 3m" while running (how long), else the engine's state.
    Column::new("STATE", Constraint::Length(10)),
    Column::new("HEALTH", Constraint::Length(9)),
    // Restarts by the engine.
    Column::new("RST", Constraint::Length(3)).right(),
    Column::new("PORTS", Constraint::Length(5)).fit(),
    Column::new("IMAGE", Constraint::Fill(2)),
    Column::new("CPU", Constraint::Length(6)).right(),
    Column::new("MEM", Constraint::Length(9)).right(),
    // Bytes per second, received + sent and read + written (from the host's agent).
    Column::new("NET/s", Constraint::Length(9)).right(),
    Column::new("DISK/s", Constraint::Length(9)).right(),
    // CPU over the last two minutes, a bar per 10 s; a gap where the agent had nothing.
    Column::new("CPU 2m", Constraint::Length(12)),
];

pub fn render(screen: &Screen, name: &str, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(host) = screen.cluster.host(name) else {
        let gone = format!(" host {name} is no longer in the inventory");
        Line::styled(gone, theme.muted()).render(area, buf);
        return;
    };
    let (header_area, table_area) = split_top(area, HEADER_LINES + 2);
    header(screen, host, theme, header_area, buf);
    let shown = screen.shown_containers(host);
    let on_agent = matches!(host.metrics, Metrics::Agent { .. });
    let charts = screen.ui.charts.as_ref().filter(|_| on_agent);
    let room = table_area.height >= TABLE_MIN_ROWS + CHART_ROWS;
    let table_area = match charts {
        Some(charts) if room => {
            let (table, below) = split_bottom(table_area, CHART_ROWS);
            let selected = shown.get(screen.ui.selected_row).copied();
            let started = screen.cluster.agents.get(name).map(|a| a.started_at_ms);
            let young = started.and_then(|s| charts.agent_young(s));
            chart_panel(charts, selected, young, theme, below, buf);
            table
        }
        _ => table_area,
    };
    let title = match &screen.ui.container_filter {
        None => format!("containers ({})", host.containers.len()),
        Some(f) => format!(
            "containers ({}/{}) /{}",
            shown.len(),
            host.containers.len(),
            f.text()
        ),
    };
    let spark = |c: &Container| {
        let values = charts.and_then(|charts| charts.spark(&c.id));
        values.map_or_else(String::new, |v| spark_text(v, 100.0))
    };
    let rows = (shown.iter())
        .map(|c| {
            let mut row = row(c, host.agent.get(&c.id).map(|f| &f.io), theme);
            row.push((spark(c), theme.text()));
            row
        })
        .collect();
    let mut skip = Vec::new();
    if !on_agent {
        skip.push(SPARK_COLUMN);
    }
    if table_area.width < ID_MIN_WIDTH {
        skip.push(ID_COLUMN);
    }
    if table_area.width < IO_MIN_WIDTH {
        skip.extend(IO_COLUMNS);
        skip.push(SPARK_COLUMN);
    }
    let (columns, rows) = leave_out(&COLUMNS, rows, &skip);
    let empty = match screen.ui.container_filter {
        None => "no containers",
        Some(_) => "no container matches the filter (esc clears it)",
    };
    DataTable::new(title, &columns, theme)
        .rows(rows)
        .selected(screen.ui.selected_row)
        .empty(empty)
        .render(table_area, buf);
}

fn header(screen: &Screen, host: &Host, theme: &Theme, area: Rect, buf: &mut Buffer) {
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
            age(screen.now.saturating_duration_since(*since))
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
        metrics_line(host, theme),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .padding(Padding::horizontal(1))
        .border_style(theme.border())
        .title(Line::styled(format!(" {} ", host.name()), theme.title()));
    Paragraph::new(lines).block(block).render(area, buf);
}

/// The selected container's (or, with none, the host's) CPU and memory over the chart's
/// window, side by side; or why the agent could not say.
fn chart_panel(
    charts: &Charts,
    selected: Option<&Container>,
    young: Option<Duration>,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let (target, name) = match selected {
        Some(c) => (c.id.as_str(), c.name.as_str()),
        None => (HOST_TARGET, "host"),
    };
    if let Some(error) = charts.error() {
        let text = format!(" ⚠ no history from the agent: {error}");
        Line::styled(text, theme.level_text(Level::Warn)).render(area, buf);
        return;
    }
    // An agent (re)started within the window has no history before its start: say so.
    let window = match young {
        Some(up) => format!("{}, agent up {}", charts.window.label(), age(up)),
        None => charts.window.label().to_owned(),
    };
    let (left, right) = split_left(area, area.width / 2);
    let titles = [
        format!("{name} CPU, {window} (c)"),
        format!("{name} memory, {window}"),
    ];
    cpu_and_memory(charts, target, titles, [left, right], theme, buf);
}

/// Where the host's figures come from: its agent, or the engine's stats (and why).
fn metrics_line<'a>(host: &Host, theme: &Theme) -> Line<'a> {
    let (text, style) = match &host.metrics {
        Metrics::Agent { source } => (format!("agent ({source})"), theme.text()),
        Metrics::Engine => ("engine stats (no agent)".to_owned(), theme.text()),
        Metrics::Fallback { error } => (
            format!("⚠ engine stats, the agent not read: {error}"),
            theme.level_text(Level::Warn),
        ),
    };
    Line::from(vec![
        Span::styled(format!("{:<8}", "metrics"), theme.muted()),
        Span::styled(text, style),
    ])
}

/// A rate pair summed, as bytes per second; a dash when neither is known.
fn per_second(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (None, None) => "—".to_owned(),
        (a, b) => bytes((a.unwrap_or(0.0) + b.unwrap_or(0.0)).max(0.0) as u64),
    }
}

fn row(c: &Container, io: Option<&IoRates>, theme: &Theme) -> Vec<Field> {
    let plain = Style::default();
    let state_style = match c.state {
        ContainerState::Running => theme.level_text(Level::Ok),
        ContainerState::Restarting | ContainerState::Paused => theme.level_text(Level::Warn),
        ContainerState::Dead => theme.level_text(Level::Critical),
        _ => theme.muted(),
    };
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "—".to_owned());
    let state = match c.uptime() {
        Some(up) if c.is_running() => format!("up {}", short_uptime(up)),
        _ => c.state.to_string(),
    };
    let ports = match c.ports.as_slice() {
        [] => "—".to_owned(),
        ports => ports.join(","),
    };
    // A container labelled as an app's but not started by the controller is not an instance;
    // the mark comes first so a narrow NAME column cuts the name, not the mark.
    let name = if crate::plan::labels::is_foreign(c) {
        (
            format!("{FOREIGN} {}", c.name),
            theme.level_text(Level::Warn),
        )
    } else {
        (c.name.clone(), plain)
    };
    vec![
        name,
        (c.short_id().to_owned(), theme.muted()),
        (state, state_style),
        health_field(c.health, theme),
        (or_dash(c.restarts.map(|n| n.to_string())), plain),
        (ports, plain),
        (c.image.clone(), plain),
        (or_dash(c.cpu_percent.map(percent)), plain),
        (or_dash(c.mem_bytes.map(bytes)), plain),
        (
            io.map_or("—".to_owned(), |io| {
                per_second(io.net_rx_bps, io.net_tx_bps)
            }),
            plain,
        ),
        (
            io.map_or("—".to_owned(), |io| {
                per_second(io.blk_read_bps, io.blk_write_bps)
            }),
            plain,
        ),
    ]
}

/// A container's health as words (colour only repeats them).
pub fn health_field(health: Health, theme: &Theme) -> Field {
    let (text, style) = match health {
        Health::None => ("—", theme.muted()),
        Health::Starting => ("starting", theme.level_text(Level::Warn)),
        Health::Healthy => ("healthy", theme.level_text(Level::Ok)),
        Health::Unhealthy => ("unhealthy", theme.level_text(Level::Critical)),
    };
    (text.to_owned(), style)
}

/// The engine's uptime words in a few characters: "3 minutes" 3m, "About an hour" ~1h,
/// "Less than a second" <1s; anything else as it came.
pub fn short_uptime(text: &str) -> String {
    let unit = |word: &str| {
        Some(match word.trim_end_matches('s') {
            "second" => "s",
            "minute" => "m",
            "hour" => "h",
            "day" => "d",
            "week" => "w",
            "month" => "mo",
            "year" => "y",
            _ => return None,
        })
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let short = match words.as_slice() {
        ["Less", "than", "a", "second"] => Some("<1s".to_owned()),
        ["About", "a" | "an", word] => unit(word).map(|u| format!("~1{u}")),
        [n, word] if n.chars().all(|c| c.is_ascii_digit()) => unit(word).map(|u| format!("{n}{u}")),
        _ => None,
    };
    short.unwrap_or_else(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{row, short_uptime};
    use crate::domain::{Container, ContainerState, Health};
    use crate::tui::theme::Theme;
    use std::collections::BTreeMap;

    fn labelled(name: &str, labels: &[(&str, &str)]) -> Container {
        Container {
            id: format!("{name}-0123456789abcdef"),
            name: name.to_owned(),
            image: "busybox".to_owned(),
            state: ContainerState::Running,
            status: "Up 3 minutes".to_owned(),
            health: Health::None,
            labels: (labels.iter())
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            cpu_percent: None,
            mem_bytes: None,
            ports: Vec::new(),
            restarts: None,
            last_check: None,
        }
    }

    #[test]
    fn a_foreign_container_is_marked_in_words_and_an_instance_is_not() {
        let theme = Theme::default_theme();
        let name = |c: &Container| row(c, None, &theme)[0].0.clone();
        let stray = labelled("stray", &[("wheelhouse.app", "web")]);
        assert_eq!(name(&stray), "foreign: stray");
        let half = labelled(
            "half",
            &[("wheelhouse.app", "web"), ("wheelhouse.instance", "1")],
        );
        assert_eq!(name(&half), "foreign: half");
        let instance = labelled(
            "web.1",
            &[
                ("wheelhouse.app", "web"),
                ("wheelhouse.instance", "1"),
                ("wheelhouse.revision", "7"),
            ],
        );
        assert_eq!(name(&instance), "web.1");
        assert_eq!(name(&labelled("db", &[])), "db");
    }

    #[test]
    fn uptime_words_read_short() {
        assert_eq!(short_uptime("3 minutes"), "3m");
        assert_eq!(short_uptime("1 second"), "1s");
        assert_eq!(short_uptime("About an hour"), "~1h");
        assert_eq!(short_uptime("About a minute"), "~1m");
        assert_eq!(short_uptime("Less than a second"), "<1s");
        assert_eq!(short_uptime("12 months"), "12mo");
        assert_eq!(short_uptime("a while"), "a while");
    }
}
