//! Files the operator wrote: reading them as text, and errors that name file:line:col and
//! echo no more of the file than a reader needs.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The most characters of one quoted or unbroken piece of a file an error repeats.
pub const MAX_ECHO: usize = 60;
/// The most bytes of one error message, whatever it quotes.
pub const MAX_MESSAGE: usize = 4000;

/// An error in a file the operator wrote: names the file, line and column (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub path: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

impl std::error::Error for FileError {}

impl FileError {
    /// An error at byte offset `span.start` of `source` (the whole file's text). Whatever
    /// the message quotes of the file is cut to `MAX_ECHO` characters (`cap_echoes`).
    pub fn at(path: &Path, source: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        let (line, col) = line_col(source, span.start);
        FileError {
            path: path.to_owned(),
            line,
            col,
            message: cap_echoes(&message.into()),
        }
    }

    /// A TOML parse or type error, located by its span (line 1 when toml gives none).
    pub fn from_toml(path: &Path, source: &str, err: &toml::de::Error) -> Self {
        let span = err.span().unwrap_or(0..0);
        FileError::at(path, source, span, err.message().trim().to_owned())
    }

    /// An error about the file as a whole (unreadable, missing).
    pub fn whole(path: &Path, message: impl Into<String>) -> Self {
        FileError::at(path, "", 0..0, message)
    }
}

#[cfg(test)]
impl FileError {
    /// For tests: the error is at `line:col` of `file`, says so first, and mentions `needle`.
    pub(crate) fn assert_at(&self, file: &str, line: usize, col: usize, needle: &str) {
        assert_eq!((self.line, self.col), (line, col), "{self}");
        assert!(self.message.contains(needle), "{self}");
        let prefix = format!("{file}:{line}:{col}:");
        assert!(self.to_string().starts_with(&prefix), "{self}");
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Reads a file the operator named, or says which file could not be read.
pub fn read_file(path: &Path) -> Result<String, FileError> {
    let bytes =
        std::fs::read(path).map_err(|e| FileError::whole(path, format!("cannot read: {e}")))?;
    decode(path, bytes)
}

/// The file's bytes as text; invalid UTF-8 is an error at the line and column of the first
/// bad byte.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<String, FileError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = std::str::from_utf8(&bytes[..valid]).unwrap_or("");
        let bad = bytes.get(valid).copied().unwrap_or(0);
        FileError::at(
            path,
            before,
            valid..valid,
            format!("invalid UTF-8 (byte 0x{bad:02x}): the file must be UTF-8 text"),
        )
    })
}

/// `text` if it is at most `MAX_ECHO` characters, else its first `MAX_ECHO` and "…".
pub fn excerpt(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(MAX_ECHO) {
        Some((cut, _)) => Cow::Owned(format!("{}…", &text[..cut])),
        None => Cow::Borrowed(text),
    }
}

/// Cuts every piece of `message` that repeats the file — a "quoted" or `quoted` string, or
/// a run without spaces — to `MAX_ECHO` characters and "…", keeping the closing quote, and
/// the whole to `MAX_MESSAGE` bytes: a megabyte key echoes as a line, not a megabyte.
pub fn cap_echoes(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE + 8));
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut run = 0;
    for c in message.chars() {
        // One step adds at most 4 bytes (a character, or '…'): stop before the cap.
        if out.len() + 4 > MAX_MESSAGE {
            out.push('…');
            break;
        }
        let ends_run = match quote {
            Some(_) if escaped => {
                escaped = false;
                false
            }
            Some('"') if c == '\\' => {
                escaped = true;
                false
            }
            Some(q) => c == q,
            None => c.is_whitespace(),
        };
        if ends_run {
            quote = None;
            run = 0;
            out.push(c);
            continue;
        }
        if quote.is_none() && matches!(c, '"' | '`') {
            quote = Some(c);
            run = 0;
            out.push(c);
            continue;
        }
        run += 1;
        if run <= MAX_ECHO {
            out.push(c);
        } else if run == MAX_ECHO + 1 {
            out.push('…');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncdé f", 8), (2, 5));
        assert_eq!(line_col("", 10), (1, 1));
    }

    /// Issue 9 item 7: invalid UTF-8 was reported at 1:1 wherever it was.
    #[test]
    fn invalid_utf8_is_reported_where_it_is() {
        let path = Path::new("w.toml");
        let err =
            decode(path, b"theme = \"x\"\nrefresh = \"2\xffs\"\n".to_vec()).expect_err("invalid");
        err.assert_at("w.toml", 2, 13, "invalid UTF-8 (byte 0xff)");
        let err = decode(path, b"\xc3(".to_vec()).expect_err("invalid");
        err.assert_at("w.toml", 1, 1, "byte 0xc3");
        // A multi-byte character before the bad byte is one column.
        let err = decode(path, "é".bytes().chain([0x80]).collect()).expect_err("invalid");
        err.assert_at("w.toml", 1, 2, "byte 0x80");
        assert_eq!(decode(path, b"ok".to_vec()), Ok("ok".to_owned()));
    }

    #[test]
    fn excerpts_keep_short_text_and_cut_long_text() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(100);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), MAX_ECHO + 1);
        assert!(cut.ends_with('…'));
    }

    /// Issue 9 item 7: a megabyte unknown key was echoed whole.
    #[test]
    fn echoes_are_capped_quoted_or_not() {
        let key = "k".repeat(1 << 20);
        let capped = cap_echoes(&format!("unknown field `{key}`, expected one of `a`, `b`"));
        let want = format!(
            "unknown field `{}…`, expected one of `a`, `b`",
            "k".repeat(60)
        );
        assert_eq!(capped, want);
        let spaced = "a ".repeat(1 << 19);
        let capped = cap_echoes(&format!("name {spaced:?} is bad"));
        assert_eq!(capped, format!("name \"{}…\" is bad", &spaced[..60]));
        let escaped = format!("{:?}", format!("\"{}", "q".repeat(100)));
        let capped = cap_echoes(&format!("x {escaped} y"));
        assert!(capped.ends_with("…\" y"), "{capped}");
        let bare = "b".repeat(1 << 20);
        assert_eq!(
            cap_echoes(&format!("engine {bare} x")),
            format!("engine {}… x", "b".repeat(60))
        );
        let many = "word ".repeat(1 << 18);
        assert!(cap_echoes(&many).len() <= MAX_MESSAGE + '…'.len_utf8());
        // Found by fuzzing (key_script): an ellipsis or a wide character at the cap went
        // past it.
        let wide = format!("x{}", "`é`".repeat(MAX_MESSAGE));
        let cut = format!("`{}`", "y".repeat(MAX_ECHO + 1)).repeat(MAX_MESSAGE);
        assert!(cap_echoes(&cut).len() <= MAX_MESSAGE + '…'.len_utf8());
        let capped = cap_echoes(&wide);
        assert!(
            capped.len() <= MAX_MESSAGE + '…'.len_utf8(),
            "{}",
            capped.len()
        );
        assert!(capped.ends_with('…'));
        let plain = "refresh \"often\" is not a duration like \"2s\"";
        assert_eq!(cap_echoes(plain), plain);
    }

    #[test]
    fn file_errors_cap_what_they_echo() {
        let err = FileError::whole(Path::new("f"), format!("bad {:?}", "z".repeat(5000)));
        assert!(err.message.len() < 100, "{}", err.message);
        assert_eq!((err.line, err.col), (1, 1));
    }
}
