//! A rollout's progress in two lines: a bar of new-and-healthy / new / old instances with
//! the counts in words, then the phase (and why) with the images rolled from and to. The
//! bar's parts differ by glyph, not only by colour.

use crate::cluster::Rollout;
use crate::plan::rollout::{Counts, Phase, change_text, counts_text};
use crate::tui::format::truncate;
use crate::tui::theme::{Level, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// New instances that are available (healthy for min_ready).
pub const NEW_READY: char = '█';
/// New instances not yet available.
pub const NEW_WAITING: char = '▒';
/// Instances still on the old revision.
pub const OLD: char = '░';
/// The bar's width in cells.
pub const BAR_WIDTH: usize = 12;

/// Lines one rollout takes.
pub const HEIGHT: u16 = 2;

/// `width` cells: ready new, waiting new, old, in that order, scaled to the larger of the
/// desired count and the instances there are (a surge may briefly exceed desired).
pub fn bar(counts: &Counts, desired: u32, width: usize) -> String {
    let waiting = counts.new.saturating_sub(counts.new_available);
    let total = desired.max(counts.new + counts.old).max(1);
    let cells = |n: u32| {
        let scaled = u64::from(n) * width as u64 / u64::from(total);
        usize::try_from(scaled).unwrap_or(width)
    };
    let ready = cells(counts.new_available).min(width);
    let waiting = cells(waiting).min(width - ready);
    let old = cells(counts.old).min(width - ready - waiting);
    let mut text = String::with_capacity(width * 3);
    text.extend(std::iter::repeat_n(NEW_READY, ready));
    text.extend(std::iter::repeat_n(NEW_WAITING, waiting));
    text.extend(std::iter::repeat_n(OLD, old));
    text.extend(std::iter::repeat_n(' ', width - ready - waiting - old));
    text
}

/// How the phase reads: fine, waiting for the operator, or going backwards.
pub fn phase_level(phase: &Phase) -> Level {
    match phase {
        Phase::Progressing | Phase::Succeeded => Level::Ok,
        Phase::Canary | Phase::Paused { .. } => Level::Warn,
        Phase::RollingBack { .. } | Phase::RolledBack { .. } | Phase::Failed { .. } => {
            Level::Critical
        }
    }
}

pub struct RolloutProgress<'a> {
    rollout: &'a Rollout,
    theme: &'a Theme,
}

impl<'a> RolloutProgress<'a> {
    pub fn new(rollout: &'a Rollout, theme: &'a Theme) -> Self {
        RolloutProgress { rollout, theme }
    }
}

impl Widget for RolloutProgress<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let state = &self.rollout.state;
        let level = phase_level(&state.phase);
        let name = truncate(&state.app, 16);
        let first = Line::from(vec![
            Span::styled(format!("{name} "), theme.title()),
            Span::styled("▕", theme.border()),
            Span::styled(
                bar(&state.counts, state.desired, BAR_WIDTH),
                theme.level_text(level),
            ),
            Span::styled("▏ ", theme.border()),
            Span::styled(counts_text(&state.counts), theme.text()),
        ]);
        let what = Span::styled(
            format!(
                " · {}",
                change_text(self.rollout.from_spec.as_ref(), &self.rollout.to_spec)
            ),
            theme.muted(),
        );
        let phase = Span::styled(state.phase.to_string(), theme.level_text(level));
        if area.height < HEIGHT {
            // One line: the name, the phase and what changes, then the bar as room allows.
            let mut line = vec![Span::styled(format!("{name} "), theme.title()), phase, what];
            line.push(Span::raw(" "));
            line.extend(first.spans.into_iter().skip(1));
            Paragraph::new(Line::from(line)).render(area, buf);
            return;
        }
        let second = Line::from(vec![Span::styled("  ", Style::default()), phase, what]);
        Paragraph::new(vec![first, second]).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(old: u32, new: u32, new_available: u32) -> Counts {
        Counts {
            old,
            new,
            new_available,
            ..Counts::default()
        }
    }

    #[test]
    fn the_bar_shows_ready_waiting_and_old_by_glyph() {
        assert_eq!(bar(&counts(6, 0, 0), 6, 12), "░".repeat(12));
        assert_eq!(bar(&counts(3, 3, 3), 6, 12), "██████░░░░░░");
        assert_eq!(bar(&counts(4, 2, 1), 6, 12), "██▒▒░░░░░░░░");
        assert_eq!(bar(&counts(0, 6, 6), 6, 12), "█".repeat(12));
        // A surge of one above 6: scaled to 7, never wider than the bar.
        assert_eq!(bar(&counts(6, 1, 0), 6, 12).chars().count(), 12);
        // Nothing running at all: an empty bar, not a division by zero.
        assert_eq!(bar(&counts(0, 0, 0), 0, 4), "    ");
    }
}
