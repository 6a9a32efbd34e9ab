//! Colours, text modifiers, load thresholds and state glyphs. The built-in themes
//! (themes/*.toml) are compiled in and chosen by name; any other name is a theme file read
//! over the default one. A broken file is an error with file:line:col, never a silent
//! fallback. `for_depth` maps the colours down to what the terminal can show.

mod depth;
mod parse;

pub use depth::ColorDepth;

use crate::cluster::HostState;
use crate::domain::Load;
use crate::domain::Thresholds;
use crate::domain::{FileError, read_file};
use ratatui::style::{Color, Modifier, Style};
use std::path::{Path, PathBuf};

/// The built-in themes, by the name `Theme::load` takes.
const NAMES: &[&str] = &["default", "light", "high-contrast", "solarized", "mono"];

fn builtin_source(name: &str) -> Option<&'static str> {
    Some(match name {
        "default" => include_str!("../../themes/default.toml"),
        "light" => include_str!("../../themes/light.toml"),
        "high-contrast" => include_str!("../../themes/high-contrast.toml"),
        "solarized" => include_str!("../../themes/solarized.toml"),
        "mono" => include_str!("../../themes/mono.toml"),
        _ => return None,
    })
}

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

/// Text attributes per state and for the selection, so states and the selection still
/// read where there is no colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modifiers {
    pub ok: Modifier,
    pub warn: Modifier,
    pub critical: Modifier,
    pub offline: Modifier,
    pub unknown: Modifier,
    /// Added to the selected grid cell.
    pub selected: Modifier,
    /// Added to the selected row of a table.
    pub selected_row: Modifier,
    pub status_bar: Modifier,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub palette: Palette,
    pub thresholds: Thresholds,
    pub glyphs: Glyphs,
    pub modifiers: Modifiers,
    /// The file it was read from, watched for live reload; `None` for a built-in theme.
    source: Option<PathBuf>,
    /// The colour depth it was mapped down to, applied again on reload.
    depth: ColorDepth,
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

    /// The state's key in a theme file's [palette], [glyphs] and [modifiers].
    pub fn key(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Critical => "critical",
            Level::Offline => "offline",
            Level::Unknown => "unknown",
        }
    }
}

impl Theme {
    /// The names `load` takes for the built-in themes.
    pub fn builtin_names() -> &'static [&'static str] {
        NAMES
    }

    /// A built-in theme by name, or else a theme file read over the default theme. A
    /// built-in name wins over a file of the same name (write `./light` for the file).
    pub fn load(name_or_path: &str) -> Result<Theme, FileError> {
        if let Some(source) = builtin_source(name_or_path) {
            return Theme::builtin(name_or_path, source);
        }
        Theme::from_file(Path::new(name_or_path))
    }

    /// A theme file read over the default theme; remembers the path for `reload`.
    fn from_file(path: &Path) -> Result<Theme, FileError> {
        let source = read_file(path).map_err(|e| {
            if path.exists() {
                e
            } else {
                let names = NAMES.join(", ");
                let msg = format!("no such theme file, nor a built-in theme (those are: {names})");
                FileError::whole(path, msg)
            }
        })?;
        let mut theme = Theme::parse(path, &source)?;
        theme.source = Some(path.to_owned());
        Ok(theme)
    }

    /// A theme file's text, read over the built-in default theme.
    pub fn parse(path: &Path, source: &str) -> Result<Theme, FileError> {
        parse::apply(Theme::default_theme(), path, source, false)
    }

    /// The built-in default theme (its parse is tested, so the plain fallback is never used).
    pub fn default_theme() -> Theme {
        builtin_source("default")
            .and_then(|source| Theme::builtin("default", source).ok())
            .unwrap_or_else(Theme::plain)
    }

    /// Built-in files name every key, so none silently inherits from another theme.
    fn builtin(name: &str, source: &str) -> Result<Theme, FileError> {
        let path = PathBuf::from(format!("themes/{name}.toml (built-in)"));
        parse::apply(Theme::plain(), &path, source, true)
    }

    /// The file this theme was read from: the event loop watches it and calls `reload`.
    pub fn source_path(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// The theme file read again and mapped to the same colour depth, or `None` for a
    /// built-in theme. A broken file is an error; the caller keeps the old theme.
    pub fn reload(&self) -> Option<Result<Theme, FileError>> {
        let path = self.source.as_deref()?;
        Some(Theme::from_file(path).map(|t| t.for_depth(self.depth)))
    }

    /// Every colour mapped down to what a terminal of `depth` shows. Without colour,
    /// reverse video takes over where a background colour marked something (the
    /// selected row, the status bar); the selected cell and state glyphs need no colour.
    pub fn for_depth(mut self, depth: ColorDepth) -> Theme {
        if depth.rank() >= self.depth.rank() {
            return self;
        }
        let p = &mut self.palette;
        if depth == ColorDepth::None {
            if p.selected != Color::Reset {
                self.modifiers.selected_row |= Modifier::REVERSED;
            }
            if p.status_bar != Color::Reset {
                self.modifiers.status_bar |= Modifier::REVERSED;
            }
        }
        for color in [
            &mut p.ok,
            &mut p.warn,
            &mut p.critical,
            &mut p.offline,
            &mut p.unknown,
            &mut p.cell_text,
            &mut p.selected,
            &mut p.selected_text,
            &mut p.border,
            &mut p.text,
            &mut p.muted,
            &mut p.title,
            &mut p.status_bar,
            &mut p.status_text,
        ] {
            *color = depth.map(*color);
        }
        self.depth = depth;
        self
    }

    /// The depth the colours were mapped to (`TrueColor` when never mapped).
    pub fn depth(&self) -> ColorDepth {
        self.depth
    }

    /// The base the built-in files are read over; they must name every key.
    fn plain() -> Theme {
        let c = Color::Reset;
        let none = Modifier::empty();
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
            modifiers: Modifiers {
                ok: none,
                warn: none,
                critical: none,
                offline: none,
                unknown: none,
                selected: Modifier::REVERSED | Modifier::BOLD,
                selected_row: Modifier::REVERSED | Modifier::BOLD,
                status_bar: Modifier::REVERSED,
            },
            source: None,
            depth: ColorDepth::TrueColor,
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

    /// The state's text attributes, which carry it where colour does not.
    pub fn modifier(&self, level: Level) -> Modifier {
        let m = &self.modifiers;
        match level {
            Level::Ok => m.ok,
            Level::Warn => m.warn,
            Level::Critical => m.critical,
            Level::Offline => m.offline,
            Level::Unknown => m.unknown,
        }
    }

    /// A grid cell's style (the state colour behind the cell text) and glyph.
    pub fn cell(&self, level: Level) -> (Style, char) {
        let style = Style::new()
            .fg(self.palette.cell_text)
            .bg(self.color(level))
            .add_modifier(self.modifier(level));
        (style, self.glyph(level))
    }

    /// `cell` for a host's load and state.
    pub fn style_for_load(&self, load: Option<Load>, state: &HostState) -> (Style, char) {
        self.cell(self.level(load, state))
    }

    /// The selected grid cell (reversed and bold in every built-in theme), on top of the
    /// marker glyph.
    pub fn selected_cell(&self, level: Level) -> Style {
        self.cell(level).0.add_modifier(self.modifiers.selected)
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
            .add_modifier(self.modifiers.selected_row)
    }

    pub fn status_bar(&self) -> Style {
        Style::new()
            .fg(self.palette.status_text)
            .bg(self.palette.status_bar)
            .add_modifier(self.modifiers.status_bar)
    }

    /// A level's colour as text, for words outside the grid (tables, status bar).
    pub fn level_text(&self, level: Level) -> Style {
        Style::new()
            .fg(self.color(level))
            .add_modifier(self.modifier(level))
    }
}

#[cfg(test)]
mod tests;
