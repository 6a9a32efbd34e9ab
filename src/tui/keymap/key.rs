//! One key with its modifiers: parsed from keymap text, matched against terminal events.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;

/// A normalised key: characters carry their own case (no SHIFT), ctrl letters are lower
/// case, and shift-tab is `BackTab`, so the file's text and the terminal's events compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    mods: KeyModifiers,
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("space", KeyCode::Char(' ')),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
];

const MODIFIERS: &[(&str, KeyModifiers)] = &[
    ("ctrl-", KeyModifiers::CONTROL),
    ("alt-", KeyModifiers::ALT),
    ("shift-", KeyModifiers::SHIFT),
];

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c.to_ascii_lowercase())
            }
            KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(single_upper(c))
            }
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    /// The key a terminal event stands for.
    pub fn from_event(event: KeyEvent) -> Key {
        Key::new(event.code, event.modifiers)
    }

    /// A key press event for this key (macros replay keys as events).
    pub fn event(self) -> KeyEvent {
        KeyEvent::new(self.code, self.mods)
    }

    /// Parses keymap syntax: `q`, `G`, `enter`, `f5`, `ctrl-c`, `alt-shift-up`.
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut rest = text;
        let mut mods = KeyModifiers::NONE;
        'prefixes: loop {
            for (prefix, m) in MODIFIERS {
                // "-" and "ctrl--" name the minus key itself.
                let lower = rest.get(..prefix.len()).map(str::to_ascii_lowercase);
                if lower.as_deref() == Some(prefix) && rest.len() > prefix.len() {
                    mods |= *m;
                    rest = &rest[prefix.len()..];
                    continue 'prefixes;
                }
            }
            break;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (None, _) => return Err("empty key".to_owned()),
            (Some(c), None) => KeyCode::Char(c),
            _ => named(rest).ok_or_else(|| {
                format!(
                    "unknown key `{text}`: use one character, a name ({}, f1..f12) or a ctrl-/alt-/shift- prefix",
                    NAMED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                )
            })?,
        };
        if let KeyCode::Char(c) = code
            && c.is_control()
        {
            return Err(format!(
                "`{}` is a control character; name the key instead",
                c.escape_default()
            ));
        }
        Ok(Key::new(code, mods))
    }
}

fn named(name: &str) -> Option<KeyCode> {
    let name = name.to_ascii_lowercase();
    if let Some((_, code)) = NAMED.iter().find(|(n, _)| *n == name) {
        return Some(*code);
    }
    let n: u8 = name.strip_prefix('f')?.parse().ok()?;
    (1..=12).contains(&n).then_some(KeyCode::F(n))
}

/// Upper case of a character that has a one-character upper case, else itself.
fn single_upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// One binding: a key, or keys pressed one after another (`"g g"`, `"ctrl-x ctrl-c"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeySeq(Vec<Key>);

impl KeySeq {
    /// Space-separated keys; a lone `" "` is the space key itself.
    pub fn parse(text: &str) -> Result<KeySeq, String> {
        if text.trim().is_empty() {
            return Key::parse(text).map(|k| KeySeq(vec![k]));
        }
        let keys = text
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(Key::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(KeySeq(keys))
    }

    pub fn keys(&self) -> &[Key] {
        &self.0
    }

    pub(super) fn from_keys(keys: Vec<Key>) -> KeySeq {
        KeySeq(keys)
    }
}

impl fmt::Display for KeySeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{key}")?;
        }
        Ok(())
    }
}

/// Written back in keymap syntax, so help shows exactly what the file says.
impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (prefix, m) in MODIFIERS {
            if self.mods.contains(*m) {
                f.write_str(prefix)?;
            }
        }
        if let Some((name, _)) = NAMED.iter().find(|(_, code)| *code == self.code) {
            return f.write_str(name);
        }
        match self.code {
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyEventKind, KeyEventState};

    fn event(code: KeyCode, mods: KeyModifiers) -> Key {
        Key::from_event(KeyEvent {
            code,
            modifiers: mods,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        })
    }

    #[test]
    fn parses_chars_names_function_keys_and_modifiers() {
        let ok = |s: &str| Key::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(ok("q"), event(KeyCode::Char('q'), KeyModifiers::NONE));
        assert_eq!(ok("?"), event(KeyCode::Char('?'), KeyModifiers::SHIFT));
        assert_eq!(ok("G"), event(KeyCode::Char('G'), KeyModifiers::SHIFT));
        assert_eq!(ok("shift-g"), ok("G"));
        assert_eq!(ok("Enter"), event(KeyCode::Enter, KeyModifiers::NONE));
        assert_eq!(ok("pagedown"), event(KeyCode::PageDown, KeyModifiers::NONE));
        assert_eq!(ok("f12"), event(KeyCode::F(12), KeyModifiers::NONE));
        assert_eq!(
            ok("ctrl-c"),
            event(KeyCode::Char('c'), KeyModifiers::CONTROL)
        );
        assert_eq!(ok("CTRL-C"), ok("ctrl-c"));
        assert_eq!(
            ok("ctrl-alt-d"),
            event(
                KeyCode::Char('d'),
                KeyModifiers::CONTROL | KeyModifiers::ALT
            )
        );
        assert_eq!(ok("shift-up"), event(KeyCode::Up, KeyModifiers::SHIFT));
        assert_eq!(
            ok("shift-tab"),
            event(KeyCode::BackTab, KeyModifiers::SHIFT)
        );
        assert_eq!(ok("-"), event(KeyCode::Char('-'), KeyModifiers::NONE));
        assert_eq!(
            ok("ctrl--"),
            event(KeyCode::Char('-'), KeyModifiers::CONTROL)
        );
        assert_eq!(ok("space"), ok(" "));
        assert_ne!(ok("g"), ok("G"));
    }

    #[test]
    fn rejects_unknown_names_and_bad_function_keys() {
        for bad in ["", "pgup", "f0", "f13", "ctrl-", "hyper-x", "\t"] {
            assert!(Key::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn sequences_parse_and_display_with_spaces() {
        let seq = KeySeq::parse("g  g").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(seq.keys().len(), 2);
        assert_eq!(seq.to_string(), "g g");
        let one = KeySeq::parse(" ").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(one.to_string(), "space");
        assert_eq!(
            KeySeq::parse("ctrl-x ctrl-c").map(|s| s.to_string()),
            Ok("ctrl-x ctrl-c".to_owned())
        );
        assert!(KeySeq::parse("g pgup").is_err());
    }

    #[test]
    fn displays_in_keymap_syntax() {
        for text in [
            "q", "G", "enter", "ctrl-c", "alt-up", "f5", "backtab", "space", "shift-up",
        ] {
            let key = Key::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(key.to_string(), text);
        }
    }
}
