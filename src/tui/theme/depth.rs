//! How many colours the terminal shows, and mapping a theme's colours down to that:
//! RGB → nearest xterm-256 index → nearest of the 16 ANSI colours → none at all.

use crate::tui::export::{ANSI, ANSI_NAMES, CUBE, Rgb, xterm256};
use ratatui::style::Color;

/// The colours a terminal can show, richest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColorDepth {
    TrueColor,
    Ansi256,
    Ansi16,
    /// No colour: NO_COLOR is set or the terminal is dumb. Modifiers only.
    None,
}

impl ColorDepth {
    /// From the environment, read through `env` so it is testable: NO_COLOR (set and
    /// non-empty, per no-color.org) wins, then a dumb TERM, then COLORTERM=truecolor|24bit,
    /// then TERM=*-256color; any other terminal (screen, tmux, xterm, linux...) gets 16.
    pub fn detect(env: impl Fn(&str) -> Option<String>) -> ColorDepth {
        if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return ColorDepth::None;
        }
        let term = env("TERM").unwrap_or_default().to_ascii_lowercase();
        if term == "dumb" {
            return ColorDepth::None;
        }
        let colorterm = env("COLORTERM").unwrap_or_default().to_ascii_lowercase();
        if colorterm == "truecolor" || colorterm == "24bit" || term.ends_with("-direct") {
            return ColorDepth::TrueColor;
        }
        if term.ends_with("256color") {
            return ColorDepth::Ansi256;
        }
        ColorDepth::Ansi16
    }

    /// Richer depths rank higher; mapping down twice keeps the poorer one.
    pub(super) fn rank(self) -> u8 {
        match self {
            ColorDepth::TrueColor => 3,
            ColorDepth::Ansi256 => 2,
            ColorDepth::Ansi16 => 1,
            ColorDepth::None => 0,
        }
    }

    /// `color` as this depth can show it. `Reset` (the terminal's own colour) stays.
    pub fn map(self, color: Color) -> Color {
        match (self, color) {
            (ColorDepth::TrueColor, c) => c,
            (ColorDepth::None, _) => Color::Reset,
            (ColorDepth::Ansi256, Color::Rgb(r, g, b)) => Color::Indexed(rgb_to_256(r, g, b)),
            (ColorDepth::Ansi256, c) => c,
            (ColorDepth::Ansi16, Color::Rgb(r, g, b)) => ansi16(rgb_to_256(r, g, b)),
            (ColorDepth::Ansi16, Color::Indexed(i)) => ansi16(i),
            (ColorDepth::Ansi16, c) => c,
        }
    }
}

/// The nearest colour of the cube or the grey ramp (232..=255), whichever is closer.
/// The 16 system colours are skipped: terminals let users redefine them.
pub fn rgb_to_256(r: u8, g: u8, b: u8) -> u8 {
    let level = |v: u8| {
        (0..CUBE.len())
            .min_by_key(|&i| CUBE[i].abs_diff(v))
            .unwrap_or(0)
    };
    let (ri, gi, bi) = (level(r), level(g), level(b));
    let cube = [CUBE[ri], CUBE[gi], CUBE[bi]];
    let cube_index = 16 + 36 * ri + 6 * gi + bi;
    // The grey ramp runs 8, 18, ..., 238.
    let mean = (u32::from(r) + u32::from(g) + u32::from(b)) / 3;
    let step = (mean.saturating_sub(3) / 10).min(23);
    let grey_value = (8 + 10 * step) as u8;
    let grey = [grey_value; 3];
    let index = if distance([r, g, b], grey) < distance([r, g, b], cube) {
        232 + step as usize
    } else {
        cube_index
    };
    // 16 + 36*5 + 6*5 + 5 = 231 and 232 + 23 = 255, so the index always fits.
    u8::try_from(index).unwrap_or(u8::MAX)
}

/// The nearest of the 16 ANSI colours to an xterm-256 index.
pub fn ansi16(index: u8) -> Color {
    if index < 16 {
        return ANSI_NAMES[usize::from(index)];
    }
    let rgb = xterm256(index);
    let nearest = (0..ANSI.len())
        .min_by_key(|&i| distance(rgb, ANSI[i]))
        .unwrap_or(0);
    ANSI_NAMES[nearest]
}

/// Squared RGB distance.
fn distance(a: Rgb, b: Rgb) -> u32 {
    let d = |x: u8, y: u8| u32::from(x.abs_diff(y)).pow(2);
    d(a[0], b[0]) + d(a[1], b[1]) + d(a[2], b[2])
}

#[cfg(test)]
mod tests;
