//! The rollout prompt after `u`: the image to roll to, typed or picked from the tags the
//! hosts hold (tab and up/down cycle them), and why the last entry was refused.

use crate::tui::action::Action;
use crate::tui::keymap::{Keymap, Section};
use crate::tui::screen::ImagePrompt;
use crate::tui::theme::{Level, Theme};
use crate::tui::widgets::dialog::{key_hints, popup};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// Tags listed at once; the list scrolls to keep the pick in view.
const LISTED: usize = 8;
const MIN_WIDTH: u16 = 48;
const CURSOR: &str = "▏";

pub fn render(prompt: &ImagePrompt, theme: &Theme, keymap: &Keymap, area: Rect, buf: &mut Buffer) {
    let mut lines = vec![
        Line::styled(
            format!("image for {} (now {}):", prompt.app, prompt.current),
            theme.text(),
        ),
        Line::from(vec![
            Span::styled("> ", theme.muted()),
            Span::styled(prompt.input.clone(), theme.title()),
            Span::styled(CURSOR, theme.text()),
        ]),
    ];
    if let Some(error) = &prompt.error {
        lines.push(Line::styled(
            error.clone(),
            theme.level_text(Level::Critical),
        ));
    }
    lines.push(Line::default());
    match &prompt.choices {
        None => lines.push(Line::styled(
            "asking the hosts for their images …",
            theme.muted(),
        )),
        Some(Err(why)) => lines.push(Line::styled(why.clone(), theme.muted())),
        Some(Ok(tags)) if tags.is_empty() => {
            lines.push(Line::styled("the hosts hold no images", theme.muted()));
        }
        Some(Ok(tags)) => {
            lines.push(Line::styled("the hosts hold:", theme.muted()));
            let pick = prompt.pick.unwrap_or(0);
            let start = pick
                .saturating_sub(LISTED - 1)
                .min(tags.len().saturating_sub(LISTED));
            for (i, tag) in tags.iter().enumerate().skip(start).take(LISTED) {
                let picked = prompt.pick == Some(i);
                let marker = if picked { theme.glyphs.selected } else { ' ' };
                let style = if picked {
                    theme.selected_row()
                } else {
                    theme.text()
                };
                lines.push(Line::styled(format!("{marker} {tag}"), style));
            }
            if tags.len() > LISTED {
                lines.push(Line::styled(
                    format!("  ({} in all)", tags.len()),
                    theme.muted(),
                ));
            }
        }
    }
    lines.push(Line::default());
    lines.push(hints(keymap, theme));

    popup(
        format!(" roll out {} ", prompt.app),
        lines,
        MIN_WIDTH,
        theme,
        area,
        buf,
    );
}

/// "enter ok · esc cancel · tab next", from the prompt's real keys.
fn hints(keymap: &Keymap, theme: &Theme) -> Line<'static> {
    key_hints(
        keymap,
        Section::Prompt,
        &[
            (Action::Confirm, "ok"),
            (Action::Cancel, "cancel"),
            (Action::FocusNext, "next image"),
        ],
        theme,
    )
}
