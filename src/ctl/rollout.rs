//! `ctl rollout-status` and `ctl history`: a rollout's progress and an app's earlier specs,
//! read from etcd. The rollout verbs that change things go through `mutate` like the rest.

use super::{CtlError, connect, table};
use crate::config::Config;
use crate::ops::{self, Ops};
use crate::store;
use crate::tui::widgets::progress::counts_text;

/// Prints where the app's rollout stands (or the last one ended), with its failures.
pub async fn status(config: &Config, app: &str) -> Result<(), CtlError> {
    let mut client = connect(config).await?;
    let (spec, revision) = store::get_app(&mut client, &config.prefix, app)
        .await?
        .ok_or_else(|| CtlError::BadInput(format!("no app named {app:?}")))?;
    let Some(rollout) = store::get_rollout(&mut client, &config.prefix, app).await? else {
        println!(
            "{app}: no rollout yet ({}, {} instances, revision {revision})",
            spec.image, spec.instances
        );
        return Ok(());
    };
    let state = &rollout.state;
    let from = rollout.from_spec.as_ref().map_or("?", |s| s.image.as_str());
    println!("{app}: {}", state.phase);
    println!("  {from} → {}", rollout.to_spec.image);
    println!(
        "  desired {} · {}",
        state.desired,
        counts_text(&state.counts)
    );
    if !state.failures.is_empty() {
        println!("  failures:");
        for f in &state.failures {
            println!("    {}: {}", f.short_container(), f.reason);
        }
    }
    Ok(())
}

/// Prints the app's earlier specs, newest first: what `ctl rollback --revision` takes.
pub async fn history(app: &str, ops: &Ops) -> Result<(), CtlError> {
    let entries = ops::history(ops, app).await?;
    if entries.is_empty() {
        println!("{app} has no earlier revision");
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
    print!(
        "{}",
        table(&["REVISION", "IMAGE", "INSTANCES", "WHEN"], rows)
    );
    Ok(())
}
