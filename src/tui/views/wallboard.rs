//! The wallboard: a banner with the alerts and the clock, above the page of the moment
//! (the host grid across the whole width, the apps with their counts, or the alerts).

use crate::cluster::app_statuses;
use crate::tui::layout::split_top;
use crate::tui::screen::Screen;
use crate::tui::screen::wallboard::{Alert, Page, Wallboard, alerts, banner_text};
use crate::tui::theme::{Level, Theme};
use crate::tui::widgets::banner::Banner;
use crate::tui::widgets::table::{Column, DataTable, Field};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::Widget;

const APP_COLUMNS: [Column; 5] = [
    Column::new("APP", Constraint::Fill(2)),
    Column::new("IMAGE", Constraint::Fill(3)),
    Column::new("DESIRED", Constraint::Length(8)).right(),
    Column::new("RUNNING", Constraint::Length(8)).right(),
    Column::new("HEALTHY", Constraint::Length(8)).right(),
];

const ALERT_COLUMNS: [Column; 1] = [Column::new("ALERT", Constraint::Fill(1))];

pub fn render(screen: &Screen, theme: &Theme, wallboard: &Wallboard, area: Rect, buf: &mut Buffer) {
    let found = alerts(screen);
    let text = banner_text(&found);
    let (banner, page) = split_top(area, 1);
    let title = format!("page {}", wallboard.page.title());
    Banner::new(text.as_deref(), &title, &wallboard.clock, theme).render(banner, buf);
    match wallboard.page {
        Page::Grid => super::grid::render(screen, theme, page, buf),
        Page::Apps => apps(screen, theme, page, buf),
        Page::Alerts => alert_list(&found, theme, page, buf),
    }
}

fn apps(screen: &Screen, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let rows: Vec<Vec<Field>> = app_statuses(&screen.cluster)
        .into_iter()
        .map(|s| {
            let short = s.desired.is_some_and(|d| s.healthy < d);
            let level = if short { Level::Critical } else { Level::Ok };
            let count = theme.level_text(level);
            let desired = s.desired.map_or_else(|| "—".to_owned(), |d| d.to_string());
            vec![
                (s.name, theme.text()),
                (s.image, theme.muted()),
                (desired, theme.text()),
                (s.running.to_string(), count),
                (s.healthy.to_string(), count),
            ]
        })
        .collect();
    DataTable::new(format!("apps ({})", rows.len()), &APP_COLUMNS, theme)
        .rows(rows)
        .empty("no apps")
        .render(area, buf);
}

fn alert_list(found: &[Alert], theme: &Theme, area: Rect, buf: &mut Buffer) {
    let glyph = theme.glyph(Level::Critical);
    let rows = found
        .iter()
        .map(|a| {
            vec![(
                format!("{glyph} {}", a.text()),
                theme.level_text(Level::Critical),
            )]
        })
        .collect();
    DataTable::new(format!("alerts ({})", found.len()), &ALERT_COLUMNS, theme)
        .rows(rows)
        .empty("no alerts: all clear")
        .render(area, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::HostState;
    use std::time::{Duration, Instant};

    fn text(buf: &Buffer) -> String {
        let area = buf.area;
        (area.top()..area.bottom())
            .map(|y| {
                (area.left()..area.right())
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    + "\n"
            })
            .collect()
    }

    fn screen(offline: bool) -> Screen {
        let now = Instant::now();
        let hosts = ["lab-1", "lab-2"]
            .iter()
            .map(|name| {
                let mut h = crate::tui::update::tests::support::host(name);
                h.state = if offline && *name == "lab-2" {
                    HostState::Offline {
                        error: "gone".into(),
                        since: now,
                    }
                } else {
                    HostState::Online
                };
                h
            })
            .collect();
        let mut m = Screen::with_hosts(now, hosts);
        let mut w = Wallboard::new(Duration::from_secs(10), now);
        w.set_clock("14:03:07 UTC".into());
        m.wallboard = Some(w);
        m
    }

    fn render_page(m: &Screen, page: Page) -> Buffer {
        let theme = Theme::default_theme();
        let mut w = m
            .wallboard
            .clone()
            .unwrap_or_else(|| Wallboard::new(Duration::from_secs(1), Instant::now()));
        w.page = page;
        let mut buf = Buffer::empty(Rect::new(0, 0, 100, 20));
        render(m, &theme, &w, buf.area, &mut buf);
        buf
    }

    #[test]
    fn the_banner_is_critical_with_text_and_a_clock_when_a_host_is_down() {
        let buf = render_page(&screen(true), Page::Grid);
        let screen = text(&buf);
        let top = screen.lines().next().unwrap_or_default();
        assert!(top.contains("ALERT: 1 host offline"), "{top}");
        assert!(top.contains("page hosts · 14:03:07 UTC"), "{top}");
        let critical = Theme::default_theme().cell(Level::Critical).0.bg;
        assert_eq!(
            buf[(0, 0)].style().bg,
            critical,
            "the banner has the critical colour"
        );
        assert!(
            screen.contains("lab-1") && screen.contains("lab-2"),
            "{screen}"
        );
    }

    #[test]
    fn all_clear_without_alerts_and_the_pages_show_apps_and_alerts() {
        let calm = screen(false);
        let top = text(&render_page(&calm, Page::Grid));
        assert!(
            top.lines().next().unwrap_or_default().contains("all clear"),
            "{top}"
        );
        let alerts_page = text(&render_page(&calm, Page::Alerts));
        assert!(alerts_page.contains("no alerts"), "{alerts_page}");
        let down = screen(true);
        let alerts_page = text(&render_page(&down, Page::Alerts));
        assert!(alerts_page.contains("host lab-2 offline"), "{alerts_page}");
        let apps_page = text(&render_page(&down, Page::Apps));
        assert!(apps_page.contains("no apps"), "{apps_page}");
    }
}
