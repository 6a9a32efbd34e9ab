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
/// agent did not answer; with it the agent's probe report, each round once. Runs until
/// `tx`'s receiver is dropped or the task is aborted.
pub(super) async fn poll(
    host: String,
    base: String,
    http: Result<reqwest::Client, client::ClientError>,
    every: Duration,
    tx: mpsc::Sender<DataEvent>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_round = None;
    loop {
        tick.tick().await;
        let http = match &http {
            Ok(http) => http,
            Err(e) => {
                let error = e.to_string();
                let down = DataEvent::AgentDown {
                    host: host.clone(),
                    error,
                };
                if tx.send(down).await.is_err() {
                    return;
                }
                continue;
            }
        };
        let event = match client::summary(http, &base).await {
            Ok(summary) => figures(host.clone(), summary),
            Err(e) => DataEvent::AgentDown {
                host: host.clone(),
                error: e.to_string(),
            },
        };
        let answered = matches!(event, DataEvent::Agent { .. });
        if tx.send(event).await.is_err() {
            return;
        }
        if !answered {
            last_round = None;
            continue;
        }
        // Before its first round an agent refuses (503): nothing to report yet.
        let Ok(report) = client::probes(http, &base).await else {
            continue;
        };
        if last_round == Some(report.unix_ms) {
            continue;
        }
        last_round = Some(report.unix_ms);
        let probes = DataEvent::Probes {
            host: host.clone(),
            report,
        };
        if tx.send(probes).await.is_err() {
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
