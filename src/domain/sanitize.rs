//! The one way text from the cluster or from a file reaches a terminal: escape sequences
//! (CSI, OSC, DCS, SOS, PM, APC, and the short ESC ones) are dropped whole, every other
//! control character (C0 but tab, DEL, C1) and every bidi override or isolate becomes
//! U+FFFD, so a hostile label cannot clear, retitle or reorder the operator's screen.
//! One pass over the text, so a megabyte costs a megabyte.

use std::borrow::Cow;

/// What a control character or a bidi override is shown as.
pub const REPLACEMENT: char = '\u{fffd}';

/// `text` made safe to print; borrowed when it was safe already.
pub fn clean(text: &str) -> Cow<'_, str> {
    let Some(at) = text.find(needs_care) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..at]);
    let mut state = State::Text;
    for c in text[at..].chars() {
        state = step(state, c, &mut out);
    }
    Cow::Owned(out)
}

/// Like `clean`, but line breaks stay: for text of several lines (an error with its
/// causes, a command's whole output).
pub fn clean_lines(text: &str) -> Cow<'_, str> {
    if !text.contains(|c| c != '\n' && needs_care(c)) {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(clean).collect();
    Cow::Owned(lines.join("\n"))
}

/// Bytes that may not be UTF-8 (a file, an engine's answer): each invalid sequence becomes
/// U+FFFD at its own position, then the text is cleaned.
pub fn clean_bytes(bytes: &[u8]) -> Cow<'_, str> {
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(text) => clean(text),
        Cow::Owned(text) => Cow::Owned(clean(&text).into_owned()),
    }
}

/// The last guard of the screen: ratatui drops graphemes holding C0/C1 controls, and this
/// takes out what it lets through (bidi overrides, DEL in a cluster) from every drawn cell,
/// keeping each cell's width.
pub fn scrub_cells(cells: &mut [ratatui::buffer::Cell]) {
    for cell in cells {
        if cell.symbol().contains(needs_care) {
            let kept: String = cell.symbol().chars().filter(|&c| !needs_care(c)).collect();
            cell.set_symbol(if kept.is_empty() { " " } else { &kept });
        }
    }
}

/// Whether `c` is shown other than as itself.
pub fn needs_care(c: char) -> bool {
    (c.is_control() && c != '\t') || is_bidi_control(c)
}

/// Embeddings, overrides and isolates (U+202A–202E, U+2066–2069) and the invisible marks
/// (LRM, RLM, ALM) that reorder what a terminal shows.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}'
    )
}

/// Where the reader is: in text, or inside an escape sequence being dropped.
#[derive(Clone, Copy)]
enum State {
    Text,
    /// After ESC.
    Esc,
    /// After ESC and one or more intermediate bytes (`ESC ( B`).
    EscIntermediate,
    /// Control Sequence: parameters and intermediates until a final byte.
    Csi,
    /// OSC, DCS, SOS, PM, APC: a string until BEL or ST.
    Str,
    /// ESC inside a string: ST if a backslash follows.
    StrEsc,
}

fn step(state: State, c: char, out: &mut String) -> State {
    match (state, c) {
        (State::Text, '\x1b') => State::Esc,
        (State::Text, '\u{9b}') => State::Csi,
        (State::Text, '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}') => State::Str,
        (State::Text, c) => {
            out.push(if needs_care(c) { REPLACEMENT } else { c });
            State::Text
        }
        (State::Esc, '[') => State::Csi,
        (State::Esc, ']' | 'P' | 'X' | '^' | '_') => State::Str,
        (State::Esc | State::EscIntermediate, ' '..='/') => State::EscIntermediate,
        (State::Esc | State::EscIntermediate, '0'..='~') => State::Text,
        (State::Csi, ' '..='?') => State::Csi,
        (State::Csi, '@'..='~') => State::Text,
        // A sequence cut short by anything else: that character is read as text.
        (State::Esc | State::EscIntermediate | State::Csi, c) => step(State::Text, c, out),
        (State::Str, '\x07' | '\u{9c}') => State::Text,
        (State::Str, '\x1b') => State::StrEsc,
        (State::Str, _) => State::Str,
        (State::StrEsc, '\\') => State::Text,
        // ESC ends the string and starts a sequence of its own.
        (State::StrEsc, c) => step(State::Esc, c, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: char = REPLACEMENT;

    #[test]
    fn hostile_strings_lose_every_control() {
        let table: &[(&str, String)] = &[
            ("plain text", "plain text".into()),
            ("tab\tkept", "tab\tkept".into()),
            ("\x1b[2J\x1b]0;pwned\x07web", "web".into()),
            ("a\x1b[38;5;196mred\x1b[0mb", "aredb".into()),
            ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link".into()),
            ("\x1bP1$r0m\x1b\\after", "after".into()),
            ("\x1b_apc\x1b\\x\x1b^pm\x07y\x1bXsos\u{9c}z", "xyz".into()),
            ("\u{9b}2J\u{9d}0;t\u{9c}c1", "c1".into()),
            ("\u{90}dcs\u{9c}ok", "ok".into()),
            ("\x1bcreset\x1b(Bcharset\x1b7", "resetcharset".into()),
            ("\x1b[2\nJ", format!("{R}J")),
            ("\x1b]0;t\x1b[2Jz", "z".into()),
            ("lone\x1b", "lone".into()),
            (
                "bell\x07cr\rnl\nnul\0del\x7f",
                format!("bell{R}cr{R}nl{R}nul{R}del{R}"),
            ),
            ("c1\u{85}\u{8d}", format!("c1{R}{R}")),
            ("abc\u{202e}fed\u{202c}", format!("abc{R}fed{R}")),
            (
                "\u{2066}\u{2067}\u{2068}\u{2069}\u{200f}",
                format!("{R}{R}{R}{R}{R}"),
            ),
            ("\u{202a}\u{202b}\u{202d}", format!("{R}{R}{R}")),
            ("ünïcödé ✓ 漢字", "ünïcödé ✓ 漢字".into()),
        ];
        for (hostile, want) in table {
            let got = clean(hostile);
            assert_eq!(&got, want, "{hostile:?}");
            assert!(!got.chars().any(needs_care), "{got:?}");
        }
    }

    #[test]
    fn line_breaks_stay_where_asked() {
        assert_eq!(
            clean_lines("a\x1b[2J\nb\r\n\u{202e}c\n"),
            format!("a\nb{R}\n{R}c\n")
        );
        assert!(matches!(clean_lines("a\nb\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn drawn_cells_lose_what_the_terminal_would_act_on() {
        let mut cells = vec![ratatui::buffer::Cell::new("a"); 4];
        cells[1].set_symbol("\u{202e}");
        cells[2].set_symbol("e\u{301}\u{2066}");
        scrub_cells(&mut cells);
        let symbols: Vec<&str> = cells.iter().map(|c| c.symbol()).collect();
        assert_eq!(symbols, ["a", " ", "e\u{301}", "a"]);
    }

    #[test]
    fn safe_text_is_borrowed() {
        assert!(matches!(clean("web-1 nginx:1.27"), Cow::Borrowed(_)));
    }

    #[test]
    fn invalid_utf8_is_replaced_where_it_stands() {
        assert_eq!(clean_bytes(b"ok\xff\xfeend"), format!("ok{R}{R}end"));
        assert_eq!(clean_bytes(b"\xc3(\x1b[2Jx"), format!("{R}(x"));
        assert_eq!(clean_bytes(b"fine"), "fine");
    }

    #[test]
    fn a_megabyte_is_cleaned_in_one_pass() {
        let hostile = "\x1b[2J\x1b]0;pwned\x07ok\u{202e}".repeat(1 << 16);
        assert!(hostile.len() >= 1 << 20);
        let started = std::time::Instant::now();
        let got = clean(&hostile);
        assert_eq!(got, format!("ok{R}").repeat(1 << 16));
        // Nested string openers never recurse deeper than one step.
        let nested = "\x1b]\x1b]".repeat(1 << 19);
        assert_eq!(clean(&nested), "");
        let unterminated = format!("\x1b]{}", "x".repeat(1 << 20));
        assert_eq!(clean(&unterminated), "");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
