//! The one data table every list uses (containers now; apps and services later): a titled
//! box, a header, styled cells, and a selected row kept on screen and marked by a glyph as
//! well as by colour.

use crate::domain::sanitize;
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{
    Block, Borders, Cell, HighlightSpacing, Paragraph, Row, StatefulWidget, Table, TableState,
    Widget,
};

/// A column: its header, width, and whether its figures are right-aligned.
#[derive(Debug, Clone)]
pub struct Column {
    pub title: &'static str,
    pub width: Constraint,
    pub right: bool,
    /// A fixed width that grows to the widest cell (figures always do).
    pub fit: bool,
}

impl Column {
    pub const fn new(title: &'static str, width: Constraint) -> Self {
        Column {
            title,
            width,
            right: false,
            fit: false,
        }
    }

    /// A `Length` that grows to its widest cell, for text that must not be cut (ports).
    pub const fn fit(mut self) -> Self {
        self.fit = true;
        self
    }

    /// Right-aligned, for numbers.
    pub const fn right(mut self) -> Self {
        self.right = true;
        self
    }
}

/// One cell's text and style (`Style::default()` takes the table's text style).
pub type Field = (String, Style);

pub struct DataTable<'a> {
    title: String,
    columns: &'a [Column],
    rows: Vec<Vec<Field>>,
    selected: Option<usize>,
    empty: &'a str,
    theme: &'a Theme,
}

impl<'a> DataTable<'a> {
    pub fn new(title: impl Into<String>, columns: &'a [Column], theme: &'a Theme) -> Self {
        DataTable {
            title: title.into(),
            columns,
            rows: Vec::new(),
            selected: None,
            empty: "nothing here",
            theme,
        }
    }

    pub fn rows(mut self, rows: Vec<Vec<Field>>) -> Self {
        self.rows = rows;
        self
    }

    /// Highlights this row (clamped to the last one) and scrolls it into view.
    pub fn selected(mut self, row: usize) -> Self {
        self.selected = Some(row);
        self
    }

    /// Shown instead of the header when there are no rows.
    pub fn empty(mut self, text: &'a str) -> Self {
        self.empty = text;
        self
    }
}

/// `columns` and `rows` without the columns `skip` (none keeps them all): columns left out
/// on narrow terminals so the others keep their room.
pub fn leave_out(
    columns: &[Column],
    rows: Vec<Vec<Field>>,
    skip: &[usize],
) -> (Vec<Column>, Vec<Vec<Field>>) {
    let keep = |i: &usize| !skip.contains(i);
    let columns = (columns.iter().enumerate())
        .filter(|(i, _)| keep(i))
        .map(|(_, c)| c.clone())
        .collect();
    let rows = (rows.into_iter())
        .map(|row| {
            (row.into_iter().enumerate())
                .filter(|(i, _)| keep(i))
                .map(|(_, field)| field)
                .collect()
        })
        .collect();
    (columns, rows)
}

/// The columns' widths: a fixed-width column of figures (right-aligned, or marked `fit`)
/// grows to its widest cell, so a number is never cut short silently (4294967295 is not
/// shown as 7295).
fn widths(columns: &[Column], rows: &[Vec<Field>]) -> Vec<Constraint> {
    columns
        .iter()
        .enumerate()
        .map(|(i, column)| match column.width {
            Constraint::Length(n) if column.right || column.fit => {
                let widest = (rows.iter())
                    .filter_map(|row| row.get(i))
                    .map(|(text, _)| Line::raw(text.as_str()).width())
                    .max()
                    .unwrap_or(0);
                let widest = u16::try_from(widest).unwrap_or(u16::MAX);
                Constraint::Length(n.max(widest))
            }
            other => other,
        })
        .collect()
}

impl Widget for DataTable<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border())
            .title(Line::styled(
                format!(" {} ", sanitize::clean(&self.title)),
                theme.title(),
            ));
        if self.rows.is_empty() {
            Paragraph::new(Line::styled(format!(" {}", self.empty), theme.muted()))
                .block(block)
                .render(area, buf);
            return;
        }
        let align = |column: &Column| {
            if column.right {
                Alignment::Right
            } else {
                Alignment::Left
            }
        };
        let header = Row::new(
            self.columns
                .iter()
                .map(|c| Cell::from(Line::from(c.title).alignment(align(c)))),
        )
        .style(theme.muted().add_modifier(Modifier::BOLD));
        let last = self.rows.len() - 1;
        let widths = widths(self.columns, &self.rows);
        let rows = self.rows.into_iter().map(|fields| {
            Row::new(
                fields
                    .into_iter()
                    .zip(self.columns)
                    .map(|((text, style), column)| {
                        // Names, images and errors come from the cluster.
                        let text = sanitize::clean(&text).into_owned();
                        Cell::from(Line::styled(text, style).alignment(align(column)))
                    }),
            )
        });
        let marker = format!("{} ", theme.glyphs.selected);
        let table = Table::new(rows, widths)
            .header(header)
            .block(block)
            .style(theme.text())
            .row_highlight_style(theme.selected_row())
            .highlight_symbol(Line::from(marker))
            .highlight_spacing(HighlightSpacing::Always);
        let mut state = TableState::default().with_selected(self.selected.map(|s| s.min(last)));
        StatefulWidget::render(table, area, buf, &mut state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_wider_than_its_column_widens_it_rather_than_being_cut() {
        let theme = Theme::default_theme();
        let columns = [
            Column::new("APP", Constraint::Fill(1)),
            Column::new("WANT", Constraint::Length(4)).right(),
        ];
        let plain = Style::default();
        let rows = vec![vec![
            ("web".to_owned(), plain),
            ("4294967295".to_owned(), plain),
        ]];
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 4));
        DataTable::new("apps", &columns, &theme)
            .rows(rows)
            .render(buf.area, &mut buf);
        let row: String = (0..40).map(|x| buf[(x, 2)].symbol()).collect();
        assert!(row.contains("4294967295"), "{row}");
    }
}
