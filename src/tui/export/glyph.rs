//! 8x16 bitmaps for every character the PNG export draws: ASCII from the font table,
//! box drawing and block elements as lines and fills reaching the cell edges (so borders
//! join), and the cockpit's symbols (✓ ▲ ✖ ↓ ▶ ◆ ●...) as simple geometric shapes.

use super::font::ASCII;

/// Rows of a cell, top first; bit 7 is the leftmost pixel.
pub type Bitmap = [u8; 16];

const W: usize = 8;
const H: usize = 16;
/// The centre lines box-drawing strokes run along.
const MID_X: usize = 3;
const MID_Y: usize = 7;

/// The bitmap for `c`; an unknown character is a hollow box, a blank is empty.
pub fn bitmap(c: char) -> Bitmap {
    if let Some(i) = (c as usize).checked_sub(0x20).filter(|&i| i < ASCII.len()) {
        return ASCII[i];
    }
    if c.is_whitespace() {
        return [0; H];
    }
    box_drawing(c)
        .or_else(|| block(c))
        .or_else(|| shape(c))
        .unwrap_or_else(|| {
            paint(|x, y| {
                (1.0..=7.0).contains(&x)
                    && (3.0..=13.0).contains(&y)
                    && !((2.0..=6.0).contains(&x) && (4.0..=12.0).contains(&y))
            })
        })
}

/// Stroke weights of a box-drawing character's four arms (left, right, up, down):
/// 0 none, 1 light, 2 heavy, 3 double. Rounded corners are drawn square.
fn arms(c: char) -> Option<[u8; 4]> {
    Some(match c {
        '─' | '┄' | '┈' | '╌' => [1, 1, 0, 0],
        '━' | '┅' | '┉' | '╍' => [2, 2, 0, 0],
        '│' | '┆' | '┊' | '╎' => [0, 0, 1, 1],
        '┃' | '┇' | '┋' | '╏' => [0, 0, 2, 2],
        '┌' | '╭' => [0, 1, 0, 1],
        '┐' | '╮' => [1, 0, 0, 1],
        '└' | '╰' => [0, 1, 1, 0],
        '┘' | '╯' => [1, 0, 1, 0],
        '├' => [0, 1, 1, 1],
        '┤' => [1, 0, 1, 1],
        '┬' => [1, 1, 0, 1],
        '┴' => [1, 1, 1, 0],
        '┼' => [1, 1, 1, 1],
        '┏' => [0, 2, 0, 2],
        '┓' => [2, 0, 0, 2],
        '┗' => [0, 2, 2, 0],
        '┛' => [2, 0, 2, 0],
        '┣' => [0, 2, 2, 2],
        '┫' => [2, 0, 2, 2],
        '┳' => [2, 2, 0, 2],
        '┻' => [2, 2, 2, 0],
        '╋' => [2, 2, 2, 2],
        '═' => [3, 3, 0, 0],
        '║' => [0, 0, 3, 3],
        '╔' => [0, 3, 0, 3],
        '╗' => [3, 0, 0, 3],
        '╚' => [0, 3, 3, 0],
        '╝' => [3, 0, 3, 0],
        '╠' => [0, 3, 3, 3],
        '╣' => [3, 0, 3, 3],
        '╦' => [3, 3, 0, 3],
        '╩' => [3, 3, 3, 0],
        '╬' => [3, 3, 3, 3],
        '╴' => [1, 0, 0, 0],
        '╵' => [0, 0, 1, 0],
        '╶' => [0, 1, 0, 0],
        '╷' => [0, 0, 0, 1],
        '╸' => [2, 0, 0, 0],
        '╹' => [0, 0, 2, 0],
        '╺' => [0, 2, 0, 0],
        '╻' => [0, 0, 0, 2],
        _ => return None,
    })
}

/// Offsets from the centre line of the parallel strokes of a weight.
fn strokes(weight: u8) -> &'static [isize] {
    match weight {
        1 => &[0],
        2 => &[0, 1],
        3 => &[-2, 2],
        _ => &[],
    }
}

fn box_drawing(c: char) -> Option<Bitmap> {
    let [left, right, up, down] = arms(c)?;
    let mut rows = [0u8; H];
    let mut set = |x: isize, y: isize| {
        if let (Ok(x), Ok(y)) = (usize::try_from(x), usize::try_from(y))
            && x < W
            && y < H
        {
            rows[y] |= 0x80 >> x;
        }
    };
    let (mx, my) = (MID_X as isize, MID_Y as isize);
    for (weight, xs) in [(left, 0..=mx), (right, mx..=W as isize - 1)] {
        for &d in strokes(weight) {
            for x in xs.clone() {
                set(x, my + d);
            }
        }
    }
    for (weight, ys) in [(up, 0..=my), (down, my..=H as isize - 1)] {
        for &d in strokes(weight) {
            for y in ys.clone() {
                set(mx + d, y);
            }
        }
    }
    Some(rows)
}

/// Block elements: halves, eighths and shades.
fn block(c: char) -> Option<Bitmap> {
    let code = u32::from(c);
    let eighths = |n: u32| n as f32 * 2.0;
    Some(match code {
        0x2580 => paint(|_, y| y < 8.0),
        // ▁..█: the lower n eighths.
        0x2581..=0x2588 => paint(|_, y| y >= 16.0 - eighths(code - 0x2580)),
        // ▉..▏: the left 7..1 eighths.
        0x2589..=0x258f => paint(|x, _| x < (0x2590 - code) as f32),
        0x2590 => paint(|x, _| x >= 4.0),
        0x2591..=0x2593 => {
            let keep = code - 0x2590; // 1, 2 or 3 quarters lit
            paint(move |x, y| ((x as u32) + 2 * (y as u32 % 2)) % 4 < keep)
        }
        0x2594 => paint(|_, y| y < 2.0),
        0x2595 => paint(|x, _| x >= 7.0),
        _ => return None,
    })
}

/// Symbols as shapes around the cell's centre.
fn shape(c: char) -> Option<Bitmap> {
    let (cx, cy) = (4.0, 8.5);
    let ellipse = move |x: f32, y: f32, r: f32| (x - cx).powi(2) + (y - cy).powi(2) <= r * r;
    Some(match c {
        '✓' | '✔' | '√' => paint(|x, y| {
            near(x, y, (1.0, 9.0), (3.0, 12.0), 0.9) || near(x, y, (3.0, 12.0), (7.0, 4.0), 0.9)
        }),
        '✗' | '✘' | '✕' | '✖' | '×' => {
            let w = if c == '✖' { 1.2 } else { 0.9 };
            paint(move |x, y| {
                near(x, y, (1.0, 5.0), (7.0, 12.0), w) || near(x, y, (7.0, 5.0), (1.0, 12.0), w)
            })
        }
        '▲' | '▴' | '△' => {
            paint(move |x, y| (4.0..=12.0).contains(&y) && (x - cx).abs() <= (y - 4.0) / 2.0)
        }
        '▼' | '▾' | '▽' => {
            paint(move |x, y| (5.0..=13.0).contains(&y) && (x - cx).abs() <= (13.0 - y) / 2.0)
        }
        '▶' | '▸' | '►' => paint(move |x, y| x >= 1.0 && (y - cy).abs() <= (7.5 - x) * 0.7),
        '◀' | '◂' | '◄' => paint(move |x, y| x <= 7.0 && (y - cy).abs() <= (x - 0.5) * 0.7),
        '◆' | '♦' => paint(move |x, y| (x - cx).abs() / 3.6 + (y - cy).abs() / 5.0 <= 1.0),
        '◇' => paint(move |x, y| {
            let d = (x - cx).abs() / 3.6 + (y - cy).abs() / 5.0;
            (0.6..=1.0).contains(&d)
        }),
        '●' | '⬤' => paint(move |x, y| ellipse(x, y, 3.6)),
        '○' | '◯' => paint(move |x, y| ellipse(x, y, 3.6) && !ellipse(x, y, 2.4)),
        '•' | '∙' => paint(move |x, y| ellipse(x, y, 2.0)),
        '·' => paint(move |x, y| ellipse(x, y, 1.2)),
        '■' => paint(|x, y| (1.0..7.0).contains(&x) && (5.0..12.0).contains(&y)),
        '□' => paint(|x, y| {
            (1.0..7.0).contains(&x)
                && (5.0..12.0).contains(&y)
                && !((2.0..6.0).contains(&x) && (6.0..11.0).contains(&y))
        }),
        '↑' => paint(move |x, y| {
            near(x, y, (cx, 4.0), (cx, 13.0), 0.6)
                || near(x, y, (cx, 4.0), (1.0, 7.5), 0.6)
                || near(x, y, (cx, 4.0), (7.0, 7.5), 0.6)
        }),
        '↓' => paint(move |x, y| {
            near(x, y, (cx, 4.0), (cx, 13.0), 0.6)
                || near(x, y, (cx, 13.0), (1.0, 9.5), 0.6)
                || near(x, y, (cx, 13.0), (7.0, 9.5), 0.6)
        }),
        '→' => paint(move |x, y| {
            near(x, y, (0.5, cy), (7.5, cy), 0.6)
                || near(x, y, (7.5, cy), (4.5, 5.5), 0.6)
                || near(x, y, (7.5, cy), (4.5, 11.5), 0.6)
        }),
        '←' => paint(move |x, y| {
            near(x, y, (0.5, cy), (7.5, cy), 0.6)
                || near(x, y, (0.5, cy), (3.5, 5.5), 0.6)
                || near(x, y, (0.5, cy), (3.5, 11.5), 0.6)
        }),
        '…' => paint(|x, y| {
            [1.5, 4.0, 6.5]
                .iter()
                .any(|&dx| (x - dx).powi(2) + (y - 11.5).powi(2) <= 0.8)
        }),
        '—' | '―' => paint(|_, y| (8.0..9.0).contains(&y)),
        '–' | '‒' => paint(|x, y| (1.0..7.0).contains(&x) && (8.0..9.0).contains(&y)),
        '±' => paint(move |x, y| {
            near(x, y, (cx, 4.0), (cx, 10.0), 0.5)
                || near(x, y, (1.0, 7.0), (7.0, 7.0), 0.5)
                || near(x, y, (1.0, 12.0), (7.0, 12.0), 0.5)
        }),
        _ => return None,
    })
}

/// Lights the pixels whose centres satisfy `inside`.
fn paint(inside: impl Fn(f32, f32) -> bool) -> Bitmap {
    let mut rows = [0u8; H];
    for (y, row) in rows.iter_mut().enumerate() {
        for x in 0..W {
            if inside(x as f32 + 0.5, y as f32 + 0.5) {
                *row |= 0x80 >> x;
            }
        }
    }
    rows
}

/// Whether (x, y) is within `w` of the segment from `a` to `b`.
fn near(x: f32, y: f32, a: (f32, f32), b: (f32, f32), w: f32) -> bool {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((x - a.0) * dx + (y - a.1) * dy) / len2).clamp(0.0, 1.0)
    };
    let (px, py) = (a.0 + t * dx, a.1 + t * dy);
    (x - px).powi(2) + (y - py).powi(2) <= w * w
}
