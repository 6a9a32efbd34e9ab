//! Configuration: wheelhouse.toml, XDG paths, environment, validation with file:line:col.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

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
    /// An error at byte offset `span.start` of `source` (the whole file's text).
    pub fn at(path: &Path, source: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        let (line, col) = line_col(source, span.start);
        FileError {
            path: path.to_owned(),
            line,
            col,
            message: message.into(),
        }
    }

    /// A TOML parse or type error, located by its span (line 1 when toml gives none).
    pub fn from_toml(path: &Path, source: &str, err: &toml::de::Error) -> Self {
        let span = err.span().unwrap_or(0..0);
        FileError::at(path, source, span, err.message().trim().to_owned())
    }

    /// An error about the file as a whole (unreadable, missing).
    pub fn whole(path: &Path, message: impl Into<String>) -> Self {
        FileError {
            path: path.to_owned(),
            line: 1,
            col: 1,
            message: message.into(),
        }
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
    std::fs::read_to_string(path).map_err(|e| FileError::whole(path, format!("cannot read: {e}")))
}
