//! Reads a terminal capture with SGR colour sequences (`tmux capture-pane -e -p`) back
//! into a `Buffer`, so screenshots of the real binary go through the same exporter.

use super::ANSI_NAMES;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

/// A `width` x `height` buffer holding `text`: one line per row, SGR sequences (`ESC [ ...
/// m`) applied as styles, any other escape sequence skipped. Lines and rows past the
/// screen are cut; missing ones stay blank.
pub fn buffer_from_ansi(text: &str, width: u16, height: u16) -> Buffer {
    let mut buffer = Buffer::empty(Rect::new(0, 0, width, height));
    let mut style = Style::reset();
    for (y, line) in (0..height).zip(text.split('\n')) {
        let mut x = 0u16;
        let mut run = String::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\x1b' {
                if c != '\r' {
                    run.push(c);
                }
                continue;
            }
            x = flush(&mut buffer, x, y, &mut run, style);
            match chars.next() {
                Some('[') => {
                    let mut params = String::new();
                    let mut last = None;
                    for p in chars.by_ref() {
                        // A CSI sequence ends with a byte in @..~.
                        if ('@'..='~').contains(&p) {
                            last = Some(p);
                            break;
                        }
                        params.push(p);
                    }
                    if last == Some('m') {
                        style = apply_sgr(style, &params);
                    }
                }
                // OSC: up to BEL or ESC \.
                Some(']') => {
                    while let Some(p) = chars.next() {
                        if p == '\x07' || (p == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                // Two-byte escapes and charset selection (ESC ( B): skip the next byte.
                Some('(' | ')') => {
                    chars.next();
                }
                _ => {}
            }
        }
        flush(&mut buffer, x, y, &mut run, style);
    }
    buffer
}

/// Writes `run` at (x, y) and returns the column after it.
fn flush(buffer: &mut Buffer, x: u16, y: u16, run: &mut String, style: Style) -> u16 {
    if run.is_empty() || x >= buffer.area.width {
        run.clear();
        return x;
    }
    let (end, _) = buffer.set_stringn(x, y, run.as_str(), usize::MAX, style);
    run.clear();
    end
}

/// `style` after the SGR parameters `params` (`1;38;5;2`); unknown ones are ignored.
fn apply_sgr(mut style: Style, params: &str) -> Style {
    // Both `38;5;n` and the ITU form `38:5:n` occur.
    let nums: Vec<Option<u16>> = params
        .split([';', ':'])
        .map(|p| {
            if p.is_empty() {
                Some(0)
            } else {
                p.parse().ok()
            }
        })
        .collect();
    let mut i = 0;
    while i < nums.len() {
        let Some(n) = nums[i] else {
            i += 1;
            continue;
        };
        i += 1;
        match n {
            0 => style = Style::reset(),
            1 => style = style.add_modifier(Modifier::BOLD),
            2 => style = style.add_modifier(Modifier::DIM),
            3 => style = style.add_modifier(Modifier::ITALIC),
            4 => style = style.add_modifier(Modifier::UNDERLINED),
            5 | 6 => style = style.add_modifier(Modifier::SLOW_BLINK),
            7 => style = style.add_modifier(Modifier::REVERSED),
            8 => style = style.add_modifier(Modifier::HIDDEN),
            9 => style = style.add_modifier(Modifier::CROSSED_OUT),
            22 => style = style.remove_modifier(Modifier::BOLD | Modifier::DIM),
            23 => style = style.remove_modifier(Modifier::ITALIC),
            24 => style = style.remove_modifier(Modifier::UNDERLINED),
            25 => style = style.remove_modifier(Modifier::SLOW_BLINK),
            27 => style = style.remove_modifier(Modifier::REVERSED),
            28 => style = style.remove_modifier(Modifier::HIDDEN),
            29 => style = style.remove_modifier(Modifier::CROSSED_OUT),
            30..=37 => style = style.fg(named(n - 30)),
            39 => style = style.fg(Color::Reset),
            40..=47 => style = style.bg(named(n - 40)),
            49 => style = style.bg(Color::Reset),
            90..=97 => style = style.fg(named(n - 90 + 8)),
            100..=107 => style = style.bg(named(n - 100 + 8)),
            38 | 48 => {
                let (color, used) = extended(&nums[i..]);
                i += used;
                if let Some(color) = color {
                    style = if n == 38 {
                        style.fg(color)
                    } else {
                        style.bg(color)
                    };
                }
            }
            _ => {}
        }
    }
    style
}

fn named(index: u16) -> Color {
    ANSI_NAMES
        .get(usize::from(index))
        .copied()
        .unwrap_or(Color::Reset)
}

/// The colour after `38`/`48`: `5;n` or `2;r;g;b`, and how many parameters it took.
fn extended(rest: &[Option<u16>]) -> (Option<Color>, usize) {
    let byte = |i: usize| {
        rest.get(i)
            .copied()
            .flatten()
            .and_then(|v| u8::try_from(v).ok())
    };
    match rest.first().copied().flatten() {
        Some(5) => (byte(1).map(Color::Indexed), 2),
        Some(2) => match (byte(1), byte(2), byte(3)) {
            (Some(r), Some(g), Some(b)) => (Some(Color::Rgb(r, g, b)), 4),
            _ => (None, rest.len()),
        },
        _ => (None, rest.len()),
    }
}
