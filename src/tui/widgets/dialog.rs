//! The modal box for the open dialog: the scale prompt (typed count, why it was refused)
//! or a y/n question. Its key hints come from the keymap, so they are the real keys.

use crate::tui::action::Action;
use crate::tui::keymap::{Keymap, Section};
use crate::tui::layout::centred;
use crate::tui::screen::{Dialog, Screen};
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
    screen: &'a Screen,
    theme: &'a Theme,
    keymap: &'a Keymap,
}

impl<'a> DialogBox<'a> {
    pub fn new(screen: &'a Screen, theme: &'a Theme, keymap: &'a Keymap) -> Self {
        DialogBox {
            screen,
            theme,
            keymap,
        }
    }

    /// "enter ok · esc/ctrl-c cancel" from the section's bindings.
    fn hints(&self, section: Section, yes: &str, no: &str) -> Line<'static> {
        key_hints(
            self.keymap,
            section,
            &[(Action::Confirm, yes), (Action::Cancel, no)],
            self.theme,
        )
    }
}

impl Widget for DialogBox<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let Some(dialog) = &self.screen.ui.dialog else {
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
                            self.screen.max_instances
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
        popup(title, lines, MIN_WIDTH, theme, area, buf);
    }
}

/// "keys label · keys label" for each of `wanted` bound in `section`, from the keymap.
pub fn key_hints(
    keymap: &Keymap,
    section: Section,
    wanted: &[(Action, &str)],
    theme: &Theme,
) -> Line<'static> {
    let hints = keymap.hints(section);
    let mut spans = Vec::new();
    for (action, label) in wanted {
        if let Some((keys, _)) = hints.iter().find(|(_, a)| a == action) {
            if !spans.is_empty() {
                spans.push(Span::styled(" · ", theme.muted()));
            }
            spans.push(Span::styled(keys.clone(), theme.title()));
            spans.push(Span::styled(format!(" {label}"), theme.muted()));
        }
    }
    Line::from(spans)
}

/// A bordered box titled `title`, centred in `area` and sized to `lines` (at least
/// `min_width` wide), over whatever was drawn there.
pub fn popup(
    title: String,
    lines: Vec<Line<'_>>,
    min_width: u16,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let content = lines.iter().map(Line::width).max().unwrap_or(0);
    let width = u16::try_from(content + 4)
        .unwrap_or(u16::MAX)
        .max(min_width);
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let popup = centred(area, width, height);
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
