//! Hosts with an agent: the feed reads each agent's summary (cgroup figures, no work for
//! the engine) instead of opening a stats stream per container, and falls back to the
//! engine's stats while an agent does not answer.

use crate::agent::client;
use crate::agent::summary::{ContainerSummary, Summary};
use crate::cluster::DataEvent;
use crate::docker::Pace;
use crate::domain::{AgentFigures, IoRates};
use tokio::sync::mpsc;

/// Reads `base`'s summary at the feed's pace and reports it as the host's figures, or
/// that the agent did not answer; with it the agent's probe report when the summary says
/// a new round is done. Runs until `tx`'s receiver is dropped or the task is aborted.
pub(super) async fn poll(
    host: String,
    base: String,
    http: Result<reqwest::Client, client::ClientError>,
    pace: Pace,
    tx: mpsc::Sender<DataEvent>,
) {
    let mut last_round = None;
    let mut first = true;
    loop {
        if !std::mem::take(&mut first) {
            tokio::time::sleep(pace.agent_every()).await;
        }
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
        let (event, round) = match client::summary(http, &base).await {
            Ok(summary) => {
                let round = summary.probes_at_ms;
                (figures(host.clone(), summary), round)
            }
            Err(e) => {
                let error = e.to_string();
                last_round = None;
                (
                    DataEvent::AgentDown {
                        host: host.clone(),
                        error,
                    },
                    None,
                )
            }
        };
        if tx.send(event).await.is_err() {
            return;
        }
        // Only a round the summary names and that was not read yet is worth a request.
        if round.is_none() || round == last_round {
            continue;
        }
        let Ok(report) = client::probes(http, &base).await else {
            continue;
        };
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
