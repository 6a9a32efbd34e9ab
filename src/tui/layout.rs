//! Pure screen geometry. Drawing and `update` (through the `Geometry` the loop hands it)
//! both derive the grid from these functions, so a key press moves exactly one drawn cell.

use ratatui::layout::Rect;

/// A `width` x `height` rectangle (clamped to `area`) in the middle of `area`: popups.
pub fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let (width, height) = (width.min(area.width), height.min(area.height));
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// The terminal split: the main view above a one-line status bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regions {
    pub main: Rect,
    pub status: Rect,
}

pub fn regions(area: Rect) -> Regions {
    let (main, status) = split_bottom(area, 1);
    Regions { main, status }
}

/// The grid view: a title line above the cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridView {
    pub title: Rect,
    pub cells: Rect,
}

pub fn grid_view(main: Rect) -> GridView {
    let (title, cells) = split_top(main, 1);
    GridView { title, cells }
}

/// Up to `height` rows at the top of `area`, and the rest below them.
pub fn split_top(area: Rect, height: u16) -> (Rect, Rect) {
    let height = height.min(area.height);
    let top = Rect { height, ..area };
    let rest = Rect {
        y: area.y + height,
        height: area.height - height,
        ..area
    };
    (top, rest)
}

/// The rest of `area`, and up to `height` rows at its bottom.
pub fn split_bottom(area: Rect, height: u16) -> (Rect, Rect) {
    split_top(area, area.height.saturating_sub(height))
}

/// Up to `width` columns at the left of `area`, and the rest right of them.
pub fn split_left(area: Rect, width: u16) -> (Rect, Rect) {
    let width = width.min(area.width);
    let left = Rect { width, ..area };
    let rest = Rect {
        x: area.x + width,
        width: area.width - width,
        ..area
    };
    (left, rest)
}

/// The rest of `area`, and up to `width` columns at its right.
pub fn split_right(area: Rect, width: u16) -> (Rect, Rect) {
    split_left(area, area.width.saturating_sub(width))
}

/// How much of a host a cell shows, from most to least.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellMode {
    /// Name, CPU and memory, state text: 3 rows.
    Large,
    /// Glyph and name on one row.
    Compact,
    /// One character per host with a blank column between hosts, and a gutter row and
    /// column for the selection markers.
    Spaced,
    /// One character per host, packed, with the same gutters.
    Tiny,
}

impl CellMode {
    /// Preference order: the first that fits every host on one page wins.
    const ALL: [CellMode; 4] = [
        CellMode::Large,
        CellMode::Compact,
        CellMode::Spaced,
        CellMode::Tiny,
    ];

    /// Cell width and height, without the gap.
    pub const fn size(self) -> (u16, u16) {
        match self {
            CellMode::Large => (19, 3),
            CellMode::Compact => (14, 1),
            CellMode::Spaced | CellMode::Tiny => (1, 1),
        }
    }

    /// Blank columns and rows between neighbouring cells.
    pub const fn gap(self) -> (u16, u16) {
        match self {
            CellMode::Large => (1, 1),
            CellMode::Compact | CellMode::Spaced => (1, 0),
            CellMode::Tiny => (0, 0),
        }
    }

    /// Columns on the left and rows on top reserved for the selection markers.
    pub const fn gutter(self) -> u16 {
        match self {
            CellMode::Spaced | CellMode::Tiny => 1,
            CellMode::Large | CellMode::Compact => 0,
        }
    }

    /// Cells per row and rows per page in an area of `width` x `height`; at least 1 each.
    fn capacity(self, width: u16, height: u16) -> (usize, usize) {
        let (w, h) = self.size();
        let (gx, gy) = self.gap();
        let g = self.gutter();
        // The last cell of a row or column needs no gap after it.
        let columns = (width.saturating_sub(g) + gx) / (w + gx);
        let rows = (height.saturating_sub(g) + gy) / (h + gy);
        (usize::from(columns).max(1), usize::from(rows).max(1))
    }
}

/// What `update` needs of the layout, measured by the loop (`tui::measure`, which knows the
/// views) and handed in with `Msg::Resize`: update pages by it and measures nothing itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub width: u16,
    pub height: u16,
    /// Where the grid's cells go, beside the Apps panel.
    pub grid_cells: Rect,
    /// Rows the Apps panel shows at once (a page).
    pub apps_rows: usize,
    /// Rows the host view's container table shows at once (a page).
    pub host_rows: usize,
    /// Lines the logs view shows at once (unwrapped): a page.
    pub logs_rows: usize,
    /// Where the instances view's cells go, below its title.
    pub instance_cells: Rect,
    /// Help does not fit in columns and scrolls: over the grid, a host's view, a trace,
    /// the logs, an app's instances.
    pub help_scrolls_grid: bool,
    pub help_scrolls_host: bool,
    pub help_scrolls_trace: bool,
    pub help_scrolls_logs: bool,
    pub help_scrolls_instances: bool,
}

impl Geometry {
    /// The grid's columns and rows per page for `count` hosts: the cell size depends on
    /// how many there are, so this is asked at each move.
    pub fn grid(&self, count: usize) -> (usize, usize) {
        let l = grid_layout(count, self.grid_cells.width, self.grid_cells.height);
        (l.columns, l.rows)
    }
}

/// A cell of the instances view narrower than this cuts its charts' titles to nothing.
const INSTANCE_WIDTH: u16 = 30;
/// Its two lines of figures and two charts of one row of bars each.
const INSTANCE_HEIGHT: u16 = 8;

/// How the instances view lays out `count` cells: as many columns as fit (at most one per
/// instance), rows of equal height; when not all rows fit, a page of them above a line
/// that says which are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstancePages {
    pub columns: usize,
    /// Rows of cells in all.
    pub rows: usize,
    /// Rows on one page.
    pub page: usize,
    /// The height the page's rows share (the body's, less the note's line if any).
    pub height: u16,
}

impl InstancePages {
    pub fn new(count: usize, body: Rect) -> Self {
        let fit_columns = usize::from((body.width / INSTANCE_WIDTH).max(1));
        let columns = fit_columns.min(count).max(1);
        let rows = count.div_ceil(columns);
        let fit_rows = usize::from((body.height / INSTANCE_HEIGHT).max(1));
        if rows <= fit_rows {
            return InstancePages {
                columns,
                rows,
                page: rows.max(1),
                height: body.height,
            };
        }
        let height = body.height.saturating_sub(1);
        let page = usize::from((height / INSTANCE_HEIGHT).max(1));
        InstancePages {
            columns,
            rows,
            page,
            height,
        }
    }

    /// The first row shown when asked to start at `first`: the last page is a full one.
    pub fn clamp(&self, first: usize) -> usize {
        first.min(self.rows.saturating_sub(self.page))
    }
}

/// Where each host of the grid goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridLayout {
    pub mode: CellMode,
    pub columns: usize,
    /// Rows on one page.
    pub rows: usize,
}

impl GridLayout {
    pub fn page_size(&self) -> usize {
        self.columns * self.rows
    }

    /// Page holding host `index`.
    pub fn page_of(&self, index: usize) -> usize {
        index / self.page_size()
    }

    pub fn pages(&self, count: usize) -> usize {
        count.div_ceil(self.page_size()).max(1)
    }

    /// The rectangle of the `slot`-th cell of a page drawn in `area` (may reach past it
    /// on a screen too small for even one cell; callers clip).
    pub fn cell_rect(&self, area: Rect, slot: usize) -> Rect {
        let (w, h) = self.mode.size();
        let (gx, gy) = self.mode.gap();
        let g = self.mode.gutter();
        // Slots are bounded by the page, which fits in u16 coordinates.
        let col = u16::try_from(slot % self.columns).unwrap_or(u16::MAX);
        let row = u16::try_from(slot / self.columns).unwrap_or(u16::MAX);
        Rect {
            x: area
                .x
                .saturating_add(g)
                .saturating_add(col.saturating_mul(w + gx)),
            y: area
                .y
                .saturating_add(g)
                .saturating_add(row.saturating_mul(h + gy)),
            width: w,
            height: h,
        }
    }
}

/// The largest cell mode that fits all `count` hosts in `width` x `height` on one page,
/// otherwise the smallest (and the grid pages).
pub fn grid_layout(count: usize, width: u16, height: u16) -> GridLayout {
    let layout = |mode: CellMode| {
        let (columns, rows) = mode.capacity(width, height);
        GridLayout {
            mode,
            columns,
            rows,
        }
    };
    CellMode::ALL
        .into_iter()
        .map(layout)
        .find(|l| fits(l, count, width, height))
        .unwrap_or_else(|| layout(CellMode::Tiny))
}

/// All hosts on one page, and at least one whole cell actually on screen.
fn fits(layout: &GridLayout, count: usize, width: u16, height: u16) -> bool {
    let (w, h) = layout.mode.size();
    let g = layout.mode.gutter();
    width >= w + g && height >= h + g && layout.page_size() >= count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_cover_the_area_and_clamp_to_it() {
        let area = Rect::new(2, 3, 10, 4);
        assert_eq!(
            split_top(area, 1),
            (Rect::new(2, 3, 10, 1), Rect::new(2, 4, 10, 3))
        );
        assert_eq!(
            split_bottom(area, 1),
            (Rect::new(2, 3, 10, 3), Rect::new(2, 6, 10, 1))
        );
        assert_eq!(
            split_left(area, 4),
            (Rect::new(2, 3, 4, 4), Rect::new(6, 3, 6, 4))
        );
        assert_eq!(
            split_right(area, 4),
            (Rect::new(2, 3, 6, 4), Rect::new(8, 3, 4, 4))
        );
        assert_eq!(split_top(area, 9), (area, Rect::new(2, 7, 10, 0)));
        assert_eq!(split_right(area, 99), (Rect::new(2, 3, 0, 4), area));
    }

    #[test]
    fn few_hosts_get_large_cells() {
        let l = grid_layout(3, 80, 22);
        assert_eq!(l.mode, CellMode::Large);
        // 4 cells of 19 with 3 gaps = 79 columns; rows of 3 with a gap: (22 + 1) / 4 = 5.
        assert_eq!((l.columns, l.rows), (4, 5));
    }

    #[test]
    fn more_hosts_shrink_to_compact_then_spaced_then_tiny() {
        assert_eq!(grid_layout(21, 80, 22).mode, CellMode::Compact);
        assert_eq!(grid_layout(200, 80, 22).mode, CellMode::Spaced);
        assert_eq!(grid_layout(1000, 80, 22).mode, CellMode::Tiny);
    }

    /// The layout `draw` uses for the grid on a whole terminal (beside the Apps panel).
    fn on_terminal(count: usize, width: u16, height: u16) -> GridLayout {
        let cells = crate::tui::grid_cells(width, height);
        grid_layout(count, cells.width, cells.height)
    }

    #[test]
    fn a_thousand_hosts_fit_on_one_page_of_200x50() {
        let l = on_terminal(1000, 200, 50);
        assert_eq!(l.pages(1000), 1, "{l:?}");
        assert!(l.page_size() >= 1000);
    }

    #[test]
    fn too_many_hosts_page_in_tiny_mode() {
        let l = on_terminal(10_000, 200, 50);
        assert_eq!(l.mode, CellMode::Tiny);
        assert!(l.pages(10_000) > 1);
        assert_eq!(l.page_of(0), 0);
        assert_eq!(l.page_of(9_999), l.pages(10_000) - 1);
    }

    #[test]
    fn degenerate_sizes_still_have_one_column_and_row() {
        for (w, h) in [(0, 0), (1, 1), (5, 2), (200, 0)] {
            let l = on_terminal(7, w, h);
            assert!(l.columns >= 1 && l.rows >= 1, "{w}x{h}: {l:?}");
        }
    }

    #[test]
    fn cells_do_not_overlap_and_stay_inside() {
        let area = Rect::new(0, 1, 80, 22);
        for count in [3, 21, 200, 1000] {
            let l = grid_layout(count, area.width, area.height);
            let rects: Vec<Rect> = (0..count.min(l.page_size()))
                .map(|i| l.cell_rect(area, i))
                .collect();
            for (i, a) in rects.iter().enumerate() {
                assert!(area.contains(a.as_position()), "{count}: {a:?}");
                assert!(a.right() <= area.right() && a.bottom() <= area.bottom());
                for b in &rects[i + 1..] {
                    assert!(!a.intersects(*b), "{count}: {a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn status_bar_is_the_last_line() {
        let s = regions(Rect::new(0, 0, 80, 24));
        assert_eq!(s.status, Rect::new(0, 23, 80, 1));
        assert_eq!(s.main, Rect::new(0, 0, 80, 23));
        assert_eq!(regions(Rect::new(0, 0, 80, 0)).main.height, 0);
    }
}
