//! Reading an agent's API from elsewhere (the cockpit, tests): the summary, the probes
//! and a series.

use super::summary::{SeriesReply, Summary};
use crate::domain::TlsFiles;
use crate::domain::probe::ProbeReport;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How long one request to an agent may take.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// Why an agent could not be read: unreachable, or it answered with an error message.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("agent at {base} unreachable: {reason}")]
    Unreachable { base: String, reason: String },
    #[error(
        "agent at {base} serves TLS but this host's config names no TLS files (tls.ca, tls.cert, tls.key)"
    )]
    NoTlsFiles { base: String },
    #[error("agent TLS client files: {0}")]
    Tls(String),
    #[error("agent at {base} answered {status}: {message}")]
    Refused {
        base: String,
        status: u16,
        message: String,
    },
}

/// How long an idle connection to an agent is kept: past a few hosts' refresh, short of
/// a large fleet's read period (a thousand kept connections hold about 25 MB).
const KEEP_IDLE: Duration = Duration::from_secs(5);

/// A client with the agent timeout, for agents without TLS.
pub fn http_client() -> Result<reqwest::Client, ClientError> {
    builder()
        .timeout(TIMEOUT)
        .pool_idle_timeout(KEEP_IDLE)
        .build()
        .map_err(|e| ClientError::Unreachable {
            base: String::new(),
            reason: e.to_string(),
        })
}

/// Every HTTP client of the process starts here: no proxy (hosts' own addresses, which a
/// proxy from the environment would not route: loopback in a lab), and
/// the crypto provider reqwest's rustls needs, ring as everywhere else in the process
/// (built without one, reqwest would panic; an error only says it is installed already).
pub fn builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy()
}

/// A client that shows the host's client certificate and trusts only its CA: the same
/// files the host's engine is reached with, as its agent serves with the engine's.
pub fn tls_client(files: &TlsFiles) -> Result<reqwest::Client, ClientError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| ClientError::Tls(format!("{}: {e}", path.display())))
    };
    let bad = |path: &Path, e: reqwest::Error| ClientError::Tls(format!("{}: {e}", path.display()));
    let roots =
        reqwest::Certificate::from_pem_bundle(&read(&files.ca)?).map_err(|e| bad(&files.ca, e))?;
    let mut pem = read(&files.cert)?;
    pem.push(b'\n');
    pem.extend(read(&files.key)?);
    let identity = reqwest::Identity::from_pem(&pem).map_err(|e| bad(&files.key, e))?;
    builder()
        .timeout(TIMEOUT)
        .pool_idle_timeout(KEEP_IDLE)
        .tls_certs_only(roots)
        .identity(identity)
        .build()
        .map_err(|e| ClientError::Tls(e.to_string()))
}

/// The agents' clients of a process: one without TLS for every host without TLS files,
/// one per distinct set of files, each built once and its connections kept.
#[derive(Clone, Default)]
pub struct Clients {
    built: Arc<Mutex<HashMap<Option<TlsFiles>, reqwest::Client>>>,
}

impl Clients {
    /// The client for the agent at `base` of a host with `tls` files. An https agent of a
    /// host without files is refused here with the reason: no certificate would do.
    pub fn for_agent(
        &self,
        base: &str,
        tls: Option<&TlsFiles>,
    ) -> Result<reqwest::Client, ClientError> {
        if tls.is_none() && base.starts_with("https://") {
            return Err(ClientError::NoTlsFiles {
                base: base.to_owned(),
            });
        }
        let key = tls.cloned();
        let mut built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = built.get(&key) {
            return Ok(client.clone());
        }
        // Files that cannot be read are read again next time: they may be fixed.
        let client = match tls {
            Some(files) => tls_client(files)?,
            None => http_client()?,
        };
        built.insert(key, client.clone());
        Ok(client)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_kept_per_tls_setting_and_an_https_agent_needs_files() {
        let clients = Clients::default();
        let refused = clients
            .for_agent("https://10.0.0.1:9101", None)
            .unwrap_err();
        assert!(
            refused.to_string().contains("names no TLS files"),
            "{refused}"
        );
        clients.for_agent("http://10.0.0.1:9101", None).unwrap();
        clients.for_agent("http://10.0.0.2:9101", None).unwrap();
        assert_eq!(clients.built.lock().unwrap().len(), 1);
        let missing = TlsFiles {
            ca: "/nonexistent/ca.pem".into(),
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        };
        let err = clients
            .for_agent("https://10.0.0.1:9101", Some(&missing))
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
        assert_eq!(clients.built.lock().unwrap().len(), 1);
    }
}
