//! A trace's list of hops (its callers, or its dependencies): a row per hop with the app
//! at the far end, its verdict and the worst caller host's figures, then a row per caller
//! host whose agent probes it, the worst first. When rows run out, each hop keeps its own
//! row and a fair share of host rows, the rest counted in "+N more hosts".

use crate::cluster::{Hop, HostProbes, Probes, Verdict, times};
use crate::domain::probe::DependencyState;
use crate::tui::theme::{Level, Theme};
use crate::tui::widgets::table::{Column, DataTable, Field};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::Widget;

const HOP_COLUMNS: [Column; 4] = [
    Column::new("", Constraint::Length(1)),
    Column::new("APP / FROM HOST", Constraint::Fill(1)),
    // A hop: endpoints registered / instances. A host: endpoints answering / probed.
    Column::new("EP", Constraint::Length(5)).fit(),
    // A hop: the worst host's answering / probed and connect p95. A host: connect and
    // response times (last/p50/p95) and failures per minute.
    Column::new("PROBES", Constraint::Fill(2)),
];

/// The table's border and header.
const CHROME: usize = 3;

/// Rows the list of `hops` wants: its own, and one per caller host.
pub fn wanted_rows(hops: &[Hop]) -> usize {
    hops.iter().map(|h| 1 + hosts(h).len()).sum()
}

/// One caller host's probes, worst first.
fn hosts(hop: &Hop) -> Vec<&HostProbes> {
    hop.probes.ranked()
}

/// How many host rows each hop gets out of `room` rows, given how many hosts each has
/// (`wants`): all if they fit, else a fair share (hops with few hosts leave the rest of
/// their share to the others). Each hop's own row comes first.
fn allot(wants: &[usize], room: usize) -> Vec<usize> {
    let mut budget = room.saturating_sub(wants.len());
    let mut given = vec![0; wants.len()];
    let mut order: Vec<usize> = (0..wants.len()).collect();
    order.sort_by_key(|&i| wants[i]);
    for (done, &i) in order.iter().enumerate() {
        let share = budget / (wants.len() - done);
        given[i] = wants[i].min(share);
        budget -= given[i];
    }
    given
}

pub fn verdict_level(verdict: Verdict) -> Level {
    match verdict {
        Verdict::Healthy => Level::Ok,
        Verdict::Partial => Level::Warn,
        Verdict::NotAnswering | Verdict::NotAnApp | Verdict::NotRegistered => Level::Critical,
    }
}

/// Draws `hops` in `area`, `selected` (a hop's index) highlighted.
pub fn render(
    title: &str,
    hops: &[Hop],
    callers: bool,
    selected: Option<usize>,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let room = usize::from(area.height).saturating_sub(CHROME);
    let wants: Vec<usize> = hops.iter().map(|h| hosts(h).len()).collect();
    let given = allot(&wants, room);
    let mut rows = Vec::new();
    let mut selected_row = None;
    for (i, (hop, &room)) in hops.iter().zip(&given).enumerate() {
        if selected == Some(i) {
            selected_row = Some(rows.len());
        }
        rows.push(hop_row(hop, callers, theme));
        let hosts = hosts(hop);
        // With no room for all, the last row says how many are left out.
        let shown = if room >= hosts.len() {
            hosts.len()
        } else {
            room.saturating_sub(1)
        };
        rows.extend(hosts[..shown].iter().map(|h| host_row(h, theme)));
        if shown < hosts.len() && room > 0 {
            let more = format!("  +{} more hosts", hosts.len() - shown);
            rows.push(vec![
                (String::new(), Style::default()),
                (more, theme.muted()),
                (String::new(), Style::default()),
                (String::new(), Style::default()),
            ]);
        }
    }
    let empty = if callers {
        "no app depends on it"
    } else {
        "no dependencies"
    };
    let mut table = DataTable::new(format!("{title} ({})", hops.len()), &HOP_COLUMNS, theme)
        .rows(rows)
        .empty(empty);
    if let Some(row) = selected_row {
        table = table.selected(row);
    }
    table.render(area, buf);
}

fn hop_row(hop: &Hop, callers: bool, theme: &Theme) -> Vec<Field> {
    let style = theme.level_text(verdict_level(hop.verdict));
    let app = if callers { &hop.caller } else { &hop.callee };
    let endpoints = match hop.verdict {
        Verdict::NotAnApp => "not an app".to_owned(),
        _ => format!("{}/{}", hop.registered, hop.instances),
    };
    vec![
        (hop.verdict.glyph().to_owned(), style),
        (app.clone(), Style::default()),
        (endpoints, style),
        match hop.probes {
            Probes::NotMeasured => (hop.probes.short(), theme.muted()),
            Probes::Measured(_) => (hop.probes.short(), style),
        },
    ]
}

/// "  ↳ lab-1", "1/2", "conn 0.40/0.30/840 ms, HTTP 200 1.5/1.2/3.0 ms, 12.0 fail/min".
fn host_row(host: &HostProbes, theme: &Theme) -> Vec<Field> {
    let f = &host.figures;
    let level = if host.failing() || f.state != DependencyState::Probed {
        Level::Critical
    } else {
        Level::Ok
    };
    let style = theme.level_text(level);
    let figures = if f.state == DependencyState::Probed {
        let mut text = format!("conn {}", times(&f.connect_ms));
        if f.http_path.is_some() {
            let status = (host.http_status()).map_or_else(|| "-".to_owned(), |s| s.to_string());
            text.push_str(&format!(", HTTP {status} {}", times(&f.response_ms)));
        }
        text.push_str(&format!(", {:.1} fail/min", f.failures_per_min));
        (text, Style::default())
    } else {
        (host.headline(), style)
    };
    vec![
        (String::new(), Style::default()),
        (format!("  ↳ {}", host.host), theme.muted()),
        (format!("{}/{}", f.answering, f.total), style),
        figures,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_rows_all_fit_or_are_shared_fairly() {
        // Room for every host: all shown.
        assert_eq!(allot(&[2, 0, 3], 10), [2, 0, 3]);
        // 7 rows, 3 for the hops: 4 left; the hop without hosts leaves its share.
        assert_eq!(allot(&[5, 0, 5], 7), [2, 0, 2]);
        // Uneven: the small one takes all it wants, the big one the rest.
        assert_eq!(allot(&[1, 9], 8), [1, 5]);
        // No room beyond the hops' own rows, or not even that: no host rows.
        assert_eq!(allot(&[3, 3], 2), [0, 0]);
        assert_eq!(allot(&[3, 3], 0), [0, 0]);
        assert_eq!(allot(&[], 5), Vec::<usize>::new());
    }
}
