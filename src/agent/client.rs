//! Reading an agent's API from elsewhere (the cockpit, tests): the summary, the probes
//! and a series.

use super::summary::{SeriesReply, Summary};
use crate::domain::probe::ProbeReport;
use std::time::Duration;

/// How long one request to an agent may take.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// Why an agent could not be read: unreachable, or it answered with an error message.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("agent at {base} unreachable: {reason}")]
    Unreachable { base: String, reason: String },
    #[error("agent at {base} answered {status}: {message}")]
    Refused {
        base: String,
        status: u16,
        message: String,
    },
}

/// A client with the agent timeout. No proxy: agents are reached on the hosts' own
/// addresses, which a proxy from the environment would not route (loopback in a lab).
pub fn http_client() -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| ClientError::Unreachable {
            base: String::new(),
            reason: e.to_string(),
        })
}

async fn get<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    base: &str,
    path: &str,
) -> Result<T, ClientError> {
    let base = base.trim_end_matches('/');
    let unreachable = |e: reqwest::Error| ClientError::Unreachable {
        base: base.to_owned(),
        reason: e.to_string(),
    };
    let resp = http
        .get(format!("{base}{path}"))
        .send()
        .await
        .map_err(unreachable)?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or(body);
        return Err(ClientError::Refused {
            base: base.to_owned(),
            status: status.as_u16(),
            message,
        });
    }
    resp.json().await.map_err(unreachable)
}

/// `GET /v1/summary` of the agent at `base` ("http://ADDRESS:PORT").
pub async fn summary(http: &reqwest::Client, base: &str) -> Result<Summary, ClientError> {
    get(http, base, "/v1/summary").await
}

/// `GET /v1/probes`.
pub async fn probes(http: &reqwest::Client, base: &str) -> Result<ProbeReport, ClientError> {
    get(http, base, "/v1/probes").await
}

/// `GET /v1/series/<target>/<metric>?since=..&step=..`.
pub async fn series(
    http: &reqwest::Client,
    base: &str,
    target: &str,
    metric: &str,
    since_ms: i64,
    step_ms: i64,
) -> Result<SeriesReply, ClientError> {
    let path = format!("/v1/series/{target}/{metric}?since={since_ms}&step={step_ms}");
    get(http, base, &path).await
}
