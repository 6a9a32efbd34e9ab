//! The one Action type: what a key, a macro or the `:` line asks of a screen. A change to
//! the cluster is not an Action but an `ops::Command`, which dialogs hand on in `Run`.

use crate::ops::{Command, Kind};

/// Declares `Action`: the keys, each with its keymap name, its help line and the command
/// it leads to (which the gate checks before any prompt), then the actions that carry
/// data, which dialogs and the `:` line produce and no key is bound to.
macro_rules! actions {
    (
        keys {$(
            $(#[doc = $kdoc:literal])*
            $key:ident => $name:literal, $help:literal $(, leads to $kind:ident)?;
        )*}
        data {$(
            $(#[doc = $doc:literal])*
            $variant:ident($ty:ty),
        )*}
    ) => {
        #[derive(Debug, Clone, PartialEq)]
        pub enum Action {
            $( $(#[doc = $kdoc])* $key, )*
            $( $(#[doc = $doc])* $variant($ty), )*
            /// Ask y/n, then carry out this change to the cluster (`ops::execute`).
            Run(Command),
        }

        impl Action {
            /// Every action a key can be bound to, in the order help lists them.
            pub const ALL: &'static [Action] = &[$(Action::$key),*];

            /// The snake_case name used in keymap files ("" for the data-carrying variants).
            pub fn name(&self) -> &'static str {
                match self {
                    $(Action::$key => $name,)*
                    $(Action::$variant(_) => "",)*
                    Action::Run(_) => "",
                }
            }

            /// One line for the help screen ("" for the data-carrying variants).
            pub fn description(&self) -> &'static str {
                match self {
                    $(Action::$key => $help,)*
                    $(Action::$variant(_) => "",)*
                    Action::Run(_) => "",
                }
            }

            /// The command this key starts (through a prompt or y/n), if any.
            pub fn leads_to(&self) -> Option<Kind> {
                match self {
                    $(Action::$key => leads_to!($($kind)?),)*
                    Action::Run(command) => Some(command.kind()),
                    $(Action::$variant(_) => None,)*
                }
            }
        }
    };
}

macro_rules! leads_to {
    () => {
        None
    };
    ($kind:ident) => {
        Some(Kind::$kind)
    };
}

actions! {
    keys {
        Quit => "quit", "quit";
        MoveUp => "move_up", "move up";
        MoveDown => "move_down", "move down";
        MoveLeft => "move_left", "move left";
        MoveRight => "move_right", "move right";
        PageUp => "page_up", "page up";
        PageDown => "page_down", "page down";
        First => "first", "first";
        Last => "last", "last";
        /// Open the selected host (in the Apps panel: the app's trace; in a trace: follow
        /// the selected caller or dependency).
        Open => "open", "open the selected host / app / hop";
        /// Leave the current view (or close help).
        Back => "back", "back";
        ToggleHelp => "toggle_help", "show or hide help";
        /// Move the focus to the next panel (grid, apps).
        FocusNext => "focus_next", "grid ⇄ apps panel";
        /// Ask for a new instance count for the selected app.
        ScalePrompt => "scale_prompt", "scale to a number", leads to Scale;
        /// One more instance of the selected app.
        ScaleUp => "scale_up", "one more instance", leads to Scale;
        /// One fewer instance of the selected app.
        ScaleDown => "scale_down", "one fewer instance", leads to Scale;
        /// Accept the open dialog.
        Confirm => "confirm", "yes / ok";
        /// Close the open dialog without doing anything.
        Cancel => "cancel", "no / cancel";
        /// Delete the last character typed into a prompt.
        Erase => "erase", "erase a character";
        /// Ask for the image to roll the selected app out to.
        RolloutPrompt => "rollout_prompt", "roll out a new image", leads to Rollout;
        /// Pause the selected app's rollout, or resume it if paused.
        PauseResume => "pause_resume", "pause / resume the rollout", leads to Pause;
        /// Roll the selected app back to its previous revision.
        RollbackPrevious => "rollback_previous", "roll back to the previous revision",
            leads to Rollback;
        /// Open the selected app's revision history (enter there rolls back to the pick).
        ShowHistory => "show_history", "revision history (enter rolls back)";
        /// Replace the selected app's instances with fresh ones of the same spec.
        RollingRestart => "rolling_restart", "rolling restart", leads to Restart;
        /// Let the selected app's canary rollout go on to every instance.
        Promote => "promote", "promote the canary", leads to Promote;
        /// Restart the container selected in the host view (that one only).
        RestartOne => "restart_one", "restart this container", leads to RestartContainer;
        /// Open the trace of the selected app, or of the selected container's app.
        ShowTrace => "show_trace", "trace: callers, instances, dependencies";
        /// Open the selected app's instances side by side (in a trace the selected hop's
        /// app, else the traced one), each with its CPU
        /// and memory chart from its host's agent.
        ShowInstances => "show_instances", "instances side by side: CPU and memory charts";
        /// Switch the charts between the last minute, 10 minutes and hour.
        ChartWindow => "chart_window", "charts over 1 m / 10 m / 1 h";
        /// Open the `:` command line.
        CommandLine => "command_line", "command line (:scale web 5, :host …)";
        /// Open the `/` filter prompt.
        FilterPrompt => "filter_prompt", "filter: name, zone=a, state=down";
        /// Write the screen as text, SVG and PNG into the XDG data dir (`…/wheelhouse/screens`).
        ExportScreen => "export_screen", "save the screen as text, SVG and PNG";
        /// Open the logs of the selected container, app or trace node.
        ShowLogs => "show_logs", "logs of the selected container / app";
        /// Logs: follow new lines at the end, or stop following.
        LogsFollow => "logs_follow", "follow on / off";
        /// Logs: stop taking new lines into view (they are still kept), or take them again.
        LogsPause => "logs_pause", "pause / resume (lines still kept)";
        /// Logs: read again from 1m, 5m, 15m, 1h back, then everything kept.
        LogsSince => "logs_since", "since: 1m → 5m → 15m → 1h → all";
        LogsSince1m => "logs_since_minute", "since 1 minute";
        LogsSince5m => "logs_since_five", "since 5 minutes";
        LogsSince15m => "logs_since_quarter", "since 15 minutes";
        LogsSince1h => "logs_since_hour", "since 1 hour";
        LogsWrap => "logs_wrap", "wrap long lines on / off";
        LogsTimestamps => "logs_timestamps", "timestamps on / off";
        /// Logs: the next line the search matches.
        SearchNext => "search_next", "next match";
        SearchPrev => "search_prev", "previous match";
        /// Logs: write the lines kept as plain text into the XDG data dir.
        LogsSave => "logs_save", "save the lines kept to a file";
    }
    data {
        /// A character typed into a prompt.
        Input(char),
        /// Write the screen as text, SVG and PNG into this directory (on the server).
        ExportTo(String),
        /// Switch to a theme by name or path (the loop loads it).
        SetTheme(String),
        /// Show only the hosts (and apps) matching this filter text; empty clears it.
        SetFilter(String),
        /// Open a host's view by name.
        OpenHost(String),
        /// Open an app's revision history by name.
        OpenHistory(String),
        /// Open an app's trace by name (in a trace: follow to it).
        OpenTrace(String),
        /// Open the logs of a container or app by name.
        OpenLogs(String),
        /// Open an app's instances side by side by name.
        OpenInstances(String),
        /// Write the lines kept as plain text to this path (on the server).
        SaveLogs(String),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_unique_snake_case_names() {
        let mut names: Vec<&str> = Action::ALL.iter().map(Action::name).collect();
        assert!(
            names.iter().all(|n| {
                !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            })
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
        assert_eq!(Action::ToggleHelp.name(), "toggle_help");
        assert_eq!(
            Action::Input('x').name(),
            "",
            "data-carrying actions are not bindable"
        );
    }

    #[test]
    fn the_keys_that_change_the_cluster_name_their_command() {
        let leading: Vec<(&str, &str)> = (Action::ALL.iter())
            .filter_map(|a| Some((a.name(), a.leads_to()?.name())))
            .collect();
        assert_eq!(
            leading,
            [
                ("scale_prompt", "scale"),
                ("scale_up", "scale"),
                ("scale_down", "scale"),
                ("rollout_prompt", "rollout"),
                ("pause_resume", "pause"),
                ("rollback_previous", "rollback"),
                ("rolling_restart", "restart"),
                ("promote", "promote"),
                ("restart_one", "restart-container"),
            ]
        );
        // Looking at the history changes nothing; rolling back from it asks y/n.
        assert_eq!(Action::ShowHistory.leads_to(), None);
        let delete = Action::Run(Command::Delete { app: "web".into() });
        assert_eq!(delete.leads_to(), Some(Kind::Delete));
    }
}
