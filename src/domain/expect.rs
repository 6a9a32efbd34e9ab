//! What a file of the invalid-input folders (tests/configs/invalid, tests/specs/invalid)
//! says its error must be: its first line reads `# expect LINE:COL [words]`, 0:0 meaning
//! any place (the error may name another file, such as a missing theme). Shared by the
//! unit tests that parse such files and the tests that run the binary over them, so both
//! read the folders the same way.

use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// "LINE:COL", or None for any position.
    position: Option<String>,
    words: Vec<String>,
}

impl Expected {
    /// The expectation a file's text opens with.
    pub fn of(path: &Path, text: &str) -> Result<Expected, String> {
        let line = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect "));
        let line = line.ok_or_else(|| format!("{}: no '# expect' line", path.display()))?;
        let mut parts = line.split_whitespace();
        let position = parts
            .next()
            .ok_or_else(|| format!("{}: '# expect' without a position", path.display()))?;
        Ok(Expected {
            position: (position != "0:0").then(|| position.to_owned()),
            words: parts.map(str::to_owned).collect(),
        })
    }

    /// Whether an error as shown (`path:line:col: message`) meets the expectation.
    pub fn check(&self, path: &Path, shown: &str) -> Result<(), String> {
        if let Some(position) = &self.position {
            let located = format!("{}:{position}:", path.display());
            if !shown.contains(&located) {
                return Err(format!("want {located} in: {shown}"));
            }
        }
        match self.words.iter().find(|w| !shown.contains(w.as_str())) {
            Some(word) => Err(format!("{}: want {word:?} in: {shown}", path.display())),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_and_words_must_all_show() {
        let path = Path::new("bad.toml");
        let e = Expected::of(path, "# expect 3:7 port range\nx = 1\n").expect("parses");
        assert!(e.check(path, "bad.toml:3:7: port out of range").is_ok());
        assert!(e.check(path, "bad.toml:3:8: port out of range").is_err());
        assert!(e.check(path, "bad.toml:3:7: port too big").is_err());
        let any = Expected::of(path, "# expect 0:0 cannot\n").expect("parses");
        assert!(any.check(path, "bad.toml:1:1: cannot read").is_ok());
        assert!(any.check(path, "other.toml:1:1: cannot read").is_ok());
        assert!(any.check(path, "bad.toml:1:1: unreadable").is_err());
        assert!(Expected::of(path, "x = 1\n").is_err());
    }
}
