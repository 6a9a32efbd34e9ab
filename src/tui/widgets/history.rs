//! A series over time in a box: bars scaled to the series' largest value (or a floor, so
//! an idle container does not fill the box), gaps left empty, the last value in the title.

use crate::tui::format::{bytes, percent};
use crate::tui::screen::charts::{Charts, memory_metric};
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Sparkline, Widget};

pub struct HistoryChart<'a> {
    title: String,
    values: &'a [Option<f64>],
    /// The bars' full height is at least this.
    floor: f64,
    /// How a value reads ("12%", "300 MiB").
    format: fn(f64) -> String,
    theme: &'a Theme,
}

impl<'a> HistoryChart<'a> {
    pub fn new(
        title: String,
        values: &'a [Option<f64>],
        floor: f64,
        format: fn(f64) -> String,
        theme: &'a Theme,
    ) -> Self {
        HistoryChart {
            title,
            values,
            floor,
            format,
            theme,
        }
    }
}

/// `target`'s CPU (bars full at 100% at least) and memory over the charts' window, in
/// `areas`, titled `titles`: the host view's chart and each instance's in the instances
/// view.
pub fn cpu_and_memory(
    charts: &Charts,
    target: &str,
    titles: [String; 2],
    areas: [Rect; 2],
    theme: &Theme,
    buf: &mut Buffer,
) {
    let [cpu_title, mem_title] = titles;
    let cpu = charts.chart(target, "cpu_percent").unwrap_or_default();
    HistoryChart::new(cpu_title, cpu, 100.0, percent, theme).render(areas[0], buf);
    let mem = charts
        .chart(target, memory_metric(target))
        .unwrap_or_default();
    let as_bytes: fn(f64) -> String = |v| bytes(v.max(0.0) as u64);
    HistoryChart::new(mem_title, mem, 0.0, as_bytes, theme).render(areas[1], buf);
}

impl Widget for HistoryChart<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let max = (self.values.iter().flatten())
            .copied()
            .filter(|v| v.is_finite())
            .fold(self.floor, f64::max);
        let last = self.values.iter().rev().flatten().next().copied();
        let last = last.map_or("—".to_owned(), self.format);
        let title = format!(" {}  now {last}  max {} ", self.title, (self.format)(max));
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(self.theme.border())
            .title(Line::styled(title, self.theme.title()));
        // The bars are in hundredths of the max: Sparkline takes whole numbers.
        let scale = if max > 0.0 { 100.0 / max } else { 0.0 };
        let bars: Vec<Option<u64>> = (self.values.iter())
            .map(|v| {
                v.filter(|v| v.is_finite())
                    .map(|v| (v.max(0.0) * scale).round() as u64)
            })
            .collect();
        // The newest values are at the right edge; older ones fall off the left, and a
        // series shorter than the box (a container started a moment ago) leaves the left
        // empty, so the right edge is always now.
        let width = usize::from(block.inner(area).width);
        let shown = bars.len().saturating_sub(width);
        let blank = width.saturating_sub(bars.len());
        let data: Vec<Option<u64>> = std::iter::repeat_n(None, blank)
            .chain(bars[shown..].iter().copied())
            .collect();
        Sparkline::default()
            .block(block)
            .data(data)
            .max(100)
            .style(self.theme.text())
            .absent_value_symbol(" ")
            .render(area, buf);
    }
}
