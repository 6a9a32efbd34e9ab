//! Carries out mutating `Action`s against etcd. The cockpit (after y/n) and `ctl` both come
//! here, so a scale from either checks, writes and audits the same way.
//!
//! Every write is one guarded Txn naming the revision this operator read (so a race gives
//! one success and one conflict, never a lost update), and every attempt, refused or not,
//! appends an audit record. Checks run before the write: nothing is half-written.

mod refusals;
mod rollout;

pub use refusals::{Refusal, spawn_auditor};
pub use rollout::{HistoryEntry, busy_message, history};

use crate::config::EtcdConfig;
use crate::domain::HostSpec;
use crate::domain::app::{AppSpec, validate_instances};
use crate::plan::rollout::Command;
use crate::store::{self, AuditEntry, AuditOutcome, Expect, RequestError, StoreError};
use crate::tui::action::Action;
use etcd_client::Client;
use std::fmt;
use std::time::Duration;

/// How long one engine may take to say which images it holds.
const IMAGE_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how mutations are carried out.
#[derive(Debug, Clone)]
pub struct Ops {
    pub etcd: EtcdConfig,
    pub prefix: String,
    /// The most instances one app may have (the config's `max_instances`).
    pub max_instances: u32,
    /// Hosts asked whether they hold an image, besides the records in etcd.
    pub hosts: Vec<HostSpec>,
}

/// What an executed action did.
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
        command: Command,
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
            OpsError::Invalid(_) | OpsError::ImageMissing { .. } => true,
            OpsError::Store(e) | OpsError::Request(RequestError::Store(e)) => {
                matches!(e, StoreError::NotFound { .. } | StoreError::Invalid { .. })
            }
            OpsError::Request(RequestError::NoRollout { .. } | RequestError::Refused(_)) => true,
            OpsError::Request(RequestError::Pending { .. } | RequestError::Raced { .. })
            | OpsError::Busy(_)
            | OpsError::Engine(_) => false,
        }
    }
}

/// Carries out one mutating action and audits it (the audit is best effort: a failure to
/// record is logged, and does not undo or hide what was done).
pub async fn execute(ops: &Ops, action: &Action) -> Result<Outcome, OpsError> {
    let Some((verb, target)) = describe(action) else {
        return Err(OpsError::Invalid(format!(
            "{} does not change the cluster",
            action.description()
        )));
    };
    // Without etcd there is nothing to write and nowhere to audit.
    let mut client = store::connect(&ops.etcd).await?;
    let mut detail = String::new();
    let result = match action {
        Action::Scale { app, count, seen } => {
            scale(ops, &mut client, app, *count, *seen, &mut detail).await
        }
        Action::Apply { spec } => apply(ops, &mut client, spec, &mut detail).await,
        Action::Delete { app } => delete(ops, &mut client, app).await,
        Action::Rollout { app, image } => {
            rollout::rollout(ops, &mut client, app, image, &mut detail).await
        }
        Action::Rollback { app, revision } => {
            rollout::rollback(ops, &mut client, app, *revision, &mut detail).await
        }
        Action::Restart { app } => rollout::restart(ops, &mut client, app, &mut detail).await,
        Action::RestartContainer { host, container } => {
            detail = format!("container {container}");
            rollout::restart_container(ops, &mut client, host, container).await
        }
        Action::RolloutCommand { app, command } => {
            rollout::request(ops, &mut client, app, *command).await
        }
        Action::ResetRollout { app } => {
            let why = store::delete_broken_rollout(&mut client, &ops.prefix, app).await?;
            detail = format!("broken record: {why}");
            Ok(Outcome::RolloutReset { app: app.clone() })
        }
        _ => Err(OpsError::Invalid(format!("{verb} is not supported"))),
    };
    let (said, outcome) = match &result {
        Ok(outcome) => (format!("ok: {outcome}"), AuditOutcome::Ok),
        Err(e) if e.is_bad_input() => (e.to_string(), AuditOutcome::Refused),
        Err(e) => (e.to_string(), AuditOutcome::Failed),
    };
    let entry = AuditEntry::now(verb, target, detail, said).with_outcome(outcome);
    audit(&mut client, &ops.prefix, &entry).await;
    result
}

/// Records a change refused before it was tried (read-only, a bad count, a bad file) with
/// the reason the operator was given. Best effort, like every audit record: when etcd
/// cannot be reached the refusal is logged instead.
pub async fn record_refusal(ops: &Ops, verb: &str, target: &str, reason: &str) {
    let entry = AuditEntry::now(verb, target, "", reason).with_outcome(AuditOutcome::Refused);
    match store::connect(&ops.etcd).await {
        Ok(mut client) => audit(&mut client, &ops.prefix, &entry).await,
        Err(e) => tracing::warn!(verb, target, "cannot record the refusal: {e}"),
    }
}

async fn audit(client: &mut Client, prefix: &str, entry: &AuditEntry) {
    if let Err(e) = store::record(client, prefix, entry).await {
        let (verb, target) = (&entry.action, &entry.target);
        tracing::warn!(verb, target, "cannot write the audit record: {e}");
    }
}

/// The audit's verb and target for a mutating action; None for one that changes nothing.
pub fn describe(action: &Action) -> Option<(&'static str, &str)> {
    match action {
        Action::Scale { app, .. } => Some(("scale", app)),
        Action::Apply { spec } => Some(("apply", &spec.name)),
        Action::Delete { app } => Some(("delete", app)),
        Action::Rollout { app, .. } => Some(("rollout", app)),
        Action::Rollback { app, .. } => Some(("rollback", app)),
        Action::Restart { app } => Some(("restart", app)),
        Action::RestartContainer { host, .. } => Some(("restart-container", host)),
        Action::RolloutCommand { app, command } => Some((store::verb(*command), app)),
        Action::ResetRollout { app } => Some(("rollout-reset", app)),
        _ => None,
    }
}

async fn scale(
    ops: &Ops,
    client: &mut Client,
    app: &str,
    count: u32,
    seen: Option<i64>,
    detail: &mut String,
) -> Result<Outcome, OpsError> {
    *detail = format!("instances -> {count}");
    validate_instances(i64::from(count), ops.max_instances)
        .map_err(|why| OpsError::Invalid(format!("cannot scale {app}: {why}")))?;
    let (spec, read) = store::get_app(client, &ops.prefix, app)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            kind: "app",
            name: app.to_owned(),
        })?;
    let from = spec.instances;
    *detail = format!("instances {from} -> {count}");
    // Guarded by what the operator saw, else by what was just read: a change in between
    // is someone else's and must not be overwritten.
    let seen = seen.unwrap_or(read);
    if seen != read {
        return Err(StoreError::Conflict {
            key: store::app_key(&ops.prefix, app),
            expected: seen,
            found: read,
        }
        .into());
    }
    if from == 0 && count > 0 {
        check_image(ops, client, &spec.image).await?;
    }
    let (_, revision) = store::scale_app(
        client,
        &ops.prefix,
        app,
        i64::from(count),
        ops.max_instances,
        Some(seen),
    )
    .await?;
    Ok(Outcome::Scaled {
        app: app.to_owned(),
        from,
        to: count,
        revision,
    })
}

async fn apply(
    ops: &Ops,
    client: &mut Client,
    spec: &AppSpec,
    detail: &mut String,
) -> Result<Outcome, OpsError> {
    *detail = format!("image {}, instances {}", spec.image, spec.instances);
    spec.validate()
        .and_then(|()| validate_instances(i64::from(spec.instances), ops.max_instances).map(drop))
        .map_err(|why| OpsError::Invalid(format!("app {}: {why}", spec.name)))?;
    let existing = store::get_app(client, &ops.prefix, &spec.name).await?;
    // A spec file does not carry the restart generation: keep the stored one, or applying
    // the same file after a rolling restart would roll the app out once more.
    let mut spec = spec.clone();
    if let Some((old, _)) = &existing {
        spec.restart_generation = old.restart_generation;
    }
    let spec = &spec;
    let (change, expect) = match &existing {
        None => (Change::Created, Expect::Absent),
        Some((old, revision)) if old == spec => (Change::Unchanged, Expect::Revision(*revision)),
        Some((_, revision)) => (Change::Updated, Expect::Revision(*revision)),
    };
    if change == Change::Unchanged {
        let revision = existing.map_or(0, |(_, r)| r);
        return Ok(Outcome::Applied {
            app: spec.name.clone(),
            change,
            revision,
        });
    }
    // A new image, or instances where there were none: the image must be on some host.
    let image_new = existing
        .as_ref()
        .is_none_or(|(old, _)| old.image != spec.image || old.instances == 0);
    if spec.instances > 0 && image_new {
        check_image(ops, client, &spec.image).await?;
    }
    let revision = store::put_app(client, &ops.prefix, spec, expect).await?;
    Ok(Outcome::Applied {
        app: spec.name.clone(),
        change,
        revision,
    })
}

async fn delete(ops: &Ops, client: &mut Client, app: &str) -> Result<Outcome, OpsError> {
    let (_, read) = store::get_app(client, &ops.prefix, app)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            kind: "app",
            name: app.to_owned(),
        })?;
    let revision = store::delete_app(client, &ops.prefix, app, read).await?;
    Ok(Outcome::Deleted {
        app: app.to_owned(),
        revision,
    })
}

/// Refuses an image that no reachable engine holds (wheelhouse never pulls). When no engine
/// answers, there is no one to ask: the write goes ahead and the controller reports it.
async fn check_image(ops: &Ops, client: &mut Client, image: &str) -> Result<(), OpsError> {
    let Some(wanted) = image_ref(image) else {
        return Ok(());
    };
    let hosts = all_hosts(ops, client).await;
    let answers = futures::future::join_all(hosts.iter().map(images_of)).await;
    let mut looked_at = Vec::new();
    for (host, answer) in hosts.iter().zip(answers) {
        match answer {
            Some(tags) if tags.contains(&wanted) => return Ok(()),
            Some(_) => looked_at.push(host.name.clone()),
            None => {}
        }
    }
    if looked_at.is_empty() {
        tracing::warn!(image, "no engine answered: the image was not checked");
        return Ok(());
    }
    Err(OpsError::ImageMissing {
        image: image.to_owned(),
        looked_at,
    })
}

/// The configured hosts and the records in etcd (etcd's win), by name. Without etcd's
/// answer the configured ones still count.
async fn all_hosts(ops: &Ops, client: &mut Client) -> Vec<HostSpec> {
    let mut hosts = ops.hosts.clone();
    match store::list_hosts(client, &ops.prefix).await {
        Ok((records, _)) => {
            for record in records {
                hosts.retain(|h| h.name != record.name);
                hosts.push(record);
            }
        }
        Err(e) => tracing::warn!("cannot read host records: {e}"),
    }
    hosts.sort_by(|a, b| a.name.cmp(&b.name));
    hosts
}

/// Every image tag `hosts` hold, for the rollout prompt; Err when no engine answered.
pub async fn image_tags(hosts: &[HostSpec]) -> Result<Vec<String>, OpsError> {
    let answers = futures::future::join_all(hosts.iter().map(images_of)).await;
    let mut answered = false;
    let mut tags = std::collections::BTreeSet::new();
    for found in answers.into_iter().flatten() {
        answered = true;
        tags.extend(found);
    }
    if !answered {
        return Err(OpsError::Engine(
            "no engine answered: type the image".to_owned(),
        ));
    }
    Ok(tags.into_iter().collect())
}

/// The image tags one engine holds; None when it cannot be asked.
async fn images_of(host: &HostSpec) -> Option<std::collections::BTreeSet<String>> {
    let ask = async {
        let docker = crate::docker::connect(host).await.ok()?;
        crate::docker::image_tags(&docker, &host.name).await.ok()
    };
    tokio::time::timeout(IMAGE_CHECK_TIMEOUT, ask)
        .await
        .ok()
        .flatten()
}

/// An image name as engines list it ("busybox" is "busybox:latest"); None for a digest
/// reference, which the repo:tag list cannot answer.
fn image_ref(image: &str) -> Option<String> {
    if image.contains('@') {
        return None;
    }
    let name = image.strip_prefix("docker.io/").unwrap_or(image);
    let name = name.strip_prefix("library/").unwrap_or(name);
    let last = name.rsplit('/').next().unwrap_or(name);
    Some(if last.contains(':') {
        name.to_owned()
    } else {
        format!("{name}:latest")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_refs_are_normalised_like_the_engine_lists_them() {
        assert_eq!(image_ref("busybox").as_deref(), Some("busybox:latest"));
        assert_eq!(
            image_ref("wheelhouse/demo:9").as_deref(),
            Some("wheelhouse/demo:9")
        );
        assert_eq!(
            image_ref("docker.io/library/redis:7").as_deref(),
            Some("redis:7")
        );
        // A registry port is not a tag.
        assert_eq!(
            image_ref("reg.local:5000/api").as_deref(),
            Some("reg.local:5000/api:latest")
        );
        assert_eq!(image_ref("api@sha256:abc"), None);
    }

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
