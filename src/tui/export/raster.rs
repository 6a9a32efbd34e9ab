//! The screen as a PNG: each cell 8x16 pixels, its background filled and its character
//! drawn from the built-in bitmaps. Readable rather than pretty; no font on the machine
//! is needed.

use super::glyph::{self, Bitmap};
use super::{Defaults, Look, Rgb, char_width, row_cells};
use ratatui::buffer::Buffer;

pub const CELL_W: usize = 8;
pub const CELL_H: usize = 16;

/// The PNG file for `buffer`; `Reset` colours come from `defaults`.
pub fn to_png(buffer: &Buffer, defaults: &Defaults) -> Result<Vec<u8>, png::EncodingError> {
    let area = buffer.area;
    let (cols, rows) = (usize::from(area.width), usize::from(area.height));
    let (w, h) = (cols * CELL_W, rows * CELL_H);
    let mut pixels = Pixels {
        data: [defaults.bg].repeat(w * h).concat(),
        width: w,
    };
    for (row, y) in (area.top()..area.bottom()).enumerate() {
        for (x, cell) in row_cells(buffer, y) {
            let look = Look::of(cell, defaults);
            let c = cell.symbol().chars().next().unwrap_or(' ');
            let span = usize::from(char_width(c));
            let (left, top) = (usize::from(x) * CELL_W, row * CELL_H);
            pixels.fill(left, top, span * CELL_W, CELL_H, look.bg);
            pixels.draw(left, top, &styled(glyph::bitmap(c), &look), look.fg);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(
        &mut out,
        u32::try_from(w).unwrap_or(u32::MAX),
        u32::try_from(h).unwrap_or(u32::MAX),
    );
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels.data)?;
    writer.finish()?;
    Ok(out)
}

/// Bold smears each row one pixel right; underline lights the second row from the bottom.
fn styled(mut bitmap: Bitmap, look: &Look) -> Bitmap {
    if look.bold {
        for row in &mut bitmap {
            *row |= *row >> 1;
        }
    }
    if look.underline {
        bitmap[CELL_H - 2] = 0xff;
    }
    bitmap
}

/// An RGB image, row-major, 3 bytes per pixel.
struct Pixels {
    data: Vec<u8>,
    width: usize,
}

impl Pixels {
    fn put(&mut self, x: usize, y: usize, color: Rgb) {
        let i = (y * self.width + x) * 3;
        if let Some(px) = self.data.get_mut(i..i + 3) {
            px.copy_from_slice(&color);
        }
    }

    fn fill(&mut self, left: usize, top: usize, w: usize, h: usize, color: Rgb) {
        for y in top..top + h {
            for x in left..(left + w).min(self.width) {
                self.put(x, y, color);
            }
        }
    }

    fn draw(&mut self, left: usize, top: usize, bitmap: &Bitmap, color: Rgb) {
        for (dy, row) in bitmap.iter().enumerate() {
            for dx in 0..CELL_W {
                if row & (0x80 >> dx) != 0 {
                    self.put(left + dx, top + dy, color);
                }
            }
        }
    }
}
