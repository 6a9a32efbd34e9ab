//! Host agents: `<prefix>/agents/<host>`, each written under the agent's own lease and
//! kept alive by it, so an agent that dies vanishes from etcd within its TTL.

use super::connect::request;
use super::election::{Keeper, grant_kept, revoke_quietly, wait_lost};
use super::error::StoreError;
use super::watch::{Feed, spawn_watcher};
use crate::cluster::{AgentChange, AgentEvent};
use crate::domain::valid_name;
use etcd_client::{Client, Event, EventType, GetOptions, PutOptions};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use crate::domain::AgentRecord;

/// `<prefix>/agents/`: every agent.
pub fn agents_dir(prefix: &str) -> String {
    format!("{}/agents/", prefix.trim_end_matches('/'))
}

/// An agent's registration, held while it runs. Dropping it stops the keep-alive (the
/// key then goes with the lease's TTL); `revoke` removes it at once.
pub struct AgentLease {
    client: Client,
    lease_id: i64,
    lost: watch::Receiver<Option<String>>,
    keeper: Keeper,
}

impl AgentLease {
    /// Waits until the lease is lost (etcd unreachable for a TTL, or the lease revoked
    /// or expired); says why.
    pub async fn lost(&mut self) -> String {
        wait_lost(&mut self.lost).await
    }

    /// Revokes the lease, which deletes the record.
    pub async fn revoke(mut self) {
        self.keeper.0.abort();
        revoke_quietly(&mut self.client, self.lease_id).await;
    }
}

/// Writes `record` at `/agents/<host>` under a new lease of `ttl`, kept alive from now on.
pub async fn register_agent(
    client: &Client,
    prefix: &str,
    host: &str,
    record: &AgentRecord,
    ttl: Duration,
) -> Result<AgentLease, StoreError> {
    check(host)?;
    let value = serde_json::to_string(record).map_err(|e| StoreError::Invalid {
        what: format!("agent record of {host}"),
        reason: e.to_string(),
    })?;
    let mut client = client.clone();
    let lease = grant_kept(&mut client, ttl).await?;
    let key = format!("{}{host}", agents_dir(prefix));
    let options = PutOptions::new().with_lease(lease.id);
    if let Err(e) = request("put", client.put(key, value, Some(options))).await {
        drop(lease.keeper);
        revoke_quietly(&mut client, lease.id).await;
        return Err(e);
    }
    Ok(AgentLease {
        client,
        lease_id: lease.id,
        lost: lease.lost,
        keeper: lease.keeper,
    })
}

/// Every well-formed agent record, by host. Malformed ones are skipped with a warning
/// naming the key.
pub async fn list_agents(
    client: &mut Client,
    prefix: &str,
) -> Result<BTreeMap<String, AgentRecord>, StoreError> {
    Ok(list_at(client, prefix).await?.0)
}

/// Every well-formed agent record, and the revision they were read at (one request, so
/// a watch from the next revision misses nothing).
async fn list_at(
    client: &mut Client,
    prefix: &str,
) -> Result<(BTreeMap<String, AgentRecord>, i64), StoreError> {
    let dir = agents_dir(prefix);
    let resp = request(
        "get",
        client.get(dir.as_str(), Some(GetOptions::new().with_prefix())),
    )
    .await?;
    let mut agents = BTreeMap::new();
    for kv in resp.kvs() {
        let key = String::from_utf8_lossy(kv.key());
        match parse(key.strip_prefix(&dir), kv.value()) {
            Ok((host, record)) => {
                agents.insert(host, record);
            }
            Err(why) => tracing::warn!(%key, "skipping malformed agent record: {why}"),
        }
    }
    let revision = resp.header().map_or(0, |h| h.revision());
    Ok((agents, revision))
}

fn check(host: &str) -> Result<(), StoreError> {
    if valid_name(host) {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what: format!("host name {host:?}"),
            reason: "must be letters, digits, '-', '_' or '.'".into(),
        })
    }
}

fn parse(host: Option<&str>, value: &[u8]) -> Result<(String, AgentRecord), String> {
    let host = host
        .filter(|h| valid_name(h))
        .ok_or("the key is not <prefix>/agents/<host>")?;
    let record = serde_json::from_slice(value).map_err(|e| e.to_string())?;
    Ok((host.to_owned(), record))
}

/// Follows `<prefix>/agents/` (the host watcher's loop): which hosts have an agent, and
/// where. Runs until `tx`'s receiver is dropped.
pub fn spawn_agent_watcher(
    link: impl Into<super::link::EtcdLink>,
    prefix: String,
    tx: Sender<AgentEvent>,
) -> JoinHandle<()> {
    let feed = AgentFeed {
        dir: agents_dir(&prefix),
        prefix,
    };
    spawn_watcher(link, feed, tx)
}

struct AgentFeed {
    prefix: String,
    dir: String,
}

impl Feed for AgentFeed {
    type Snapshot = BTreeMap<String, AgentRecord>;
    type Change = AgentChange;
    const WHAT: &'static str = "agents";

    fn dir(&self) -> &str {
        &self.dir
    }

    async fn list(
        &self,
        client: &mut Client,
    ) -> Result<(BTreeMap<String, AgentRecord>, i64), StoreError> {
        list_at(client, &self.prefix).await
    }

    fn change(&self, event: &Event, _revision: i64) -> Option<AgentChange> {
        let kv = event.kv()?;
        let key = std::str::from_utf8(kv.key()).ok()?;
        match event.event_type() {
            EventType::Delete => Some(AgentChange::Gone(key.strip_prefix(&self.dir)?.to_owned())),
            EventType::Put => parse(key.strip_prefix(&self.dir), kv.value())
                .map_err(|why| tracing::warn!(%key, "ignoring a malformed agent record: {why}"))
                .ok()
                .map(|(host, record)| AgentChange::Put(host, record)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse_and_bad_ones_say_why() {
        let json = br#"{"address":"http://127.0.1.1:9101","version":"0.1.0","started_at_ms":5,"cgroup":"cgroup-v1"}"#;
        let (host, record) = parse(Some("lab-1"), json).unwrap();
        assert_eq!(host, "lab-1");
        assert_eq!(record.address, "http://127.0.1.1:9101");
        assert!(parse(Some("a/b"), json).unwrap_err().contains("<host>"));
        assert!(parse(None, json).is_err());
        assert!(parse(Some("lab-1"), b"{}").is_err());
        assert_eq!(agents_dir("/wh/"), "/wh/agents/");
        assert!(check("bad name").is_err());
    }
}
