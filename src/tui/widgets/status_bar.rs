//! The bottom line: hosts online, containers, etcd, data age, the last message, and the
//! help key (from the keymap, so the hint is always the real key).

use crate::model::{EtcdState, Model};
use crate::tui::format::age;
use crate::tui::layout::split_right;
use crate::tui::theme::{Level, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use std::time::Duration;

/// The data age in steps, so that on a slow link an idle screen does not change (and
/// redraw) every second: "<10s", "<1m", then whole minutes, hours, days ("3m ago").
pub fn coarse_age(since: Duration) -> String {
    match since.as_secs() {
        0..10 => "<10s ago".to_owned(),
        10..60 => "<1m ago".to_owned(),
        _ => format!("{} ago", age(since)),
    }
}

pub struct StatusBar<'a> {
    model: &'a Model,
    theme: &'a Theme,
    /// Keys that open help, e.g. "?/f1"; None when unbound.
    help_keys: Option<String>,
}

impl<'a> StatusBar<'a> {
    pub fn new(model: &'a Model, theme: &'a Theme, help_keys: Option<String>) -> Self {
        StatusBar {
            model,
            theme,
            help_keys,
        }
    }
}

impl Widget for StatusBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let (model, theme) = (self.model, self.theme);
        let bar = theme.status_bar();
        buf.set_style(area, bar);
        let (etcd, etcd_level) = match &model.etcd {
            EtcdState::Disabled => ("disabled".to_owned(), None),
            EtcdState::Connecting => ("connecting".to_owned(), Some(Level::Unknown)),
            EtcdState::Connected { .. } => ("connected".to_owned(), None),
            EtcdState::Unreachable { since, .. } => (
                format!(
                    "unreachable {}",
                    age(model.now.saturating_duration_since(*since))
                ),
                Some(Level::Critical),
            ),
        };
        let etcd_style = etcd_level.map_or(bar, |l| bar.fg(theme.color(l)));
        let data = model.last_data.map_or_else(
            || "—".to_owned(),
            |t| {
                let since = model.now.saturating_duration_since(t);
                if model.low_bandwidth {
                    coarse_age(since)
                } else {
                    format!("{} ago", age(since))
                }
            },
        );
        let mut left = vec![
            Span::styled(
                format!(
                    " {}/{} online · {} containers · etcd ",
                    model.online_count(),
                    model.hosts.len(),
                    model.container_count()
                ),
                bar,
            ),
            Span::styled(etcd, etcd_style),
            Span::styled(format!(" · data {data} "), bar),
        ];
        let mut right = self
            .help_keys
            .map(|keys| Line::styled(format!(" {keys} help "), bar));
        if let Some(message) = &model.ui.message {
            // Errors may echo the cluster's or a file's text.
            let message = crate::sanitize::clean(message);
            let message = Span::styled(format!(" {message} "), bar.patch(theme.title()));
            let counters: usize = left.iter().map(Span::width).sum();
            let hint = right.as_ref().map_or(0, Line::width);
            if counters + message.width() + 2 + hint <= usize::from(area.width) {
                left.push(Span::styled("│", bar));
                left.push(message);
            } else {
                // Short of room the operator's message goes first: it is the news.
                left.insert(0, Span::styled("│", bar));
                left.insert(0, message);
                right = None;
            }
        }
        let right_width = right
            .as_ref()
            .map_or(0, |r| u16::try_from(r.width()).unwrap_or(u16::MAX))
            .min(area.width);
        let (left_area, right_area) = split_right(area, right_width);
        Line::from(left).render(left_area, buf);
        if let Some(right) = right {
            right.render(right_area, buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::coarse_age;
    use std::time::Duration;

    #[test]
    fn coarse_age_changes_only_at_steps() {
        let at = |s| coarse_age(Duration::from_secs(s));
        assert_eq!(at(0), "<10s ago");
        assert_eq!(at(9), "<10s ago");
        assert_eq!(at(10), "<1m ago");
        assert_eq!(at(59), "<1m ago");
        assert_eq!(at(61), "1m ago");
        assert_eq!(at(119), "1m ago");
        assert_eq!(at(7200), "2h ago");
    }
}
