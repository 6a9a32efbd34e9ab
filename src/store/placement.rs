//! Why an app's instances cannot be placed: `<prefix>/placement/<app>`, a JSON
//! [`Unplaceable`] (wanted, placed, one reason per host) written by the controller's
//! leader under its lease when a plan leaves instances unplaced, and deleted once every
//! instance is placed again. A dead leader's records vanish with its lease.

use super::connect::request;
use super::error::StoreError;
use crate::model::app::valid_app_name;
use crate::sched::Unplaceable;
use etcd_client::{Client, GetOptions, PutOptions};
use std::collections::BTreeMap;

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
    let dir = placement_dir(prefix);
    let options = GetOptions::new().with_prefix();
    let resp = request("get", client.get(dir.as_str(), Some(options))).await?;
    let mut problems = BTreeMap::new();
    for kv in resp.kvs() {
        let key = String::from_utf8_lossy(kv.key());
        let parsed = serde_json::from_slice::<Unplaceable>(kv.value())
            .map_err(|e| format!("bad JSON: {e}"))
            .and_then(|p| match key.strip_prefix(&dir) {
                Some(app) if app == p.app => Ok(p),
                _ => Err(format!("the key does not name app {:?}", p.app)),
            });
        match parsed {
            Ok(p) => {
                problems.insert(p.app.clone(), p);
            }
            Err(why) => tracing::warn!(%key, "skipping a malformed placement record: {why}"),
        }
    }
    Ok(problems)
}
