//! The bottom line: hosts online, containers, etcd, data age, the last message, and the
//! help key (from the keymap, so the hint is always the real key).

use crate::cluster::EtcdState;
use crate::tui::format::{age, truncate};
use crate::tui::layout::split_right;
use crate::tui::screen::Screen;
use crate::tui::theme::{Level, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
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
    screen: &'a Screen,
    theme: &'a Theme,
    /// Keys that open help, e.g. "?/f1"; None when unbound.
    help_keys: Option<String>,
}

impl<'a> StatusBar<'a> {
    pub fn new(screen: &'a Screen, theme: &'a Theme, help_keys: Option<String>) -> Self {
        StatusBar {
            screen,
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
        let (screen, theme) = (self.screen, self.theme);
        let bar = theme.status_bar();
        buf.set_style(area, bar);
        let (etcd, etcd_level) = match &screen.cluster.etcd {
            EtcdState::Disabled => ("disabled".to_owned(), None),
            EtcdState::Connecting => ("connecting".to_owned(), Some(Level::Unknown)),
            EtcdState::Connected { .. } => ("connected".to_owned(), None),
            EtcdState::Unreachable { since, .. } => (
                format!(
                    "unreachable {}",
                    age(screen.now.saturating_duration_since(*since))
                ),
                Some(Level::Critical),
            ),
        };
        let etcd_style = etcd_level.map_or(bar, |l| bar.fg(theme.color(l)));
        let data = screen.cluster.last_data.map_or_else(
            || "—".to_owned(),
            |t| {
                let since = screen.now.saturating_duration_since(t);
                if screen.low_bandwidth {
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
                    screen.cluster.online_count(),
                    screen.cluster.hosts.len(),
                    screen.cluster.container_count()
                ),
                bar,
            ),
            Span::styled(etcd, etcd_style),
            Span::styled(format!(" · data {data} "), bar),
        ];
        // Read-only (`--readonly`, the wallboard) is said where the eye goes last.
        let badge = screen.principal.is_read_only().then(|| {
            let style = bar
                .patch(theme.level_text(Level::Warn))
                .add_modifier(Modifier::REVERSED);
            Span::styled(" READ-ONLY ", style)
        });
        let mut help = self
            .help_keys
            .map(|keys| Span::styled(format!(" {keys} help "), bar));
        let badge_width = badge.as_ref().map_or(0, Span::width);
        if let Some(message) = &screen.ui.message {
            // The counters (and the data age, the sign the screen is live) and the badge
            // keep their place: the message takes the room between, the help hint giving
            // way first, then the message's own end ("…"). Errors may echo the cluster's
            // or a file's text.
            let message = crate::domain::sanitize::clean(message);
            let counters: usize = left.iter().map(Span::width).sum();
            let hint = help.as_ref().map_or(0, Span::width);
            let width = usize::from(area.width);
            let text = format!(" {message} ");
            let room = width.saturating_sub(counters + 1 + badge_width);
            if Span::raw(text.as_str()).width() + hint > room {
                help = None;
            }
            let text = truncate(&text, room).into_owned();
            if !text.is_empty() {
                left.push(Span::styled("│", bar));
                left.push(Span::styled(text, bar.patch(theme.title())));
            }
        }
        let right = (badge.is_some() || help.is_some())
            .then(|| Line::from(badge.into_iter().chain(help).collect::<Vec<_>>()));
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
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_long_message_never_pushes_the_counters_and_the_data_age_off() {
        let now = Instant::now();
        let mut screen = Screen::new(now);
        screen.cluster_mut().last_data = Some(now);
        screen.ui.message = Some(format!("etcd unreachable ({}): refused", "x".repeat(200)));
        let theme = Theme::default_theme();
        let mut buf = Buffer::empty(Rect::new(0, 0, 80, 1));
        StatusBar::new(&screen, &theme, Some("?".into())).render(buf.area, &mut buf);
        let line: String = (0..80).map(|x| buf[(x, 0)].symbol()).collect();
        assert!(line.starts_with(" 0/0 online"), "{line}");
        assert!(line.contains("data 0s ago"), "{line}");
        assert!(
            line.contains("│ etcd unreachable (") && line.ends_with('…'),
            "{line}"
        );
    }

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
