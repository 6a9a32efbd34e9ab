//! Colours, load thresholds and state glyphs, from `themes/default.toml` (compiled in) and an
//! optional user file read over it. A broken file is an error with file:line:col, never a
//! silent fallback.

use crate::config::{FileError, read_file};
use crate::model::{HostState, Load};
use crate::tui::tomlfile::{Doc, unknown};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;
use toml::de::DeValue;

const BUILTIN: &str = include_str!("../../themes/default.toml");
const BUILTIN_PATH: &str = "themes/default.toml (built-in)";

/// The semantic palette: what a colour means, not which colour it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Palette {
    pub ok: Color,
    pub warn: Color,
    pub critical: Color,
    pub offline: Color,
    pub unknown: Color,
    pub cell_text: Color,
    pub selected: Color,
    pub selected_text: Color,
    pub border: Color,
    pub text: Color,
    pub muted: Color,
    pub title: Color,
    pub status_bar: Color,
    pub status_text: Color,
}

/// Load percentages where a host turns warn and critical.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub warn: f64,
    pub critical: f64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glyphs {
    pub ok: char,
    pub warn: char,
    pub critical: char,
    pub offline: char,
    pub unknown: char,
    pub selected: char,
    pub selected_column: char,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub palette: Palette,
    pub thresholds: Thresholds,
    pub glyphs: Glyphs,
}

/// A host's state as the grid shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Critical,
    Offline,
    Unknown,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Ok,
        Level::Warn,
        Level::Critical,
        Level::Offline,
        Level::Unknown,
    ];

    /// Short text for the state, shown next to the glyph where there is room.
    pub fn label(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Critical => "crit",
            Level::Offline => "down",
            Level::Unknown => "unknown",
        }
    }
}

type PaletteField = fn(&mut Palette) -> &mut Color;
const PALETTE: &[(&str, PaletteField)] = &[
    ("ok", |p| &mut p.ok),
    ("warn", |p| &mut p.warn),
    ("critical", |p| &mut p.critical),
    ("offline", |p| &mut p.offline),
    ("unknown", |p| &mut p.unknown),
    ("cell_text", |p| &mut p.cell_text),
    ("selected", |p| &mut p.selected),
    ("selected_text", |p| &mut p.selected_text),
    ("border", |p| &mut p.border),
    ("text", |p| &mut p.text),
    ("muted", |p| &mut p.muted),
    ("title", |p| &mut p.title),
    ("status_bar", |p| &mut p.status_bar),
    ("status_text", |p| &mut p.status_text),
];

type GlyphField = fn(&mut Glyphs) -> &mut char;
const GLYPHS: &[(&str, GlyphField)] = &[
    ("ok", |g| &mut g.ok),
    ("warn", |g| &mut g.warn),
    ("critical", |g| &mut g.critical),
    ("offline", |g| &mut g.offline),
    ("unknown", |g| &mut g.unknown),
    ("selected", |g| &mut g.selected),
    ("selected_column", |g| &mut g.selected_column),
];

const THRESHOLDS: &[&str] = &["warn", "critical"];
const SECTIONS: &[&str] = &["palette", "thresholds", "glyphs"];

impl Theme {
    /// "default" is the built-in theme; anything else is a path to a theme file.
    pub fn load(name_or_path: &str) -> Result<Theme, FileError> {
        if name_or_path == "default" {
            return Theme::builtin();
        }
        let path = Path::new(name_or_path);
        let source = read_file(path)?;
        Theme::parse(path, &source)
    }

    /// A theme file's text, read over the built-in theme.
    pub fn parse(path: &Path, source: &str) -> Result<Theme, FileError> {
        apply(Theme::default_theme(), path, source, false)
    }

    /// The built-in theme (its parse is tested, so this never needs the plain fallback).
    pub fn default_theme() -> Theme {
        Theme::builtin().unwrap_or_else(|_| Theme::plain())
    }

    fn builtin() -> Result<Theme, FileError> {
        apply(Theme::plain(), Path::new(BUILTIN_PATH), BUILTIN, true)
    }

    /// The base the built-in file is read over; it must name every key.
    fn plain() -> Theme {
        let c = Color::Reset;
        Theme {
            palette: Palette {
                ok: c,
                warn: c,
                critical: c,
                offline: c,
                unknown: c,
                cell_text: c,
                selected: c,
                selected_text: c,
                border: c,
                text: c,
                muted: c,
                title: c,
                status_bar: c,
                status_text: c,
            },
            thresholds: Thresholds {
                warn: 70.0,
                critical: 90.0,
            },
            glyphs: Glyphs {
                ok: 'o',
                warn: '!',
                critical: 'X',
                offline: 'v',
                unknown: '?',
                selected: '>',
                selected_column: 'v',
            },
        }
    }

    /// Ok/warn/critical by load score for a host that reports figures; offline and
    /// unknown by state. An online host without figures yet counts as unknown.
    pub fn level(&self, load: Option<Load>, state: &HostState) -> Level {
        match (state, load) {
            (HostState::Offline { .. }, _) => Level::Offline,
            (HostState::Unknown, _) | (HostState::Online, None) => Level::Unknown,
            (HostState::Online, Some(load)) => {
                let score = load.score();
                if score >= self.thresholds.critical {
                    Level::Critical
                } else if score >= self.thresholds.warn {
                    Level::Warn
                } else {
                    Level::Ok
                }
            }
        }
    }

    pub fn color(&self, level: Level) -> Color {
        let p = &self.palette;
        match level {
            Level::Ok => p.ok,
            Level::Warn => p.warn,
            Level::Critical => p.critical,
            Level::Offline => p.offline,
            Level::Unknown => p.unknown,
        }
    }

    pub fn glyph(&self, level: Level) -> char {
        let g = &self.glyphs;
        match level {
            Level::Ok => g.ok,
            Level::Warn => g.warn,
            Level::Critical => g.critical,
            Level::Offline => g.offline,
            Level::Unknown => g.unknown,
        }
    }

    /// A grid cell's style (the state colour behind the cell text) and glyph.
    pub fn cell(&self, level: Level) -> (Style, char) {
        let style = Style::new()
            .fg(self.palette.cell_text)
            .bg(self.color(level));
        (style, self.glyph(level))
    }

    /// `cell` for a host's load and state.
    pub fn style_for_load(&self, load: Option<Load>, state: &HostState) -> (Style, char) {
        self.cell(self.level(load, state))
    }

    /// The selected grid cell: reversed and bold, on top of the marker glyph.
    pub fn selected_cell(&self, level: Level) -> Style {
        self.cell(level)
            .0
            .add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    pub fn text(&self) -> Style {
        Style::new().fg(self.palette.text)
    }

    pub fn muted(&self) -> Style {
        Style::new().fg(self.palette.muted)
    }

    pub fn title(&self) -> Style {
        Style::new()
            .fg(self.palette.title)
            .add_modifier(Modifier::BOLD)
    }

    pub fn border(&self) -> Style {
        Style::new().fg(self.palette.border)
    }

    /// The selected row of a table.
    pub fn selected_row(&self) -> Style {
        Style::new()
            .fg(self.palette.selected_text)
            .bg(self.palette.selected)
            .add_modifier(Modifier::BOLD)
    }

    pub fn status_bar(&self) -> Style {
        Style::new()
            .fg(self.palette.status_text)
            .bg(self.palette.status_bar)
    }

    /// Foreground-only style for a level, for text outside the grid (tables, status bar).
    pub fn level_text(&self, level: Level) -> Style {
        Style::new().fg(self.color(level))
    }
}

/// Reads `source` over `theme`. `complete` demands every key (for the built-in file).
fn apply(mut theme: Theme, path: &Path, source: &str, complete: bool) -> Result<Theme, FileError> {
    let doc = Doc::parse(path, source)?;
    let mut seen: Vec<String> = Vec::new();
    // Where the file set a threshold: a warn/critical mismatch is reported there.
    let mut threshold_span: Option<Range<usize>> = None;
    for (key, value) in doc.root.iter() {
        let section = key.get_ref().as_ref();
        if !SECTIONS.contains(&section) {
            return Err(doc.error(key.span(), unknown("section", section, SECTIONS)));
        }
        let table = doc.table(section, value)?;
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            let bad_key = || {
                let what = format!("key in [{section}]");
                doc.error(key.span(), unknown(&what, name, keys(section)))
            };
            match section {
                "palette" => {
                    let (_, field) = PALETTE
                        .iter()
                        .find(|(n, _)| *n == name)
                        .ok_or_else(bad_key)?;
                    *field(&mut theme.palette) = color(&doc, name, value)?;
                }
                "glyphs" => {
                    let (_, field) = GLYPHS
                        .iter()
                        .find(|(n, _)| *n == name)
                        .ok_or_else(bad_key)?;
                    *field(&mut theme.glyphs) = glyph(&doc, name, value)?;
                }
                _ => {
                    let slot = match name {
                        "warn" => &mut theme.thresholds.warn,
                        "critical" => &mut theme.thresholds.critical,
                        _ => return Err(bad_key()),
                    };
                    let n = doc.number(name, value)?;
                    if !(0.0..=100.0).contains(&n) {
                        let msg = format!("`{name}` must be a percentage in 0..=100, not {n}");
                        return Err(doc.error(value.span(), msg));
                    }
                    *slot = n;
                    // Keys come sorted by name, not by position: keep the first in the file.
                    let span = value.span();
                    if threshold_span.as_ref().is_none_or(|s| span.start < s.start) {
                        threshold_span = Some(span);
                    }
                }
            }
            seen.push(format!("{section}.{name}"));
        }
    }
    let t = theme.thresholds;
    if t.warn >= t.critical {
        let msg = format!(
            "thresholds.warn ({}) must be below thresholds.critical ({})",
            t.warn, t.critical
        );
        return Err(doc.error(threshold_span.unwrap_or(0..0), msg));
    }
    if complete {
        for section in SECTIONS {
            for name in keys(section) {
                if !seen.contains(&format!("{section}.{name}")) {
                    return Err(doc.error(0..0, format!("missing key `{name}` in [{section}]")));
                }
            }
        }
    }
    Ok(theme)
}

/// The valid key names of a section.
fn keys(section: &str) -> Vec<&'static str> {
    match section {
        "palette" => PALETTE.iter().map(|(n, _)| *n).collect(),
        "glyphs" => GLYPHS.iter().map(|(n, _)| *n).collect(),
        _ => THRESHOLDS.to_vec(),
    }
}

fn color(doc: &Doc<'_>, name: &str, value: &Spanned<DeValue<'_>>) -> Result<Color, FileError> {
    let text = doc.string(name, value)?;
    text.parse::<Color>().map_err(|_| {
        doc.error(
            value.span(),
            format!("`{text}` is not a colour: use a name like \"green\" or \"dark_gray\", \"#rrggbb\", or 0..255"),
        )
    })
}

fn glyph(doc: &Doc<'_>, name: &str, value: &Spanned<DeValue<'_>>) -> Result<char, FileError> {
    let text = doc.string(name, value)?;
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if !c.is_control() && Span::raw(text).width() == 1 => Ok(c),
        _ => Err(doc.error(
            value.span(),
            format!("glyph `{name}` must be one character one column wide, not {text:?}"),
        )),
    }
}

#[cfg(test)]
mod tests;
