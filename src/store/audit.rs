//! The audit trail: who did what, from where, with what result, under `<prefix>/audit/`.
//!
//! Keys are `<UTC time to the nanosecond>-<seq>`, fixed width, so key order is time order
//! and `list_audit_page` reads entries newest first, one sorted range request a page.

use super::connect::request;
use super::error::StoreError;
use etcd_client::{Client, Compare, CompareOp, GetOptions, SortOrder, SortTarget, Txn, TxnOp};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Distinguishes entries written in the same nanosecond; a clash with another process is
/// caught by the create-only Txn and retried with the next number.
static SEQ: AtomicU32 = AtomicU32::new(0);
const CLASH_ATTEMPTS: usize = 8;

/// One audit record, stored as JSON. Records written before a field was kept read as
/// without it (None): an old record's `result` is the prose the operator saw then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The operator: $USER, else $LOGNAME, else the uid's login name.
    pub who: String,
    /// The SSH client's address, or "local".
    pub from: String,
    /// The command's name: "scale", "apply", ... (stored as "action", its first name).
    #[serde(rename = "action")]
    pub command: String,
    /// What it was done to: an app, a host, a spec file.
    pub target: String,
    /// The app it touched, when it touched one.
    #[serde(default)]
    pub app: Option<String>,
    /// The particulars: "instances 3 -> 5".
    pub detail: String,
    /// What the operator was told: "ok: what was done", or the error or refusal.
    pub result: String,
    /// How it ended; None in the controller's notes and in records older than it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<AuditOutcome>,
    /// The spec revision the change wrote.
    #[serde(default)]
    pub revision: Option<i64>,
    /// Why it was refused or failed.
    #[serde(default)]
    pub reason: Option<AuditReason>,
    /// When, as RFC 3339 UTC: "2025-01-31T12:00:00.123456789Z".
    pub time: String,
}

impl AuditEntry {
    /// A note stamped now, by the operator this process runs for.
    pub fn now(
        command: impl Into<String>,
        target: impl Into<String>,
        detail: impl Into<String>,
        result: impl Into<String>,
    ) -> AuditEntry {
        let (who, from) = operator();
        AuditEntry::by(who, from, command, target, detail, result)
    }

    /// A record stamped now, by `who` from `from`.
    pub fn by(
        who: impl Into<String>,
        from: impl Into<String>,
        command: impl Into<String>,
        target: impl Into<String>,
        detail: impl Into<String>,
        result: impl Into<String>,
    ) -> AuditEntry {
        AuditEntry {
            who: who.into(),
            from: from.into(),
            command: command.into(),
            target: target.into(),
            app: None,
            detail: detail.into(),
            result: result.into(),
            outcome: None,
            revision: None,
            reason: None,
            time: utc_timestamp(SystemTime::now()),
        }
    }

    pub fn with_outcome(mut self, outcome: AuditOutcome) -> AuditEntry {
        self.outcome = Some(outcome);
        self
    }

    /// The typed fields of a controller's note: the app, how it ended and why.
    pub fn of_app(mut self, app: &str, outcome: AuditOutcome, reason: Option<AuditReason>) -> Self {
        self.app = Some(app.to_owned());
        self.outcome = Some(outcome);
        self.reason = reason;
        self
    }
}

/// How an audited attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditOutcome {
    /// Done.
    Ok,
    /// Not tried: read-only, bad input, not allowed.
    Refused,
    /// Tried and failed: a conflict, an unreachable etcd or engine.
    Failed,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Ok => "ok",
            AuditOutcome::Refused => "refused",
            AuditOutcome::Failed => "failed",
        }
    }
}

/// Why an attempt was refused or failed, for scripts to tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditReason {
    /// The principal may not: read-only, the wallboard.
    ReadOnly,
    /// The request was wrong: a bad count, file, name or image, or a rollout command the
    /// stored state refuses.
    Invalid,
    /// No such app, host or container.
    NotFound,
    /// The image is on no host.
    ImageMissing,
    /// A rollout of the app is under way, or a command for it is pending.
    Busy,
    /// Someone else changed it first.
    Conflict,
    /// etcd or an engine refused, failed or could not be reached.
    Unavailable,
    /// No host can take an instance (the controller's placement).
    Unplaceable,
    /// A record in etcd cannot be read (the controller keeps the last good one).
    Broken,
    /// A rollout failed: its instances did not start or become healthy in time.
    RolloutFailed,
}

impl AuditReason {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditReason::ReadOnly => "read_only",
            AuditReason::Invalid => "invalid",
            AuditReason::NotFound => "not_found",
            AuditReason::ImageMissing => "image_missing",
            AuditReason::Busy => "busy",
            AuditReason::Conflict => "conflict",
            AuditReason::Unavailable => "unavailable",
            AuditReason::Unplaceable => "unplaceable",
            AuditReason::Broken => "broken",
            AuditReason::RolloutFailed => "rollout_failed",
        }
    }
}

/// The operator this process runs for and where they came from, as the audit names them.
pub fn operator() -> (String, String) {
    who_and_from(|name| std::env::var(name).ok(), uid_name)
}

/// The operator and where they came from, from the environment `var` reads; without
/// $USER or $LOGNAME, the name `uid_name` gives this process's uid.
fn who_and_from(
    var: impl Fn(&str) -> Option<String>,
    uid_name: impl FnOnce() -> Option<String>,
) -> (String, String) {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let who = set("USER")
        .or_else(|| set("LOGNAME"))
        .or_else(uid_name)
        .unwrap_or_else(|| format!("uid {}", current_uid()));
    // Both variables start with the client's address: "10.0.0.5 51234 22".
    let from = set("SSH_CLIENT")
        .or_else(|| set("SSH_CONNECTION"))
        .and_then(|v| v.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "local".into());
    (who, from)
}

fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// The login name of this process's uid from the password database (getpwuid_r), if any.
fn uid_name() -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: a zeroed passwd is a valid value of this plain C struct.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is to a live local of the right type, and buf.len() is the
    // size of buf; getpwuid_r writes only within them.
    let rc = unsafe {
        libc::getpwuid_r(
            current_uid(),
            &mut entry,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    if rc != 0 || found.is_null() || entry.pw_name.is_null() {
        return None;
    }
    // SAFETY: on success pw_name points to a NUL-terminated string inside buf.
    let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
    let name = name.to_string_lossy().trim().to_owned();
    (!name.is_empty()).then_some(name)
}

/// `<prefix>/audit/`: the key range of the trail.
pub fn audit_dir(prefix: &str) -> String {
    format!("{}/audit/", prefix.trim_end_matches('/'))
}

/// Appends `entry`; never overwrites another entry.
pub async fn record(
    client: &mut Client,
    prefix: &str,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    let value = serde_json::to_string(entry).map_err(|e| StoreError::Invalid {
        what: "audit entry".into(),
        reason: e.to_string(),
    })?;
    let stamp = utc_timestamp(SystemTime::now());
    for _ in 0..CLASH_ATTEMPTS {
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let key = format!("{}{stamp}-{seq:010}", audit_dir(prefix));
        let txn = Txn::new()
            .when([Compare::create_revision(key.as_str(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key.as_str(), value.as_str(), None)]);
        if request("txn", client.txn(txn)).await?.succeeded() {
            return Ok(());
        }
    }
    Err(StoreError::Request {
        op: "txn",
        at: None,
        reason: format!("no free audit key at {stamp} after {CLASH_ATTEMPTS} attempts"),
    })
}

/// The newest `limit` entries, newest first. Malformed entries are skipped with a warning
/// naming the key.
pub async fn list_audit(
    client: &mut Client,
    prefix: &str,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    Ok(list_audit_page(client, prefix, limit, None).await?.0)
}

/// Up to `limit` audit entries, newest first, older than the key `before` (None: from the
/// newest); with the key to read the next page before, None once the trail is read to
/// its start.
pub async fn list_audit_page(
    client: &mut Client,
    prefix: &str,
    limit: usize,
    before: Option<Vec<u8>>,
) -> Result<(Vec<AuditEntry>, Option<Vec<u8>>), StoreError> {
    let dir = audit_dir(prefix);
    // The end of the trail's range: the directory's key with its last '/' made '0'.
    let end = before.unwrap_or_else(|| format!("{}0", dir.trim_end_matches('/')).into_bytes());
    let options = GetOptions::new()
        .with_range(end)
        .with_sort(SortTarget::Key, SortOrder::Descend)
        .with_limit(i64::try_from(limit).unwrap_or(i64::MAX));
    let resp = request("get", client.get(dir, Some(options))).await?;
    let next = resp
        .more()
        .then(|| resp.kvs().last().map(|kv| kv.key().to_vec()))
        .flatten();
    let entries = resp
        .kvs()
        .iter()
        .filter_map(|kv| match serde_json::from_slice(kv.value()) {
            Ok(entry) => Some(entry),
            Err(e) => {
                tracing::warn!(
                    key = %String::from_utf8_lossy(kv.key()),
                    "skipping malformed audit entry: {e}"
                );
                None
            }
        })
        .collect();
    Ok((entries, next))
}

/// RFC 3339 UTC with nanoseconds, always the same width: "2025-01-31T12:00:00.000000001Z".
pub(crate) fn utc_timestamp(at: SystemTime) -> String {
    // Before 1970 only on a broken clock: show the epoch rather than fail.
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_nanos()
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm, for days >= 0).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let at = |secs: u64, nanos: u32| utc_timestamp(UNIX_EPOCH + Duration::new(secs, nanos));
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(
            at(1_735_689_599, 999_999_999),
            "2024-12-31T23:59:59.999999999Z"
        );
        assert_eq!(at(4_102_444_800, 0), "2100-01-01T00:00:00.000000000Z");
        // Fixed width: string order is time order.
        assert!(at(9, 0) < at(10, 0) && at(1, 999) < at(1, 1000));
    }

    #[test]
    fn who_and_from_come_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let no_name = || None;
        assert_eq!(
            who_and_from(
                env(&[("USER", "ana"), ("SSH_CLIENT", "10.0.0.5 51234 22")]),
                no_name
            ),
            ("ana".into(), "10.0.0.5".into())
        );
        assert_eq!(
            who_and_from(
                env(&[
                    ("LOGNAME", "bo"),
                    ("SSH_CONNECTION", "10.0.0.6 5 10.0.0.1 22")
                ]),
                no_name
            ),
            ("bo".into(), "10.0.0.6".into())
        );
        // An empty $USER: the uid's name from the password database.
        assert_eq!(
            who_and_from(env(&[("USER", " ")]), || Some("cy".into())),
            ("cy".into(), "local".into())
        );
        assert_eq!(
            who_and_from(env(&[("USER", " ")]), no_name).0,
            format!("uid {}", current_uid())
        );
    }

    #[test]
    fn records_older_than_the_typed_fields_read_as_prose() {
        let old = r#"{"who":"ana","from":"local","action":"scale","target":"web",
            "detail":"instances 2 -> 5","result":"ok: web scaled to 5 (was 2, revision 12)",
            "time":"2025-01-31T12:00:00.000000000Z"}"#;
        let entry: AuditEntry = serde_json::from_str(old).expect("an old record reads");
        assert_eq!(entry.command, "scale");
        assert_eq!(
            (entry.outcome, entry.revision, entry.reason),
            (None, None, None)
        );
        assert_eq!(entry.result, "ok: web scaled to 5 (was 2, revision 12)");
        // Written back, it keeps the key scripts read; a reason reads as the table shows it.
        let value = serde_json::to_value(&entry).expect("serializes");
        assert_eq!(value["action"], "scale");
        let reason = AuditReason::ImageMissing;
        assert_eq!(
            serde_json::to_value(reason).ok(),
            Some(reason.as_str().into())
        );
    }

    #[test]
    fn the_uid_name_is_the_one_id_reports() {
        let id = std::process::Command::new("id")
            .arg("-un")
            .output()
            .expect("id runs");
        let want = String::from_utf8_lossy(&id.stdout).trim().to_owned();
        assert_eq!(uid_name().as_deref(), Some(want.as_str()));
    }
}
