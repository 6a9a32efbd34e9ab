//! App specs: JSON `AppSpec`s under `<prefix>/apps/<app>`, every write one guarded Txn.
//!
//! A write compares the app's `mod_revision` with the one the writer read (or its
//! `create_revision` with 0 when it must not exist yet), and in the same Txn files the
//! spec it replaces under `<prefix>/history/<app>/<revision>`, so two operators racing
//! get one success and one `StoreError::Conflict`, never a lost update.

use super::connect::request;
use super::error::StoreError;
use super::watch::{Feed, spawn_watcher};
use crate::cluster::AppChange;
use crate::cluster::{AppEvent, AppListing, BrokenRecord};
use crate::domain::app::{AppSpec, valid_app_name, validate_instances};
use etcd_client::{
    Client, Compare, CompareOp, DeleteOptions, Event, EventType, GetOptions, KeyValue, SortOrder,
    SortTarget, Txn, TxnOp, TxnOpResponse,
};
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

/// Earlier specs kept per app, for rollback.
pub const HISTORY_KEEP: usize = 10;
/// How often an `Expect::Any` write re-reads after losing a race before giving up.
const ANY_ATTEMPTS: usize = 5;

/// What the writer believes about the app before its write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Create only: the app must not exist.
    Absent,
    /// Update only if the app's mod_revision is still this one.
    Revision(i64),
    /// Create or overwrite whatever is there (`ctl apply`).
    Any,
}

/// `<prefix>/apps/`: the key range every app spec lives in.
pub fn apps_dir(prefix: &str) -> String {
    format!("{}/apps/", prefix.trim_end_matches('/'))
}

pub fn app_key(prefix: &str, name: &str) -> String {
    format!("{}{name}", apps_dir(prefix))
}

/// `<prefix>/history/<app>/`: the earlier specs of one app.
pub fn history_dir(prefix: &str, name: &str) -> String {
    format!("{}/history/{name}/", prefix.trim_end_matches('/'))
}

/// Revisions are zero-padded so keys sort in revision order.
fn history_key(prefix: &str, name: &str, revision: i64) -> String {
    format!("{}{revision:020}", history_dir(prefix, name))
}

/// The app a key under `apps_dir` names, if it is a valid one.
fn name_of_key<'a>(dir: &str, key: &'a [u8]) -> Option<&'a str> {
    let name = std::str::from_utf8(key).ok()?.strip_prefix(dir)?;
    valid_app_name(name).then_some(name)
}

/// Decodes one spec and checks it as `ctl apply` would, `max_instances` included; the
/// error says what is wrong (the caller names the key).
fn parse_app(dir: &str, key: &[u8], value: &[u8], max_instances: u32) -> Result<AppSpec, String> {
    let name = name_of_key(dir, key).ok_or("the key is not <prefix>/apps/<valid app name>")?;
    let spec = AppSpec::from_json(value).map_err(|e| e.to_string())?;
    if spec.name != name {
        return Err(format!(
            "spec names app {:?}, the key names {name:?}",
            spec.name
        ));
    }
    validate_instances(i64::from(spec.instances), max_instances)?;
    Ok(spec)
}

fn check_name(name: &str) -> Result<(), StoreError> {
    if valid_app_name(name) {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what: format!("app name {name:?}"),
            reason: "must be 1-63 lowercase letters, digits or inner '-'".into(),
        })
    }
}

/// One app's spec and mod_revision, or None if there is no such app.
pub async fn get_app(
    client: &mut Client,
    prefix: &str,
    name: &str,
) -> Result<Option<(AppSpec, i64)>, StoreError> {
    check_name(name)?;
    let Some(kv) = get_raw(client, &app_key(prefix, name)).await? else {
        return Ok(None);
    };
    // An operator's read-modify-write (scale) may repair a count above the maximum.
    let spec = parse_app(&apps_dir(prefix), kv.key(), kv.value(), u32::MAX).map_err(|reason| {
        StoreError::Invalid {
            what: format!("app record {}", app_key(prefix, name)),
            reason,
        }
    })?;
    Ok(Some((spec, kv.mod_revision())))
}

/// Every app record, each checked as `ctl apply` checks a spec (`max_instances` too):
/// good specs, and broken records with what is wrong with them.
pub async fn list_apps(
    client: &mut Client,
    prefix: &str,
    max_instances: u32,
) -> Result<AppListing, StoreError> {
    let dir = apps_dir(prefix);
    let resp = request(
        "get",
        client.get(dir.as_str(), Some(GetOptions::new().with_prefix())),
    )
    .await?;
    let mut listing = AppListing {
        revision: resp.header().map_or(0, |h| h.revision()),
        ..AppListing::default()
    };
    for kv in resp.kvs() {
        match parse_app(&dir, kv.key(), kv.value(), max_instances) {
            Ok(spec) => listing.apps.push((spec, kv.mod_revision())),
            Err(why) => {
                let key = String::from_utf8_lossy(kv.key());
                tracing::warn!(%key, "broken app record, the app is left as it was: {why}");
                if let Some(name) = name_of_key(&dir, kv.key()) {
                    listing.broken.push(BrokenRecord::new(name, kv.key(), why));
                }
            }
        }
    }
    Ok(listing)
}

/// Writes `spec` if `expected` still holds; returns the app's new mod_revision. The spec
/// it replaces goes to the history in the same Txn. Writing the very spec already stored
/// changes nothing and returns its current mod_revision, so a repeated `apply` does not
/// look like a new revision to roll out.
pub async fn put_app(
    client: &mut Client,
    prefix: &str,
    spec: &AppSpec,
    expected: Expect,
) -> Result<i64, StoreError> {
    let what = || format!("app {:?}", spec.name);
    spec.validate().map_err(|reason| StoreError::Invalid {
        what: what(),
        reason,
    })?;
    let value = spec.to_json().map_err(|e| StoreError::Invalid {
        what: what(),
        reason: e.to_string(),
    })?;
    let key = app_key(prefix, &spec.name);
    for _ in 0..ANY_ATTEMPTS {
        let current = get_raw(client, &key).await?;
        let found = current.as_ref().map_or(0, KeyValue::mod_revision);
        match expected {
            Expect::Absent if found != 0 => return Err(conflict(&key, 0, found)),
            Expect::Revision(r) if r != found => return Err(conflict(&key, r, found)),
            _ => {}
        }
        if let Some(kv) = &current
            && kv.value() == value.as_bytes()
        {
            return Ok(found);
        }
        let mut ops = vec![TxnOp::put(key.as_str(), value.as_str(), None)];
        if let Some(kv) = &current {
            ops.push(archive(prefix, &spec.name, kv));
        }
        match guarded(client, &key, found, ops).await? {
            Ok(revision) => {
                if current.is_some() {
                    let keep = spec.update.history_limit as usize;
                    trim_history(client, prefix, &spec.name, keep).await;
                }
                return Ok(revision);
            }
            Err(now) if expected != Expect::Any => return Err(conflict(&key, found, now)),
            // Overwriting anyway: read again so the right spec is archived.
            Err(_) => {}
        }
    }
    Err(StoreError::Request {
        op: "txn",
        at: None,
        reason: format!(
            "{key} kept changing under {ANY_ATTEMPTS} attempts to overwrite it; try again"
        ),
    })
}

/// Deletes an app if its mod_revision is still `expected`, filing its last spec in the
/// history; returns the revision of the delete.
pub async fn delete_app(
    client: &mut Client,
    prefix: &str,
    name: &str,
    expected: i64,
) -> Result<i64, StoreError> {
    check_name(name)?;
    let key = app_key(prefix, name);
    let Some(kv) = get_raw(client, &key).await? else {
        return Err(StoreError::NotFound {
            kind: "app",
            name: name.to_owned(),
        });
    };
    if kv.mod_revision() != expected {
        return Err(conflict(&key, expected, kv.mod_revision()));
    }
    let ops = vec![
        TxnOp::delete(key.as_str(), None),
        archive(prefix, name, &kv),
    ];
    match guarded(client, &key, expected, ops).await? {
        Ok(revision) => {
            // A deleted app keeps the history its own policy asked for.
            let keep = AppSpec::from_json(kv.value())
                .map_or(HISTORY_KEEP, |spec| spec.update.history_limit as usize);
            trim_history(client, prefix, name, keep).await;
            Ok(revision)
        }
        Err(now) => Err(conflict(&key, expected, now)),
    }
}

/// Sets an app's instance count: checks `count` against `max`, then writes guarded by the
/// revision `seen` (what the operator's view showed) or, without one, by the revision just
/// read. A race surfaces as `Conflict`; nothing is retried over someone else's change.
/// Returns the new spec and its mod_revision.
pub async fn scale_app(
    client: &mut Client,
    prefix: &str,
    name: &str,
    count: i64,
    max: u32,
    seen: Option<i64>,
) -> Result<(AppSpec, i64), StoreError> {
    let instances = validate_instances(count, max).map_err(|reason| StoreError::Invalid {
        what: format!("cannot scale {name}"),
        reason,
    })?;
    let Some((mut spec, revision)) = get_app(client, prefix, name).await? else {
        return Err(StoreError::NotFound {
            kind: "app",
            name: name.to_owned(),
        });
    };
    let expected = seen.unwrap_or(revision);
    spec.instances = instances;
    let revision = put_app(client, prefix, &spec, Expect::Revision(expected)).await?;
    Ok((spec, revision))
}

/// An app's earlier specs, newest first, each with the mod_revision it had. Malformed
/// entries are skipped with a warning naming the key.
pub async fn list_history(
    client: &mut Client,
    prefix: &str,
    name: &str,
) -> Result<Vec<(i64, AppSpec)>, StoreError> {
    check_name(name)?;
    let dir = history_dir(prefix, name);
    let options = GetOptions::new()
        .with_prefix()
        .with_sort(SortTarget::Key, SortOrder::Descend);
    let resp = request("get", client.get(dir.as_str(), Some(options))).await?;
    let mut specs = Vec::with_capacity(resp.kvs().len());
    for kv in resp.kvs() {
        let key = String::from_utf8_lossy(kv.key());
        let revision = key.strip_prefix(&dir).and_then(|r| r.parse::<i64>().ok());
        match (revision, AppSpec::from_json(kv.value())) {
            (Some(revision), Ok(spec)) => specs.push((revision, spec)),
            (None, _) => tracing::warn!(%key, "skipping a history key that names no revision"),
            (_, Err(e)) => tracing::warn!(%key, "skipping malformed history entry: {e}"),
        }
    }
    Ok(specs)
}

fn conflict(key: &str, expected: i64, found: i64) -> StoreError {
    StoreError::Conflict {
        key: key.to_owned(),
        expected,
        found,
    }
}

async fn get_raw(client: &mut Client, key: &str) -> Result<Option<KeyValue>, StoreError> {
    let mut resp = request("get", client.get(key, None)).await?;
    Ok(resp.take_kvs().into_iter().next())
}

/// Files the spec `kv` holds under the history, keyed by its mod_revision.
fn archive(prefix: &str, name: &str, kv: &KeyValue) -> TxnOp {
    let key = history_key(prefix, name, kv.mod_revision());
    TxnOp::put(key, kv.value(), None)
}

/// Runs `ops` if `key`'s mod_revision is still `read` (0: the key must not exist).
/// Ok(revision of the write), or Err(the mod_revision found instead; 0 = absent).
async fn guarded(
    client: &mut Client,
    key: &str,
    read: i64,
    ops: Vec<TxnOp>,
) -> Result<Result<i64, i64>, StoreError> {
    let compare = if read == 0 {
        Compare::create_revision(key, CompareOp::Equal, 0)
    } else {
        Compare::mod_revision(key, CompareOp::Equal, read)
    };
    let txn = Txn::new()
        .when([compare])
        .and_then(ops)
        .or_else([TxnOp::get(key, None)]);
    let resp = request("txn", client.txn(txn)).await?;
    if resp.succeeded() {
        return Ok(Ok(resp.header().map_or(0, |h| h.revision())));
    }
    let found = resp
        .op_responses()
        .into_iter()
        .find_map(|op| match op {
            TxnOpResponse::Get(get) => Some(get.kvs().first().map_or(0, KeyValue::mod_revision)),
            _ => None,
        })
        .unwrap_or(0);
    Ok(Err(found))
}

/// Keeps the newest `keep` entries (the spec's `update.history_limit`). Runs after the
/// write has succeeded, so a failure here is only logged: the next write trims again.
async fn trim_history(client: &mut Client, prefix: &str, name: &str, keep: usize) {
    let keep = keep.max(1);
    let dir = history_dir(prefix, name);
    let options = GetOptions::new().with_prefix().with_keys_only();
    let keys = match request("get", client.get(dir.as_str(), Some(options))).await {
        Ok(resp) => resp.kvs().iter().map(|kv| kv.key().to_vec()).collect(),
        Err(e) => {
            tracing::warn!(app = name, "cannot read the history to trim it: {e}");
            Vec::new()
        }
    };
    if keys.len() <= keep {
        return;
    }
    // etcd returns keys sorted: delete [oldest, first kept).
    let first_kept = keys[keys.len() - keep].clone();
    let options = DeleteOptions::new().with_range(first_kept);
    if let Err(e) = request("delete", client.delete(keys[0].clone(), Some(options))).await {
        tracing::warn!(app = name, "cannot trim the history: {e}");
    }
}

/// Starts the app watcher for `<prefix>/apps/` (the host watcher's loop: resumes after
/// outages without loss); every record is checked against `max_instances`. It runs
/// until `tx`'s receiver is dropped.
pub fn spawn_app_watcher(
    link: impl Into<super::link::EtcdLink>,
    prefix: String,
    max_instances: u32,
    tx: Sender<AppEvent>,
) -> JoinHandle<()> {
    let feed = AppFeed {
        dir: apps_dir(&prefix),
        prefix,
        max_instances,
    };
    spawn_watcher(link, feed, tx)
}

struct AppFeed {
    prefix: String,
    dir: String,
    max_instances: u32,
}

impl Feed for AppFeed {
    type Snapshot = AppListing;
    type Change = AppChange;
    const WHAT: &'static str = "apps";

    fn dir(&self) -> &str {
        &self.dir
    }

    async fn list(&self, client: &mut Client) -> Result<(AppListing, i64), StoreError> {
        let listing = list_apps(client, &self.prefix, self.max_instances).await?;
        let revision = listing.revision;
        Ok((listing, revision))
    }

    fn change(&self, event: &Event, revision: i64) -> Option<AppChange> {
        let kv = event.kv()?;
        let key = String::from_utf8_lossy(kv.key());
        let Some(name) = name_of_key(&self.dir, kv.key()) else {
            tracing::warn!(%key, "ignoring a key under apps/ that names no valid app");
            return None;
        };
        Some(match event.event_type() {
            EventType::Put => {
                match parse_app(&self.dir, kv.key(), kv.value(), self.max_instances) {
                    Ok(app) => AppChange::Put {
                        app: Box::new(app),
                        mod_revision: revision,
                    },
                    Err(why) => {
                        tracing::warn!(%key, "broken app record, the app is left as it was: {why}");
                        AppChange::Broken {
                            record: BrokenRecord::new(name, kv.key(), why),
                            mod_revision: revision,
                        }
                    }
                }
            }
            EventType::Delete => AppChange::Deleted {
                name: name.to_owned(),
                revision,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = "/wheelhouse/apps/";

    #[test]
    fn keys_follow_the_layout() {
        assert_eq!(app_key("/wheelhouse/", "web"), "/wheelhouse/apps/web");
        assert_eq!(
            history_key("/wheelhouse", "web", 42),
            "/wheelhouse/history/web/00000000000000000042"
        );
        // Padding makes key order revision order.
        assert!(history_key("/p", "a", 9) < history_key("/p", "a", 10));
    }

    #[test]
    fn malformed_specs_say_why() {
        let json = AppSpec::new("web", "demo:1").to_json().unwrap_or_default();
        let bad = |key: &[u8], value: &[u8]| parse_app(DIR, key, value, 1000).err();
        assert!(parse_app(DIR, b"/wheelhouse/apps/web", json.as_bytes(), 1000).is_ok());
        assert!(
            bad(b"/wheelhouse/apps/api", json.as_bytes()).is_some_and(|e| e.contains("\"api\""))
        );
        assert!(bad(b"/wheelhouse/apps/Web", json.as_bytes()).is_some());
        assert!(bad(b"/wheelhouse/apps/web", b"{oops").is_some_and(|e| e.contains("JSON")));
    }

    #[test]
    fn records_above_the_instance_maximum_are_refused_like_apply_refuses_them() {
        let mut spec = AppSpec::new("web", "demo:1");
        spec.instances = u32::MAX;
        let json = spec.to_json().unwrap_or_default();
        let got = parse_app(DIR, b"/wheelhouse/apps/web", json.as_bytes(), 1000);
        assert_eq!(
            got.err().as_deref(),
            Some("instances 4294967295 is above the maximum of 1000")
        );
        spec.instances = 1000;
        let json = spec.to_json().unwrap_or_default();
        assert!(parse_app(DIR, b"/wheelhouse/apps/web", json.as_bytes(), 1000).is_ok());
    }
}
