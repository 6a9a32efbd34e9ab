//! Keys to Actions, per view, from `keymaps/default.toml` (compiled in) and an optional user
//! file merged over it. Help and the status bar read their key lists from here, so they
//! never drift from what the keys do.

mod key;
mod named;

pub use key::{Key, KeySeq};
pub use named::{NamedMacro, RUN_MACRO, Step};

use crate::domain::{FileError, read_file};
use crate::tui::action::Action;
use crate::tui::screen::{Dialog, Focus, Ui, View};
use crate::tui::tomlfile::{Doc, unknown};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::path::Path;

const BUILTIN: &str = include_str!("../../../keymaps/default.toml");
const BUILTIN_PATH: &str = "keymaps/default.toml (built-in)";
const ARROWS: &str = include_str!("../../../keymaps/arrows.toml");
const ARROWS_PATH: &str = "keymaps/arrows.toml (built-in)";

/// The built-in keymaps `--keymap` and the config's `keymap` take by name.
pub const BUILTIN_NAMES: &[&str] = &["default", "arrows"];

/// The keys of a sequence typed so far (`g` of `g g`). The caller keeps it between key
/// presses and passes it back, so resolving stays a pure function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pending(Vec<Key>);

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Shown while a sequence waits for its next key ("g …").
impl std::fmt::Display for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", KeySeq::from_keys(self.0.clone()))
    }
}

/// A keymap file's sections: keys everywhere, keys per view or panel, and keys in dialogs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Global,
    Grid,
    Apps,
    Host,
    Trace,
    Logs,
    /// An app's instances side by side.
    Instances,
    /// A prompt that takes typed text: unbound characters are typed into it.
    Prompt,
    /// A y/n question.
    Confirm,
}

const SECTIONS: usize = 9;

impl Section {
    pub const ALL: [Section; SECTIONS] = [
        Section::Global,
        Section::Grid,
        Section::Apps,
        Section::Host,
        Section::Trace,
        Section::Logs,
        Section::Instances,
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
            Section::Trace => "trace",
            Section::Logs => "logs",
            Section::Instances => "instances",
            Section::Prompt => "prompt",
            Section::Confirm => "confirm",
        }
    }

    /// The section whose keys apply to what the operator looks at: an open dialog first,
    /// then the image prompt, then the focused panel of the view. The history list lives in
    /// the Apps panel and answers its keys (moving, enter, esc).
    pub fn for_ui(ui: &Ui) -> Section {
        match (&ui.dialog, &ui.view, ui.focus) {
            // The `:` / `/` line opens over everything and closes before it acts.
            _ if ui.command.is_some() => Section::Prompt,
            (Some(Dialog::ScalePrompt { .. }), _, _) => Section::Prompt,
            (Some(Dialog::Confirm { .. }), _, _) => Section::Confirm,
            (None, _, _) if ui.image_prompt.is_some() => Section::Prompt,
            (None, View::Grid, _) if ui.history.is_some() => Section::Apps,
            (None, View::Grid, Focus::Grid) => Section::Grid,
            (None, View::Grid, Focus::Apps) => Section::Apps,
            (None, View::Host(_), _) => Section::Host,
            (None, View::Trace(_), _) => Section::Trace,
            (None, View::Logs(_), _) => Section::Logs,
            (None, View::Instances(_), _) => Section::Instances,
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
            Section::Trace => &[Section::Trace, Section::Global],
            Section::Logs => &[Section::Logs, Section::Global],
            Section::Instances => &[Section::Instances, Section::Global],
            Section::Prompt => &[Section::Prompt],
            Section::Confirm => &[Section::Confirm],
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What a key is bound to: an action by its position in `Action::ALL` (help's order), or a
/// named macro by its position in `Keymap::macros`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Bound {
    Action(usize),
    Macro(usize),
}

fn bound(b: Bound) -> Option<Action> {
    match b {
        Bound::Action(i) => Action::ALL.get(i).cloned(),
        Bound::Macro(_) => None,
    }
}

/// As the file names it: `quit`, `run_macro.smoke`.
fn bound_name(b: Bound, macros: &[NamedMacro]) -> String {
    match b {
        Bound::Action(i) => Action::ALL.get(i).map_or("", Action::name).to_owned(),
        Bound::Macro(i) => {
            let name = macros.get(i).map_or("", |m| m.name.as_str());
            format!("{RUN_MACRO}.{name}")
        }
    }
}

/// What keys resolve to: an action, or a named macro to replay.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved<'k> {
    Action(Action),
    Macro(&'k NamedMacro),
}

const MACROS: &str = "macros";

/// The active key bindings.
#[derive(Debug, Clone, Default)]
pub struct Keymap {
    /// Per section (by `Section::index`), each action's keys in file order.
    bindings: [BTreeMap<Bound, Vec<KeySeq>>; SECTIONS],
    lookup: [HashMap<KeySeq, Bound>; SECTIONS],
    /// Per section, the beginnings of its longer sequences (`g` of `g g`).
    prefixes: [HashSet<Vec<Key>>; SECTIONS],
    /// The `[macros]` table; `Bound::Macro` indexes it.
    macros: Vec<NamedMacro>,
}

impl Keymap {
    /// "default" and "arrows" are built in (each whole); anything else is a path to a file
    /// merged over the default.
    pub fn load(name_or_path: &str) -> Result<Keymap, FileError> {
        match name_or_path {
            "default" => return Keymap::builtin(),
            "arrows" => return Keymap::arrows(),
            _ => {}
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

    fn arrows() -> Result<Keymap, FileError> {
        merge(&Keymap::default(), Path::new(ARROWS_PATH), ARROWS)
    }

    /// The action a single key press stands for in `section` (sequences need
    /// `resolve_pending`, which keeps the keys typed so far).
    pub fn resolve(&self, section: Section, event: KeyEvent) -> Option<Action> {
        self.resolve_pending(section, Pending::default(), event).0
    }

    /// The action the keys typed so far plus this press stand for, in `section` then the
    /// sections it falls back to, and what is still pending. A press that continues a
    /// sequence returns no action and the longer `Pending`; one that ends no sequence drops
    /// the prefix and counts as a single key. In a prompt, a character no binding claims is
    /// typed. Key releases change nothing.
    pub fn resolve_pending(
        &self,
        section: Section,
        pending: Pending,
        event: KeyEvent,
    ) -> (Option<Action>, Pending) {
        let (resolved, pending) = self.resolve_binding(section, pending, event);
        let action = match resolved {
            Some(Resolved::Action(action)) => Some(action),
            Some(Resolved::Macro(_)) | None => None,
        };
        (action, pending)
    }

    /// Like `resolve_pending`, with keys bound to named macros resolving to the macro.
    pub fn resolve_binding(
        &self,
        section: Section,
        pending: Pending,
        event: KeyEvent,
    ) -> (Option<Resolved<'_>>, Pending) {
        if event.kind == KeyEventKind::Release {
            return (None, pending);
        }
        let key = Key::from_event(event);
        let mut keys = pending.0;
        let had_prefix = !keys.is_empty();
        keys.push(key);
        for s in section.chain() {
            if let Some(&b) = self.lookup[s.index()].get(&KeySeq::from_keys(keys.clone())) {
                let resolved = match b {
                    Bound::Macro(i) => self.macros.get(i).map(Resolved::Macro),
                    Bound::Action(_) => bound(b).map(Resolved::Action),
                };
                return (resolved, Pending::default());
            }
            if self.prefixes[s.index()].contains(&keys) {
                return (None, Pending(keys));
            }
        }
        if had_prefix {
            return self.resolve_binding(section, Pending::default(), event);
        }
        let typed = match event.code {
            KeyCode::Char(c)
                if section == Section::Prompt
                    && !event
                        .modifiers
                        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                Some(Resolved::Action(Action::Input(c)))
            }
            _ => None,
        };
        (typed, Pending::default())
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
                            .get(&Bound::Action(i))
                            .into_iter()
                            .flatten()
                            .filter(move |k| {
                                !earlier
                                    .iter()
                                    .any(|e| self.lookup[e.index()].contains_key(k))
                            })
                    })
                    .map(KeySeq::to_string)
                    .collect();
                (!keys.is_empty()).then_some(())?;
                bound(Bound::Action(i)).map(|action| (keys.join("/"), action))
            })
            .collect()
    }

    /// One section's own bindings ("up/k", action), in Action order, for the help screen.
    pub fn section_hints(&self, section: Section) -> Vec<(String, Action)> {
        self.bindings[section.index()]
            .iter()
            .filter(|(_, keys)| !keys.is_empty())
            .filter_map(|(&b, keys)| {
                let keys: Vec<String> = keys.iter().map(KeySeq::to_string).collect();
                bound(b).map(|action| (keys.join("/"), action))
            })
            .collect()
    }

    /// One section's keys bound to named macros ("ctrl-t", macro), for the help screen.
    pub fn macro_hints(&self, section: Section) -> Vec<(String, &NamedMacro)> {
        self.bindings[section.index()]
            .iter()
            .filter_map(|(&b, keys)| {
                let Bound::Macro(i) = b else { return None };
                let keys: Vec<String> = keys.iter().map(KeySeq::to_string).collect();
                self.macros.get(i).map(|m| (keys.join("/"), m))
            })
            .collect()
    }

    /// The named macros, bound or not, in file order.
    pub fn macros(&self) -> &[NamedMacro] {
        &self.macros
    }
}

/// A key that is a whole binding and also begins a longer one could never reach the longer
/// one: refused, at whichever of the two the file wrote (the later if both).
fn prefix_clash(
    doc: &Doc<'_>,
    macros: &[NamedMacro],
    section: Section,
    lookup: &HashMap<KeySeq, Bound>,
    spans: &HashMap<KeySeq, Range<usize>>,
) -> Result<(), FileError> {
    let mut clashes: Vec<(Range<usize>, String)> = Vec::new();
    for (seq, &action) in lookup {
        for n in 1..seq.keys().len() {
            let prefix = KeySeq::from_keys(seq.keys()[..n].to_vec());
            let Some(&other) = lookup.get(&prefix) else {
                continue;
            };
            let span = match (spans.get(seq), spans.get(&prefix)) {
                (Some(a), Some(b)) if b.start > a.start => b.clone(),
                (Some(a), _) => a.clone(),
                (None, Some(b)) => b.clone(),
                (None, None) => 0..0,
            };
            let msg = format!(
                "`{prefix}` (`{}`) begins `{seq}` (`{}`) in [{}]: `{seq}` could never be typed",
                bound_name(other, macros),
                bound_name(action, macros),
                section.name()
            );
            clashes.push((span, msg));
        }
    }
    // The first in the file, so the report does not depend on hash order.
    match clashes.into_iter().min_by_key(|(span, _)| span.start) {
        Some((span, msg)) => Err(doc.error(span, msg)),
        None => Ok(()),
    }
}

/// A binding read from the file, with where it was written.
struct Written {
    key: KeySeq,
    span: Range<usize>,
}

/// Reads `source` over `base`: each action it names gets exactly the keys it lists.
fn merge(base: &Keymap, path: &Path, source: &str) -> Result<Keymap, FileError> {
    let doc = Doc::parse(path, source)?;
    // Macros first, wherever the table stands, so the sections can bind them.
    let mut macros = base.macros.clone();
    if let Some((_, value)) = doc.root.iter().find(|(k, _)| k.get_ref() == MACROS) {
        macros = named::read(&doc, doc.table(MACROS, value)?, macros)?;
    }
    let mut written: [BTreeMap<Bound, Vec<Written>>; SECTIONS] = Default::default();
    for (key, value) in doc.root.iter() {
        let name = key.get_ref().as_ref();
        if name == MACROS {
            continue;
        }
        let section = Section::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                let names = Section::ALL.map(Section::name).into_iter().chain([MACROS]);
                doc.error(key.span(), unknown("section", name, names))
            })?;
        for (key, value) in doc.table(name, value)?.iter() {
            let action_name = key.get_ref().as_ref();
            if action_name == RUN_MACRO {
                for (key, value) in doc.table(RUN_MACRO, value)?.iter() {
                    let name = key.get_ref().as_ref();
                    let i = macros.iter().position(|m| m.name == name).ok_or_else(|| {
                        let names = macros.iter().map(|m| m.name.as_str());
                        doc.error(key.span(), unknown("macro", name, names))
                    })?;
                    let keys = written_keys(&doc, name, value)?;
                    written[section.index()].insert(Bound::Macro(i), keys);
                }
                continue;
            }
            let action = Action::ALL
                .iter()
                .position(|a| a.name() == action_name)
                .ok_or_else(|| {
                    let names = Action::ALL.iter().map(|a| a.name()).chain([RUN_MACRO]);
                    doc.error(key.span(), unknown("action", action_name, names))
                })?;
            let keys = written_keys(&doc, action_name, value)?;
            written[section.index()].insert(Bound::Action(action), keys);
        }
    }
    let mut keymap = Keymap::default();
    for section in Section::ALL {
        let i = section.index();
        let (bindings, lookup) = build(&doc, &macros, section, &base.bindings[i], &written[i])?;
        keymap.prefixes[i] = (lookup.keys())
            .flat_map(|seq| (1..seq.keys().len()).map(|n| seq.keys()[..n].to_vec()))
            .collect();
        keymap.bindings[i] = bindings;
        keymap.lookup[i] = lookup;
    }
    keymap.macros = macros;
    Ok(keymap)
}

/// A binding's list of keys, each with where it was written.
fn written_keys(
    doc: &Doc<'_>,
    name: &str,
    value: &toml::Spanned<toml::de::DeValue<'_>>,
) -> Result<Vec<Written>, FileError> {
    let list = value.get_ref().as_array().ok_or_else(|| {
        let msg = format!("`{name}` must be a list of keys, like [\"q\", \"ctrl-c\"]");
        doc.error(value.span(), msg)
    })?;
    let mut keys = Vec::new();
    for item in list.iter() {
        let text = doc.string(name, item)?;
        let key = KeySeq::parse(text).map_err(|e| doc.error(item.span(), e))?;
        keys.push(Written {
            key,
            span: item.span(),
        });
    }
    Ok(keys)
}

type Built = (BTreeMap<Bound, Vec<KeySeq>>, HashMap<KeySeq, Bound>);

/// One section: the base's bindings with the file's replacing them, checked for clashes.
fn build(
    doc: &Doc<'_>,
    macros: &[NamedMacro],
    section: Section,
    base: &BTreeMap<Bound, Vec<KeySeq>>,
    written: &BTreeMap<Bound, Vec<Written>>,
) -> Result<Built, FileError> {
    // Kept base bindings first (no span), then the file's in file order, so a clash is
    // reported at the later binding, which is always one the file wrote.
    let mut all: Vec<(KeySeq, Bound, Option<Range<usize>>)> = base
        .iter()
        .filter(|(action, _)| !written.contains_key(action))
        .flat_map(|(&action, keys)| keys.iter().map(move |k| (k.clone(), action, None)))
        .chain(written.iter().flat_map(|(&action, keys)| {
            keys.iter()
                .map(move |w| (w.key.clone(), action, Some(w.span.clone())))
        }))
        .collect();
    all.sort_by_key(|(_, _, span)| span.as_ref().map(|s| s.start));
    let mut bindings: BTreeMap<Bound, Vec<KeySeq>> = BTreeMap::new();
    let mut lookup: HashMap<KeySeq, Bound> = HashMap::new();
    let mut from_base: HashMap<KeySeq, bool> = HashMap::new();
    let mut spans: HashMap<KeySeq, Range<usize>> = HashMap::new();
    for (key, action, span) in all {
        let keys = bindings.entry(action).or_default();
        match lookup.get(&key) {
            Some(&other) if other == action => continue,
            Some(&other) => {
                let (other, action) = (bound_name(other, macros), bound_name(action, macros));
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
                from_base.insert(key.clone(), span.is_none());
                if let Some(span) = span {
                    spans.insert(key.clone(), span);
                }
                lookup.insert(key.clone(), action);
                keys.push(key);
            }
        }
    }
    prefix_clash(doc, macros, section, &lookup, &spans)?;
    // An action the file unbound (`action = []`) stays listed with no keys; drop it.
    bindings.retain(|_, keys| !keys.is_empty());
    Ok((bindings, lookup))
}

#[cfg(test)]
mod tests;
