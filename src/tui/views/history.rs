//! An app's revision history, in place of the Apps table after `H`: each earlier spec's
//! history revision, image, instance count and when it was written. Enter rolls back to
//! the selected one (through y/n).

use crate::ops::HistoryEntry;
use crate::tui::action::Action;
use crate::tui::keymap::{Keymap, Section};
use crate::tui::screen::HistoryList;
use crate::tui::theme::Theme;
use crate::tui::widgets::table::{Column, DataTable, Field};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::Widget;

const COLUMNS: [Column; 4] = [
    Column::new("REV", Constraint::Length(8)).right(),
    Column::new("IMAGE", Constraint::Fill(3)),
    Column::new("N", Constraint::Length(4)).right(),
    Column::new("WHEN", Constraint::Fill(2)),
];

pub fn render(list: &HistoryList, theme: &Theme, keymap: &Keymap, area: Rect, buf: &mut Buffer) {
    let (rows, empty) = match &list.entries {
        None => (Vec::new(), "asking etcd …".to_owned()),
        Some(Err(why)) => (Vec::new(), why.clone()),
        Some(Ok(entries)) if entries.is_empty() => {
            (Vec::new(), format!("{} has no earlier revision", list.app))
        }
        Some(Ok(entries)) => (
            entries.iter().map(|e| row(e, theme)).collect(),
            String::new(),
        ),
    };
    let count = rows.len();
    let mut table = DataTable::new(title(list, keymap), &COLUMNS, theme)
        .rows(rows)
        .empty(&empty);
    if count > 0 {
        table = table.selected(list.selected);
    }
    table.render(area, buf);
}

/// "history of web · enter roll back · esc close", from the real keys.
fn title(list: &HistoryList, keymap: &Keymap) -> String {
    let hints = keymap.hints(Section::Apps);
    let keys = |wanted: Action| {
        hints
            .iter()
            .find(|(_, a)| *a == wanted)
            .map(|(keys, _)| keys.clone())
    };
    let mut title = format!("history of {}", list.app);
    if let Some(keys) = keys(Action::Open) {
        title.push_str(&format!(" · {keys} roll back"));
    }
    if let Some(keys) = keys(Action::Back) {
        title.push_str(&format!(" · {keys} close"));
    }
    title
}

fn row(entry: &HistoryEntry, theme: &Theme) -> Vec<Field> {
    let plain = Style::default();
    // An entry that only differs by its count is the running revision: not a target.
    let image = if entry.same_as_current {
        (format!("{} (running)", entry.image), theme.muted())
    } else {
        (entry.image.clone(), plain)
    };
    vec![
        (entry.revision.to_string(), plain),
        image,
        (entry.instances.to_string(), plain),
        (
            entry.when.clone().unwrap_or_else(|| "—".to_owned()),
            theme.muted(),
        ),
    ]
}
