//! A series over time in a box: bars scaled to the series' largest value (or a floor, so
//! an idle container does not fill the box), gaps left empty, the last value in the title.

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
        // The newest values are at the right edge; older ones fall off the left.
        let inner = block.inner(area);
        let shown = bars.len().saturating_sub(usize::from(inner.width));
        Sparkline::default()
            .block(block)
            .data(bars[shown..].to_vec())
            .max(100)
            .style(self.theme.text())
            .absent_value_symbol(" ")
            .render(area, buf);
    }
}
