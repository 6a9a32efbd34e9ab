//! The one way a change happens: `execute(&Ops, &Principal, Command)`. The cockpit (after
//! y/n) and `ctl` both come here, so a scale from either is authorized, checked, written
//! and audited the same way.
//!
//! Every write is one guarded Txn naming the revision this operator read (so a race gives
//! one success and one conflict, never a lost update), and every attempt, refused or not,
//! appends an audit record. Checks run before the write: nothing is half-written.

mod command;
mod gate;
mod outcome;
mod refusals;
mod rollout;

pub use command::{Command, Kind, Target};
pub use gate::{Ask, Mode, Principal, authorize};
pub use outcome::{Change, OpsError, Outcome};
pub use refusals::{Refusal, spawn_auditor};
pub use rollout::{HistoryEntry, busy_message, history};

use crate::domain::HostSpec;
use crate::domain::app::{AppSpec, validate_instances};
use crate::store::{self, AuditEntry, AuditOutcome, EtcdLink, Expect, StoreError};
use etcd_client::Client;
use std::time::Duration;

/// How long one engine may take to say which images it holds.
const IMAGE_CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the audit of a refusal may hold the answer back when etcd does not answer.
const REFUSAL_AUDIT_LIMIT: Duration = Duration::from_secs(2);

/// Where and how mutations are carried out.
#[derive(Debug, Clone)]
pub struct Ops {
    /// The process's etcd client (the feed's, where there is one); None when no etcd is
    /// configured: every change is then refused, after the gate.
    pub etcd: Option<EtcdLink>,
    pub prefix: String,
    /// The most instances one app may have (the config's `max_instances`).
    pub max_instances: u32,
    /// Hosts asked whether they hold an image, besides the records in etcd.
    pub hosts: Vec<HostSpec>,
}

/// What a handler works with: where, on which client, and the audit's particulars.
struct Cx<'a> {
    ops: &'a Ops,
    client: Client,
    detail: String,
}

/// Carries out one command for `principal`: the gate, then the handler, then the audit
/// (best effort: a failure to record is logged, and does not undo or hide what was done).
pub async fn execute(
    ops: &Ops,
    principal: &Principal,
    command: Command,
) -> Result<Outcome, OpsError> {
    let kind = command.kind();
    let mut entry = AuditEntry::by(&principal.who, &principal.from, kind.name(), "", "", "");
    entry.target = command.target().name().to_owned();
    entry.app = command.target().app().map(str::to_owned);
    let ask = Ask::Change {
        kind,
        what: kind.name(),
    };
    if let Err(why) = authorize(principal, ask) {
        let refused = OpsError::Refused(why);
        settle(&mut entry, Err(&refused));
        record(ops, &entry).await;
        return Err(refused);
    }
    // Without etcd there is nothing to write and nowhere to audit.
    let link = ops.etcd.as_ref().ok_or(OpsError::NoEtcd)?;
    let (generation, client) = link.client().await?;
    let mut cx = Cx {
        ops,
        client,
        detail: String::new(),
    };
    let result = command.handle(&mut cx).await;
    entry.detail = cx.detail;
    settle(&mut entry, result.as_ref());
    audit(&mut cx.client, &ops.prefix, &entry).await;
    if let Err(OpsError::Store(e)) = &result
        && e.is_unreachable()
    {
        // The next command (or watcher) connects afresh.
        link.lost(generation).await;
    }
    result
}

/// Fills in how an audited attempt ended.
fn settle(entry: &mut AuditEntry, result: Result<&Outcome, &OpsError>) {
    let (outcome, said) = match result {
        Ok(done) => (AuditOutcome::Ok, format!("ok: {done}")),
        Err(e) if e.is_bad_input() => (AuditOutcome::Refused, e.to_string()),
        Err(e) => (AuditOutcome::Failed, e.to_string()),
    };
    entry.outcome = Some(outcome);
    entry.result = said;
    entry.revision = result.ok().and_then(Outcome::revision);
    entry.reason = result.err().map(OpsError::reason);
}

/// Records a change refused before it became a command (a bad count, a bad file) with the
/// reason the operator was given.
pub async fn record_refusal(
    ops: &Ops,
    principal: &Principal,
    kind: Kind,
    target: &str,
    reason: &str,
) {
    let mut entry = AuditEntry::by(&principal.who, &principal.from, kind.name(), target, "", "");
    settle(&mut entry, Err(&OpsError::Invalid(reason.to_owned())));
    record(ops, &entry).await;
}

/// Writes a refusal's record on the process's client, within REFUSAL_AUDIT_LIMIT. Best
/// effort, like every audit record: when etcd cannot be reached it is logged instead.
async fn record(ops: &Ops, entry: &AuditEntry) {
    let Some(link) = &ops.etcd else {
        return;
    };
    let write = async {
        match link.client().await {
            Ok((_, mut client)) => audit(&mut client, &ops.prefix, entry).await,
            Err(e) => {
                let (command, target) = (&entry.command, &entry.target);
                tracing::warn!(command, target, "cannot write the audit record: {e}");
            }
        }
    };
    if tokio::time::timeout(REFUSAL_AUDIT_LIMIT, write)
        .await
        .is_err()
    {
        let (command, target) = (&entry.command, &entry.target);
        tracing::warn!(
            command,
            target,
            "the refusal is not audited: etcd did not answer"
        );
    }
}

async fn audit(client: &mut Client, prefix: &str, entry: &AuditEntry) {
    if let Err(e) = store::record(client, prefix, entry).await {
        let (command, target) = (&entry.command, &entry.target);
        tracing::warn!(command, target, "cannot write the audit record: {e}");
    }
}

async fn scale(
    cx: &mut Cx<'_>,
    app: String,
    count: u32,
    seen: Option<i64>,
) -> Result<Outcome, OpsError> {
    let (ops, client, app) = (cx.ops, &mut cx.client, app.as_str());
    cx.detail = format!("instances -> {count}");
    validate_instances(i64::from(count), ops.max_instances)
        .map_err(|why| OpsError::Invalid(format!("cannot scale {app}: {why}")))?;
    let (spec, read) = store::get_app(client, &ops.prefix, app)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            kind: "app",
            name: app.to_owned(),
        })?;
    let from = spec.instances;
    cx.detail = format!("instances {from} -> {count}");
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

async fn apply(cx: &mut Cx<'_>, spec: Box<AppSpec>) -> Result<Outcome, OpsError> {
    let (ops, client) = (cx.ops, &mut cx.client);
    cx.detail = format!("image {}, instances {}", spec.image, spec.instances);
    spec.validate()
        .and_then(|()| validate_instances(i64::from(spec.instances), ops.max_instances).map(drop))
        .map_err(|why| OpsError::Invalid(format!("app {}: {why}", spec.name)))?;
    let existing = store::get_app(client, &ops.prefix, &spec.name).await?;
    // A spec file does not carry the restart generation: keep the stored one, or applying
    // the same file after a rolling restart would roll the app out once more.
    let mut spec = *spec;
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

async fn delete(cx: &mut Cx<'_>, app: String) -> Result<Outcome, OpsError> {
    let (ops, client) = (cx.ops, &mut cx.client);
    let (_, read) = store::get_app(client, &ops.prefix, &app)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            kind: "app",
            name: app.clone(),
        })?;
    let revision = store::delete_app(client, &ops.prefix, &app, read).await?;
    Ok(Outcome::Deleted { app, revision })
}

async fn reset_rollout(cx: &mut Cx<'_>, app: String) -> Result<Outcome, OpsError> {
    let why = store::delete_broken_rollout(&mut cx.client, &cx.ops.prefix, &app).await?;
    cx.detail = format!("broken record: {why}");
    Ok(Outcome::RolloutReset { app })
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
}
