//! The terminal: event loop, views, widgets, theme and keymap.

/// Grid columns for `count` hosts on a `width` x `height` terminal; update moves by this.
pub fn grid_columns(count: usize, width: u16, height: u16) -> usize {
    let _ = (count, height);
    usize::from(width / 16).max(1)
}

/// Visible grid rows for `count` hosts on a `width` x `height` terminal (a page).
pub fn grid_rows(count: usize, width: u16, height: u16) -> usize {
    let _ = (count, width);
    usize::from(height / 4).max(1)
}
