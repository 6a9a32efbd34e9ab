//! Watchers that keep the loop's view of a key range current across etcd outages.
//!
//! One loop serves every range (hosts, apps): a `Feed` says which range, how to list it and
//! how to read one change. After the first connect the loop lists the range (the feed's
//! snapshot event), then watches from the next revision. When etcd goes away it reports
//! `Unreachable` once, reconnects with backoff and resumes the watch right after the last
//! revision it delivered, so changes made while it was away arrive as ordinary events,
//! each exactly once. Only when that revision has been compacted does it list afresh.

use super::connect::{request, request_within};
use super::error::StoreError;
use super::hosts::{hosts_dir, list_host_records, name_of_key, parse_record};
use super::link::EtcdLink;
use crate::cluster::{BrokenRecord, HostEvent};
use crate::cluster::{HostChange, HostListing, Watch};
use etcd_client::{Client, Event, EventType, GetOptions, WatchOptions};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// How often a quiet watch checks that etcd still answers: a hung or partitioned etcd
/// sends no error down the stream, so silence alone would look healthy.
const PROBE_EVERY: Duration = Duration::from_secs(2);
/// How long a probe may take: with `PROBE_EVERY`, a silent etcd is reported within ~4 s.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(3);

/// Watchers running in this process, by what they follow (see `live_watches`).
static LIVE: Mutex<BTreeMap<&'static str, usize>> = Mutex::new(BTreeMap::new());

/// How many watchers this process runs per kind ("hosts", "apps"...): one each however
/// many screens watch, which the feed's test checks.
pub fn live_watches() -> BTreeMap<&'static str, usize> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// Counts a watcher in `LIVE` for as long as its task runs (also when aborted).
struct Alive(&'static str);

impl Alive {
    fn new(what: &'static str) -> Alive {
        *LIVE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(what)
            .or_default() += 1;
        Alive(what)
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = live.get_mut(self.0) {
            *n -= 1;
            if *n == 0 {
                live.remove(self.0);
            }
        }
    }
}

/// What one watcher follows: a key range, how to list it, and how to read a change.
pub(crate) trait Feed: Send + Sync + 'static {
    /// The whole range, as `list` reads it.
    type Snapshot: Send + 'static;
    /// One change to it.
    type Change: Send + 'static;
    /// What the range holds, for log lines ("hosts").
    const WHAT: &'static str;
    /// The key prefix watched.
    fn dir(&self) -> &str;
    /// Lists the whole range: the snapshot event and the revision it was read at.
    fn list(
        &self,
        client: &mut Client,
    ) -> impl Future<Output = Result<(Self::Snapshot, i64), StoreError>> + Send;
    /// The event one change stands for at `revision`, or None to pass over it.
    fn change(&self, event: &Event, revision: i64) -> Option<Self::Change>;
}

/// Starts a watcher over `feed` on `link`'s client; it runs until `tx`'s receiver is
/// dropped.
pub(crate) fn spawn_watcher<F: Feed>(
    link: impl Into<EtcdLink>,
    feed: F,
    tx: Sender<Watch<F::Snapshot, F::Change>>,
) -> JoinHandle<()> {
    let link = link.into();
    let watcher = Watcher {
        at: link.config().endpoints.join(","),
        link,
        feed,
        tx,
        last_revision: None,
        reported: None,
    };
    tokio::spawn(watcher.run())
}

/// Starts the host watcher (`HostEvent`s for `<prefix>/hosts/`); it runs until `tx`'s
/// receiver is dropped.
pub fn spawn_host_watcher(
    link: impl Into<EtcdLink>,
    prefix: String,
    tx: Sender<HostEvent>,
) -> JoinHandle<()> {
    let feed = HostFeed {
        dir: hosts_dir(&prefix),
        prefix,
    };
    spawn_watcher(link, feed, tx)
}

struct HostFeed {
    prefix: String,
    dir: String,
}

impl Feed for HostFeed {
    type Snapshot = HostListing;
    type Change = HostChange;
    const WHAT: &'static str = "hosts";

    fn dir(&self) -> &str {
        &self.dir
    }

    async fn list(&self, client: &mut Client) -> Result<(HostListing, i64), StoreError> {
        let (records, broken, revision) = list_host_records(client, &self.prefix).await?;
        let event = HostListing {
            records,
            broken,
            revision,
        };
        Ok((event, revision))
    }

    fn change(&self, event: &Event, revision: i64) -> Option<HostChange> {
        let kv = event.kv()?;
        let key = String::from_utf8_lossy(kv.key());
        let Some(name) = name_of_key(&self.dir, kv.key()) else {
            tracing::warn!(%key, "ignoring a key under hosts/ that names no valid host");
            return None;
        };
        Some(match event.event_type() {
            EventType::Put => match parse_record(&self.dir, kv.key(), kv.value()) {
                Ok(record) => HostChange::Put { record, revision },
                // Never a deletion: the host stays as it was, the record shows as broken.
                Err(why) => {
                    tracing::warn!(%key, "malformed host record, host kept as it was: {why}");
                    HostChange::Broken {
                        record: BrokenRecord::new(name, kv.key(), why),
                        revision,
                    }
                }
            },
            EventType::Delete => HostChange::Deleted {
                name: name.to_owned(),
                revision,
            },
        })
    }
}

/// Why a session with etcd ended.
enum End {
    /// The receiver is gone: stop.
    Closed,
    Lost(StoreError),
}

impl From<StoreError> for End {
    fn from(e: StoreError) -> Self {
        End::Lost(e)
    }
}

struct Watcher<F: Feed> {
    link: EtcdLink,
    /// The endpoints as configured, for error messages.
    at: String,
    feed: F,
    tx: Sender<Watch<F::Snapshot, F::Change>>,
    /// The revision of the last list or event delivered; a watch resumes right after it.
    last_revision: Option<i64>,
    /// The last `Unreachable` text sent, so a down etcd is reported once, not per retry.
    reported: Option<String>,
}

impl<F: Feed> Watcher<F> {
    async fn run(mut self) {
        let _alive = Alive::new(F::WHAT);
        let mut backoff = BACKOFF_MIN;
        loop {
            let mut connected = false;
            let error = match self.session(&mut connected).await {
                Ok(never) => match never {},
                Err(End::Closed) => return,
                Err(End::Lost(error)) => error.at(&self.at),
            };
            if connected {
                backoff = BACKOFF_MIN;
            }
            if self.report(error).await.is_err() {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = self.tx.closed() => return,
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// One session on the shared client: catch up, watch until something fails.
    async fn session(&mut self, connected: &mut bool) -> Result<Infallible, End> {
        let (generation, client) = self.link.client().await?;
        let result = self.follow(client, connected).await;
        // A failed session may mean a dead connection: the next one is made afresh.
        if let Err(End::Lost(_)) = &result {
            self.link.lost(generation).await;
        }
        result
    }

    async fn follow(
        &mut self,
        mut client: Client,
        connected: &mut bool,
    ) -> Result<Infallible, End> {
        let revision = current_revision(&mut client, self.feed.dir()).await?;
        *connected = true;
        self.reported = None;
        tracing::info!(endpoints = %self.at, revision, what = F::WHAT, "etcd connected");
        self.send(Watch::Connected { revision }).await?;
        if self.last_revision.is_none() {
            self.relist(&mut client).await?;
        }
        loop {
            // `watch` returns only when the resume revision was compacted away.
            self.watch(&mut client).await?;
            self.relist(&mut client).await?;
        }
    }

    async fn relist(&mut self, client: &mut Client) -> Result<(), End> {
        let (snapshot, revision) = self.feed.list(client).await?;
        self.last_revision = Some(revision);
        self.send(Watch::Snapshot(snapshot)).await
    }

    /// Streams changes after `last_revision`. Ok means that revision is compacted: relist.
    async fn watch(&mut self, client: &mut Client) -> Result<(), End> {
        let start = self.last_revision.unwrap_or(0) + 1;
        let options = WatchOptions::new().with_prefix().with_start_revision(start);
        let stream = request("watch", client.watch(self.feed.dir(), Some(options))).await?;
        // Dropping the request half would end the watch: keep it for the stream's life.
        let (_requests, mut responses) = stream.split();
        let mut probe = tokio::time::interval_at(Instant::now() + PROBE_EVERY, PROBE_EVERY);
        probe.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let tx = self.tx.clone();
        loop {
            tokio::select! {
                message = responses.message() => {
                    let response = match message {
                        Ok(Some(response)) => response,
                        Ok(None) => return Err(lost("the watch stream ended")),
                        Err(e) => return Err(StoreError::from_etcd("watch", &e).into()),
                    };
                    if response.compact_revision() > 0 {
                        tracing::warn!(
                            start,
                            compacted = response.compact_revision(),
                            what = F::WHAT,
                            "etcd compacted past the watch's resume point; listing afresh"
                        );
                        return Ok(());
                    }
                    if response.canceled() {
                        return Err(StoreError::Request {
                            op: "watch",
                            at: None,
                            reason: format!("canceled by etcd: {}", response.cancel_reason()),
                        }
                        .into());
                    }
                    for event in response.events() {
                        self.deliver(event).await?;
                    }
                }
                _ = probe.tick() => {
                    current_revision(client, self.feed.dir()).await?;
                }
                _ = tx.closed() => return Err(End::Closed),
            }
        }
    }

    async fn deliver(&mut self, event: &Event) -> Result<(), End> {
        let Some(kv) = event.kv() else {
            return Ok(());
        };
        let revision = kv.mod_revision();
        self.last_revision = Some(self.last_revision.map_or(revision, |r| r.max(revision)));
        match self.feed.change(event, revision) {
            Some(change) => self.send(Watch::Change(change)).await,
            None => Ok(()),
        }
    }

    /// Sends `Unreachable` unless this very error was the last thing reported.
    async fn report(&mut self, error: StoreError) -> Result<(), End> {
        let text = error.to_string();
        if self.reported.as_deref() == Some(text.as_str()) {
            tracing::debug!("{text} (still)");
            return Ok(());
        }
        tracing::warn!("{text}");
        self.reported = Some(text.clone());
        self.send(Watch::Unreachable { error: text }).await
    }

    async fn send(&self, event: Watch<F::Snapshot, F::Change>) -> Result<(), End> {
        self.tx.send(event).await.map_err(|_| End::Closed)
    }
}

fn lost(reason: &str) -> End {
    End::Lost(StoreError::Unreachable {
        at: None,
        reason: reason.to_owned(),
    })
}

/// The store's current revision: a cheap read that proves etcd, and our read access, alive.
async fn current_revision(client: &mut Client, dir: &str) -> Result<i64, StoreError> {
    let options = GetOptions::new().with_prefix().with_count_only();
    let resp = request_within(PROBE_TIMEOUT, "get", client.get(dir, Some(options))).await?;
    Ok(resp.header().map_or(0, |h| h.revision()))
}
