//! Keys to Actions, per view, from `keymaps/default.toml` (compiled in) and an optional user
//! file merged over it. Help and the status bar read their key lists from here, so they
//! never drift from what the keys do.

mod key;

pub use key::Key;

use crate::action::Action;
use crate::config::{FileError, read_file};
use crate::model::{Dialog, Focus, Ui, View};
use crate::tui::tomlfile::{Doc, unknown};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;

const BUILTIN: &str = include_str!("../../../keymaps/default.toml");
const BUILTIN_PATH: &str = "keymaps/default.toml (built-in)";

/// A keymap file's sections: keys everywhere, keys per view or panel, and keys in dialogs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Global,
    Grid,
    Apps,
    Host,
    /// A prompt that takes typed text: unbound characters are typed into it.
    Prompt,
    /// A y/n question.
    Confirm,
}

const SECTIONS: usize = 6;

impl Section {
    pub const ALL: [Section; SECTIONS] = [
        Section::Global,
        Section::Grid,
        Section::Apps,
        Section::Host,
        Section::Prompt,
        Section::Confirm,
    ];

    /// The section's name in the file.
    pub fn name(self) -> &'static str {
        match self {
            Section::Global => "global",
            Section::Grid => "grid",
            Section::Apps => "apps",
            Section::Host => "host",
            Section::Prompt => "prompt",
            Section::Confirm => "confirm",
        }
    }

    /// The section whose keys apply to what the operator looks at: an open dialog first,
    /// then the image prompt, then the focused panel of the view. The history list lives in
    /// the Apps panel and answers its keys (moving, enter, esc).
    pub fn for_ui(ui: &Ui) -> Section {
        match (&ui.dialog, &ui.view, ui.focus) {
            (Some(Dialog::ScalePrompt { .. }), _, _) => Section::Prompt,
            (Some(Dialog::Confirm { .. }), _, _) => Section::Confirm,
            (None, _, _) if ui.image_prompt.is_some() => Section::Prompt,
            (None, View::Grid, _) if ui.history.is_some() => Section::Apps,
            (None, View::Grid, Focus::Grid) => Section::Grid,
            (None, View::Grid, Focus::Apps) => Section::Apps,
            (None, View::Host(_), _) => Section::Host,
        }
    }

    /// This section's keys first, then these. The apps panel lives in the grid view, so it
    /// takes the grid's keys it does not bind itself; dialogs take every key, so the global
    /// ones (quit, help) do not reach past them.
    fn chain(self) -> &'static [Section] {
        match self {
            Section::Global => &[Section::Global],
            Section::Grid => &[Section::Grid, Section::Global],
            Section::Apps => &[Section::Apps, Section::Grid, Section::Global],
            Section::Host => &[Section::Host, Section::Global],
            Section::Prompt => &[Section::Prompt],
            Section::Confirm => &[Section::Confirm],
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Bound actions are kept by their position in `Action::ALL`, which is also help's order.
type Bound = usize;

fn bound(i: Bound) -> Option<Action> {
    Action::ALL.get(i).cloned()
}

fn bound_name(i: Bound) -> String {
    bound(i).map(|a| a.name()).unwrap_or_default()
}

/// The active key bindings.
#[derive(Debug, Clone, Default)]
pub struct Keymap {
    /// Per section (by `Section::index`), each action's keys in file order.
    bindings: [BTreeMap<Bound, Vec<Key>>; SECTIONS],
    lookup: [HashMap<Key, Bound>; SECTIONS],
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

    /// The action a key press stands for in `section`, then in [global] (outside dialogs).
    /// In a prompt, a character no binding claims is typed. Key releases are ignored.
    pub fn resolve(&self, section: Section, event: KeyEvent) -> Option<Action> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        let key = Key::from_event(event);
        let found = section
            .chain()
            .iter()
            .find_map(|s| self.lookup[s.index()].get(&key));
        if let Some(&i) = found {
            return bound(i);
        }
        match event.code {
            KeyCode::Char(c)
                if section == Section::Prompt
                    && !event
                        .modifiers
                        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                Some(Action::Input(c))
            }
            _ => None,
        }
    }

    /// Every action reachable in `section` with its keys ("up/k"), in Action order; keys a
    /// section earlier in the chain claims are left out of the later ones.
    pub fn hints(&self, section: Section) -> Vec<(String, Action)> {
        let chain = section.chain();
        (0..Action::ALL.len())
            .filter_map(|i| {
                let keys: Vec<String> = chain
                    .iter()
                    .enumerate()
                    .flat_map(|(level, s)| {
                        let earlier = &chain[..level];
                        self.bindings[s.index()]
                            .get(&i)
                            .into_iter()
                            .flatten()
                            .filter(move |k| {
                                !earlier
                                    .iter()
                                    .any(|e| self.lookup[e.index()].contains_key(k))
                            })
                    })
                    .map(Key::to_string)
                    .collect();
                (!keys.is_empty()).then_some(())?;
                bound(i).map(|action| (keys.join("/"), action))
            })
            .collect()
    }

    /// One section's own bindings ("up/k", action), in Action order, for the help screen.
    pub fn section_hints(&self, section: Section) -> Vec<(String, Action)> {
        self.bindings[section.index()]
            .iter()
            .filter(|(_, keys)| !keys.is_empty())
            .filter_map(|(&i, keys)| {
                let keys: Vec<String> = keys.iter().map(Key::to_string).collect();
                bound(i).map(|action| (keys.join("/"), action))
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
    let mut written: [BTreeMap<Bound, Vec<Written>>; SECTIONS] = Default::default();
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
                .position(|a| a.name() == action_name)
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

type Built = (BTreeMap<Bound, Vec<Key>>, HashMap<Key, Bound>);

/// One section: the base's bindings with the file's replacing them, checked for clashes.
fn build(
    doc: &Doc<'_>,
    section: Section,
    base: &BTreeMap<Bound, Vec<Key>>,
    written: &BTreeMap<Bound, Vec<Written>>,
) -> Result<Built, FileError> {
    // Kept base bindings first (no span), then the file's in file order, so a clash is
    // reported at the later binding, which is always one the file wrote.
    let mut all: Vec<(Key, Bound, Option<Range<usize>>)> = base
        .iter()
        .filter(|(action, _)| !written.contains_key(action))
        .flat_map(|(&action, keys)| keys.iter().map(move |&k| (k, action, None)))
        .chain(written.iter().flat_map(|(&action, keys)| {
            keys.iter()
                .map(move |w| (w.key, action, Some(w.span.clone())))
        }))
        .collect();
    all.sort_by_key(|(_, _, span)| span.as_ref().map(|s| s.start));
    let mut bindings: BTreeMap<Bound, Vec<Key>> = BTreeMap::new();
    let mut lookup: HashMap<Key, Bound> = HashMap::new();
    let mut from_base: HashMap<Key, bool> = HashMap::new();
    for (key, action, span) in all {
        let keys = bindings.entry(action).or_default();
        match lookup.get(&key) {
            Some(&other) if other == action => continue,
            Some(&other) => {
                let (other, action) = (bound_name(other), bound_name(action));
                let mut msg = format!(
                    "key `{key}` is bound to both `{other}` and `{action}` in [{}]",
                    section.name()
                );
                if from_base.get(&key).copied().unwrap_or(false) {
                    msg.push_str(&format!(
                        " (`{other}` has it in the default keymap: rebind `{other}` too)"
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
