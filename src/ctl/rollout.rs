//! `ctl rollout-status` and `ctl history`: a rollout's progress and an app's earlier specs,
//! read from etcd. The rollout verbs that change things go through `mutate` like the rest.

use super::output::{OutputArg, json, table};
use super::{CtlError, connect};
use crate::config::Config;
use crate::domain::sanitize::clean;
use crate::ops::{self, Ops};
use crate::plan::rollout::{change_text, counts_text};
use crate::store;

/// Where the app's rollout stands (or the last one ended), with its failures.
pub async fn status(
    config: &Config,
    app: &str,
    output: OutputArg,
    out: &mut String,
) -> Result<(), CtlError> {
    let mut client = connect(config).await?;
    let (spec, revision) = super::stored_app(&mut client, config, app).await?;
    let rollout = store::get_rollout(&mut client, &config.prefix, app).await?;
    if output.json() {
        let rollout = rollout.as_ref().map(|r| {
            serde_json::json!({
                "phase": r.state.phase,
                "from_image": r.from_spec.as_ref().map(|s| &s.image),
                "to_image": r.to_spec.image,
                "from_revision": r.state.from_revision,
                "to_revision": r.state.to_revision,
                "desired": r.state.desired,
                "counts": r.state.counts,
                "failures": r.state.failures,
            })
        });
        let value = serde_json::json!({
            "app": app,
            "image": spec.image,
            "instances": spec.instances,
            "revision": revision,
            "rollout": rollout,
        });
        out.push_str(&json(&value));
        return Ok(());
    }
    let app = clean(app);
    let Some(rollout) = rollout else {
        out.push_str(&format!(
            "{app}: no rollout yet ({}, {} instances, revision {revision})\n",
            clean(&spec.image),
            spec.instances
        ));
        return Ok(());
    };
    let state = &rollout.state;
    out.push_str(&format!("{app}: {}\n", clean(&state.phase.to_string())));
    out.push_str(&format!(
        "  {}\n",
        clean(&change_text(rollout.from_spec.as_ref(), &rollout.to_spec))
    ));
    out.push_str(&format!(
        "  desired {} · {}\n",
        state.desired,
        counts_text(&state.counts)
    ));
    if !state.failures.is_empty() {
        out.push_str("  failures:\n");
        for f in &state.failures {
            out.push_str(&format!(
                "    {}: {}\n",
                clean(f.short_container()),
                clean(&f.reason)
            ));
        }
    }
    Ok(())
}

/// The app's earlier specs, newest first: what `ctl rollback --revision` takes.
pub async fn history(
    app: &str,
    ops: &Ops,
    output: OutputArg,
    out: &mut String,
) -> Result<(), CtlError> {
    let entries = ops::history(ops, app).await?;
    if output.json() {
        let value: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "revision": e.revision,
                    "image": e.image,
                    "instances": e.instances,
                    "when": e.when,
                    "running": e.same_as_current,
                })
            })
            .collect();
        out.push_str(&json(&value));
        return Ok(());
    }
    if entries.is_empty() {
        out.push_str(&format!("{} has no earlier revision\n", clean(app)));
        return Ok(());
    }
    let rows = entries
        .into_iter()
        .map(|e| {
            let image = if e.same_as_current {
                format!("{} (running)", e.image)
            } else {
                e.image
            };
            vec![
                e.revision.to_string(),
                image,
                e.instances.to_string(),
                e.when.unwrap_or_else(|| "-".to_owned()),
            ]
        })
        .collect();
    out.push_str(&table(&["REVISION", "IMAGE", "INSTANCES", "WHEN"], rows));
    Ok(())
}
