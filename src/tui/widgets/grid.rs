//! The host grid: one load-coloured cell per host, written straight into the buffer (no
//! per-cell widgets or allocations in the smallest mode), so 10,000 hosts draw in well
//! under a frame.

use crate::cluster::{Host, HostState};
use crate::tui::format::{age, percent, truncate};
use crate::tui::layout::{CellMode, GridLayout, grid_layout};
use crate::tui::theme::{Level, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::Widget;
use std::sync::Arc;
use std::time::Instant;

/// The grid of `shown` hosts (indices into `hosts`, in order), `selected` a position in
/// `shown`: a filter narrows the grid without copying a host.
pub struct Grid<'a> {
    hosts: &'a [Arc<Host>],
    shown: &'a [usize],
    selected: usize,
    marks: Marks<'a>,
    theme: &'a Theme,
    now: Instant,
    /// Drawn for a wall screen: no selection, and large cells grown to fill the area.
    wall: bool,
}

/// Hosts (indices into the grid's `hosts`) marked over their state.
#[derive(Debug, Clone, Copy, Default)]
pub struct Marks<'a> {
    /// The selected app's hosts: `APP_MARK` beside the glyph, and the glyph underlined.
    pub app: &'a [usize],
    /// Hosts a rollout is changing: `CHANGING`.
    pub changing: &'a [usize],
}

impl<'a> Grid<'a> {
    pub fn new(
        hosts: &'a [Arc<Host>],
        shown: &'a [usize],
        selected: usize,
        theme: &'a Theme,
        now: Instant,
    ) -> Self {
        Grid {
            hosts,
            shown,
            selected,
            marks: Marks::default(),
            theme,
            now,
            wall: false,
        }
    }

    pub fn marks(self, marks: Marks<'a>) -> Self {
        Grid { marks, ..self }
    }

    /// For a wall screen: nobody selects there, and the cells are read from afar.
    pub fn wall(self) -> Self {
        Grid { wall: true, ..self }
    }

    /// Where the `slot`-th cell of the page goes: as the layout says, or on a wall, large
    /// cells grown to share the whole area among the `count` on the page.
    fn cell_rect(&self, layout: &GridLayout, area: Rect, slot: usize, count: usize) -> Rect {
        if !self.wall || layout.mode != CellMode::Large {
            return layout.cell_rect(area, slot);
        }
        let (w, h) = CellMode::Large.size();
        let (gx, gy) = CellMode::Large.gap();
        let share = |room: u16, n: usize, gap: u16, least: u16| {
            let n = u16::try_from(n).unwrap_or(u16::MAX).max(1);
            ((room + gap) / n).saturating_sub(gap).max(least)
        };
        let size = |columns: usize| {
            let rows = count.div_ceil(columns);
            let width = share(area.width, columns, gx, w);
            let height = share(area.height, rows, gy, h).min(WALL_CELL_HEIGHT_MAX);
            (width, height)
        };
        // As many columns as make the cells largest against the cockpit's cell (the most
        // columns on a tie).
        let scale = |(width, height): (u16, u16)| {
            (u32::from(width) * u32::from(h)).min(u32::from(height) * u32::from(w))
        };
        let columns = (1..=layout.columns.min(count).max(1))
            .max_by_key(|&c| (scale(size(c)), c))
            .unwrap_or(1);
        let (width, height) = size(columns);
        let col = u16::try_from(slot % columns).unwrap_or(u16::MAX);
        let row = u16::try_from(slot / columns).unwrap_or(u16::MAX);
        Rect {
            x: area.x.saturating_add(col.saturating_mul(width + gx)),
            y: area.y.saturating_add(row.saturating_mul(height + gy)),
            width,
            height,
        }
    }
}

/// A wall's large cells grow no taller than this (their text is three lines).
const WALL_CELL_HEIGHT_MAX: u16 = 7;

impl Widget for Grid<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let count = self.shown.len();
        if count == 0 || area.is_empty() {
            return;
        }
        let layout = grid_layout(count, area.width, area.height);
        let selected = self.selected.min(count - 1);
        // The page holding the selection, so the selected host is always on screen.
        let start = layout.page_of(selected) * layout.page_size();
        let end = (start + layout.page_size()).min(count);
        let page = &self.shown[start..end];
        for (slot, host) in page.iter().map(|&i| &self.hosts[i]).enumerate() {
            let rect = (self.cell_rect(&layout, area, slot, page.len())).intersection(area);
            if rect.is_empty() {
                continue;
            }
            let cell = Cell {
                host,
                level: self.theme.level(host.load(), &host.state),
                selected: !self.wall && start + slot == selected,
            };
            match layout.mode {
                CellMode::Large => self.large(&cell, rect, buf),
                CellMode::Compact => self.compact(&cell, rect, buf),
                CellMode::Spaced | CellMode::Tiny => self.tiny(&cell, rect, buf),
            }
        }
        if layout.mode.gutter() > 0 && !self.wall {
            self.gutter_markers(&layout, area, selected - start, buf);
        }
        for (slot, host) in page.iter().enumerate() {
            let rect = (self.cell_rect(&layout, area, slot, page.len())).intersection(area);
            if rect.is_empty() {
                continue;
            }
            if self.marks.app.contains(host) {
                self.mark_app(layout.mode, area, rect, buf);
            }
            if self.marks.changing.contains(host) {
                mark_changing(layout.mode, rect, buf);
            }
        }
    }
}

/// One host about to be drawn.
struct Cell<'h> {
    host: &'h Host,
    level: Level,
    selected: bool,
}

impl Grid<'_> {
    fn style(&self, cell: &Cell<'_>) -> Style {
        if cell.selected {
            self.theme.selected_cell(cell.level)
        } else {
            self.theme.cell(cell.level).0
        }
    }

    fn marker(&self, cell: &Cell<'_>) -> char {
        if cell.selected {
            self.theme.glyphs.selected
        } else {
            ' '
        }
    }

    /// Marker, glyph and name; then CPU and memory (or why there are none); then state.
    fn large(&self, cell: &Cell<'_>, rect: Rect, buf: &mut Buffer) {
        let style = self.style(cell);
        fill(rect, style, buf);
        let width = usize::from(rect.width);
        // The three lines in the middle of a taller (wall) cell.
        let top = rect.y + rect.height.saturating_sub(3) / 2;
        put_char(buf, rect.x, top, self.marker(cell), style);
        put_char(buf, rect.x + 1, top, self.theme.glyph(cell.level), style);
        let name = truncate(cell.host.name(), width.saturating_sub(3));
        buf.set_stringn(rect.x + 3, top, name, width.saturating_sub(3), style);
        let figures = match (&cell.host.state, cell.host.load()) {
            (HostState::Offline { since, .. }, _) => {
                format!(
                    "offline {}",
                    age(self.now.saturating_duration_since(*since))
                )
            }
            (HostState::Unknown, _) => "waiting".to_owned(),
            (HostState::Online, None) => "no figures yet".to_owned(),
            (HostState::Online, Some(load)) => {
                format!("CPU{:>5} MEM{:>5}", percent(load.cpu), percent(load.mem))
            }
        };
        let inner = width.saturating_sub(2);
        if rect.height > 1 {
            buf.set_stringn(rect.x + 2, top + 1, figures, inner, style);
        }
        if rect.height > 2 {
            let containers = cell.host.containers.len();
            let state = format!("{} · {containers} ctr", cell.level.label());
            buf.set_stringn(rect.x + 2, top + 2, state, inner, style);
        }
    }

    /// Marker, glyph, name on one row.
    fn compact(&self, cell: &Cell<'_>, rect: Rect, buf: &mut Buffer) {
        let style = self.style(cell);
        fill(rect, style, buf);
        put_char(buf, rect.x, rect.y, self.marker(cell), style);
        put_char(buf, rect.x + 1, rect.y, self.theme.glyph(cell.level), style);
        let room = usize::from(rect.width).saturating_sub(4);
        let name = truncate(cell.host.name(), room);
        buf.set_stringn(rect.x + 3, rect.y, name, room, style);
    }

    /// Just the glyph; the selection is reversed and pointed at from the gutters.
    fn tiny(&self, cell: &Cell<'_>, rect: Rect, buf: &mut Buffer) {
        put_char(
            buf,
            rect.x,
            rect.y,
            self.theme.glyph(cell.level),
            self.style(cell),
        );
    }

    /// Markers in the left gutter (row) and top gutter (column) of the selected cell, so
    /// the selection is findable without colour even at one character per host.
    /// `APP_MARK` where the cell mode leaves room, and the glyph underlined in every mode,
    /// so the marking reads without colour. In large and compact cells it takes the marker
    /// column (the selected host stays reversed); a gutter's selection marker is left alone.
    fn mark_app(&self, mode: CellMode, area: Rect, rect: Rect, buf: &mut Buffer) {
        let (mark_x, mark_style) = match mode {
            CellMode::Large | CellMode::Compact => (Some(rect.x), None),
            // The blank column (or the gutter) left of the cell.
            CellMode::Spaced => (rect.x.checked_sub(1), Some(self.theme.title())),
            CellMode::Tiny => (None, None),
        };
        let selected_glyph = self.theme.glyphs.selected.to_string();
        if let Some(x) = mark_x.filter(|&x| x >= area.x)
            && let Some(cell) = buf.cell_mut((x, rect.y))
            && !(mode == CellMode::Spaced && cell.symbol() == selected_glyph)
        {
            cell.set_char(APP_MARK);
            if let Some(style) = mark_style {
                cell.set_style(style);
            }
        }
        let glyph_x = match mode {
            CellMode::Large | CellMode::Compact => rect.x + 1,
            CellMode::Spaced | CellMode::Tiny => rect.x,
        };
        if let Some(cell) = buf.cell_mut((glyph_x, rect.y)) {
            cell.modifier.insert(Modifier::UNDERLINED);
        }
    }

    fn gutter_markers(&self, layout: &GridLayout, area: Rect, slot: usize, buf: &mut Buffer) {
        let cell = layout.cell_rect(area, slot);
        let style = self.theme.title();
        if area.contains(cell.as_position()) {
            put_char(buf, area.x, cell.y, self.theme.glyphs.selected, style);
            put_char(
                buf,
                cell.x,
                area.y,
                self.theme.glyphs.selected_column,
                style,
            );
        }
    }
}

fn fill(rect: Rect, style: Style, buf: &mut Buffer) {
    for y in rect.top()..rect.bottom() {
        for x in rect.left()..rect.right() {
            put_char(buf, x, y, ' ', style);
        }
    }
}

fn put_char(buf: &mut Buffer, x: u16, y: u16, c: char, style: Style) {
    if let Some(cell) = buf.cell_mut((x, y)) {
        cell.set_char(c).set_style(style);
    }
}

/// Marks a host an active rollout is changing (beside its state glyph where the cell has
/// room, instead of it in one-character cells), so the marking reads without colour.
pub const CHANGING: char = '↻';

/// Marks the hosts of the app selected in the Apps panel.
pub const APP_MARK: char = '◆';

/// `CHANGING` in the cell's last column (the name stops short of it), or over the glyph
/// in one-character cells; the cell keeps its style.
fn mark_changing(mode: CellMode, rect: Rect, buf: &mut Buffer) {
    let x = match mode {
        CellMode::Large | CellMode::Compact => rect.right() - 1,
        CellMode::Spaced | CellMode::Tiny => rect.x,
    };
    if let Some(cell) = buf.cell_mut((x, rect.y)) {
        cell.set_char(CHANGING);
    }
}
