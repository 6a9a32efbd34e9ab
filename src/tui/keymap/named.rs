//! Named macros: a keymap file's `[macros]` table names lists of keys or actions, and a
//! section binds keys to them with `run_macro.NAME = ["ctrl-t"]`.

use super::{Key, KeySeq};
use crate::domain::FileError;
use crate::tui::action::Action;
use crate::tui::tomlfile::Doc;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The section key that binds keys to named macros (`run_macro.smoke = ["ctrl-t"]`).
pub const RUN_MACRO: &str = "run_macro";

/// One step of a named macro.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A key, resolved against the keymap section the cockpit is in when it is reached.
    Key(Key),
    /// An action by name, whatever key it is bound to.
    Action(Action),
}

/// A macro from `[macros]`.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedMacro {
    pub name: String,
    pub steps: Vec<Step>,
}

impl NamedMacro {
    /// The steps as a keymap file writes them, for help: "g enter esc", "first open back".
    pub fn describe(&self) -> String {
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|s| match s {
                Step::Key(k) => k.to_string(),
                Step::Action(a) => a.name().to_owned(),
            })
            .collect();
        steps.join(" ")
    }
}

/// Reads `[macros]` over `base`: a name the file gives replaces the base's macro of that
/// name (keeping its place, so bindings to it stay valid), a new name is added.
pub(super) fn read(
    doc: &Doc<'_>,
    table: &DeTable<'_>,
    mut macros: Vec<NamedMacro>,
) -> Result<Vec<NamedMacro>, FileError> {
    for (key, value) in table.iter() {
        let name = key.get_ref().as_ref();
        let list = value.get_ref().as_array().ok_or_else(|| {
            let msg = format!(
                "macro `{name}` must be a list of keys or actions, like [\"g\", \"enter\"] or [\"first\", \"open\"]"
            );
            doc.error(value.span(), msg)
        })?;
        let mut steps = Vec::new();
        for item in list.iter() {
            steps.extend(step(doc, name, item)?);
        }
        if steps.is_empty() {
            return Err(doc.error(value.span(), format!("macro `{name}` is empty")));
        }
        let fresh = NamedMacro {
            name: name.to_owned(),
            steps,
        };
        match macros.iter_mut().find(|m| m.name == name) {
            Some(old) => *old = fresh,
            None => macros.push(fresh),
        }
    }
    Ok(macros)
}

/// An action name (no action name is also a key), else a key or key sequence.
fn step(doc: &Doc<'_>, name: &str, item: &Spanned<DeValue<'_>>) -> Result<Vec<Step>, FileError> {
    let text = doc.string(name, item)?;
    if let Some(action) = Action::ALL.iter().find(|a| a.name() == text) {
        return Ok(vec![Step::Action(action.clone())]);
    }
    let seq = KeySeq::parse(text)
        .map_err(|e| doc.error(item.span(), format!("{e}; or name an action, like `open`")))?;
    Ok(seq.keys().iter().map(|k| Step::Key(*k)).collect())
}

#[cfg(test)]
mod tests;
