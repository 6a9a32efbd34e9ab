//! The Apps panel beside the grid: each app's image and desired / running / healthy counts
//! and hosts, with a progress bar per rollout below. While it has the focus, the selected
//! app's hosts are marked in the grid; hosts a rollout is changing are marked always. The
//! history list (`H`) takes the table's place, and the rollout prompt (`u`) opens over both
//! panels.

mod prompt;

use crate::cluster::Rollout;
use crate::cluster::{AppStatus, EtcdState, app_statuses};
use crate::tui::action::Action;
use crate::tui::keymap::{Keymap, Section};
use crate::tui::layout::{split_bottom, split_right};
use crate::tui::screen::{Focus, Screen, selected_index, shown_rollouts};
use crate::tui::theme::{Level, Theme};
use crate::tui::widgets::progress::{self, RolloutProgress};
use crate::tui::widgets::table::{Column, DataTable, Field};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Widget};

/// Below this width the panel goes under the grid instead of beside it.
const SIDE_BY_SIDE_MIN_WIDTH: u16 = 100;
const SIDE_WIDTH_MIN: u16 = 44;
/// Below this height there is room for the grid only.
const STACKED_MIN_HEIGHT: u16 = 12;
const STACKED_HEIGHT_MAX: u16 = 12;
/// The table's border and header rows.
const TABLE_CHROME: u16 = 3;
const COLUMNS: [Column; 6] = [
    Column::new("APP", Constraint::Fill(2)),
    Column::new("IMAGE", Constraint::Fill(3)),
    Column::new("WANT", Constraint::Length(4)).right(),
    Column::new("RUN", Constraint::Length(4)).right(),
    Column::new("OK", Constraint::Length(4)).right(),
    Column::new("HOSTS", Constraint::Fill(2)),
];

/// The grid view's two panels; `apps` is empty when the terminal is too small for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panels {
    pub grid: Rect,
    pub apps: Rect,
}

/// Grid left and apps right on wide terminals, grid above apps on narrow ones. Side by
/// side the Apps panel takes half the width, growing with the terminal (its HOSTS column
/// is as long as an app is spread).
pub fn panels(main: Rect) -> Panels {
    if main.width >= SIDE_BY_SIDE_MIN_WIDTH {
        let width = (main.width / 2).max(SIDE_WIDTH_MIN);
        let (grid, apps) = split_right(main, width);
        return Panels { grid, apps };
    }
    let height = if main.height >= STACKED_MIN_HEIGHT {
        (main.height / 3).min(STACKED_HEIGHT_MAX)
    } else {
        0
    };
    let (grid, apps) = split_bottom(main, height);
    Panels { grid, apps }
}

/// Rows of apps the panel shows at once (a page for page up/down).
pub fn visible_rows(main: Rect) -> usize {
    usize::from(panels(main).apps.height.saturating_sub(TABLE_CHROME)).max(1)
}

pub fn render(screen: &Screen, theme: &Theme, keymap: &Keymap, panels: &Panels, buf: &mut Buffer) {
    render_panel(screen, theme, keymap, panels.apps, buf);
    // The rollout prompt opens over both panels, which stay drawn beneath it.
    if let Some(prompt) = &screen.ui.image_prompt {
        let whole = panels.grid.union(panels.apps);
        prompt::render(prompt, theme, keymap, whole, buf);
    }
}

/// The table (or the history list) above, the rollouts below.
fn render_panel(screen: &Screen, theme: &Theme, keymap: &Keymap, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let statuses: Vec<AppStatus> = app_statuses(&screen.cluster)
        .into_iter()
        .filter(|s| screen.shows_app(&s.name))
        .collect();
    let selected = selected_index(&statuses, screen.ui.selected_app.as_deref());
    let shown = shown_rollouts(screen);
    let (table_area, rollouts_area) = split(area, shown.len());
    if !rollouts_area.is_empty() {
        render_rollouts(&shown, theme, rollouts_area, buf);
    }
    match &screen.ui.history {
        Some(list) => super::history::render(list, theme, keymap, table_area, buf),
        None => render_table(screen, theme, keymap, &statuses, selected, table_area, buf),
    }
}

/// The table above, the rollouts' box below (two lines each, at most half the panel).
fn split(area: Rect, rollouts: usize) -> (Rect, Rect) {
    if rollouts == 0 {
        return (area, Rect::default());
    }
    let wanted = count(rollouts)
        .saturating_mul(progress::HEIGHT)
        .saturating_add(2);
    split_bottom(area, wanted.min(area.height / 2))
}

fn count(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

fn render_rollouts(rollouts: &[&Rollout], theme: &Theme, area: Rect, buf: &mut Buffer) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Line::styled(
            format!(" rollouts ({}) ", rollouts.len()),
            theme.title(),
        ));
    let inner = block.inner(area);
    block.render(area, buf);
    // Short of room for two lines each, each rollout gets one (never a blank box).
    let height = if inner.height >= progress::HEIGHT * count(rollouts.len()) {
        progress::HEIGHT
    } else {
        1
    };
    let mut y = inner.y;
    for rollout in rollouts {
        if y + height > inner.bottom() {
            break;
        }
        let row = Rect {
            x: inner.x + 1,
            y,
            width: inner.width.saturating_sub(1),
            height,
        };
        RolloutProgress::new(rollout, theme).render(row, buf);
        y += height;
    }
}

fn render_table(
    screen: &Screen,
    theme: &Theme,
    keymap: &Keymap,
    statuses: &[AppStatus],
    selected: Option<usize>,
    area: Rect,
    buf: &mut Buffer,
) {
    let focused = screen.ui.focus == Focus::Apps;
    let rows = statuses.iter().map(|s| row(s, theme)).collect();
    let empty = empty_text(screen);
    let mut table = DataTable::new(title(statuses, focused, keymap), &COLUMNS, theme)
        .rows(rows)
        .empty(&empty);
    if focused && let Some(i) = selected {
        table = table.selected(i);
    }
    table.render(area, buf);
}

/// What the panel says when it has no rows: why, and what to do.
pub fn empty_text(screen: &Screen) -> String {
    match (&screen.cluster.etcd, &screen.ui.filter) {
        (EtcdState::Disabled, _) => "etcd is not configured: apps live in etcd".to_owned(),
        (_, Some(filter))
            if !screen.cluster.apps.is_empty() || !app_statuses(&screen.cluster).is_empty() =>
        {
            format!(
                "no app matches the filter {} (esc clears it)",
                filter.text()
            )
        }
        _ => "no apps yet: wheelhouse ctl apply -f app.toml".to_owned(),
    }
}

/// "apps (3)", and while focused the scale keys: "apps (3) · s scale · +/- one more/less".
fn title(statuses: &[AppStatus], focused: bool, keymap: &Keymap) -> String {
    let mut title = format!("apps ({})", statuses.len());
    if !focused {
        return title;
    }
    let hints = keymap.hints(Section::Apps);
    let keys = |wanted: &Action| {
        hints
            .iter()
            .find(|(_, a)| a == wanted)
            .map(|(keys, _)| keys.clone())
    };
    if let Some(keys) = keys(&Action::ScalePrompt) {
        title.push_str(&format!(" · {keys} scale"));
    }
    if let (Some(up), Some(down)) = (keys(&Action::ScaleUp), keys(&Action::ScaleDown)) {
        title.push_str(&format!(" · {up}/{down} ±1"));
    }
    if let Some(keys) = keys(&Action::RolloutPrompt) {
        title.push_str(&format!(" · {keys} roll out"));
    }
    if let Some(keys) = keys(&Action::ShowHistory) {
        title.push_str(&format!(" · {keys} history"));
    }
    title
}

fn row(app: &AppStatus, theme: &Theme) -> Vec<Field> {
    let plain = Style::default();
    let short = |ok: bool| {
        if ok {
            plain
        } else {
            theme.level_text(Level::Warn)
        }
    };
    let desired = app.desired.map_or("—".to_owned(), |d| d.to_string());
    let mut hosts = match app.hosts.len() {
        0 => "—".to_owned(),
        n => format!("{n} {}", app.hosts.join(",")),
    };
    // Labelled with the app but not started by the controller: said, never counted.
    if !app.foreign.is_empty() {
        hosts.push_str(&format!(" +{} foreign", app.foreign.len()));
    }
    // Running short of desired, or running but not healthy, reads as a warning.
    let running_ok = app.desired.is_none_or(|d| app.running >= d);
    let name_style = if app.desired.is_none() {
        theme.muted()
    } else {
        plain
    };
    // A broken record, or instances that cannot be placed: a mark on the name and the
    // reason where the image goes.
    let (name, image) = match (&app.broken, &app.unplaced) {
        (Some(why), _) => (
            (format!("✗ {}", app.name), theme.level_text(Level::Critical)),
            (
                format!("broken record: {why}"),
                theme.level_text(Level::Critical),
            ),
        ),
        (None, Some(why)) => (
            (format!("⚠ {}", app.name), theme.level_text(Level::Warn)),
            (why.clone(), theme.level_text(Level::Warn)),
        ),
        (None, None) => (
            (app.name.clone(), name_style),
            (app.image.clone(), theme.muted()),
        ),
    };
    vec![
        name,
        image,
        (desired, plain),
        (app.running.to_string(), short(running_ok)),
        (app.healthy.to_string(), short(app.healthy >= app.running)),
        (hosts, plain),
    ]
}

/// The hosts (indices into the screen's) of the app selected in the panel, while the panel
/// has focus: the grid marks them.
pub fn marked_hosts(screen: &Screen) -> Vec<usize> {
    if screen.ui.focus != Focus::Apps {
        return Vec::new();
    }
    let statuses: Vec<AppStatus> = app_statuses(&screen.cluster)
        .into_iter()
        .filter(|s| screen.shows_app(&s.name))
        .collect();
    selected_index(&statuses, screen.ui.selected_app.as_deref())
        .map(|i| {
            (statuses[i].hosts.iter())
                .filter_map(|h| screen.cluster.host_index(h))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::AppRecord;
    use crate::domain::app::AppSpec;
    use crate::tui::update::filter::{Filter, Scope};
    use std::time::Instant;

    #[test]
    fn side_by_side_the_apps_panel_grows_with_the_terminal() {
        for width in [100, 160, 200, 300] {
            let panels = panels(Rect::new(0, 0, width, 49));
            assert_eq!(panels.apps.width, width / 2, "{width}");
        }
    }

    #[test]
    fn a_filter_matching_no_app_says_so_rather_than_no_apps_yet() {
        let mut screen = Screen::new(Instant::now());
        assert_eq!(
            empty_text(&screen),
            "no apps yet: wheelhouse ctl apply -f app.toml"
        );
        let spec = AppSpec::new("web", "wheelhouse/demo:1");
        screen
            .cluster_mut()
            .apps
            .insert("web".into(), AppRecord { spec, revision: 1 });
        screen.ui.filter = Filter::parse("nomatch", Scope::Hosts).unwrap_or_default();
        assert_eq!(
            empty_text(&screen),
            "no app matches the filter nomatch (esc clears it)"
        );
    }

    fn status(name: &str) -> AppStatus {
        AppStatus {
            name: name.to_owned(),
            image: "wheelhouse/demo:1".to_owned(),
            desired: Some(4),
            revision: Some(3),
            running: 1,
            healthy: 1,
            hosts: vec!["lab-1".to_owned()],
            broken: None,
            foreign: Vec::new(),
            unplaced: None,
        }
    }

    fn texts(app: &AppStatus) -> Vec<String> {
        row(app, &Theme::default_theme())
            .into_iter()
            .map(|(text, _)| text)
            .collect()
    }

    #[test]
    fn rows_mark_broken_records_unplaced_instances_and_foreign_containers() {
        let mut s4 = status("s4");
        s4.broken = Some("bad JSON".to_owned());
        s4.unplaced = Some("ignored while broken".to_owned());
        let row = texts(&s4);
        assert_eq!(row[..2], ["✗ s4", "broken record: bad JSON"]);

        let mut fat = status("fat");
        fat.unplaced = Some("3 unplaced: lab-1: cpu 1.9/2 cores reserved".to_owned());
        let row = texts(&fat);
        assert_eq!(row[0], "⚠ fat");
        assert!(row[1].starts_with("3 unplaced: lab-1: cpu"), "{row:?}");

        let mut web = status("web");
        web.foreign = vec!["lab-2/stray".to_owned()];
        let row = texts(&web);
        assert_eq!(row[0], "web");
        assert_eq!(row[5], "1 lab-1 +1 foreign");
    }
}
