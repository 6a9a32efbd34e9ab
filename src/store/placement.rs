//! Why an app's instances cannot be placed: `<prefix>/placement/<app>`, a JSON
//! [`Unplaceable`] (wanted, placed, one reason per host) written by the controller's
//! leader under its lease when a plan leaves instances unplaced, and deleted once every
//! instance is placed again. A dead leader's records vanish with its lease.

use super::connect::request;
use super::error::StoreError;
use super::watch::{Feed, spawn_watcher};
use crate::cluster::PlacementChange;
use crate::cluster::PlacementEvent;
use crate::domain::app::valid_app_name;
use crate::sched::Unplaceable;
use etcd_client::{Client, Event, EventType, GetOptions, PutOptions};
use std::collections::BTreeMap;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

/// `<prefix>/placement/`.
pub fn placement_dir(prefix: &str) -> String {
    format!("{}/placement/", prefix.trim_end_matches('/'))
}

fn placement_key(prefix: &str, app: &str) -> Result<String, StoreError> {
    if !valid_app_name(app) {
        return Err(StoreError::Invalid {
            what: format!("app name {app:?}"),
            reason: "must be 1-63 lowercase letters, digits or inner '-'".into(),
        });
    }
    Ok(format!("{}{app}", placement_dir(prefix)))
}

/// Records why `problem.app` cannot be placed, under `lease_id`.
pub async fn put_placement(
    client: &mut Client,
    prefix: &str,
    lease_id: i64,
    problem: &Unplaceable,
) -> Result<(), StoreError> {
    let key = placement_key(prefix, &problem.app)?;
    let value = serde_json::to_string(problem).map_err(|e| StoreError::Invalid {
        what: format!("placement of {}", problem.app),
        reason: e.to_string(),
    })?;
    let options = PutOptions::new().with_lease(lease_id);
    request("put", client.put(key, value, Some(options))).await?;
    Ok(())
}

/// Clears `app`'s placement problem: every instance is placed again.
pub async fn clear_placement(
    client: &mut Client,
    prefix: &str,
    app: &str,
) -> Result<(), StoreError> {
    let key = placement_key(prefix, app)?;
    request("delete", client.delete(key, None)).await?;
    Ok(())
}

/// Every app's placement problem, by app. Malformed records are skipped with a warning.
pub async fn list_placement(
    client: &mut Client,
    prefix: &str,
) -> Result<BTreeMap<String, Unplaceable>, StoreError> {
    Ok(list_at(client, prefix).await?.0)
}

async fn list_at(
    client: &mut Client,
    prefix: &str,
) -> Result<(BTreeMap<String, Unplaceable>, i64), StoreError> {
    let dir = placement_dir(prefix);
    let options = GetOptions::new().with_prefix();
    let resp = request("get", client.get(dir.as_str(), Some(options))).await?;
    let revision = resp.header().map_or(0, |h| h.revision());
    let mut problems = BTreeMap::new();
    for kv in resp.kvs() {
        match parse(&dir, kv.key(), kv.value()) {
            Ok(p) => {
                problems.insert(p.app.clone(), p);
            }
            Err(why) => tracing::warn!(
                key = %String::from_utf8_lossy(kv.key()),
                "skipping a malformed placement record: {why}"
            ),
        }
    }
    Ok((problems, revision))
}

/// One record: an `Unplaceable` naming the app its key names.
fn parse(dir: &str, key: &[u8], value: &[u8]) -> Result<Unplaceable, String> {
    let p: Unplaceable = serde_json::from_slice(value).map_err(|e| format!("bad JSON: {e}"))?;
    let app = std::str::from_utf8(key)
        .ok()
        .and_then(|k| k.strip_prefix(dir));
    if app != Some(p.app.as_str()) {
        return Err(format!("the key does not name app {:?}", p.app));
    }
    Ok(p)
}

/// Follows `<prefix>/placement/` (the host watcher's loop); runs until `tx`'s receiver
/// is dropped.
pub fn spawn_placement_watcher(
    link: impl Into<super::link::EtcdLink>,
    prefix: String,
    tx: Sender<PlacementEvent>,
) -> JoinHandle<()> {
    let feed = PlacementFeed {
        dir: placement_dir(&prefix),
        prefix,
    };
    spawn_watcher(link, feed, tx)
}

struct PlacementFeed {
    prefix: String,
    dir: String,
}

impl Feed for PlacementFeed {
    type Snapshot = BTreeMap<String, Unplaceable>;
    type Change = PlacementChange;
    const WHAT: &'static str = "placement";

    fn dir(&self) -> &str {
        &self.dir
    }

    async fn list(
        &self,
        client: &mut Client,
    ) -> Result<(BTreeMap<String, Unplaceable>, i64), StoreError> {
        let (problems, revision) = list_at(client, &self.prefix).await?;
        Ok((problems, revision))
    }

    fn change(&self, event: &Event, _revision: i64) -> Option<PlacementChange> {
        let kv = event.kv()?;
        let app = std::str::from_utf8(kv.key())
            .ok()?
            .strip_prefix(&self.dir)?;
        match event.event_type() {
            EventType::Delete => Some(PlacementChange::Cleared(app.to_owned())),
            EventType::Put => parse(&self.dir, kv.key(), kv.value())
                .map_err(|why| tracing::warn!(app, "ignoring a malformed placement record: {why}"))
                .ok()
                .map(PlacementChange::Put),
        }
    }
}
