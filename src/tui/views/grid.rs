//! The grid view: a title line naming the selected host, above the grid of hosts.

use crate::cluster::HostState;
use crate::cluster::changing_hosts;
use crate::tui::format::{percent, truncate};
use crate::tui::layout::{GridView, grid_layout, grid_view};
use crate::tui::screen::Screen;
use crate::tui::theme::Theme;
use crate::tui::widgets::grid::{Grid, Marks};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

pub fn render(screen: &Screen, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let view = grid_view(area);
    let shown = screen.grid_hosts();
    title(screen, theme, &view, &shown, buf);
    if screen.cluster.hosts.is_empty() {
        let hint = "no hosts: add [[hosts]] to wheelhouse.toml or host records to etcd";
        Line::styled(hint, theme.muted()).render(view.cells, buf);
        return;
    }
    let Some(slot) = screen.grid_slot(&shown) else {
        let hint = "no host matches the filter (esc clears it)";
        Line::styled(hint, theme.muted()).render(view.cells, buf);
        return;
    };
    let app = super::apps::marked_hosts(screen);
    let changing: Vec<usize> = (changing_hosts(&screen.cluster).iter())
        .filter_map(|h| screen.cluster.host_index(h))
        .collect();
    let marks = Marks {
        app: &app,
        changing: &changing,
    };
    let grid = Grid::new(&screen.cluster.hosts, &shown, slot, theme, screen.now).marks(marks);
    match screen.wallboard {
        Some(_) => grid.wall().render(view.cells, buf),
        None => grid.render(view.cells, buf),
    }
}

/// "wheelhouse  1000 hosts · page 1/2 │ ▶ ✓ lab-0042 ok  CPU 12% MEM 3%  4 ctr"
fn title(screen: &Screen, theme: &Theme, view: &GridView, shown: &[usize], buf: &mut Buffer) {
    let count = shown.len();
    let hosts = match &screen.ui.filter {
        None => format!(" {count} hosts"),
        Some(f) => format!(
            " {count}/{} hosts /{}",
            screen.cluster.hosts.len(),
            f.text()
        ),
    };
    let mut spans = vec![
        Span::styled(" wheelhouse ", theme.title()),
        Span::styled(hosts, theme.text()),
    ];
    let layout = grid_layout(count, view.cells.width, view.cells.height);
    let pages = layout.pages(count);
    if pages > 1 {
        let page = layout.page_of(screen.grid_slot(shown).unwrap_or(0)) + 1;
        spans.push(Span::styled(
            format!(" · page {page}/{pages}"),
            theme.text(),
        ));
    }
    // A wall screen has no selection to name.
    if let Some(host) = screen
        .selected_host()
        .filter(|_| screen.wallboard.is_none())
    {
        let load = host.load();
        let level = theme.level(load, &host.state);
        let (style, glyph) = theme.cell(level);
        spans.push(Span::styled(" │ ", theme.border()));
        spans.push(Span::styled(
            format!("{} ", theme.glyphs.selected),
            theme.title(),
        ));
        spans.push(Span::styled(format!("{glyph}"), style));
        spans.push(Span::styled(
            format!(" {} ", truncate(host.name(), 32)),
            theme.title(),
        ));
        spans.push(Span::styled(level.label(), theme.level_text(level)));
        let detail = match (&host.state, load) {
            (HostState::Online, Some(load)) => format!(
                "  CPU {} MEM {}  {} ctr",
                percent(load.cpu),
                percent(load.mem),
                host.containers.len()
            ),
            (HostState::Offline { error, .. }, _) => format!("  {}", truncate(error, 60)),
            _ => String::new(),
        };
        spans.push(Span::styled(detail, theme.muted()));
    }
    Line::from(spans).render(view.title, buf);
}
