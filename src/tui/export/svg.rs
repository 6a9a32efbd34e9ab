//! The screen as SVG: a background rectangle per run of same-coloured cells and a `<text>`
//! per run of same-styled characters, on a fixed monospace grid.

use super::{Defaults, Look, Rgb, row_cells};
use ratatui::buffer::Buffer;
use std::fmt::Write;

/// One cell, in SVG user units; `textLength` pins each run to the grid whatever the font.
const CELL_W: u32 = 9;
const CELL_H: u32 = 18;
const FONT_SIZE: u32 = 15;
/// Baseline below the cell's top.
const BASELINE: u32 = 13;

/// The SVG document for `buffer`; `Reset` colours come from `defaults`.
pub fn to_svg(buffer: &Buffer, defaults: &Defaults) -> String {
    let area = buffer.area;
    let (w, h) = (
        u32::from(area.width) * CELL_W,
        u32::from(area.height) * CELL_H,
    );
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\">\n\
         <style>text{{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;\
         font-size:{FONT_SIZE}px;white-space:pre}}.b{{font-weight:bold}}\
         .u{{text-decoration:underline}}</style>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"{}\"/>\n",
        hex(defaults.bg)
    );
    for y in area.top()..area.bottom() {
        let row: Vec<(u16, &str, Look)> = row_cells(buffer, y)
            .map(|(x, cell)| (x, cell.symbol(), Look::of(cell, defaults)))
            .collect();
        let top = u32::from(y - area.top()) * CELL_H;
        backgrounds(&mut out, &row, top, defaults.bg);
        texts(&mut out, &row, top);
    }
    out.push_str("</svg>\n");
    out
}

/// One `<rect>` per run of cells sharing a background other than the default.
fn backgrounds(out: &mut String, row: &[(u16, &str, Look)], top: u32, default: Rgb) {
    let mut i = 0;
    while i < row.len() {
        let bg = row[i].2.bg;
        let start = row[i].0;
        let mut j = i + 1;
        while j < row.len() && row[j].2.bg == bg {
            j += 1;
        }
        let end = row.get(j).map_or(row[j - 1].0 + 1, |next| next.0);
        if bg != default {
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{top}\" width=\"{}\" height=\"{CELL_H}\" fill=\"{}\"/>",
                u32::from(start) * CELL_W,
                u32::from(end - start) * CELL_W,
                hex(bg)
            );
        }
        i = j;
    }
}

/// One `<text>` per run of characters sharing colour, weight and underline. Blanks join
/// any run (their colour does not show) unless underlined; all-blank runs are left out.
fn texts(out: &mut String, row: &[(u16, &str, Look)], top: u32) {
    let key = |look: &Look| (look.fg, look.bold, look.underline);
    let blank = |(_, sym, look): &(u16, &str, Look)| sym.trim().is_empty() && !look.underline;
    let mut i = 0;
    while i < row.len() {
        if blank(&row[i]) {
            i += 1;
            continue;
        }
        let run_key = key(&row[i].2);
        let mut j = i + 1;
        let mut last = i;
        while j < row.len() && (blank(&row[j]) || key(&row[j].2) == run_key) {
            if !blank(&row[j]) {
                last = j;
            }
            j += 1;
        }
        let cells = &row[i..=last];
        let start = cells[0].0;
        let end = row.get(last + 1).map_or(row[last].0 + 1, |next| next.0);
        let mut text = String::new();
        // Cells are contiguous: `row_cells` already dropped those wide characters cover.
        for (_, sym, _) in cells {
            escape_into(&mut text, sym);
        }
        let (fg, bold, underline) = run_key;
        let class = match (bold, underline) {
            (true, true) => " class=\"b u\"",
            (true, false) => " class=\"b\"",
            (false, true) => " class=\"u\"",
            (false, false) => "",
        };
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" textLength=\"{}\" lengthAdjust=\"spacingAndGlyphs\" \
             fill=\"{}\"{class}>{text}</text>",
            u32::from(start) * CELL_W,
            top + BASELINE,
            u32::from(end - start) * CELL_W,
            hex(fg),
        );
        i = last + 1;
    }
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            // Not allowed in XML 1.0 at all.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
}

fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}
