//! The `:` command line and `/` filter prompt, drawn over the status bar while open, and
//! the active filter's tag at the status bar's left while it is closed.

use crate::tui::layout::split_left;
use crate::tui::screen::{CommandLine, LineKind};
use crate::tui::theme::Theme;
use crate::tui::update::filter::Filter;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

/// The open line: prompt character, input, a cursor, and what tab could complete to.
pub struct CommandLineBar<'a> {
    line: &'a CommandLine,
    theme: &'a Theme,
}

impl<'a> CommandLineBar<'a> {
    pub fn new(line: &'a CommandLine, theme: &'a Theme) -> Self {
        CommandLineBar { line, theme }
    }
}

impl Widget for CommandLineBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let bar = self.theme.status_bar();
        buf.set_style(area, bar);
        let prompt = match self.line.kind {
            LineKind::Command => ":",
            LineKind::Filter => "/",
        };
        let mut spans = vec![
            Span::styled(prompt, bar.patch(self.theme.title())),
            Span::styled(self.line.input.as_str(), bar),
            Span::styled("█", bar),
        ];
        if !self.line.choices.is_empty() {
            spans.push(Span::styled(
                format!("   {}", self.line.choices.join("  ")),
                bar.patch(self.theme.muted()),
            ));
        }
        Line::from(spans).render(area, buf);
    }
}

/// " /zone=a │" at the left of the status bar while a filter narrows the views; returns
/// the area left for the rest of the bar.
pub fn render_filter_tag(filter: &Filter, theme: &Theme, area: Rect, buf: &mut Buffer) -> Rect {
    let tag = Line::from(vec![
        Span::styled(
            format!(" /{} ", filter.text()),
            theme.status_bar().patch(theme.title()),
        ),
        Span::styled("│", theme.status_bar()),
    ]);
    let width = u16::try_from(tag.width())
        .unwrap_or(u16::MAX)
        .min(area.width / 2);
    let (at, rest) = split_left(area, width);
    tag.render(at, buf);
    rest
}
