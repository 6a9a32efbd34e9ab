//! The one Action type: keys, macros, the command line and `ctl` all produce these.

use crate::model::app::AppSpec;
use serde::{Deserialize, Serialize};

/// Named in keymap files by their snake_case names (`move_up`, `open`, ...). The variants
/// that carry data are produced by dialogs and `ctl`, not bound to keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    MoveUp,
    MoveDown,
    MoveLeft,
    MoveRight,
    PageUp,
    PageDown,
    First,
    Last,
    /// Open the selected host.
    Open,
    /// Leave the current view (or close help).
    Back,
    ToggleHelp,
    /// Move the focus to the next panel (grid, apps).
    FocusNext,
    /// Ask for a new instance count for the selected app.
    ScalePrompt,
    /// One more instance of the selected app.
    ScaleUp,
    /// One fewer instance of the selected app.
    ScaleDown,
    /// Accept the open dialog.
    Confirm,
    /// Close the open dialog without doing anything.
    Cancel,
    /// Delete the last character typed into a prompt.
    Erase,
    /// A character typed into a prompt.
    Input(char),
    /// Set an app's instance count. `seen` is the spec revision the operator looked at;
    /// the write fails with a conflict if the app changed since.
    Scale {
        app: String,
        count: u32,
        seen: Option<i64>,
    },
    /// Create or replace an app spec.
    Apply {
        spec: Box<AppSpec>,
    },
    /// Remove an app spec (the controller then stops its containers).
    Delete {
        app: String,
    },
}

impl Action {
    /// Every action a key can be bound to, in the order help lists them.
    pub const ALL: &'static [Action] = &[
        Action::Quit,
        Action::MoveUp,
        Action::MoveDown,
        Action::MoveLeft,
        Action::MoveRight,
        Action::PageUp,
        Action::PageDown,
        Action::First,
        Action::Last,
        Action::Open,
        Action::Back,
        Action::ToggleHelp,
        Action::FocusNext,
        Action::ScalePrompt,
        Action::ScaleUp,
        Action::ScaleDown,
        Action::Confirm,
        Action::Cancel,
        Action::Erase,
    ];

    /// Whether the action changes the cluster (or starts a dialog that will). Read-only
    /// modes refuse these in one place: `update::authorize`.
    pub fn is_mutating(&self) -> bool {
        match self {
            Action::ScalePrompt
            | Action::ScaleUp
            | Action::ScaleDown
            | Action::Scale { .. }
            | Action::Apply { .. }
            | Action::Delete { .. } => true,
            Action::Quit
            | Action::MoveUp
            | Action::MoveDown
            | Action::MoveLeft
            | Action::MoveRight
            | Action::PageUp
            | Action::PageDown
            | Action::First
            | Action::Last
            | Action::Open
            | Action::Back
            | Action::ToggleHelp
            | Action::FocusNext
            | Action::Confirm
            | Action::Cancel
            | Action::Erase
            | Action::Input(_) => false,
        }
    }

    /// The snake_case name used in keymap files ("" for the data-carrying variants).
    pub fn name(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// One line for the help screen and the audit trail.
    pub fn description(&self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::MoveUp => "move up",
            Action::MoveDown => "move down",
            Action::MoveLeft => "move left",
            Action::MoveRight => "move right",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::First => "first",
            Action::Last => "last",
            Action::Open => "open the selected host",
            Action::Back => "back",
            Action::ToggleHelp => "show or hide help",
            Action::FocusNext => "switch grid / apps panel",
            Action::ScalePrompt => "scale to a number",
            Action::ScaleUp => "one more instance",
            Action::ScaleDown => "one fewer instance",
            Action::Confirm => "yes / ok",
            Action::Cancel => "no / cancel",
            Action::Erase => "delete a typed character",
            Action::Input(_) => "type a character",
            Action::Scale { .. } => "scale",
            Action::Apply { .. } => "apply",
            Action::Delete { .. } => "delete",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde() {
        for a in Action::ALL {
            let name = a.name();
            let back: Action = serde_json::from_value(serde_json::Value::String(name.clone()))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&back, a);
        }
        assert_eq!(Action::MoveUp.name(), "move_up");
        assert_eq!(Action::ToggleHelp.name(), "toggle_help");
        assert_eq!(Action::ScalePrompt.name(), "scale_prompt");
        assert_eq!(Action::FocusNext.name(), "focus_next");
    }

    #[test]
    fn cluster_changes_are_mutating_and_nothing_else_is() {
        let scale = Action::Scale {
            app: "web".into(),
            count: 3,
            seen: None,
        };
        let apply = Action::Apply {
            spec: Box::new(AppSpec::new("web", "demo:1")),
        };
        let delete = Action::Delete { app: "web".into() };
        for a in [&scale, &apply, &delete] {
            assert!(a.is_mutating(), "{a:?}");
            assert_eq!(a.name(), "", "data-carrying actions are not bindable");
        }
        let mutating: Vec<String> = Action::ALL
            .iter()
            .filter(|a| a.is_mutating())
            .map(Action::name)
            .collect();
        assert_eq!(mutating, ["scale_prompt", "scale_up", "scale_down"]);
        assert!(!Action::Input('5').is_mutating());
    }
}
