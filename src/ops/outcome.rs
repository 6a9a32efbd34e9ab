//! What a command did, or why it did not: the status line's text, the audit's typed
//! fields, and `ctl`'s exit code.

use crate::plan::rollout::Command as LeaderCommand;
use crate::store::{self, AuditReason, RequestError, StoreError};
use std::fmt;

/// What an executed command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Scaled {
        app: String,
        from: u32,
        to: u32,
        revision: i64,
    },
    Applied {
        app: String,
        change: Change,
        revision: i64,
    },
    Deleted {
        app: String,
        revision: i64,
    },
    /// The spec now names the new image; the controller rolls it out.
    RolloutStarted {
        app: String,
        from: String,
        to: String,
        revision: i64,
    },
    /// An earlier spec (filed under history revision `from_history`) is current again.
    RolledBack {
        app: String,
        image: String,
        from_history: i64,
        revision: i64,
    },
    /// The spec's restart generation went up; the controller replaces every instance.
    Restarting {
        app: String,
        generation: u64,
        revision: i64,
    },
    ContainerRestarted {
        host: String,
        container: String,
    },
    /// A command is waiting for the controller's leader.
    CommandSent {
        app: String,
        command: LeaderCommand,
    },
    /// A broken rollout record was removed: the app can be rolled out again.
    RolloutReset {
        app: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    /// The stored spec was already this one: nothing was written.
    Unchanged,
}

impl Outcome {
    /// The spec revision the command wrote, for the audit (None when it wrote no spec).
    pub fn revision(&self) -> Option<i64> {
        match self {
            Outcome::Scaled { revision, .. }
            | Outcome::Deleted { revision, .. }
            | Outcome::RolloutStarted { revision, .. }
            | Outcome::RolledBack { revision, .. }
            | Outcome::Restarting { revision, .. } => Some(*revision),
            Outcome::Applied {
                change, revision, ..
            } => (*change != Change::Unchanged).then_some(*revision),
            Outcome::ContainerRestarted { .. }
            | Outcome::CommandSent { .. }
            | Outcome::RolloutReset { .. } => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Scaled {
                app,
                from,
                to,
                revision,
            } => write!(f, "{app} scaled to {to} (was {from}, revision {revision})"),
            Outcome::Applied {
                app,
                change,
                revision,
            } => {
                let what = match change {
                    Change::Created => "created",
                    Change::Updated => "updated",
                    Change::Unchanged => "unchanged",
                };
                write!(f, "{app} {what} (revision {revision})")
            }
            Outcome::Deleted { app, revision } => write!(f, "{app} deleted (revision {revision})"),
            Outcome::RolloutStarted {
                app,
                from,
                to,
                revision,
            } => write!(f, "{app} rolling out: {from} → {to} (revision {revision})"),
            Outcome::RolledBack {
                app,
                image,
                from_history,
                revision,
            } => write!(
                f,
                "{app} rolling back to {image} (history revision {from_history}; revision {revision})"
            ),
            Outcome::Restarting {
                app,
                generation,
                revision,
            } => write!(
                f,
                "{app} restarting: generation {generation} (revision {revision})"
            ),
            Outcome::ContainerRestarted { host, container } => {
                write!(f, "{container} restarted on {host}")
            }
            Outcome::CommandSent { app, command } => write!(
                f,
                "{} of {app}'s rollout sent to the controller",
                store::verb(*command)
            ),
            Outcome::RolloutReset { app } => {
                write!(f, "{app}'s broken rollout record removed")
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The gate refused the principal; nothing was tried.
    #[error("{0}")]
    Refused(String),
    /// No etcd is configured: there is nothing to write to.
    #[error("etcd is not configured: nothing was changed")]
    NoEtcd,
    /// etcd refused, lost the race (`StoreError::Conflict`), or could not be reached.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request itself is wrong; nothing was tried.
    #[error("{0}")]
    Invalid(String),
    #[error("image {image} is on no host (looked at {}): import or load it first", .looked_at.join(", "))]
    ImageMissing {
        image: String,
        looked_at: Vec<String>,
    },
    /// A rollout of the app is under way; nothing was tried.
    #[error("{0}")]
    Busy(String),
    /// A rollout command the stored state refuses, or that could not be left.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// An engine refused or did not answer.
    #[error("{0}")]
    Engine(String),
}

impl OpsError {
    /// Whether the operator's input was at fault (`ctl` exits 2), rather than the cluster
    /// or a race (exit 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            OpsError::Refused(_)
            | OpsError::NoEtcd
            | OpsError::Invalid(_)
            | OpsError::ImageMissing { .. } => true,
            OpsError::Store(e) | OpsError::Request(RequestError::Store(e)) => {
                matches!(e, StoreError::NotFound { .. } | StoreError::Invalid { .. })
            }
            OpsError::Request(RequestError::NoRollout { .. } | RequestError::Refused(_)) => true,
            OpsError::Request(RequestError::Pending { .. } | RequestError::Raced { .. })
            | OpsError::Busy(_)
            | OpsError::Engine(_) => false,
        }
    }

    /// Why, as the audit records it.
    pub fn reason(&self) -> AuditReason {
        match self {
            OpsError::Refused(_) => AuditReason::ReadOnly,
            OpsError::ImageMissing { .. } => AuditReason::ImageMissing,
            OpsError::Busy(_) | OpsError::Request(RequestError::Pending { .. }) => {
                AuditReason::Busy
            }
            OpsError::Store(e) | OpsError::Request(RequestError::Store(e)) => match e {
                StoreError::NotFound { .. } => AuditReason::NotFound,
                StoreError::Invalid { .. } => AuditReason::Invalid,
                StoreError::Conflict { .. } => AuditReason::Conflict,
                _ => AuditReason::Unavailable,
            },
            OpsError::Request(RequestError::Raced { .. }) => AuditReason::Conflict,
            OpsError::Invalid(_)
            | OpsError::Request(RequestError::NoRollout { .. } | RequestError::Refused(_)) => {
                AuditReason::Invalid
            }
            OpsError::NoEtcd | OpsError::Engine(_) => AuditReason::Unavailable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_as_status_lines() {
        let scaled = Outcome::Scaled {
            app: "web".into(),
            from: 4,
            to: 32,
            revision: 57,
        };
        assert_eq!(scaled.to_string(), "web scaled to 32 (was 4, revision 57)");
        let applied = Outcome::Applied {
            app: "web".into(),
            change: Change::Unchanged,
            revision: 9,
        };
        assert_eq!(applied.to_string(), "web unchanged (revision 9)");
    }

    #[test]
    fn the_audit_gets_the_spec_revision_a_command_wrote() {
        let scaled = Outcome::Scaled {
            app: "web".into(),
            from: 2,
            to: 5,
            revision: 57,
        };
        assert_eq!(scaled.revision(), Some(57));
        let unchanged = Outcome::Applied {
            app: "web".into(),
            change: Change::Unchanged,
            revision: 9,
        };
        assert_eq!(unchanged.revision(), None, "nothing was written");
        let sent = Outcome::CommandSent {
            app: "web".into(),
            command: LeaderCommand::Pause,
        };
        assert_eq!(sent.revision(), None);
        assert_eq!(
            OpsError::Refused("read-only".into()).reason(),
            AuditReason::ReadOnly
        );
    }

    #[test]
    fn input_errors_are_told_apart_from_failures() {
        assert!(OpsError::Invalid("x".into()).is_bad_input());
        let missing = OpsError::ImageMissing {
            image: "wheelhouse/demo:9".into(),
            looked_at: vec!["lab-1".into(), "lab-2".into()],
        };
        assert!(missing.is_bad_input());
        assert_eq!(
            missing.to_string(),
            "image wheelhouse/demo:9 is on no host (looked at lab-1, lab-2): import or load it first"
        );
        let conflict = OpsError::Store(StoreError::Conflict {
            key: "/wheelhouse/apps/web".into(),
            expected: 11,
            found: 12,
        });
        assert!(!conflict.is_bad_input());
        assert_eq!(
            conflict.to_string(),
            "web was changed by someone else (revision 12, you read 11): reload and try again"
        );
        let unknown = OpsError::Store(StoreError::NotFound {
            kind: "app",
            name: "nope".into(),
        });
        assert!(unknown.is_bad_input());
    }
}
