//! The modal box for the open dialog: the scale prompt (typed count, why it was refused)
//! or a y/n question. Its key hints come from the keymap, so they are the real keys.

use crate::action::Action;
use crate::model::{Dialog, Model};
use crate::tui::keymap::{Keymap, Section};
use crate::tui::theme::{Level, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

/// Room for a question like "scale checkout-api 120 → 240?" without wrapping.
const MIN_WIDTH: u16 = 44;
/// Shown after the typed text.
const CURSOR: &str = "▏";

pub struct DialogBox<'a> {
    model: &'a Model,
    theme: &'a Theme,
    keymap: &'a Keymap,
}

impl<'a> DialogBox<'a> {
    pub fn new(model: &'a Model, theme: &'a Theme, keymap: &'a Keymap) -> Self {
        DialogBox {
            model,
            theme,
            keymap,
        }
    }

    /// "enter ok · esc/ctrl-c cancel" from the section's bindings.
    fn hints(&self, section: Section, yes: &str, no: &str) -> Line<'static> {
        let hints = self.keymap.hints(section);
        let keys = |wanted: Action| {
            hints
                .iter()
                .find(|(_, a)| *a == wanted)
                .map(|(keys, _)| keys.clone())
        };
        let mut spans = Vec::new();
        for (action, label) in [(Action::Confirm, yes), (Action::Cancel, no)] {
            if let Some(keys) = keys(action) {
                if !spans.is_empty() {
                    spans.push(Span::styled(" · ", self.theme.muted()));
                }
                spans.push(Span::styled(keys, self.theme.title()));
                spans.push(Span::styled(format!(" {label}"), self.theme.muted()));
            }
        }
        Line::from(spans)
    }
}

impl Widget for DialogBox<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let Some(dialog) = &self.model.ui.dialog else {
            return;
        };
        let theme = self.theme;
        let (title, lines) = match dialog {
            Dialog::ScalePrompt {
                app,
                current,
                input,
                error,
                ..
            } => {
                let mut lines = vec![
                    Line::styled(
                        format!(
                            "instances for {app} (now {current}, at most {}):",
                            self.model.max_instances
                        ),
                        theme.text(),
                    ),
                    Line::from(vec![
                        Span::styled("> ", theme.muted()),
                        Span::styled(input.clone(), theme.title()),
                        Span::styled(CURSOR, theme.text()),
                    ]),
                ];
                if let Some(error) = error {
                    lines.push(Line::styled(
                        error.clone(),
                        theme.level_text(Level::Critical),
                    ));
                }
                lines.push(Line::default());
                lines.push(self.hints(Section::Prompt, "ok", "cancel"));
                (format!(" scale {app} "), lines)
            }
            Dialog::Confirm { question, .. } => (
                " confirm ".to_owned(),
                vec![
                    Line::styled(question.clone(), theme.title()),
                    Line::default(),
                    self.hints(Section::Confirm, "yes", "no"),
                ],
            ),
        };
        let content = lines.iter().map(Line::width).max().unwrap_or(0);
        let width = u16::try_from(content + 4)
            .unwrap_or(u16::MAX)
            .max(MIN_WIDTH)
            .min(area.width);
        let height = u16::try_from(lines.len() + 2)
            .unwrap_or(u16::MAX)
            .min(area.height);
        let popup = Rect {
            x: area.x + (area.width - width) / 2,
            y: area.y + (area.height - height) / 2,
            width,
            height,
        };
        Clear.render(popup, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.title())
            .title(Line::styled(title, theme.title()));
        let inner = block.inner(popup);
        block.render(popup, buf);
        let inner = Rect {
            x: inner.x.saturating_add(1),
            width: inner.width.saturating_sub(1),
            ..inner
        };
        Paragraph::new(lines).render(inner, buf);
    }
}
