//! Container restarts an operator asked for (`R`): `<prefix>/restarts/<container id>`,
//! written under a short lease before the engine is asked to restart the container and
//! kept for [`RESTART_SETTLE`] after it answered, so the controller (and a rollout's
//! health gates) take the container's brief exit for what it is: no failure, nothing to
//! replace. A lost `ops` process leaves nothing behind: the lease ends the marker.

use super::connect::request;
use super::error::StoreError;
use super::watch::{Feed, spawn_watcher};
use crate::cluster::RestartChange;
use crate::cluster::RestartEvent;
use etcd_client::{Client, Event, EventType, GetOptions, PutOptions};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

/// How long a marker outlives the restart: the engines' lists catch up meanwhile.
pub const RESTART_SETTLE: Duration = Duration::from_secs(10);

/// `<prefix>/restarts/`.
pub fn restarts_dir(prefix: &str) -> String {
    format!("{}/restarts/", prefix.trim_end_matches('/'))
}

fn marker_key(prefix: &str, container: &str) -> Result<String, StoreError> {
    let ok = !container.is_empty()
        && container.len() <= 128
        && (container.chars()).all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return Err(StoreError::Invalid {
            what: format!("container {container:?}"),
            reason: "a container id or name is 1-128 letters, digits, '-', '_' or '.'".into(),
        });
    }
    Ok(format!("{}{container}", restarts_dir(prefix)))
}

/// Marks `container` as restarting for at most `ttl`; returns the marker's lease.
pub async fn mark_restart(
    client: &mut Client,
    prefix: &str,
    container: &str,
    ttl: Duration,
) -> Result<i64, StoreError> {
    let key = marker_key(prefix, container)?;
    let secs = i64::try_from(ttl.as_secs().max(1)).unwrap_or(i64::MAX);
    let lease = request("lease grant", client.lease_grant(secs, None)).await?;
    let options = PutOptions::new().with_lease(lease.id());
    request(
        "put",
        client.put(key, super::now_ms().to_string(), Some(options)),
    )
    .await?;
    Ok(lease.id())
}

/// Keeps `container`'s marker for [`RESTART_SETTLE`] more, then lets it go with its lease.
pub async fn settle_restart(
    client: &mut Client,
    prefix: &str,
    container: &str,
    lease: i64,
) -> Result<(), StoreError> {
    let settle = mark_restart(client, prefix, container, RESTART_SETTLE).await;
    request("lease revoke", client.lease_revoke(lease)).await?;
    settle.map(drop)
}

/// Follows `<prefix>/restarts/` (the host watcher's loop); runs until `tx`'s receiver is
/// dropped.
pub fn spawn_restart_watcher(
    link: impl Into<super::link::EtcdLink>,
    prefix: String,
    tx: Sender<RestartEvent>,
) -> JoinHandle<()> {
    let dir = restarts_dir(&prefix);
    spawn_watcher(link, RestartFeed { dir }, tx)
}

struct RestartFeed {
    dir: String,
}

impl RestartFeed {
    fn container<'a>(&self, key: &'a [u8]) -> Option<&'a str> {
        std::str::from_utf8(key)
            .ok()?
            .strip_prefix(self.dir.as_str())
    }
}

impl Feed for RestartFeed {
    type Snapshot = BTreeSet<String>;
    type Change = RestartChange;
    const WHAT: &'static str = "restarts";

    fn dir(&self) -> &str {
        &self.dir
    }

    async fn list(&self, client: &mut Client) -> Result<(BTreeSet<String>, i64), StoreError> {
        let options = GetOptions::new().with_prefix().with_keys_only();
        let resp = request("get", client.get(self.dir.as_str(), Some(options))).await?;
        let revision = resp.header().map_or(0, |h| h.revision());
        let marked = (resp.kvs().iter())
            .filter_map(|kv| self.container(kv.key()).map(str::to_owned))
            .collect();
        Ok((marked, revision))
    }

    fn change(&self, event: &Event, _revision: i64) -> Option<RestartChange> {
        let container = self.container(event.kv()?.key())?.to_owned();
        Some(match event.event_type() {
            EventType::Put => RestartChange::Marked(container),
            EventType::Delete => RestartChange::Unmarked(container),
        })
    }
}
