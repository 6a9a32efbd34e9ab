//! A one-line banner across the top: the wallboard's alerts on the theme's critical colour
//! with a glyph and text (colour is never the only signal), and the clock at the right.

use crate::tui::theme::{Level, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

pub struct Banner<'a> {
    /// The alert line; None draws a calm title bar.
    alert: Option<&'a str>,
    clock: &'a str,
    page: &'a str,
    theme: &'a Theme,
}

impl<'a> Banner<'a> {
    pub fn new(alert: Option<&'a str>, page: &'a str, clock: &'a str, theme: &'a Theme) -> Self {
        Banner {
            alert,
            clock,
            page,
            theme,
        }
    }
}

impl Widget for Banner<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let theme = self.theme;
        let (style, text) = match self.alert {
            Some(alert) => {
                let (style, glyph) = theme.cell(Level::Critical);
                (
                    style.add_modifier(Modifier::BOLD),
                    format!(" {glyph} ALERT: {alert}"),
                )
            }
            None => (
                theme.status_bar(),
                format!(" {} all clear", theme.glyph(Level::Ok)),
            ),
        };
        buf.set_style(area, style);
        let right = format!(" {} · {} ", self.page, self.clock);
        let right_width = u16::try_from(right.chars().count()).unwrap_or(u16::MAX);
        Line::from(Span::styled(text, style)).render(area, buf);
        if right_width < area.width {
            let at = Rect {
                x: area.x + area.width - right_width,
                width: right_width,
                ..area
            };
            Line::from(Span::styled(right, style)).render(at, buf);
        }
    }
}
