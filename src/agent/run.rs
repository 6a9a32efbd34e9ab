//! The agent's loop: every tick it reads the followed containers' cgroups and publishes a
//! summary and the history; every few ticks it asks the engine which containers run (a
//! list call, and an inspect for each new one to learn its init process). The engine is
//! never asked for stats.

use super::api::SharedState;
use super::history::TICK_MS;
use super::sampler::{Known, Sampler};
use crate::plan::labels;
use bollard::Docker;
use bollard::query_parameters::ListContainersOptions;
use std::collections::BTreeSet;
use std::time::Duration;

/// Ticks between two listings of the engine's containers: a new container shows up
/// within this many seconds, and the engine answers one list call per period.
const LIST_EVERY: u64 = 5;
/// How long one engine call may take before this round goes without it.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Samples forever into `shared`.
pub async fn sample_forever(mut sampler: Sampler, docker: Docker, shared: SharedState) {
    let mut ticks = tokio::time::interval(Duration::from_millis(TICK_MS.unsigned_abs()));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut n: u64 = 0;
    let mut engine_down = false;
    loop {
        ticks.tick().await;
        if n.is_multiple_of(LIST_EVERY) {
            match relist(&mut sampler, &docker).await {
                Ok(()) if engine_down => {
                    tracing::info!("the engine answers again");
                    engine_down = false;
                }
                Ok(()) => {}
                Err(why) if !engine_down => {
                    tracing::warn!("cannot list the engine's containers: {why}");
                    engine_down = true;
                }
                Err(_) => {}
            }
        }
        n = n.wrapping_add(1);
        let mut summary = sampler.tick(now_ms());
        let mut guard = shared
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.history.record(&summary);
        summary.history_bytes = u64::try_from(guard.history.bytes()).unwrap_or(u64::MAX);
        summary.probes_at_ms = guard.probes.as_ref().map(|p| p.unix_ms);
        guard.summary = Some(summary);
    }
}

/// Follows the engine's running containers: new ones are inspected for their init pid,
/// those no longer running are dropped.
async fn relist(sampler: &mut Sampler, docker: &Docker) -> Result<(), String> {
    let options = ListContainersOptions {
        all: false,
        ..Default::default()
    };
    let list = tokio::time::timeout(CALL_TIMEOUT, docker.list_containers(Some(options)))
        .await
        .map_err(|_| "no answer".to_owned())?
        .map_err(|e| e.to_string())?;
    let running: BTreeSet<String> = list.iter().filter_map(|c| c.id.clone()).collect();
    sampler.retain(&running);
    for c in list {
        let Some(id) = c.id.filter(|id| !sampler.tracks(id)) else {
            continue;
        };
        let inspect = tokio::time::timeout(CALL_TIMEOUT, docker.inspect_container(&id, None)).await;
        // A container that stopped since the list is simply not followed.
        let Ok(Ok(details)) = inspect else { continue };
        let pid = details.state.and_then(|s| s.pid).unwrap_or(0);
        let Some(pid) = u32::try_from(pid).ok().filter(|p| *p > 0) else {
            continue;
        };
        let label = |key: &str| c.labels.as_ref().and_then(|l| l.get(key)).cloned();
        let name = c
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map_or_else(|| id.clone(), |n| n.trim_start_matches('/').to_owned());
        sampler.add(Known {
            app: label(labels::APP),
            instance: label(labels::INSTANCE),
            id,
            name,
            pid,
        });
    }
    Ok(())
}
