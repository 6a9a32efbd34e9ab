//! The controllers' leader election: etcd's v3 election API on `<prefix>/leader`, each
//! candidate on its own lease.
//!
//! The lease is kept alive by a task of its own (a keep-alive every TTL/3), started before
//! the campaign and independent of the controller's work, so a busy leader does not lose
//! its lease. When the lease cannot be renewed for a whole TTL (etcd unreachable), or etcd
//! says it is gone (revoked, expired), `Leadership::lost` fires: the caller stops acting
//! as leader and campaigns again. A leader that dies stops renewing; its lease expires
//! after the TTL and the next candidate in line wins.

use super::connect::{REQUEST_TIMEOUT, request, request_within};
use super::error::StoreError;
use etcd_client::{
    Client, Compare, CompareOp, LeaderKey, LeaseKeepAliveStream, LeaseKeeper, ObserveStream,
    ProclaimOptions, ResignOptions,
};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The lease TTL when the operator configures none.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(5);
/// After a failed keep-alive, the next try comes this soon (or at TTL/3 if sooner).
const RETRY_AFTER_FAILURE: Duration = Duration::from_millis(500);

/// The election's name; candidates' keys are `<prefix>/leader/<lease id in hex>`.
pub fn election_name(prefix: &str) -> String {
    format!("{}/leader", prefix.trim_end_matches('/'))
}

/// Held while this process leads. Dropping it stops the keep-alive (the lease then
/// expires after its TTL, as if the process had died); `resign` hands over at once.
pub struct Leadership {
    client: Client,
    id: String,
    leader: LeaderKey,
    lease_id: i64,
    lost: watch::Receiver<Option<String>>,
    keeper: Keeper,
}

impl std::fmt::Debug for Leadership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leadership")
            .field("id", &self.id)
            .field("key", &String::from_utf8_lossy(self.leader.key()))
            .field("lease_id", &format_args!("{:x}", self.lease_id))
            .field("lost", &*self.lost.borrow())
            .finish()
    }
}

/// Stops the keep-alive task when dropped.
#[derive(Debug)]
pub(super) struct Keeper(pub(super) JoinHandle<()>);

impl Drop for Keeper {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Campaigns as `id` (what `current_leader` will report) on a new lease of `ttl` (whole
/// seconds, rounded up; etcd may raise it to its minimum) and waits until elected.
/// Fails if etcd is unreachable or the lease is lost while waiting; the caller retries.
pub async fn campaign(
    client: &Client,
    prefix: &str,
    id: &str,
    ttl: Duration,
) -> Result<Leadership, StoreError> {
    if id.trim().is_empty() {
        return Err(StoreError::Invalid {
            what: "candidate id".into(),
            reason: "must not be empty".into(),
        });
    }
    let mut client = client.clone();
    let KeptLease {
        id: lease_id,
        mut lost,
        keeper,
    } = grant_kept(&mut client, ttl).await?;
    let won = tokio::select! {
        won = client.campaign(election_name(prefix), id, lease_id) => {
            won.map_err(|e| StoreError::from_etcd("campaign", &e))
        }
        reason = wait_lost(&mut lost) => Err(StoreError::LeaseLost { lease: lease_id, reason }),
    };
    let leader = match won {
        Ok(mut won) => confirm(&mut client, lease_id, won.take_leader()).await,
        Err(e) => Err(e),
    };
    match leader {
        Ok(leader) => {
            tracing::info!(id, lease = %format!("{lease_id:x}"), "elected leader");
            Ok(Leadership {
                client,
                id: id.to_owned(),
                leader,
                lease_id,
                lost,
                keeper,
            })
        }
        Err(e) => {
            drop(keeper);
            revoke_quietly(&mut client, lease_id).await;
            Err(e)
        }
    }
}

/// The win must still stand: a win reported just as the lease ran out (or was revoked)
/// would make two leaders, so check the election key is still there, on our lease.
async fn confirm(
    client: &mut Client,
    lease_id: i64,
    leader: Option<LeaderKey>,
) -> Result<LeaderKey, StoreError> {
    let lost = |reason: &str| StoreError::LeaseLost {
        lease: lease_id,
        reason: reason.to_owned(),
    };
    let leader = leader.ok_or_else(|| lost("etcd reported a win without a leader key"))?;
    let resp = request("get", client.get(leader.key(), None)).await?;
    match resp.kvs().first() {
        Some(kv) if kv.lease() == lease_id => Ok(leader),
        _ => Err(lost(
            "the election key vanished before the win was reported",
        )),
    }
}

impl Leadership {
    /// The lease this leadership stands on: attach the leader's keys (service endpoints,
    /// host health) to it, so they vanish when the leader does.
    pub fn lease_id(&self) -> i64 {
        self.lease_id
    }

    /// The id this process campaigned as.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A Txn compare that holds only while this leadership stands: guard writes that are
    /// not attached to the lease with it.
    pub fn fence(&self) -> Compare {
        Compare::create_revision(self.leader.key(), CompareOp::Equal, self.leader.rev())
    }

    /// True once the lease is known lost.
    pub fn is_lost(&self) -> bool {
        self.lost.borrow().is_some()
    }

    /// Resolves when the leadership is lost, with the reason; the caller must stop acting
    /// as leader and campaign again.
    pub async fn lost(&self) -> StoreError {
        let reason = wait_lost(&mut self.lost.clone()).await;
        StoreError::LeaseLost {
            lease: self.lease_id,
            reason,
        }
    }

    /// Announces a new value (what `current_leader` reports) without a new election.
    pub async fn proclaim(&mut self, value: &str) -> Result<(), StoreError> {
        let options = ProclaimOptions::new().with_leader(self.leader.clone());
        request("proclaim", self.client.proclaim(value, Some(options))).await?;
        self.id = value.to_owned();
        Ok(())
    }

    /// Steps down at once and revokes the lease (with every key attached to it), so the
    /// next candidate need not wait for the TTL.
    pub async fn resign(mut self) -> Result<(), StoreError> {
        self.keeper.0.abort();
        let options = ResignOptions::new().with_leader(self.leader.clone());
        let resigned = request("resign", self.client.resign(Some(options))).await;
        let revoked = request("lease revoke", self.client.lease_revoke(self.lease_id)).await;
        resigned?;
        revoked.map(drop)
    }
}

/// The current leader's id (its latest proclaimed value), or None when nobody leads.
pub async fn current_leader(client: &Client, prefix: &str) -> Result<Option<String>, StoreError> {
    let mut client = client.clone();
    match tokio::time::timeout(REQUEST_TIMEOUT, client.leader(election_name(prefix))).await {
        Ok(Ok(resp)) => Ok(resp
            .kv()
            .map(|kv| String::from_utf8_lossy(kv.value()).into_owned())),
        Ok(Err(e)) if is_no_leader(&e) => Ok(None),
        Ok(Err(e)) => Err(StoreError::from_etcd("leader", &e)),
        Err(_) => Err(StoreError::timeout(REQUEST_TIMEOUT)),
    }
}

/// etcd sends "no leader" as a plain (Unknown) gRPC error, not as NotFound.
fn is_no_leader(e: &etcd_client::Error) -> bool {
    matches!(e, etcd_client::Error::GRpcStatus(s) if s.message().contains("election: no leader"))
}

/// Follows the election: each leader's id as it is elected or proclaims, in order.
pub struct LeaderObserver {
    client: Client,
    name: String,
    stream: Option<ObserveStream>,
}

/// Starts following the election of `prefix` (no IO until `next`).
pub fn observe_leader(client: &Client, prefix: &str) -> LeaderObserver {
    LeaderObserver {
        client: client.clone(),
        name: election_name(prefix),
        stream: None,
    }
}

impl LeaderObserver {
    /// The next leader's id; the first call waits until somebody leads. After an error
    /// (etcd gone) the next call starts over with the current leader.
    pub async fn next(&mut self) -> Result<String, StoreError> {
        let stream = match &mut self.stream {
            Some(stream) => stream,
            // No timeout: etcd answers only once there is a leader to report.
            None => self.stream.insert(
                self.client
                    .observe(self.name.as_str())
                    .await
                    .map_err(|e| StoreError::from_etcd("observe", &e))?,
            ),
        };
        let message = stream.message().await;
        let ended = || StoreError::Unreachable {
            at: None,
            reason: "the election's observe stream ended".into(),
        };
        match message {
            Ok(Some(resp)) => match resp.kv() {
                Some(kv) => Ok(String::from_utf8_lossy(kv.value()).into_owned()),
                None => {
                    self.stream = None;
                    Err(ended())
                }
            },
            Ok(None) => {
                self.stream = None;
                Err(ended())
            }
            Err(e) => {
                self.stream = None;
                Err(StoreError::from_etcd("observe", &e))
            }
        }
    }
}

/// Whole seconds, rounded up, at least 1 (etcd leases count in seconds).
/// A lease renewed by a task of its own from its grant on.
pub(super) struct KeptLease {
    pub(super) id: i64,
    /// Says why, once the lease is lost.
    pub(super) lost: watch::Receiver<Option<String>>,
    pub(super) keeper: Keeper,
}

/// Grants a lease of `ttl` (whole seconds, rounded up) and starts keeping it alive.
pub(super) async fn grant_kept(
    client: &mut Client,
    ttl: Duration,
) -> Result<KeptLease, StoreError> {
    let granted_at = Instant::now();
    let grant = request("lease grant", client.lease_grant(ttl_secs(ttl), None)).await?;
    let id = grant.id();
    let granted = Duration::from_secs(u64::try_from(grant.ttl()).unwrap_or(1).max(1));
    let (lost_tx, lost) = watch::channel(None);
    let keeper = Keeper(tokio::spawn(keep_alive(
        client.clone(),
        id,
        granted,
        granted_at,
        lost_tx,
    )));
    Ok(KeptLease { id, lost, keeper })
}

fn ttl_secs(ttl: Duration) -> i64 {
    let secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
    i64::try_from(secs.max(1)).unwrap_or(i64::MAX)
}

pub(super) async fn wait_lost(lost: &mut watch::Receiver<Option<String>>) -> String {
    match lost.wait_for(Option::is_some).await {
        Ok(reason) => reason.clone().unwrap_or_default(),
        Err(_) => "the lease keep-alive stopped".to_owned(),
    }
}

/// Renews `lease` every TTL/3 until etcd says it is gone or no renewal succeeded for a
/// whole TTL; then reports why on `lost` and stops.
async fn keep_alive(
    mut client: Client,
    lease: i64,
    ttl: Duration,
    granted_at: Instant,
    lost: watch::Sender<Option<String>>,
) {
    let every = ttl / 3;
    // Measured from when each renewal was sent, so it never outlasts etcd's own expiry.
    let mut deadline = granted_at + ttl;
    let mut stream = None;
    let mut next = Instant::now() + every;
    let reason = loop {
        tokio::time::sleep_until(next.min(deadline)).await;
        let sent = Instant::now();
        if sent >= deadline {
            break format!(
                "no keep-alive succeeded for {}s (the lease TTL)",
                ttl.as_secs()
            );
        }
        let limit = every.min(deadline - sent);
        match tokio::time::timeout(limit, renew(&mut client, lease, ttl, &mut stream)).await {
            Ok(Ok(Some(granted))) => {
                deadline = sent + granted;
                next = sent + every;
            }
            Ok(Ok(None)) => break "etcd says the lease is gone (revoked or expired)".to_owned(),
            failed => {
                if let Ok(Err(e)) = failed {
                    tracing::debug!(lease = %format!("{lease:x}"), "keep-alive failed: {e}");
                }
                stream = None;
                next = Instant::now() + every.min(RETRY_AFTER_FAILURE);
            }
        }
    };
    tracing::warn!(lease = %format!("{lease:x}"), "lease lost: {reason}");
    lost.send_replace(Some(reason));
    // So the next candidate need not wait for the TTL, if etcd is still there to hear it.
    revoke_quietly(&mut client, lease).await;
}

/// One renewal on the open keep-alive stream (opening it if need be): the TTL etcd
/// granted, or None if the lease no longer exists.
async fn renew(
    client: &mut Client,
    lease: i64,
    ttl: Duration,
    stream: &mut Option<(LeaseKeeper, LeaseKeepAliveStream)>,
) -> Result<Option<Duration>, etcd_client::Error> {
    if let Some((keeper, responses)) = stream {
        keeper.keep_alive().await?;
        return match responses.message().await? {
            Some(resp) if resp.ttl() > 0 => {
                Ok(Some(Duration::from_secs(resp.ttl().unsigned_abs())))
            }
            Some(_) => Ok(None),
            None => Err(etcd_client::Error::LeaseKeepAliveError(
                "the keep-alive stream ended".into(),
            )),
        };
    }
    // Opening the stream renews once and checks the answer's TTL itself.
    match client.lease_keep_alive(lease).await {
        Ok(opened) => {
            *stream = Some(opened);
            Ok(Some(ttl))
        }
        Err(etcd_client::Error::LeaseKeepAliveError(m)) if m == "lease not found" => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) async fn revoke_quietly(client: &mut Client, lease: i64) {
    let revoked = request_within(
        Duration::from_secs(1),
        "lease revoke",
        client.lease_revoke(lease),
    )
    .await;
    if let Err(e) = revoked {
        tracing::debug!(lease = %format!("{lease:x}"), "cannot revoke the lease: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_round_up_to_whole_seconds() {
        assert_eq!(ttl_secs(Duration::from_secs(5)), 5);
        assert_eq!(ttl_secs(Duration::from_millis(2500)), 3);
        assert_eq!(ttl_secs(Duration::ZERO), 1);
    }
}
