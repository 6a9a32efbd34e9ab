//! Rollout progress and operator commands, under `<prefix>/rollouts/`.
//!
//! Keys:
//! - `<prefix>/rollouts/<app>`: a [`Rollout`] as JSON (the state machine's
//!   [`RolloutState`], the spec rolled from and the spec rolled to). Only the controller's
//!   leader writes it, in a Txn fenced on its leadership, before it runs that tick's steps;
//!   a finished rollout stays there (phase succeeded, rolled back or failed) until the
//!   next one replaces it, so the cockpit can show how the last one ended.
//! - `<prefix>/rollouts/<app>/command`: one operator [`Command`] waiting for the leader.
//!   The leader applies it and deletes it in the same Txn that stores the new state, so a
//!   command is applied exactly once.
//!
//! A rollout is not started through this module: writing a spec whose revision hash
//! differs from the running instances' (`store::put_app`) is what starts one; the leader
//! notices and creates the record.
//!
//! API for the cockpit and `ctl`:
//! - [`request`] checks a command against the stored state (the same check the leader
//!   makes, so "not paused" and the like come back at once) and leaves it for the leader;
//! - [`get_rollout`] and [`list_rollouts`] read progress (`state.phase`, `state.counts`,
//!   `state.failures`): poll them, or follow [`spawn_rollout_watcher`]'s events.

use super::connect::request as etcd;
use super::error::StoreError;
use super::watch::{Feed, spawn_watcher};
use crate::cluster::{BrokenRecord, PendingCommand, Rollout, RolloutEvent, StoredCommand};
use crate::cluster::{RolloutChange, RolloutListing};
use crate::domain::app::valid_app_name;
use crate::plan::rollout::{self, Command, CommandError};
use etcd_client::{Client, Compare, CompareOp, Event, EventType, GetOptions, KeyValue, Txn, TxnOp};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

/// Why a command was not left for the leader.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{app} has no rollout to {verb}")]
    NoRollout { app: String, verb: &'static str },
    #[error(transparent)]
    Refused(#[from] CommandError),
    #[error(
        "a {pending} of {app} is still waiting for the controller; try again once it is applied"
    )]
    Pending { app: String, pending: &'static str },
    #[error("the rollout of {app} changed while the {verb} was asked for; try again")]
    Raced { app: String, verb: &'static str },
}

/// `<prefix>/rollouts/`.
pub fn rollouts_dir(prefix: &str) -> String {
    format!("{}/rollouts/", prefix.trim_end_matches('/'))
}

pub fn rollout_key(prefix: &str, app: &str) -> String {
    format!("{}{app}", rollouts_dir(prefix))
}

pub fn command_key(prefix: &str, app: &str) -> String {
    format!("{}/command", rollout_key(prefix, app))
}

/// The command's verb, as operators say it.
pub fn verb(command: Command) -> &'static str {
    match command {
        Command::Pause => "pause",
        Command::Resume => "resume",
        Command::Promote => "promote",
        Command::Rollback => "rollback",
    }
}

/// Milliseconds since the epoch: rollout times are wall-clock, so they mean the same to
/// every controller.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What a key under `rollouts_dir` holds.
#[derive(Clone, Copy)]
enum Entry<'a> {
    State(&'a str),
    Command(&'a str),
}

fn entry_of<'a>(dir: &str, key: &'a [u8]) -> Option<Entry<'a>> {
    let rest = std::str::from_utf8(key).ok()?.strip_prefix(dir)?;
    let (app, entry) = match rest.strip_suffix("/command") {
        Some(app) => (app, Entry::Command(app)),
        None => (rest, Entry::State(rest)),
    };
    valid_app_name(app).then_some(entry)
}

fn parse_rollout(app: &str, value: &[u8]) -> Result<Rollout, String> {
    let r: Rollout = serde_json::from_slice(value).map_err(|e| format!("bad JSON: {e}"))?;
    if r.state.app != app {
        return Err(format!(
            "the record names app {:?}, the key {app:?}",
            r.state.app
        ));
    }
    Ok(r)
}

fn parse_command(app: &str, kv: &KeyValue) -> Result<StoredCommand, String> {
    let command: PendingCommand =
        serde_json::from_slice(kv.value()).map_err(|e| format!("bad JSON: {e}"))?;
    Ok(StoredCommand {
        app: app.to_owned(),
        command,
        mod_revision: kv.mod_revision(),
    })
}

fn check_app(app: &str) -> Result<(), StoreError> {
    if valid_app_name(app) {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what: format!("app name {app:?}"),
            reason: "must be 1-63 lowercase letters, digits or inner '-'".into(),
        })
    }
}

/// One app's rollout (the last one, if it has finished), or None.
pub async fn get_rollout(
    client: &mut Client,
    prefix: &str,
    app: &str,
) -> Result<Option<Rollout>, StoreError> {
    Ok(get_with_revision(client, prefix, app)
        .await?
        .map(|(r, _)| r))
}

async fn get_with_revision(
    client: &mut Client,
    prefix: &str,
    app: &str,
) -> Result<Option<(Rollout, i64)>, StoreError> {
    check_app(app)?;
    let key = rollout_key(prefix, app);
    let resp = etcd("get", client.get(key.as_str(), None)).await?;
    let Some(kv) = resp.kvs().first() else {
        return Ok(None);
    };
    let rollout = parse_rollout(app, kv.value()).map_err(|why| StoreError::Invalid {
        what: format!("rollout record {key}"),
        reason: format!("{why} (`wheelhouse ctl rollout-status {app} --reset` removes it)"),
    })?;
    Ok(Some((rollout, kv.mod_revision())))
}

/// Removes `app`'s rollout record when it cannot be read (a broken record blocks every
/// rollout of the app until it is gone). A readable record is refused: it is the
/// controller's to drive, and `rollback`/`pause` are the ways to change it. The delete
/// is guarded by the mod_revision read, so a record the leader rewrote meanwhile stays.
/// Returns why the record was broken.
pub async fn delete_broken_rollout(
    client: &mut Client,
    prefix: &str,
    app: &str,
) -> Result<String, StoreError> {
    check_app(app)?;
    let key = rollout_key(prefix, app);
    let resp = etcd("get", client.get(key.as_str(), None)).await?;
    let Some(kv) = resp.kvs().first() else {
        return Err(StoreError::NotFound {
            kind: "rollout",
            name: app.to_owned(),
        });
    };
    let why = match parse_rollout(app, kv.value()) {
        Ok(_) => {
            return Err(StoreError::Invalid {
                what: format!("rollout record {key}"),
                reason: "it is readable: only a broken record is removed (use rollback or \
                         pause to change a rollout)"
                    .into(),
            });
        }
        Err(why) => why,
    };
    let when = vec![Compare::mod_revision(
        key.as_str(),
        CompareOp::Equal,
        kv.mod_revision(),
    )];
    fenced(client, &key, when, vec![TxnOp::delete(key.as_str(), None)]).await?;
    Ok(why)
}

/// Every well-formed rollout record and every pending command, by app name. Malformed
/// records are skipped with a warning naming the key (the rollout watcher's listing
/// carries them).
pub async fn list_rollouts(
    client: &mut Client,
    prefix: &str,
) -> Result<(Vec<Rollout>, Vec<StoredCommand>), StoreError> {
    let ((rollouts, commands, _), _) = list_at(client, prefix).await?;
    Ok((rollouts, commands))
}

type Listing = (Vec<Rollout>, Vec<StoredCommand>, Vec<BrokenRecord>);

async fn list_at(client: &mut Client, prefix: &str) -> Result<(Listing, i64), StoreError> {
    let dir = rollouts_dir(prefix);
    let resp = etcd(
        "get",
        client.get(dir.as_str(), Some(GetOptions::new().with_prefix())),
    )
    .await?;
    let revision = resp.header().map_or(0, |h| h.revision());
    let (mut rollouts, mut commands, mut broken) = (Vec::new(), Vec::new(), Vec::new());
    for kv in resp.kvs() {
        let key = String::from_utf8_lossy(kv.key());
        let entry = entry_of(&dir, kv.key());
        let parsed = match entry {
            Some(Entry::State(app)) => parse_rollout(app, kv.value()).map(|r| rollouts.push(r)),
            Some(Entry::Command(app)) => parse_command(app, kv).map(|c| commands.push(c)),
            None => Err("the key names no valid app".to_owned()),
        };
        if let Err(why) = parsed {
            tracing::warn!(%key, "skipping a malformed rollout key: {why}");
            if let Some(Entry::State(app)) = entry {
                broken.push(BrokenRecord::new(app, kv.key(), why));
            }
        }
    }
    Ok(((rollouts, commands, broken), revision))
}

/// Leaves `command` for the leader, after checking it against the stored state. The
/// rollout must not change between the check and the write, and only one command may
/// wait at a time.
pub async fn request(
    client: &mut Client,
    prefix: &str,
    app: &str,
    command: Command,
) -> Result<(), RequestError> {
    let verb = verb(command);
    let Some((rollout, revision)) = get_with_revision(client, prefix, app).await? else {
        return Err(RequestError::NoRollout {
            app: app.to_owned(),
            verb,
        });
    };
    rollout::command(&rollout.state, command, now_ms())?;
    // The audit trail's idea of the operator.
    let who = super::AuditEntry::now(verb, app, "", "").who;
    let pending = PendingCommand {
        command,
        who,
        at_ms: now_ms(),
    };
    let value = serde_json::to_string(&pending).map_err(|e| StoreError::Invalid {
        what: format!("{verb} of {app}"),
        reason: e.to_string(),
    })?;
    let (state_key, key) = (rollout_key(prefix, app), command_key(prefix, app));
    let txn = Txn::new()
        .when([
            Compare::mod_revision(state_key.as_str(), CompareOp::Equal, revision),
            Compare::create_revision(key.as_str(), CompareOp::Equal, 0),
        ])
        .and_then([TxnOp::put(key.as_str(), value, None)])
        .or_else([TxnOp::get(key.as_str(), None)]);
    let resp = etcd("txn", client.txn(txn)).await?;
    if resp.succeeded() {
        return Ok(());
    }
    let waiting = resp.op_responses().into_iter().find_map(|op| match op {
        etcd_client::TxnOpResponse::Get(get) => get
            .kvs()
            .first()
            .and_then(|kv| serde_json::from_slice::<PendingCommand>(kv.value()).ok()),
        _ => None,
    });
    Err(match waiting {
        Some(p) => RequestError::Pending {
            app: app.to_owned(),
            pending: self::verb(p.command),
        },
        None => RequestError::Raced {
            app: app.to_owned(),
            verb,
        },
    })
}

/// The leader's write: stores `rollout` while `fence` holds and, when it applied a
/// command, deletes that command if it is still the one read. Returns the revision of
/// the write, or a `Conflict` naming the rollout key when the fence or the command check
/// failed (the caller must not run the tick's steps).
pub async fn save_rollout(
    client: &mut Client,
    prefix: &str,
    fence: &Compare,
    rollout: &Rollout,
    applied: Option<i64>,
) -> Result<i64, StoreError> {
    let app = rollout.app();
    check_app(app)?;
    let value = serde_json::to_string(rollout).map_err(|e| StoreError::Invalid {
        what: format!("rollout of {app}"),
        reason: e.to_string(),
    })?;
    let key = rollout_key(prefix, app);
    let mut when = vec![fence.clone()];
    let mut ops = vec![TxnOp::put(key.as_str(), value, None)];
    if let Some(revision) = applied {
        let ck = command_key(prefix, app);
        when.push(Compare::mod_revision(
            ck.as_str(),
            CompareOp::Equal,
            revision,
        ));
        ops.push(TxnOp::delete(ck, None));
    }
    fenced(client, &key, when, ops).await
}

/// Deletes a command the leader cannot apply (no rollout, or already finished), while
/// `fence` holds and only if it is still the one read.
pub async fn discard_command(
    client: &mut Client,
    prefix: &str,
    fence: &Compare,
    app: &str,
    mod_revision: i64,
) -> Result<i64, StoreError> {
    check_app(app)?;
    let key = command_key(prefix, app);
    let when = vec![
        fence.clone(),
        Compare::mod_revision(key.as_str(), CompareOp::Equal, mod_revision),
    ];
    let ops = vec![TxnOp::delete(key.as_str(), None)];
    fenced(client, &key, when, ops).await
}

async fn fenced(
    client: &mut Client,
    key: &str,
    when: Vec<Compare>,
    ops: Vec<TxnOp>,
) -> Result<i64, StoreError> {
    let txn = Txn::new().when(when).and_then(ops);
    let resp = etcd("txn", client.txn(txn)).await?;
    if resp.succeeded() {
        Ok(resp.header().map_or(0, |h| h.revision()))
    } else {
        Err(StoreError::Conflict {
            key: key.to_owned(),
            expected: 0,
            found: 0,
        })
    }
}

/// Follows `<prefix>/rollouts/` (the host watcher's loop: resumes after outages without
/// loss); runs until `tx`'s receiver is dropped.
pub fn spawn_rollout_watcher(
    link: impl Into<super::link::EtcdLink>,
    prefix: String,
    tx: Sender<RolloutEvent>,
) -> JoinHandle<()> {
    let feed = RolloutFeed {
        dir: rollouts_dir(&prefix),
        prefix,
    };
    spawn_watcher(link, feed, tx)
}

struct RolloutFeed {
    prefix: String,
    dir: String,
}

impl Feed for RolloutFeed {
    type Snapshot = RolloutListing;
    type Change = RolloutChange;
    const WHAT: &'static str = "rollouts";

    fn dir(&self) -> &str {
        &self.dir
    }

    async fn list(&self, client: &mut Client) -> Result<(RolloutListing, i64), StoreError> {
        let ((rollouts, commands, broken), revision) = list_at(client, &self.prefix).await?;
        let snapshot = RolloutListing {
            rollouts,
            commands,
            broken,
        };
        Ok((snapshot, revision))
    }

    fn change(&self, event: &Event, _revision: i64) -> Option<RolloutChange> {
        let kv = event.kv()?;
        let key = String::from_utf8_lossy(kv.key());
        let entry = entry_of(&self.dir, kv.key());
        let put = event.event_type() == EventType::Put;
        let parsed = match (entry, put) {
            (None, _) => Err("the key names no valid app".to_owned()),
            (Some(Entry::State(app)), false) => Ok(RolloutChange::Removed { app: app.into() }),
            (Some(Entry::Command(app)), false) => {
                Ok(RolloutChange::CommandRemoved { app: app.into() })
            }
            (Some(Entry::State(app)), true) => {
                parse_rollout(app, kv.value()).map(|r| RolloutChange::Put(Box::new(r)))
            }
            (Some(Entry::Command(app)), true) => parse_command(app, kv).map(RolloutChange::Command),
        };
        parsed
            .or_else(|why| {
                tracing::warn!(%key, "ignoring a malformed rollout key: {why}");
                let (Some(Entry::State(app)), true) = (entry, put) else {
                    return Err(());
                };
                Ok(RolloutChange::Broken(BrokenRecord::new(app, kv.key(), why)))
            })
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_layout() {
        assert_eq!(
            rollout_key("/wheelhouse/", "web"),
            "/wheelhouse/rollouts/web"
        );
        assert_eq!(
            command_key("/wheelhouse", "web"),
            "/wheelhouse/rollouts/web/command"
        );
        let dir = rollouts_dir("/wheelhouse");
        assert!(matches!(
            entry_of(&dir, b"/wheelhouse/rollouts/web"),
            Some(Entry::State("web"))
        ));
        assert!(matches!(
            entry_of(&dir, b"/wheelhouse/rollouts/web/command"),
            Some(Entry::Command("web"))
        ));
        assert!(entry_of(&dir, b"/wheelhouse/rollouts/Web").is_none());
        assert!(entry_of(&dir, b"/wheelhouse/rollouts/a/b").is_none());
    }

    #[test]
    fn records_name_their_app() {
        use crate::domain::app::AppSpec;
        use crate::plan::rollout::RolloutState;
        let spec = AppSpec::new("web", "demo:1");
        let state = RolloutState::new("web", 1, 2, 3, spec.update.clone(), &Default::default(), 0);
        let r = Rollout {
            state,
            from_spec: None,
            to_spec: spec,
        };
        let json = serde_json::to_vec(&r).unwrap_or_default();
        assert_eq!(parse_rollout("web", &json), Ok(r));
        assert!(parse_rollout("api", &json).is_err_and(|e| e.contains("\"api\"")));
        assert!(parse_rollout("web", b"{").is_err_and(|e| e.contains("JSON")));
    }
}
