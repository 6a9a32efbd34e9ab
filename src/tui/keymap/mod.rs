//! Keys to Actions, per view, from `keymaps/default.toml` (compiled in) and an optional user
//! file merged over it. Help and the status bar read their key lists from here, so they
//! never drift from what the keys do.

mod key;

pub use key::Key;

use crate::action::Action;
use crate::config::{FileError, read_file};
use crate::model::View;
use crate::tui::tomlfile::{Doc, unknown};
use crossterm::event::{KeyEvent, KeyEventKind};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;

const BUILTIN: &str = include_str!("../../../keymaps/default.toml");
const BUILTIN_PATH: &str = "keymaps/default.toml (built-in)";

/// A keymap file's sections: keys everywhere, and keys per view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Global,
    Grid,
    Host,
}

impl Section {
    pub const ALL: [Section; 3] = [Section::Global, Section::Grid, Section::Host];

    /// The section's name in the file.
    pub fn name(self) -> &'static str {
        match self {
            Section::Global => "global",
            Section::Grid => "grid",
            Section::Host => "host",
        }
    }

    pub fn for_view(view: &View) -> Section {
        match view {
            View::Grid => Section::Grid,
            View::Host(_) => Section::Host,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The active key bindings.
#[derive(Debug, Clone, Default)]
pub struct Keymap {
    /// Per section (by `Section::index`), each action's keys in file order.
    bindings: [BTreeMap<Action, Vec<Key>>; 3],
    lookup: [HashMap<Key, Action>; 3],
}

impl Keymap {
    /// "default" is the built-in keymap; anything else is a path to a file merged over it.
    pub fn load(name_or_path: &str) -> Result<Keymap, FileError> {
        if name_or_path == "default" {
            return Keymap::builtin();
        }
        let path = Path::new(name_or_path);
        let source = read_file(path)?;
        Keymap::parse(path, &source)
    }

    /// A keymap file's text merged over the built-in keymap.
    pub fn parse(path: &Path, source: &str) -> Result<Keymap, FileError> {
        merge(&Keymap::default_keymap(), path, source)
    }

    /// The built-in keymap (its parse is tested, so the empty fallback is never used).
    pub fn default_keymap() -> Keymap {
        Keymap::builtin().unwrap_or_default()
    }

    fn builtin() -> Result<Keymap, FileError> {
        merge(&Keymap::default(), Path::new(BUILTIN_PATH), BUILTIN)
    }

    /// The action a key press stands for in `view`: the view's section first, then global.
    /// Key releases are ignored.
    pub fn resolve(&self, view: &View, event: KeyEvent) -> Option<Action> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        let key = Key::from_event(event);
        let section = Section::for_view(view);
        self.lookup[section.index()]
            .get(&key)
            .or_else(|| self.lookup[Section::Global.index()].get(&key))
            .copied()
    }

    /// Every action reachable in `view` with its keys ("up/k"), in Action order; global keys
    /// the view shadows are left out.
    pub fn hints(&self, view: &View) -> Vec<(String, Action)> {
        let section = Section::for_view(view);
        let own = &self.bindings[section.index()];
        let shadowed = &self.lookup[section.index()];
        let global = &self.bindings[Section::Global.index()];
        Action::ALL
            .iter()
            .filter_map(|&action| {
                let keys: Vec<String> = own
                    .get(&action)
                    .into_iter()
                    .flatten()
                    .chain(
                        global
                            .get(&action)
                            .into_iter()
                            .flatten()
                            .filter(|k| !shadowed.contains_key(k)),
                    )
                    .map(Key::to_string)
                    .collect();
                (!keys.is_empty()).then(|| (keys.join("/"), action))
            })
            .collect()
    }

    /// One section's own bindings ("up/k", action), in Action order, for the help screen.
    pub fn section_hints(&self, section: Section) -> Vec<(String, Action)> {
        self.bindings[section.index()]
            .iter()
            .filter(|(_, keys)| !keys.is_empty())
            .map(|(&action, keys)| {
                let keys: Vec<String> = keys.iter().map(Key::to_string).collect();
                (keys.join("/"), action)
            })
            .collect()
    }
}

/// A binding read from the file, with where it was written.
struct Written {
    key: Key,
    span: Range<usize>,
}

/// Reads `source` over `base`: each action it names gets exactly the keys it lists.
fn merge(base: &Keymap, path: &Path, source: &str) -> Result<Keymap, FileError> {
    let doc = Doc::parse(path, source)?;
    let mut written: [BTreeMap<Action, Vec<Written>>; 3] = Default::default();
    for (key, value) in doc.root.iter() {
        let name = key.get_ref().as_ref();
        let section = Section::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                let names = Section::ALL.map(Section::name);
                doc.error(key.span(), unknown("section", name, names))
            })?;
        for (key, value) in doc.table(name, value)?.iter() {
            let action_name = key.get_ref().as_ref();
            let action = Action::ALL
                .iter()
                .copied()
                .find(|a| a.name() == action_name)
                .ok_or_else(|| {
                    let names = Action::ALL.iter().map(|a| a.name());
                    doc.error(key.span(), unknown("action", action_name, names))
                })?;
            let list = value.get_ref().as_array().ok_or_else(|| {
                let msg =
                    format!("`{action_name}` must be a list of keys, like [\"q\", \"ctrl-c\"]");
                doc.error(value.span(), msg)
            })?;
            let mut keys = Vec::new();
            for item in list.iter() {
                let text = doc.string(action_name, item)?;
                let key = Key::parse(text).map_err(|e| doc.error(item.span(), e))?;
                keys.push(Written {
                    key,
                    span: item.span(),
                });
            }
            written[section.index()].insert(action, keys);
        }
    }
    let mut keymap = Keymap::default();
    for section in Section::ALL {
        let i = section.index();
        let (bindings, lookup) = build(&doc, section, &base.bindings[i], &written[i])?;
        keymap.bindings[i] = bindings;
        keymap.lookup[i] = lookup;
    }
    Ok(keymap)
}

type Built = (BTreeMap<Action, Vec<Key>>, HashMap<Key, Action>);

/// One section: the base's bindings with the file's replacing them, checked for clashes.
fn build(
    doc: &Doc<'_>,
    section: Section,
    base: &BTreeMap<Action, Vec<Key>>,
    written: &BTreeMap<Action, Vec<Written>>,
) -> Result<Built, FileError> {
    // Kept base bindings first (no span), then the file's in file order, so a clash is
    // reported at the later binding, which is always one the file wrote.
    let mut all: Vec<(Key, Action, Option<Range<usize>>)> = base
        .iter()
        .filter(|(action, _)| !written.contains_key(action))
        .flat_map(|(&action, keys)| keys.iter().map(move |&k| (k, action, None)))
        .chain(written.iter().flat_map(|(&action, keys)| {
            keys.iter()
                .map(move |w| (w.key, action, Some(w.span.clone())))
        }))
        .collect();
    all.sort_by_key(|(_, _, span)| span.as_ref().map(|s| s.start));
    let mut bindings: BTreeMap<Action, Vec<Key>> = BTreeMap::new();
    let mut lookup: HashMap<Key, Action> = HashMap::new();
    let mut from_base: HashMap<Key, bool> = HashMap::new();
    for (key, action, span) in all {
        let keys = bindings.entry(action).or_default();
        match lookup.get(&key) {
            Some(&other) if other == action => continue,
            Some(&other) => {
                let mut msg = format!(
                    "key `{key}` is bound to both `{}` and `{}` in [{}]",
                    other.name(),
                    action.name(),
                    section.name()
                );
                if from_base.get(&key).copied().unwrap_or(false) {
                    msg.push_str(&format!(
                        " (`{}` has it in the default keymap: rebind `{}` too)",
                        other.name(),
                        other.name()
                    ));
                }
                return Err(doc.error(span.unwrap_or(0..0), msg));
            }
            None => {
                from_base.insert(key, span.is_none());
                lookup.insert(key, action);
                keys.push(key);
            }
        }
    }
    // An action the file unbound (`action = []`) stays listed with no keys; drop it.
    bindings.retain(|_, keys| !keys.is_empty());
    Ok((bindings, lookup))
}

#[cfg(test)]
mod tests;
