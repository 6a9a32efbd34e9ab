//! Screen export from a real run: the cockpit on a lab in tmux, the pane captured with its
//! colour sequences (`capture-pane -e`), read back and written as text, SVG and PNG.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};
use wheelhouse::lab::TestLab;
use wheelhouse::tui::export::{Defaults, buffer_from_ansi, to_text, write_all};

mod common;

use common::lab::BIN;
use common::tmux::Tmux;

const WIDTH: u16 = 100;
const HEIGHT: u16 = 30;

#[test]
fn a_real_screen_exports_with_its_colours() {
    let lab = TestLab::up(3).expect("lab up");
    let log = lab.config_path().with_file_name("export.log");
    let pane = Tmux::running(
        "export",
        WIDTH,
        HEIGHT,
        &[&format!(
            "env TERM=tmux-256color COLORTERM=truecolor {BIN} --config {} --log-file {}",
            lab.config_path().display(),
            log.display()
        )],
    );
    let start = Instant::now();
    let capture = loop {
        let capture = pane.capture();
        let text = to_text(&buffer_from_ansi(&capture, WIDTH, HEIGHT));
        if text.contains("3/3") && text.contains("lab-3") && text.contains("CPU") {
            break capture;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "cockpit never showed 3/3 hosts:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(capture.contains("\x1b["), "capture has no colour sequences");

    let buffer = buffer_from_ansi(&capture, WIDTH, HEIGHT);
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_all(&buffer, &Defaults::DARK, dir.path(), "grid").expect("export");
    assert_eq!(written.len(), 3);

    let text = std::fs::read_to_string(dir.path().join("grid.txt")).expect("grid.txt");
    assert!(!text.contains('\x1b'), "escape left in the text:\n{text}");
    assert_eq!(text.lines().count(), usize::from(HEIGHT));
    assert!(text.contains("lab-1") && text.contains("lab-2"), "{text}");

    // The default theme's `ok` is green: idle hosts' cells are green in both pictures.
    let green = [0u8, 205, 0];
    let svg = std::fs::read_to_string(dir.path().join("grid.svg")).expect("grid.svg");
    assert!(svg.contains("fill=\"#00cd00\""), "no green in the SVG");
    assert!(svg.contains("lab-1"), "host names are SVG text");

    let png = std::fs::read(dir.path().join("grid.png")).expect("grid.png");
    let decoder = png::Decoder::new(std::io::Cursor::new(&png));
    let mut reader = decoder.read_info().expect("a valid PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("one frame");
    assert_eq!(
        (info.width, info.height),
        (u32::from(WIDTH) * 8, u32::from(HEIGHT) * 16)
    );
    let green_pixels = pixels.chunks_exact(3).filter(|px| *px == green).count();
    // A host cell is at least 18 columns of 8x16 pixels, mostly background.
    assert!(
        green_pixels > 18 * 8 * 16,
        "only {green_pixels} green pixels"
    );
}
