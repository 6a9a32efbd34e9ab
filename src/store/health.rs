//! Host liveness as the leader judges it: `<prefix>/health/hosts/<host>`, written under the
//! leader's lease so a dead leader's verdicts vanish with it.

use super::connect::request;
use super::error::StoreError;
use crate::domain::valid_name;
use etcd_client::{Client, GetOptions, PutOptions};
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Liveness {
    Alive,
    Dead,
}

/// The leader's verdict on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostHealth {
    pub host: String,
    pub state: Liveness,
    /// Since when, RFC 3339 UTC.
    pub since: String,
    /// The leader that judged (its election id).
    pub by: String,
}

impl HostHealth {
    /// A verdict that starts now.
    pub fn now(host: impl Into<String>, state: Liveness, by: impl Into<String>) -> HostHealth {
        HostHealth {
            host: host.into(),
            state,
            since: super::audit::utc_timestamp(SystemTime::now()),
            by: by.into(),
        }
    }
}

/// The stored JSON: the host is in the key.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    state: Liveness,
    since: String,
    by: String,
}

/// `<prefix>/health/hosts/`.
pub fn health_dir(prefix: &str) -> String {
    format!("{}/health/hosts/", prefix.trim_end_matches('/'))
}

/// Writes a verdict under `lease_id`; returns the revision of the write.
pub async fn set_host_health(
    client: &mut Client,
    prefix: &str,
    lease_id: i64,
    health: &HostHealth,
) -> Result<i64, StoreError> {
    if !valid_name(&health.host) {
        return Err(StoreError::Invalid {
            what: format!("host name {:?}", health.host),
            reason: "a host name is 1-63 letters, digits, '-', '_' or '.'".into(),
        });
    }
    let record = Record {
        state: health.state,
        since: health.since.clone(),
        by: health.by.clone(),
    };
    let value = serde_json::to_string(&record).map_err(|e| StoreError::Invalid {
        what: format!("health of {}", health.host),
        reason: e.to_string(),
    })?;
    let key = format!("{}{}", health_dir(prefix), health.host);
    let options = PutOptions::new().with_lease(lease_id);
    let resp = request("put", client.put(key, value, Some(options))).await?;
    Ok(resp.header().map_or(0, |h| h.revision()))
}

/// Every well-formed verdict, by host name. Malformed ones are skipped with a warning
/// naming the key.
pub async fn list_host_health(
    client: &mut Client,
    prefix: &str,
) -> Result<Vec<HostHealth>, StoreError> {
    let dir = health_dir(prefix);
    let resp = request(
        "get",
        client.get(dir.as_str(), Some(GetOptions::new().with_prefix())),
    )
    .await?;
    let mut verdicts = Vec::with_capacity(resp.kvs().len());
    for kv in resp.kvs() {
        let key = String::from_utf8_lossy(kv.key());
        match parse(key.strip_prefix(&dir), kv.value()) {
            Ok(health) => verdicts.push(health),
            Err(why) => tracing::warn!(%key, "skipping malformed host health: {why}"),
        }
    }
    Ok(verdicts)
}

fn parse(host: Option<&str>, value: &[u8]) -> Result<HostHealth, String> {
    let host = host
        .filter(|h| valid_name(h))
        .ok_or("the key is not <prefix>/health/hosts/<host>")?;
    let record: Record = serde_json::from_slice(value).map_err(|e| format!("bad JSON: {e}"))?;
    Ok(HostHealth {
        host: host.to_owned(),
        state: record.state,
        since: record.since,
        by: record.by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_parse_and_bad_ones_say_why() {
        let json = br#"{"state":"dead","since":"2025-01-31T12:00:00.000000000Z","by":"c1"}"#;
        let ok = parse(Some("lab-1"), json);
        assert_eq!(
            ok.map(|h| (h.host, h.state)),
            Ok(("lab-1".into(), Liveness::Dead))
        );
        assert!(parse(Some("a/b"), json).is_err());
        assert!(parse(Some("lab-1"), br#"{"state":"sleepy","since":"","by":""}"#).is_err());
    }
}
