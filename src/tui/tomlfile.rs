//! Walking a spanned TOML document, so every complaint about a theme or keymap file
//! points at the exact line and column.

use crate::domain::FileError;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A file being read: its path (for messages), text, and parsed tree.
pub struct Doc<'s> {
    pub path: PathBuf,
    pub source: &'s str,
    pub root: DeTable<'s>,
}

impl<'s> Doc<'s> {
    pub fn parse(path: &Path, source: &'s str) -> Result<Doc<'s>, FileError> {
        let root = DeTable::parse(source)
            .map_err(|e| FileError::from_toml(path, source, &e))?
            .into_inner();
        Ok(Doc {
            path: path.to_owned(),
            source,
            root,
        })
    }

    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> FileError {
        FileError::at(&self.path, self.source, span, message)
    }

    /// The value as a table, or an error at the value.
    pub fn table<'v>(
        &self,
        key: &str,
        value: &'v Spanned<DeValue<'s>>,
    ) -> Result<&'v DeTable<'s>, FileError> {
        value.get_ref().as_table().ok_or_else(|| {
            self.error(
                value.span(),
                format!(
                    "`{key}` must be a table, not {}",
                    value.get_ref().type_str()
                ),
            )
        })
    }

    /// The value as a string, or an error at the value.
    pub fn string<'v>(
        &self,
        key: &str,
        value: &'v Spanned<DeValue<'s>>,
    ) -> Result<&'v str, FileError> {
        value.get_ref().as_str().ok_or_else(|| {
            self.error(
                value.span(),
                format!(
                    "`{key}` must be a string, not {}",
                    value.get_ref().type_str()
                ),
            )
        })
    }

    /// The value as a number (integer or float), or an error at the value.
    pub fn number(&self, key: &str, value: &Spanned<DeValue<'s>>) -> Result<f64, FileError> {
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|i| i as f64),
            DeValue::Float(f) => f.as_str().parse().ok(),
            _ => None,
        };
        parsed.ok_or_else(|| {
            self.error(
                value.span(),
                format!(
                    "`{key}` must be a number, not {}",
                    value.get_ref().type_str()
                ),
            )
        })
    }
}

/// "unknown key `x`; expected one of a, b, c"
pub fn unknown(
    what: &str,
    name: &str,
    expected: impl IntoIterator<Item = impl AsRef<str>>,
) -> String {
    let expected: Vec<String> = expected
        .into_iter()
        .map(|s| s.as_ref().to_owned())
        .collect();
    format!(
        "unknown {what} `{name}`; expected one of: {}",
        expected.join(", ")
    )
}
