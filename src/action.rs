//! The one Action type: keys, macros, the command line and `ctl` all produce these.

use serde::{Deserialize, Serialize};

/// Named in keymap files by their snake_case names (`move_up`, `open`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
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
}

impl Action {
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
    ];

    /// Whether the action changes the cluster. Read-only modes refuse these in one place: `update`.
    pub fn is_mutating(self) -> bool {
        match self {
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
            | Action::ToggleHelp => false,
        }
    }

    /// The snake_case name used in keymap files.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// One line for the help screen.
    pub fn description(self) -> &'static str {
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde() {
        for &a in Action::ALL {
            let name = a.name();
            let back: Action = serde_json::from_value(serde_json::Value::String(name.clone()))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(back, a);
        }
        assert_eq!(Action::MoveUp.name(), "move_up");
        assert_eq!(Action::ToggleHelp.name(), "toggle_help");
    }
}
