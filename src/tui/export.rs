//! Screen export: a rendered `Buffer` as plain text, SVG and PNG. Pure apart from
//! `write_all` and `export_ansi_file`; the same path serves the cockpit's export key (its
//! own buffer) and scripts/screenshots (a tmux capture read back by `buffer_from_ansi`).

mod ansi;
mod font;
mod glyph;
mod raster;
mod svg;
#[cfg(test)]
mod tests;

pub use ansi::buffer_from_ansi;
pub use raster::to_png;
pub use svg::to_svg;

use super::theme::Theme;
use ratatui::buffer::{Buffer, Cell};
use ratatui::style::{Color, Modifier};
use std::path::{Path, PathBuf};

/// An RGB colour.
pub type Rgb = [u8; 3];

/// What `Color::Reset` stands for: the terminal's own foreground and background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    pub fg: Rgb,
    pub bg: Rgb,
}

impl Defaults {
    pub const DARK: Defaults = Defaults {
        fg: [0xd0, 0xd0, 0xd0],
        bg: [0x1c, 0x1c, 0x1c],
    };
    pub const LIGHT: Defaults = Defaults {
        fg: [0x20, 0x24, 0x28],
        bg: [0xfa, 0xfa, 0xfa],
    };

    /// The theme's text colour on a background it reads on: themes name no background, so
    /// a dark text colour means a light terminal. `reset` text means a dark terminal.
    pub fn for_theme(theme: &Theme) -> Defaults {
        match theme.palette.text {
            Color::Reset => Defaults::DARK,
            text => {
                let fg = rgb(text, Defaults::DARK.fg);
                let luma = 299 * u32::from(fg[0]) + 587 * u32::from(fg[1]) + 114 * u32::from(fg[2]);
                let bg = if luma < 128_000 {
                    Defaults::LIGHT.bg
                } else {
                    Defaults::DARK.bg
                };
                Defaults { fg, bg }
            }
        }
    }
}

/// The colours and attributes one cell is drawn with, after `Reset` and `REVERSED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    fg: Rgb,
    bg: Rgb,
    bold: bool,
    underline: bool,
}

impl Look {
    fn of(cell: &Cell, defaults: &Defaults) -> Look {
        let mut fg = rgb(cell.fg, defaults.fg);
        let mut bg = rgb(cell.bg, defaults.bg);
        let m = cell.modifier;
        if m.contains(Modifier::REVERSED) {
            std::mem::swap(&mut fg, &mut bg);
        }
        if m.contains(Modifier::DIM) {
            fg = blend(fg, bg);
        }
        if m.contains(Modifier::HIDDEN) {
            fg = bg;
        }
        Look {
            fg,
            bg,
            bold: m.contains(Modifier::BOLD),
            underline: m.contains(Modifier::UNDERLINED),
        }
    }
}

fn blend(a: Rgb, b: Rgb) -> Rgb {
    let mix = |x: u8, y: u8| ((u16::from(x) + u16::from(y)) / 2) as u8;
    [mix(a[0], b[0]), mix(a[1], b[1]), mix(a[2], b[2])]
}

/// xterm's default RGB for the 16 ANSI colours, in index order.
pub(crate) const ANSI: [Rgb; 16] = [
    [0, 0, 0],
    [205, 0, 0],
    [0, 205, 0],
    [205, 205, 0],
    [0, 0, 238],
    [205, 0, 205],
    [0, 205, 205],
    [229, 229, 229],
    [127, 127, 127],
    [255, 0, 0],
    [0, 255, 0],
    [255, 255, 0],
    [92, 92, 255],
    [255, 0, 255],
    [0, 255, 255],
    [255, 255, 255],
];

/// The 16 ANSI colours as ratatui names them, in index order.
pub(crate) const ANSI_NAMES: [Color; 16] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Gray,
    Color::DarkGray,
    Color::LightRed,
    Color::LightGreen,
    Color::LightYellow,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
    Color::White,
];

/// `color` as RGB; `Reset` is `default`.
pub fn rgb(color: Color, default: Rgb) -> Rgb {
    match color {
        Color::Reset => default,
        Color::Rgb(r, g, b) => [r, g, b],
        Color::Indexed(i) => xterm256(i),
        named => ANSI_NAMES
            .iter()
            .position(|&c| c == named)
            .map_or(default, |i| ANSI[i]),
    }
}

/// The six levels of each channel in the xterm 6x6x6 cube (indices 16..=231).
pub(crate) const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// The RGB of an xterm-256 index: 16 system colours, a 6x6x6 cube, a 24-step grey ramp.
pub(crate) fn xterm256(index: u8) -> Rgb {
    match index {
        0..=15 => ANSI[usize::from(index)],
        16..=231 => {
            let i = usize::from(index - 16);
            [CUBE[i / 36], CUBE[i / 6 % 6], CUBE[i % 6]]
        }
        _ => {
            let v = 8 + 10 * (index - 232);
            [v, v, v]
        }
    }
}

/// Columns a character takes on a terminal: 2 for East Asian wide and emoji, else 1.
/// Enough to skip the cell a wide character covers; the buffer already laid them out.
fn char_width(c: char) -> u16 {
    let wide = matches!(u32::from(c),
        0x1100..=0x115f | 0x2e80..=0x303e | 0x3041..=0x33ff | 0x3400..=0x4dbf
        | 0x4e00..=0x9fff | 0xa000..=0xa4cf | 0xac00..=0xd7a3 | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f | 0xff00..=0xff60 | 0xffe0..=0xffe6 | 0x1f300..=0x1f64f
        | 0x1f900..=0x1f9ff | 0x20000..=0x3fffd);
    if wide { 2 } else { 1 }
}

/// The cells of one row that show something, with their column: the cell a wide
/// character covers is left out.
fn row_cells(buffer: &Buffer, y: u16) -> impl Iterator<Item = (u16, &Cell)> {
    let area = buffer.area;
    let mut covered = 0u16;
    (area.left()..area.right()).filter_map(move |x| {
        if covered > 0 {
            covered -= 1;
            return None;
        }
        let cell = buffer.cell((x, y))?;
        let width = cell.symbol().chars().next().map_or(1, char_width);
        covered = width.saturating_sub(1);
        Some((x - area.left(), cell))
    })
}

/// The screen as text: one line per row, trailing spaces trimmed.
pub fn to_text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        for (_, cell) in row_cells(buffer, y) {
            line.push_str(cell.symbol());
        }
        out.push_str(line.trim_end_matches(' '));
        out.push('\n');
    }
    out
}

/// Writes `stem.txt`, `stem.svg` and `stem.png` into `dir` (created if missing); returns
/// the paths written.
/// Where `ctrl-s` saves the screen when no directory is named: the XDG data dir
/// (`~/.local/share/wheelhouse/screens`), never the current directory.
pub fn default_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "wheelhouse")
        .map(|d| d.data_dir().join("screens"))
        .unwrap_or_else(|| std::env::temp_dir().join("wheelhouse-screens"))
}

pub fn write_all(
    buffer: &Buffer,
    defaults: &Defaults,
    dir: &Path,
    stem: &str,
) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let png = to_png(buffer, defaults).map_err(std::io::Error::other)?;
    let files = [
        ("txt", to_text(buffer).into_bytes()),
        ("svg", to_svg(buffer, defaults).into_bytes()),
        ("png", png),
    ];
    let mut written = Vec::new();
    for (ext, bytes) in files {
        let path = dir.join(format!("{stem}.{ext}"));
        std::fs::write(&path, bytes)?;
        written.push(path);
    }
    Ok(written)
}

/// Reads a `tmux capture-pane -e -p` capture of a `width` x `height` screen from `input`
/// and writes it as `write_all` does.
pub fn export_ansi_file(
    input: &Path,
    width: u16,
    height: u16,
    defaults: &Defaults,
    dir: &Path,
    stem: &str,
) -> std::io::Result<Vec<PathBuf>> {
    let bytes = std::fs::read(input)?;
    let buffer = buffer_from_ansi(&String::from_utf8_lossy(&bytes), width, height);
    write_all(&buffer, defaults, dir, stem)
}
