//! The two streams a supervisor follows: container events (to re-list) and per-container
//! stats (to sample CPU and memory).

use crate::metrics::{cpu_percent, mem_bytes};
use bollard::Docker;
use bollard::query_parameters::{EventsOptions, StatsOptions};
use futures::StreamExt;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Aborts its task when dropped, so a supervisor's children die with it.
pub(crate) struct TaskGuard(JoinHandle<()>);

impl TaskGuard {
    pub(crate) fn spawn(task: impl Future<Output = ()> + Send + 'static) -> Self {
        TaskGuard(tokio::spawn(task))
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Signals `changed` on every container event that can change the list; returns when the
/// stream ends or fails (engine gone, or it closed the stream), after `delay` first.
pub(crate) async fn watch_events(docker: Docker, changed: mpsc::Sender<()>, delay: Duration) {
    tokio::time::sleep(delay).await;
    let filters = HashMap::from([("type".to_owned(), vec!["container".to_owned()])]);
    let options = EventsOptions {
        filters: Some(filters),
        ..Default::default()
    };
    let mut events = docker.events(Some(options));
    while let Some(event) = events.next().await {
        match event {
            Ok(event) => {
                // Health checks run an exec every interval; those events change nothing listed.
                let action = event.action.unwrap_or_default();
                if action.starts_with("exec_") {
                    continue;
                }
                tracing::trace!(action, "container event");
                // A full channel already holds a pending re-list.
                if let Err(mpsc::error::TrySendError::Closed(())) = changed.try_send(()) {
                    return;
                }
            }
            Err(err) => {
                tracing::debug!(error = %err, "events stream failed");
                return;
            }
        }
    }
}

/// One stats reading for the supervisor to forward.
#[derive(Debug)]
pub(crate) struct Sample {
    pub id: String,
    pub cpu_percent: f64,
    pub mem_bytes: u64,
}

/// Follows the engine's stats stream (one sample a second) for a running container and
/// passes on at most one sample per `refresh`. Returns when the stream ends: the container
/// stopped, or the engine is gone; the supervisor restarts it if the container still runs.
pub(crate) async fn watch_stats(
    docker: Docker,
    id: String,
    refresh: Duration,
    samples: mpsc::Sender<Sample>,
) {
    let options = StatsOptions {
        stream: true,
        one_shot: false,
    };
    let mut stream = docker.stats(&id, Some(options));
    // The engine's ticker jitters by a few ms; without slack a 2 s refresh would often skip
    // to every third one-second sample.
    let slack = (refresh / 10).min(Duration::from_millis(200));
    let mut last_sent: Option<Instant> = None;
    while let Some(reading) = stream.next().await {
        let reading = match reading {
            Ok(reading) => reading,
            Err(err) => {
                tracing::debug!(id, error = %err, "stats stream failed");
                return;
            }
        };
        let (Some(cur), Some(pre)) = (&reading.cpu_stats, &reading.precpu_stats) else {
            continue;
        };
        // The first streamed reading has no previous one to diff against.
        if pre.system_cpu_usage.unwrap_or(0) == 0 {
            continue;
        }
        let now = Instant::now();
        if last_sent.is_some_and(|t| now + slack < t + refresh) {
            continue;
        }
        let sample = Sample {
            id: id.clone(),
            cpu_percent: cpu_percent(cur, pre),
            mem_bytes: reading.memory_stats.as_ref().map_or(0, mem_bytes),
        };
        if samples.send(sample).await.is_err() {
            return;
        }
        last_sent = Some(now);
    }
}
