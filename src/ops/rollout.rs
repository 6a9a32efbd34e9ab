//! Rollouts, rollbacks and restarts. A rollout starts by writing the app's spec with a new
//! image (the controller's leader notices the new revision and drives it); a rolling
//! restart writes the same spec with the next `restart_generation`; pause, resume, promote
//! and turning a rollout around are commands left for the leader (`store::request`).
//!
//! One rollout per app at a time: a new image, a restart or a rollback to a picked
//! revision is refused while one runs, until it finishes, is rolled back or is paused.
//! The invariants (never below `desired - max_unavailable`, never above
//! `desired + max_surge`) are counted against one from -> to pair, and a new leader
//! resumes one stored state; a second rollout on top would need both to be merged.
//! A paused rollout may be replaced: that is how a failed one is fixed forward.

use super::{Cx, Ops, OpsError, Outcome, check_image};
use crate::cluster::Rollout;
use crate::domain::app::{AppSpec, validate_instances};
use crate::plan::labels;
use crate::plan::rollout::{Command as LeaderCommand, Phase, RolloutState};
use crate::store::{self, AuditOutcome, Expect, StoreError};
use bollard::query_parameters::RestartContainerOptions;
use etcd_client::Client;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// How long `docker restart` waits after SIGTERM before SIGKILL.
const RESTART_GRACE_SECS: i32 = 10;
/// How long one container restart may take in all (the grace period, then the start).
const RESTART_TIMEOUT: Duration = Duration::from_secs(40);
/// How long a restart marker lives at most: the restart's own limit and some.
const MARK_TTL: Duration = Duration::from_secs(RESTART_TIMEOUT.as_secs() + 10);
/// Audit records read at a time to date the history entries, and at most this many pages
/// (the trail of a busy cluster is long; history keeps far fewer revisions).
const AUDIT_PAGE: usize = 500;
const AUDIT_PAGES: usize = 40;

/// What the operator is told when a rollout is under way.
pub fn busy_message(state: &RolloutState) -> String {
    let c = &state.counts;
    format!(
        "{} is rolling out ({}, {} of {} new and healthy): one rollout per app at a time — \
         wait for it to finish, roll it back or pause it first",
        state.app, state.phase, c.new_available, state.desired
    )
}

/// The app's spec and its mod_revision; NotFound if there is none.
async fn spec_of(ops: &Ops, client: &mut Client, app: &str) -> Result<(AppSpec, i64), OpsError> {
    store::get_app(client, &ops.prefix, app)
        .await?
        .ok_or_else(|| {
            StoreError::NotFound {
                kind: "app",
                name: app.to_owned(),
            }
            .into()
        })
}

/// Refuses to write a stored count back that the controller would not act on (a record
/// read with no upper limit), as `scale` and `apply` refuse it when asked for.
fn check_count(spec: &AppSpec, max_instances: u32) -> Result<(), OpsError> {
    validate_instances(i64::from(spec.instances), max_instances)
        .map(drop)
        .map_err(|why| {
            OpsError::Invalid(format!(
                "app {}: stored {why}; scale it first (wheelhouse ctl scale {} N)",
                spec.name, spec.name
            ))
        })
}

/// The app's rollout when one is under way (not finished).
async fn running(ops: &Ops, client: &mut Client, app: &str) -> Result<Option<Rollout>, OpsError> {
    let rollout = store::get_rollout(client, &ops.prefix, app).await?;
    Ok(rollout.filter(|r| !r.state.phase.is_done()))
}

/// Refuses while a rollout runs; a paused one may be replaced.
async fn refuse_if_busy(ops: &Ops, client: &mut Client, app: &str) -> Result<(), OpsError> {
    match running(ops, client, app).await? {
        Some(r) if !matches!(r.state.phase, Phase::Paused { .. }) => {
            Err(OpsError::Busy(busy_message(&r.state)))
        }
        _ => Ok(()),
    }
}

pub(super) async fn rollout(
    cx: &mut Cx<'_>,
    app: String,
    image: String,
) -> Result<Outcome, OpsError> {
    let (ops, client, app, image) = (cx.ops, &mut cx.client, app.as_str(), image.as_str());
    cx.detail = format!("image -> {image}");
    if image.trim().is_empty() || image.chars().any(char::is_whitespace) {
        return Err(OpsError::Invalid(format!(
            "{image:?} is not an image reference"
        )));
    }
    let (mut spec, read) = spec_of(ops, client, app).await?;
    let from = spec.image.clone();
    cx.detail = format!("image {from} -> {image}");
    if from == image {
        return Err(OpsError::Invalid(format!("{app} runs {image} already")));
    }
    refuse_if_busy(ops, client, app).await?;
    check_image(ops, client, image).await?;
    spec.image = image.to_owned();
    check_count(&spec, ops.max_instances)?;
    let revision = store::put_app(client, &ops.prefix, &spec, Expect::Revision(read)).await?;
    Ok(Outcome::RolloutStarted {
        app: app.to_owned(),
        from,
        to: image.to_owned(),
        revision,
    })
}

pub(super) async fn rollback(
    cx: &mut Cx<'_>,
    app: String,
    wanted: Option<i64>,
) -> Result<Outcome, OpsError> {
    let (ops, client, app) = (cx.ops, &mut cx.client, app.as_str());
    cx.detail = wanted.map_or("to the previous revision".to_owned(), |r| {
        format!("to history revision {r}")
    });
    let (current, read) = spec_of(ops, client, app).await?;
    // During a rollout, "back" means turning it around: the leader does that in step.
    if let Some(r) = running(ops, client, app).await? {
        let paused = matches!(r.state.phase, Phase::Paused { .. });
        if wanted.is_none() {
            return request(ops, client, app, LeaderCommand::Rollback).await;
        }
        if !paused {
            return Err(OpsError::Busy(busy_message(&r.state)));
        }
    }
    let history = store::list_history(client, &ops.prefix, app).await?;
    let running_revision = labels::revision(&current);
    let picked = match wanted {
        Some(r) => history.into_iter().find(|(rev, _)| *rev == r).ok_or_else(|| {
            OpsError::Invalid(format!(
                "{app} has no revision {r} in its history (wheelhouse ctl history {app} lists them)"
            ))
        })?,
        None => history
            .into_iter()
            .find(|(_, spec)| labels::revision(spec) != running_revision)
            .ok_or_else(|| OpsError::Invalid(format!("{app} has no earlier revision")))?,
    };
    let (from_history, old) = picked;
    cx.detail = format!(
        "image {} -> {} (history revision {from_history})",
        current.image, old.image
    );
    if labels::revision(&old) == running_revision {
        return Err(OpsError::Invalid(format!(
            "revision {from_history} of {app} runs what it runs now: nothing to roll back"
        )));
    }
    // The earlier containers, at today's instance count: a rollback is not a scale.
    let mut restored = old;
    restored.name = app.to_owned();
    restored.instances = current.instances;
    check_count(&restored, ops.max_instances)?;
    if restored.instances > 0 {
        check_image(ops, client, &restored.image).await?;
    }
    let revision = store::put_app(client, &ops.prefix, &restored, Expect::Revision(read)).await?;
    Ok(Outcome::RolledBack {
        app: app.to_owned(),
        image: restored.image,
        from_history,
        revision,
    })
}

pub(super) async fn restart(cx: &mut Cx<'_>, app: String) -> Result<Outcome, OpsError> {
    let (ops, client, app) = (cx.ops, &mut cx.client, app.as_str());
    let (mut spec, read) = spec_of(ops, client, app).await?;
    if spec.instances == 0 {
        return Err(OpsError::Invalid(format!(
            "{app} has 0 instances: nothing to restart"
        )));
    }
    refuse_if_busy(ops, client, app).await?;
    spec.restart_generation = spec.restart_generation.saturating_add(1);
    cx.detail = format!("restart generation -> {}", spec.restart_generation);
    check_count(&spec, ops.max_instances)?;
    let revision = store::put_app(client, &ops.prefix, &spec, Expect::Revision(read)).await?;
    Ok(Outcome::Restarting {
        app: app.to_owned(),
        generation: spec.restart_generation,
        revision,
    })
}

pub(super) async fn pause(cx: &mut Cx<'_>, app: String) -> Result<Outcome, OpsError> {
    request(cx.ops, &mut cx.client, &app, LeaderCommand::Pause).await
}

pub(super) async fn resume(cx: &mut Cx<'_>, app: String) -> Result<Outcome, OpsError> {
    request(cx.ops, &mut cx.client, &app, LeaderCommand::Resume).await
}

pub(super) async fn promote(cx: &mut Cx<'_>, app: String) -> Result<Outcome, OpsError> {
    request(cx.ops, &mut cx.client, &app, LeaderCommand::Promote).await
}

/// Leaves a command for the leader (checked against the stored state first).
async fn request(
    ops: &Ops,
    client: &mut Client,
    app: &str,
    command: LeaderCommand,
) -> Result<Outcome, OpsError> {
    store::request(client, &ops.prefix, app, command).await?;
    Ok(Outcome::CommandSent {
        app: app.to_owned(),
        command,
    })
}

/// Restarts one container through its host's engine.
pub(super) async fn restart_container(
    cx: &mut Cx<'_>,
    host: String,
    container: String,
) -> Result<Outcome, OpsError> {
    cx.detail = format!("container {container}");
    let (ops, client) = (cx.ops, &mut cx.client);
    let (host, container) = (host.as_str(), container.as_str());
    let hosts = super::all_hosts(ops, client).await;
    let spec = hosts
        .iter()
        .find(|h| h.name == host)
        .ok_or_else(|| OpsError::Invalid(format!("no host named {host:?}")))?;
    let engine = |e: String| OpsError::Engine(format!("{host}: {e}"));
    let docker = crate::docker::connect(spec)
        .await
        .map_err(|e| engine(e.to_string()))?;
    let options = RestartContainerOptions {
        t: Some(RESTART_GRACE_SECS),
        signal: None,
    };
    // Tell the controller first: the container's brief exit is asked for, not a failure
    // (a rollout waits for it instead of rolling back).
    let lease = store::mark_restart(client, &ops.prefix, container, MARK_TTL).await?;
    let call = docker.restart_container(container, Some(options));
    let result = tokio::time::timeout(RESTART_TIMEOUT, call).await;
    if let Err(e) = store::settle_restart(client, &ops.prefix, container, lease).await {
        tracing::warn!(
            container,
            "cannot settle the restart marker (it expires): {e}"
        );
    }
    match result {
        Err(_) => Err(engine(format!(
            "restart of {container} timed out after {}s",
            RESTART_TIMEOUT.as_secs()
        ))),
        Ok(Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        })) => Err(OpsError::Invalid(format!(
            "no container {container:?} on {host}"
        ))),
        Ok(Err(e)) => Err(engine(crate::docker::describe(&e))),
        Ok(Ok(())) => Ok(Outcome::ContainerRestarted {
            host: host.to_owned(),
            container: container.to_owned(),
        }),
    }
}

/// One earlier spec of an app, as the history list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The history key: the spec's mod_revision while it was current.
    pub revision: i64,
    pub image: String,
    pub instances: u32,
    /// When it was written (from the audit trail), if known.
    pub when: Option<String>,
    /// Its containers are what the current spec runs (a scale, not a new revision).
    pub same_as_current: bool,
}

/// An app's earlier specs, newest first, for the history list: each with when it was
/// written, when the audit trail says so.
pub async fn history(ops: &Ops, app: &str) -> Result<Vec<HistoryEntry>, OpsError> {
    let (_, mut client) = (ops.etcd.as_ref().ok_or(OpsError::NoEtcd)?)
        .client()
        .await?;
    let (current, _) = spec_of(ops, &mut client, app).await?;
    let specs = store::list_history(&mut client, &ops.prefix, app).await?;
    let wanted: HashSet<i64> = specs.iter().map(|(revision, _)| *revision).collect();
    let when = dates(&mut client, &ops.prefix, app, &wanted).await;
    let running = labels::revision(&current);
    Ok(specs
        .into_iter()
        .map(|(revision, spec)| HistoryEntry {
            revision,
            same_as_current: labels::revision(&spec) == running,
            image: spec.image,
            instances: spec.instances,
            when: when.get(&revision).cloned(),
        })
        .collect())
}

/// When each of `app`'s `revisions` was written, from the audit trail read back a page at
/// a time until all are found (or `AUDIT_PAGES` pages). Dates are a nicety: a failed
/// audit read leaves the rest blank.
async fn dates(
    client: &mut Client,
    prefix: &str,
    app: &str,
    revisions: &HashSet<i64>,
) -> HashMap<i64, String> {
    let mut when = HashMap::new();
    let mut before = None;
    for _ in 0..AUDIT_PAGES {
        let Ok((entries, next)) = store::list_audit_page(client, prefix, AUDIT_PAGE, before).await
        else {
            break;
        };
        for e in entries {
            if e.app.as_deref() != Some(app) || e.outcome != Some(AuditOutcome::Ok) {
                continue;
            }
            if let Some(revision) = e.revision.filter(|r| revisions.contains(r)) {
                when.entry(revision).or_insert_with(|| short_time(&e.time));
            }
        }
        before = next;
        if before.is_none() || when.len() == revisions.len() {
            break;
        }
    }
    when
}

/// "2025-01-31T12:00:00.123Z" -> "2025-01-31 12:00:00".
fn short_time(time: &str) -> String {
    time.split('.')
        .next()
        .unwrap_or(time)
        .trim_end_matches('Z')
        .replacen('T', " ", 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::app::UpdatePolicy;

    #[test]
    fn audit_times_are_shown_to_the_second() {
        assert_eq!(
            short_time("2025-01-31T12:00:00.123456789Z"),
            "2025-01-31 12:00:00"
        );
    }

    #[test]
    fn a_stored_count_above_the_maximum_is_not_written_back() {
        let mut spec = AppSpec::new("web", "nginx:1");
        spec.instances = u32::MAX;
        let why = check_count(&spec, 64).unwrap_err().to_string();
        assert!(why.contains("web") && why.contains("4294967295"), "{why}");
        assert!(why.contains("maximum of 64"), "{why}");
        spec.instances = 64;
        assert!(check_count(&spec, 64).is_ok());
    }

    #[test]
    fn busy_says_what_runs_and_what_to_do() {
        let state = RolloutState::new(
            "web",
            1,
            2,
            6,
            UpdatePolicy::default(),
            &Default::default(),
            0,
        );
        let said = busy_message(&state);
        assert!(
            said.starts_with("web is rolling out (progressing, 0 of 6"),
            "{said}"
        );
        assert!(
            said.contains("finish, roll it back or pause it first"),
            "{said}"
        );
    }
}
