//! How a `ctl` verb that prints data prints it: aligned text, or JSON (`-o json`) whose
//! schema README's "ctl output as JSON" describes; and how every mode writes to stdout and
//! stderr without a panic on a closed pipe.

use crate::domain::sanitize;
use serde::Serialize;
use std::io::Write;

/// The safety net for any `println!` a mode still has (the lab's): a reader that went away
/// (`| head`) ends the process quietly, exit 0, rather than with a panic and a backtrace.
pub fn quiet_on_closed_pipe() {
    let inner = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload_as_str().unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        inner(info);
    }));
}

/// Writes `text` to stdout; a reader that went away (`| head`) is not an error.
pub fn emit(text: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `wheelhouse: TEXT` on stderr, cleaned of control characters (it may echo a file or the
/// cluster); a closed stderr is ignored, there is nowhere else to say it.
pub fn say_error(text: &str) {
    let line = format!("wheelhouse: {}\n", sanitize::clean_lines(text));
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Log fields (the message too) as tracing formats them, then cleaned: a log line may
/// quote the cluster (a label, an engine's error), and stderr is a terminal. Only the
/// fields are cleaned, so the log's own colours (level, target) stay.
#[derive(Debug, Default)]
pub struct CleanFields(tracing_subscriber::fmt::format::DefaultFields);

impl<'w> tracing_subscriber::fmt::FormatFields<'w> for CleanFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        mut writer: tracing_subscriber::fmt::format::Writer<'w>,
        fields: R,
    ) -> std::fmt::Result {
        let mut text = String::new();
        self.0.format_fields(
            tracing_subscriber::fmt::format::Writer::new(&mut text),
            fields,
        )?;
        std::fmt::Write::write_str(&mut writer, &sanitize::clean_lines(&text))
    }
}

/// `-o text` (default) or `-o json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// The `--output` flag of the verbs that print data.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct OutputArg {
    /// Output format: aligned text, or one JSON document (schema in README).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

impl OutputArg {
    pub fn json(self) -> bool {
        self.format == Format::Json
    }
}

/// `value` as pretty JSON and a newline. serde_json escapes C0 controls; every other
/// character the sanitizer would not print as itself (DEL, C1, bidi overrides) is written
/// as a `\uXXXX` escape too, so the document reaches a terminal harmless and unaltered.
pub fn json(value: &impl Serialize) -> String {
    let text = serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot encode as JSON: {e}\"}}"));
    let mut out = escape_for_terminal(&text);
    out.push('\n');
    out
}

/// JSON text with every character the sanitizer would not print as itself (but the line
/// breaks between values) written as a `\uXXXX` escape: the same document, harmless.
pub fn escape_for_terminal(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 1);
    for c in json.chars() {
        if sanitize::needs_care(c) && c != '\n' {
            // Each such character is in the Basic Multilingual Plane.
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Left-aligned columns, two spaces apart, the last one unpadded. Every cell is cleaned,
/// so text from the cluster cannot break a row or reach the terminal raw.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|cell| sanitize::clean(&cell).into_owned())
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header = header.iter().map(|h| (*h).to_owned()).collect();
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows) {
        let last = row.len().saturating_sub(1);
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i != last {
                let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the test subscriber's lines go.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_lines_reach_stderr_clean_with_their_colours() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(true)
            .fmt_fields(CleanFields::default())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let label = "\x1b]0;owned\x07\u{9b}2J\u{202e}evil";
            tracing::warn!(label = %label, "engine said {label}");
        });
        let bytes = captured.0.lock().expect("not poisoned").clone();
        let line = String::from_utf8(bytes).expect("UTF-8");
        assert!(line.contains("label=\u{fffd}evil\n"), "{line:?}");
        assert!(!line.contains("\x1b]"), "{line:?}");
        assert!(
            !line.contains('\u{9b}') && !line.contains('\u{202e}'),
            "{line:?}"
        );
        // The level keeps its colour: only cluster text is cleaned.
        assert!(line.contains("\x1b["), "{line:?}");
    }

    #[test]
    fn tables_align_columns() {
        let rows = vec![
            vec!["web".to_owned(), "5".to_owned(), "lab-1".to_owned()],
            vec!["checkout".to_owned(), "12".to_owned(), "-".to_owned()],
        ];
        assert_eq!(
            table(&["APP", "N", "HOSTS"], rows),
            "APP       N   HOSTS\nweb       5   lab-1\ncheckout  12  -\n"
        );
    }

    #[test]
    fn table_cells_cannot_break_rows_or_reach_the_terminal_raw() {
        let rows = vec![vec!["a\nFAKE ROW".to_owned(), "\x1b[2Jx".to_owned()]];
        assert_eq!(
            table(&["A", "B"], rows),
            "A           B\na\u{fffd}FAKE ROW  x\n"
        );
    }

    #[test]
    fn json_escapes_what_a_terminal_would_act_on_and_keeps_the_data() {
        let value = serde_json::json!({ "label": "\x1b[2J\u{9b}\u{202e}\x7f ok" });
        let text = json(&value);
        assert!(
            !text.chars().any(|c| sanitize::needs_care(c) && c != '\n'),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back, value);
    }
}
