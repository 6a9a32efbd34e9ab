//! Hosts with an agent: the feed reads each agent's summary (cgroup figures, no work for
//! the engine) instead of opening a stats stream per container, and falls back to the
//! engine's stats while an agent does not answer.

use crate::agent::client;
use crate::agent::summary::{ContainerSummary, Summary};
use crate::cluster::DataEvent;
use crate::domain::{AgentFigures, IoRates};
use std::time::Duration;
use tokio::sync::mpsc;

/// Reads `base`'s summary every `every` and reports it as the host's figures, or that the
/// agent did not answer. Runs until `tx`'s receiver is dropped or the task is aborted.
pub(super) async fn poll(host: String, base: String, every: Duration, tx: mpsc::Sender<DataEvent>) {
    let http = client::http_client();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let read = match &http {
            Ok(http) => client::summary(http, &base)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let host = host.clone();
        let event = match read {
            Ok(summary) => figures(host, summary),
            Err(error) => DataEvent::AgentDown { host, error },
        };
        if tx.send(event).await.is_err() {
            return;
        }
    }
}

/// The summary as the cluster picture takes it: per container, CPU, memory and IO rates.
fn figures(host: String, summary: Summary) -> DataEvent {
    let containers = (summary.containers.into_iter())
        .filter_map(|c: ContainerSummary| {
            let f = c.figures?;
            Some(AgentFigures {
                id: c.id,
                cpu_percent: f.rates.cpu_percent,
                mem_bytes: f.totals.mem_bytes,
                io: IoRates {
                    net_rx_bps: f.rates.net_rx_bps,
                    net_tx_bps: f.rates.net_tx_bps,
                    blk_read_bps: f.rates.blk_read_bps,
                    blk_write_bps: f.rates.blk_write_bps,
                },
            })
        })
        .collect();
    DataEvent::Agent {
        host,
        source: summary.source,
        containers,
    }
}
