//! The etcd and engine reads a rollout needs beyond its steps: beginning one (the spec it
//! rolls from, and whether any host has the new image), and writing the from-spec back
//! once it has rolled back.

use super::rolling::{Initiation, noted, revisions};
use crate::cluster::Rollout;
use crate::docker;
use crate::domain::HostSpec;
use crate::domain::app::AppSpec;
use crate::plan::labels;
use crate::plan::rollout::{Phase, RolloutState};
use crate::store::{self, AuditEntry, AuditOutcome, Expect, StoreError};
use bollard::Docker;
use etcd_client::Client;
use std::collections::HashMap;

/// The rollout `init` asks for: from the spec in the app's history that runs
/// `from_revision`, failed at once when no host that answers has the new image (nothing
/// has been stopped then). Err only when etcd cannot be read (try again next tick).
pub(super) async fn begin(
    client: &mut Client,
    prefix: &str,
    engines: &mut HashMap<String, Docker>,
    hosts: &HashMap<String, HostSpec>,
    init: Initiation,
    now_ms: u64,
) -> Result<(Rollout, AuditEntry), StoreError> {
    let spec = &init.to_spec;
    let history = store::list_history(client, prefix, &spec.name).await?;
    let from_spec = history
        .into_iter()
        .map(|(_, s)| s)
        .find(|s| labels::revision(s) == init.from_revision);
    let to = labels::revision(spec);
    let mut state = RolloutState::new(
        spec.name.clone(),
        init.from_revision,
        to,
        spec.instances,
        spec.update.clone(),
        &init.observed,
        now_ms,
    );
    let result = match missing_image(engines, hosts, &init.online, &spec.image).await {
        Some(reason) => {
            state.phase = Phase::Failed { reason };
            state.phase.to_string()
        }
        None if from_spec.is_none() => {
            "started (the spec rolled from is not in the history: no rollback)".to_owned()
        }
        None => "started".to_owned(),
    };
    let mut entry = AuditEntry::now("rollout", &spec.name, revisions(&state), result);
    "controller".clone_into(&mut entry.who);
    let entry = noted(entry, &state);
    let rollout = Rollout {
        state,
        from_spec,
        to_spec: spec.clone(),
    };
    Ok((rollout, entry))
}

/// Why no host can run `image`, or None if one has it (or none could be asked: the starts
/// will say what is wrong).
async fn missing_image(
    engines: &mut HashMap<String, Docker>,
    hosts: &HashMap<String, HostSpec>,
    online: &[String],
    image: &str,
) -> Option<String> {
    // A digest cannot be matched against tags; the engine checks it at start.
    if image.contains('@') {
        return None;
    }
    let tagged = image
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'));
    let wanted = if tagged {
        image.to_owned()
    } else {
        format!("{image}:latest")
    };
    let mut asked = 0;
    for host in online {
        let docker = match (engines.get(host), hosts.get(host)) {
            (Some(d), _) => d.clone(),
            (None, Some(spec)) => match docker::connect(spec).await {
                Ok(d) => {
                    engines.insert(host.clone(), d.clone());
                    d
                }
                Err(_) => continue,
            },
            (None, None) => continue,
        };
        match docker::image_tags(&docker, host).await {
            Ok(tags) if tags.contains(&wanted) => return None,
            Ok(_) => asked += 1,
            Err(e) => tracing::debug!(host, error = %e, "cannot list images"),
        }
    }
    (asked > 0).then(|| {
        format!(
            "no host has image {image} (wheelhouse never pulls: import or load it on the \
             hosts first); nothing was stopped"
        )
    })
}

/// Writes the rolled-back-from spec to the app's key (keeping the current instance count),
/// if the key still holds the spec rolled to. Returns the audit entry to record.
pub(super) async fn restore(
    client: &mut Client,
    prefix: &str,
    rollout: &Rollout,
) -> Result<Option<AuditEntry>, StoreError> {
    let state = &rollout.state;
    let Some(from) = &rollout.from_spec else {
        return Ok(None);
    };
    let Some((current, revision)) = store::get_app(client, prefix, &state.app).await? else {
        return Ok(None);
    };
    if labels::revision(&current) != state.to_revision {
        return Ok(None);
    }
    let back = AppSpec {
        instances: current.instances,
        ..from.clone()
    };
    store::put_app(client, prefix, &back, Expect::Revision(revision)).await?;
    let reason = state.phase.reason().unwrap_or("rolled back");
    let mut entry = AuditEntry::now(
        "rollback",
        &state.app,
        format!(
            "spec of revision {:08x} written back",
            state.from_revision & 0xffff_ffff
        ),
        format!("rollback: {reason}"),
    )
    .of_app(&state.app, AuditOutcome::Ok, None);
    "controller".clone_into(&mut entry.who);
    Ok(Some(entry))
}
