use super::*;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

fn buffer(lines: &[&str]) -> Buffer {
    Buffer::with_lines(lines.iter().copied())
}

/// (width, height) from the IHDR chunk, which follows the 8-byte signature.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
    (be(16), be(20))
}

/// Every pixel as RGB, decoded with the png crate.
fn decode(png: &[u8]) -> (u32, Vec<u8>) {
    let decoder = ::png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("valid png");
    let mut data = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut data).expect("a frame");
    assert_eq!(info.color_type, ::png::ColorType::Rgb);
    data.truncate(info.buffer_size());
    (info.width, data)
}

fn pixel(data: &[u8], width: u32, x: u32, y: u32) -> Rgb {
    let i = ((y * width + x) * 3) as usize;
    [data[i], data[i + 1], data[i + 2]]
}

#[test]
fn text_is_the_rows_with_trailing_blanks_trimmed() {
    let buf = buffer(&["ab  ", " ✓ c", "    "]);
    assert_eq!(to_text(&buf), "ab\n ✓ c\n\n");
}

#[test]
fn text_skips_the_cell_a_wide_character_covers() {
    let mut buf = Buffer::empty(Rect::new(0, 0, 4, 1));
    buf.set_string(0, 0, "界x", Style::default());
    assert_eq!(to_text(&buf), "界x\n");
}

#[test]
fn colours_map_named_indexed_rgb_and_reset() {
    let d = Defaults::DARK;
    assert_eq!(rgb(Color::Red, d.fg), [205, 0, 0]);
    assert_eq!(rgb(Color::White, d.fg), [255, 255, 255]);
    assert_eq!(rgb(Color::Indexed(1), d.fg), [205, 0, 0]);
    assert_eq!(rgb(Color::Indexed(196), d.fg), [255, 0, 0]);
    assert_eq!(rgb(Color::Indexed(244), d.fg), [128, 128, 128]);
    assert_eq!(rgb(Color::Rgb(1, 2, 3), d.fg), [1, 2, 3]);
    assert_eq!(rgb(Color::Reset, d.bg), d.bg);
}

#[test]
fn defaults_follow_the_theme_text_colour() {
    let dark = Theme::load("default").expect("built-in");
    assert_eq!(Defaults::for_theme(&dark), Defaults::DARK);
    let light = Theme::load("light").expect("built-in");
    assert_eq!(Defaults::for_theme(&light).bg, Defaults::LIGHT.bg);
}

/// Tags opened minus tags closed, ignoring self-closing ones and the XML text.
fn tag_balance(svg: &str) -> i32 {
    let mut depth = 0;
    for part in svg.split('<').skip(1) {
        let tag = part.split('>').next().unwrap_or("");
        if tag.starts_with('/') {
            depth -= 1;
        } else if !tag.ends_with('/') {
            depth += 1;
        }
        assert!(depth >= 0, "closing tag before its opening: <{tag}>");
    }
    depth
}

#[test]
fn svg_is_balanced_and_escapes_markup() {
    let buf = buffer(&["a<b & c>d \"q\""]);
    let svg = to_svg(&buf, &Defaults::DARK);
    assert!(svg.starts_with("<svg "), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(tag_balance(&svg), 0, "{svg}");
    assert!(svg.contains("a&lt;b &amp; c&gt;d &quot;q&quot;"), "{svg}");
    assert!(!svg.contains("a<b"));
}

#[test]
fn svg_has_the_cell_colours_and_merges_runs() {
    let mut buf = Buffer::empty(Rect::new(0, 0, 12, 2));
    buf.set_string(
        0,
        0,
        "okok",
        Style::default().fg(Color::Green).bg(Color::Blue),
    );
    buf.set_string(
        4,
        0,
        "hot",
        Style::default().fg(Color::Rgb(0x12, 0x34, 0x56)),
    );
    buf.set_string(
        0,
        1,
        "sel",
        Style::default()
            .fg(Color::Indexed(196))
            .add_modifier(Modifier::REVERSED | Modifier::BOLD),
    );
    let svg = to_svg(&buf, &Defaults::DARK);
    // The four green-on-blue cells are one background rectangle and one text run.
    assert_eq!(svg.matches("fill=\"#0000ee\"").count(), 1, "{svg}");
    assert!(svg.contains("fill=\"#00cd00\">okok</text>"), "{svg}");
    assert!(svg.contains("fill=\"#123456\">hot</text>"), "{svg}");
    // Reversed: red background, the default background as text colour, bold.
    assert!(svg.contains("fill=\"#ff0000\"/>"), "{svg}");
    assert!(
        svg.contains("fill=\"#1c1c1c\" class=\"b\">sel</text>"),
        "{svg}"
    );
    // The default background is drawn once, not per cell.
    assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
}

#[test]
fn png_has_the_signature_and_the_grid_size() {
    let buf = buffer(&["hello", "world", "!    "]);
    let png = to_png(&buf, &Defaults::DARK).expect("encodes");
    assert_eq!(png_size(&png), (5 * 8, 3 * 16));
}

#[test]
fn png_cells_show_their_colours_and_glyphs() {
    let mut buf = Buffer::empty(Rect::new(0, 0, 4, 1));
    buf.set_string(0, 0, " ", Style::default().bg(Color::Red));
    buf.set_string(1, 0, " ", Style::default().bg(Color::Rgb(0, 0, 200)));
    buf.set_string(2, 0, "█", Style::default().fg(Color::Green));
    let (width, data) = decode(&to_png(&buf, &Defaults::DARK).expect("encodes"));
    assert_eq!(pixel(&data, width, 4, 8), [205, 0, 0]);
    assert_eq!(pixel(&data, width, 12, 8), [0, 0, 200]);
    assert_eq!(pixel(&data, width, 20, 8), [0, 205, 0]);
    assert_eq!(pixel(&data, width, 28, 8), Defaults::DARK.bg);
}

#[test]
fn png_glyphs_differ_and_box_lines_reach_the_cell_edges() {
    let buf = buffer(&["AB─│✓▲"]);
    let (width, data) = decode(&to_png(&buf, &Defaults::DARK).expect("encodes"));
    let cell = |col: u32| -> Vec<Rgb> {
        (0..16)
            .flat_map(|y| (0..8).map(move |x| (x, y)))
            .map(|(x, y)| pixel(&data, width, col * 8 + x, y))
            .collect()
    };
    let cells: Vec<_> = (0..6).map(cell).collect();
    for i in 0..cells.len() {
        assert!(cells[i].contains(&Defaults::DARK.fg), "cell {i} is blank");
        for j in i + 1..cells.len() {
            assert_ne!(cells[i], cells[j], "cells {i} and {j} look alike");
        }
    }
    // ─ touches both side edges, │ the top and bottom ones.
    let lit = |x: u32, y: u32| pixel(&data, width, x, y) == Defaults::DARK.fg;
    assert!(lit(16, 7) && lit(23, 7));
    assert!(lit(27, 0) && lit(27, 15));
}

#[test]
fn ansi_capture_becomes_a_styled_buffer() {
    let text = "\x1b[1m\x1b[38;5;2mok\x1b[0m \x1b[38;2;1;2;3;48;5;17mrgb\x1b[39;49m x\n\
                \x1b[7mrev\x1b[27m\x1b[41mbg\x1b[49m\x1b[94mhi\x1b[0m\n";
    let buf = buffer_from_ansi(text, 10, 3);
    assert_eq!(to_text(&buf), "ok rgb x\nrevbghi\n\n");
    let at = |x: u16, y: u16| &buf[(x, y)];
    assert_eq!(at(0, 0).fg, Color::Indexed(2));
    assert!(at(0, 0).modifier.contains(Modifier::BOLD));
    assert_eq!(at(2, 0).fg, Color::Reset);
    assert!(!at(2, 0).modifier.contains(Modifier::BOLD));
    assert_eq!(at(3, 0).fg, Color::Rgb(1, 2, 3));
    assert_eq!(at(3, 0).bg, Color::Indexed(17));
    assert_eq!(at(7, 0).fg, Color::Reset);
    assert_eq!(at(7, 0).bg, Color::Reset);
    assert!(at(0, 1).modifier.contains(Modifier::REVERSED));
    assert!(!at(3, 1).modifier.contains(Modifier::REVERSED));
    assert_eq!(at(3, 1).bg, Color::Red);
    assert_eq!(at(5, 1).fg, Color::LightBlue);
    assert_eq!(at(5, 1).bg, Color::Reset);
}

#[test]
fn ansi_style_carries_over_lines_and_long_lines_are_cut() {
    let text = "\x1b[31mred\nstill red and far too long\x1b]0;title\x07";
    let buf = buffer_from_ansi(text, 5, 2);
    assert_eq!(to_text(&buf), "red\nstill\n");
    assert_eq!(buf[(0, 1)].fg, Color::Red);
}

#[test]
fn ansi_ignores_malformed_sequences() {
    let text = "\x1b[38;5mA\x1b[38;2;999;0;0mB\x1b[?25lC\x1b(BD\x1b";
    let buf = buffer_from_ansi(text, 6, 1);
    assert_eq!(to_text(&buf), "ABCD\n");
}

#[test]
fn ansi_capture_of_the_real_cockpit_exports() {
    let capture = include_str!("../../../tests/fixtures/cockpit-capture.ansi");
    let buf = buffer_from_ansi(capture, 120, 32);
    let text = to_text(&buf);
    assert!(text.contains("wheelhouse"), "{text}");
    assert!(!text.contains('\x1b'), "{text}");
    let coloured = buf.content.iter().filter(|c| c.bg != Color::Reset).count();
    assert!(coloured > 10, "only {coloured} cells with a background");
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_all(&buf, &Defaults::DARK, dir.path(), "grid").expect("writes");
    let names: Vec<_> = written
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .collect();
    assert_eq!(names, ["grid.txt", "grid.svg", "grid.png"]);
    let png = std::fs::read(dir.path().join("grid.png")).expect("png written");
    assert_eq!(png_size(&png), (120 * 8, 32 * 16));
    let txt = std::fs::read_to_string(dir.path().join("grid.txt")).expect("txt written");
    assert_eq!(txt, text);
}
