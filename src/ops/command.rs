//! Every change to the cluster, declared once: its name (the audit's verb), help, whether
//! it writes, what it touches and its handler. Keys, dialogs, the `:` line and `ctl` build
//! a `Command`; `ops::execute` is the one place it is carried out.

use super::{Cx, OpsError, Outcome, rollout};
use crate::domain::app::AppSpec;

/// What a command touches: the gate (later, roles per zone) and the audit name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    App(&'a str),
    Host(&'a str),
}

impl<'a> Target<'a> {
    pub fn name(self) -> &'a str {
        match self {
            Target::App(name) | Target::Host(name) => name,
        }
    }

    pub fn app(self) -> Option<&'a str> {
        match self {
            Target::App(name) => Some(name),
            Target::Host(_) => None,
        }
    }
}

/// Declares `Command`, its fieldless twin `Kind` (with `Kind::ALL`) and the one match that
/// hands each command to its handler, so a new command is one entry here.
macro_rules! commands {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident { $($field:ident: $ty:ty),* $(,)? }
            => $name:literal, $help:literal, mutating: $mutating:literal,
               touches: $target:ident($first:ident $(.$rest:ident)*), $handler:path;
    )*) => {
        #[derive(Debug, Clone, PartialEq)]
        pub enum Command {
            $( $(#[doc = $doc])* $variant { $($field: $ty),* }, )*
        }

        /// A command without its arguments: what the gate and help need to know.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Kind {
            $($variant,)*
        }

        impl Kind {
            /// Every command, in declaration order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),*];

            /// Its audit verb, as `ctl` and the `:` line name it.
            pub fn name(self) -> &'static str {
                match self { $(Kind::$variant => $name,)* }
            }

            pub fn help(self) -> &'static str {
                match self { $(Kind::$variant => $help,)* }
            }

            /// Whether it changes the cluster: read-only principals are refused these.
            pub fn is_mutating(self) -> bool {
                match self { $(Kind::$variant => $mutating,)* }
            }
        }

        impl Command {
            pub fn kind(&self) -> Kind {
                match self { $(Command::$variant { .. } => Kind::$variant,)* }
            }

            pub fn target(&self) -> Target<'_> {
                match self {
                    $(Command::$variant { $first, .. } => Target::$target(&$first $(.$rest)*),)*
                }
            }

            pub(super) async fn handle(self, cx: &mut Cx<'_>) -> Result<Outcome, OpsError> {
                match self {
                    $(Command::$variant { $($field),* } => $handler(cx, $($field),*).await,)*
                }
            }
        }
    };
}

commands! {
    /// Set an app's instance count. `seen` is the spec revision the operator looked at;
    /// the write fails with a conflict if the app changed since.
    Scale { app: String, count: u32, seen: Option<i64> }
        => "scale", "set an app's instance count", mutating: true,
           touches: App(app), super::scale;
    /// Create or replace an app spec.
    Apply { spec: Box<AppSpec> }
        => "apply", "create or replace an app's spec", mutating: true,
           touches: App(spec.name), super::apply;
    /// Remove an app spec (the controller then stops its containers).
    Delete { app: String }
        => "delete", "remove an app's spec (its containers stop)", mutating: true,
           touches: App(app), super::delete;
    /// Roll an app out to a new image (the controller replaces its instances under the
    /// spec's update policy).
    Rollout { app: String, image: String }
        => "rollout", "roll an app out to a new image", mutating: true,
           touches: App(app), rollout::rollout;
    /// Put back an earlier spec: the one filed under this history revision, or, with None,
    /// the newest one whose containers differ from the current (during a rollout: turn it
    /// around).
    Rollback { app: String, revision: Option<i64> }
        => "rollback", "put back an earlier spec, or turn a rollout around", mutating: true,
           touches: App(app), rollout::rollback;
    /// A rolling restart: the same spec with `restart_generation` + 1.
    Restart { app: String }
        => "restart", "replace every instance with a fresh one", mutating: true,
           touches: App(app), rollout::restart;
    /// Restart one container through its engine, outside any rollout.
    RestartContainer { host: String, container: String }
        => "restart-container", "restart one container", mutating: true,
           touches: Host(host), rollout::restart_container;
    /// Pause a running rollout (the leader stops where it is).
    Pause { app: String }
        => "pause", "pause an app's rollout", mutating: true,
           touches: App(app), rollout::pause;
    /// Resume a paused rollout.
    Resume { app: String }
        => "resume", "resume an app's paused rollout", mutating: true,
           touches: App(app), rollout::resume;
    /// Let a canary rollout go on to every instance.
    Promote { app: String }
        => "promote", "promote an app's canary to every instance", mutating: true,
           touches: App(app), rollout::promote;
    /// Remove the app's rollout record when it cannot be read (`ctl rollout-status --reset`).
    ResetRollout { app: String }
        => "rollout-reset", "remove an app's unreadable rollout record", mutating: true,
           touches: App(app), super::reset_rollout;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_command_is_named_and_explained() {
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        assert!(Kind::ALL.iter().all(|k| !k.help().is_empty()));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Kind::ALL.len(), "{names:?}");
    }

    #[test]
    fn targets_name_what_the_command_touches() {
        let apply = Command::Apply {
            spec: Box::new(AppSpec::new("web", "demo:1")),
        };
        assert_eq!(apply.target(), Target::App("web"));
        let one = Command::RestartContainer {
            host: "lab-1".into(),
            container: "web.1".into(),
        };
        assert_eq!(
            (one.kind().name(), one.target()),
            ("restart-container", Target::Host("lab-1"))
        );
        assert_eq!(one.target().app(), None);
    }
}
