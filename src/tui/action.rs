//! The one Action type: keys, macros, the command line and `ctl` all produce these.

use crate::domain::app::AppSpec;
use crate::plan::rollout::Command;
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
    /// Ask for the image to roll the selected app out to.
    RolloutPrompt,
    /// Pause the selected app's rollout, or resume it if paused.
    PauseResume,
    /// Roll the selected app back to its previous revision.
    RollbackPrevious,
    /// Open the selected app's revision history (enter there rolls back to the pick).
    ShowHistory,
    /// Replace the selected app's instances with fresh ones of the same spec.
    RollingRestart,
    /// Let the selected app's canary rollout go on to every instance.
    Promote,
    /// Restart the container selected in the host view (that one only).
    RestartOne,
    /// Open the `:` command line.
    CommandLine,
    /// Open the `/` filter prompt.
    FilterPrompt,
    /// Write the screen as text, SVG and PNG into the XDG data dir (`…/wheelhouse/screens`).
    ExportScreen,
    /// Write the screen as text, SVG and PNG into this directory.
    ExportTo(String),
    /// Switch to a theme by name or path (the loop loads it).
    SetTheme(String),
    /// Show only the hosts (and apps) matching this filter text; empty clears it.
    SetFilter(String),
    /// Open a host's view by name.
    OpenHost(String),
    /// Open an app's revision history by name.
    OpenHistory(String),
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
    /// Roll an app out to a new image (the controller replaces its instances under the
    /// spec's update policy).
    Rollout {
        app: String,
        image: String,
    },
    /// Put back an earlier spec: the one filed under this history revision, or, with None,
    /// the newest one whose containers differ from the current (during a rollout: turn it
    /// around).
    Rollback {
        app: String,
        revision: Option<i64>,
    },
    /// A rolling restart: the same spec with `restart_generation` + 1.
    Restart {
        app: String,
    },
    /// Restart one container through its engine, outside any rollout.
    RestartContainer {
        host: String,
        container: String,
    },
    /// Pause, resume, promote (or roll back) a running rollout.
    RolloutCommand {
        app: String,
        command: Command,
    },
    /// Remove the app's rollout record when it cannot be read (`ctl rollout-status --reset`).
    ResetRollout {
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
        Action::RolloutPrompt,
        Action::PauseResume,
        Action::RollbackPrevious,
        Action::ShowHistory,
        Action::RollingRestart,
        Action::Promote,
        Action::RestartOne,
        Action::CommandLine,
        Action::FilterPrompt,
        Action::ExportScreen,
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
            | Action::Delete { .. }
            | Action::RolloutPrompt
            | Action::PauseResume
            | Action::RollbackPrevious
            | Action::RollingRestart
            | Action::Promote
            | Action::RestartOne
            | Action::Rollout { .. }
            | Action::Rollback { .. }
            | Action::Restart { .. }
            | Action::RestartContainer { .. }
            | Action::RolloutCommand { .. }
            | Action::ResetRollout { .. } => true,
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
            | Action::Input(_)
            | Action::ShowHistory
            | Action::CommandLine
            | Action::FilterPrompt
            | Action::ExportScreen
            | Action::ExportTo(_)
            | Action::SetTheme(_)
            | Action::SetFilter(_)
            | Action::OpenHost(_)
            | Action::OpenHistory(_) => false,
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
            Action::FocusNext => "grid ⇄ apps panel",
            Action::ScalePrompt => "scale to a number",
            Action::ScaleUp => "one more instance",
            Action::ScaleDown => "one fewer instance",
            Action::Confirm => "yes / ok",
            Action::Cancel => "no / cancel",
            Action::Erase => "erase a character",
            Action::Input(_) => "type a character",
            Action::Scale { .. } => "scale",
            Action::Apply { .. } => "apply",
            Action::Delete { .. } => "delete",
            Action::RolloutPrompt => "roll out a new image",
            Action::PauseResume => "pause / resume the rollout",
            Action::RollbackPrevious => "roll back to the previous revision",
            Action::ShowHistory => "revision history (enter rolls back)",
            Action::RollingRestart => "rolling restart",
            Action::Promote => "promote the canary",
            Action::RestartOne => "restart this container",
            Action::Rollout { .. } => "rollout",
            Action::Rollback { .. } => "rollback",
            Action::Restart { .. } => "restart",
            Action::RestartContainer { .. } => "restart container",
            Action::RolloutCommand { .. } => "rollout command",
            Action::ResetRollout { .. } => "remove a broken rollout record",
            Action::CommandLine => "command line (:scale web 5, :host …)",
            Action::FilterPrompt => "filter: name, zone=a, state=down",
            Action::ExportScreen | Action::ExportTo(_) => "save the screen as text, SVG and PNG",
            Action::SetTheme(_) => "switch theme",
            Action::SetFilter(_) => "filter",
            Action::OpenHost(_) => "open a host",
            Action::OpenHistory(_) => "an app's revision history",
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
        let rollout = Action::Rollout {
            app: "web".into(),
            image: "demo:2".into(),
        };
        let rollback = Action::Rollback {
            app: "web".into(),
            revision: None,
        };
        let restart = Action::Restart { app: "web".into() };
        let one = Action::RestartContainer {
            host: "lab-1".into(),
            container: "web.1.abc".into(),
        };
        let pause = Action::RolloutCommand {
            app: "web".into(),
            command: Command::Pause,
        };
        for a in [
            &scale, &apply, &delete, &rollout, &rollback, &restart, &one, &pause,
        ] {
            assert!(a.is_mutating(), "{a:?}");
            assert_eq!(a.name(), "", "data-carrying actions are not bindable");
        }
        let mutating: Vec<String> = Action::ALL
            .iter()
            .filter(|a| a.is_mutating())
            .map(Action::name)
            .collect();
        assert_eq!(
            mutating,
            [
                "scale_prompt",
                "scale_up",
                "scale_down",
                "rollout_prompt",
                "pause_resume",
                "rollback_previous",
                "rolling_restart",
                "promote",
                "restart_one"
            ]
        );
        // Looking at the history changes nothing; rolling back from it asks y/n.
        assert!(!Action::ShowHistory.is_mutating());
        assert!(!Action::Input('5').is_mutating());
    }
}
