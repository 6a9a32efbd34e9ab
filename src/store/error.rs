//! What can go wrong talking to etcd, in words an operator can act on.

use std::path::PathBuf;
use std::time::Duration;

/// An etcd failure. `at` names the endpoints when the caller knew them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("etcd unreachable{}: {reason}", at_suffix(.at))]
    Unreachable { at: Option<String>, reason: String },
    #[error("etcd{} refused access: {reason}", at_suffix(.at))]
    Auth { at: Option<String>, reason: String },
    #[error("cannot read TLS file {}: {source}", .path.display())]
    TlsFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid etcd settings: {0}")]
    Config(String),
    #[error("invalid host record {name:?}: {reason}")]
    InvalidRecord { name: String, reason: String },
    #[error("cannot encode host record {name:?}: {reason}")]
    Encode { name: String, reason: String },
    #[error("etcd {op} failed{}: {reason}", at_suffix(.at))]
    Request {
        op: &'static str,
        at: Option<String>,
        reason: String,
    },
    /// A guarded write lost its race: `key` moved from the revision the writer read
    /// (`expected`; 0 = absent) to `found` (0 = deleted since).
    #[error("{}", conflict_message(.key, *.expected, *.found))]
    Conflict {
        key: String,
        expected: i64,
        found: i64,
    },
    #[error("no {kind} named {name:?}")]
    NotFound { kind: &'static str, name: String },
    /// A request refused before it reached etcd; `what` names the thing ("app \"web\"").
    #[error("{what}: {reason}")]
    Invalid { what: String, reason: String },
    /// The lease behind a leadership or registration is gone or could not be kept alive.
    #[error("lease {lease:x} lost: {reason}")]
    LeaseLost { lease: i64, reason: String },
}

/// "web was changed by someone else (revision 12, you read 11): reload and try again".
fn conflict_message(key: &str, expected: i64, found: i64) -> String {
    let name = key.rsplit('/').next().unwrap_or(key);
    let what = match (expected, found) {
        (0, found) => format!("{name} was created by someone else (revision {found})"),
        (expected, 0) => {
            format!("{name} was deleted by someone else (you read revision {expected})")
        }
        (expected, found) => {
            format!("{name} was changed by someone else (revision {found}, you read {expected})")
        }
    };
    format!("{what}: reload and try again")
}

// gRPC status codes (tonic is not a direct dependency, so not its enum).
const CANCELLED: i32 = 1;
const UNKNOWN: i32 = 2;
const DEADLINE_EXCEEDED: i32 = 4;
const PERMISSION_DENIED: i32 = 7;
const UNAVAILABLE: i32 = 14;
const UNAUTHENTICATED: i32 = 16;

fn at_suffix(at: &Option<String>) -> String {
    at.as_deref()
        .map(|a| format!(" at {a}"))
        .unwrap_or_default()
}

impl StoreError {
    /// Classifies an etcd-client error from operation `op`.
    pub(crate) fn from_etcd(op: &'static str, err: &etcd_client::Error) -> Self {
        let reason = match reason_of(err) {
            // hyper's words for a connection dropped under a request.
            r if r == "operation was canceled" => "connection lost".to_owned(),
            r if r == "user name is empty" => {
                "user name is empty (etcd has auth enabled: set user and password)".to_owned()
            }
            r => r,
        };
        if let etcd_client::Error::GRpcStatus(status) = err {
            let code: i32 = status.code().into();
            return if code == UNAUTHENTICATED
                || code == PERMISSION_DENIED
                || is_auth_message(&reason)
            {
                StoreError::Auth { at: None, reason }
            } else if [CANCELLED, UNKNOWN, DEADLINE_EXCEEDED, UNAVAILABLE].contains(&code) {
                StoreError::Unreachable { at: None, reason }
            } else {
                StoreError::Request {
                    op,
                    at: None,
                    reason,
                }
            };
        }
        match err {
            etcd_client::Error::TransportError(_) | etcd_client::Error::IoError(_) => {
                StoreError::Unreachable { at: None, reason }
            }
            _ => StoreError::Request {
                op,
                at: None,
                reason,
            },
        }
    }

    /// An operation that got no answer in time.
    pub(crate) fn timeout(after: Duration) -> Self {
        StoreError::Unreachable {
            at: None,
            reason: format!("no answer within {}s", after.as_secs_f32()),
        }
    }

    /// Names the endpoints in errors about the connection, when not named yet.
    pub fn at(mut self, endpoints: &str) -> Self {
        match &mut self {
            StoreError::Unreachable { at, .. }
            | StoreError::Auth { at, .. }
            | StoreError::Request { at, .. }
                if at.is_none() =>
            {
                *at = Some(endpoints.to_owned());
            }
            _ => {}
        }
        self
    }

    /// True when etcd could not be reached at all (as opposed to refusing or rejecting).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, StoreError::Unreachable { .. })
    }
}

/// etcd's own words for auth failures (it sends several as InvalidArgument / FailedPrecondition).
fn is_auth_message(reason: &str) -> bool {
    [
        "authentication failed",
        "user name is empty",
        "user name not found",
        "invalid auth token",
        "permission denied",
        "authentication is not enabled",
    ]
    .iter()
    .any(|m| reason.contains(m))
}

/// The most useful line of an etcd-client error: the OS error if a socket failed
/// ("connection refused"), else etcd's message without its "etcdserver: " tag.
fn reason_of(err: &etcd_client::Error) -> String {
    // etcd-client's Error exposes no source(): start the walk from the wrapped error.
    let mut source: Option<&(dyn std::error::Error + 'static)> = match err {
        etcd_client::Error::IoError(io) => return io_reason(io),
        etcd_client::Error::GRpcStatus(status) => Some(status),
        etcd_client::Error::TransportError(transport) => Some(transport),
        _ => None,
    };
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return io_reason(io);
        }
        source = e.source();
    }
    match err {
        etcd_client::Error::GRpcStatus(status) => {
            let msg = status.message().trim();
            let msg = msg.strip_prefix("etcdserver: ").unwrap_or(msg);
            if msg.is_empty() {
                status.code().description().to_owned()
            } else {
                msg.to_owned()
            }
        }
        other => other.to_string(),
    }
}

/// OS errors read best by kind ("connection refused"); others (TLS) by their text.
fn io_reason(io: &std::io::Error) -> String {
    if io.raw_os_error().is_some() {
        io.kind().to_string()
    } else {
        io.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_names_the_endpoints_once() {
        let e = StoreError::timeout(Duration::from_secs(3))
            .at("http://127.0.0.1:2379")
            .at("http://other:1");
        assert_eq!(
            e.to_string(),
            "etcd unreachable at http://127.0.0.1:2379: no answer within 3s"
        );
    }

    #[test]
    fn conflicts_name_both_revisions() {
        let e = |expected, found| {
            StoreError::Conflict {
                key: "/wheelhouse/apps/web".into(),
                expected,
                found,
            }
            .to_string()
        };
        assert_eq!(
            e(11, 12),
            "web was changed by someone else (revision 12, you read 11): reload and try again"
        );
        assert!(e(0, 5).starts_with("web was created by someone else (revision 5)"));
        assert!(e(7, 0).starts_with("web was deleted by someone else (you read revision 7)"));
    }

    #[test]
    fn auth_messages_are_recognised() {
        assert!(is_auth_message(
            "authentication failed, invalid user ID or password"
        ));
        assert!(is_auth_message("user name is empty"));
        assert!(!is_auth_message("request is too large"));
    }

    #[test]
    fn io_error_reads_as_its_kind() {
        let io = std::io::Error::from_raw_os_error(111);
        let e = StoreError::from_etcd("get", &etcd_client::Error::IoError(io)).at("h:1");
        assert_eq!(e.to_string(), "etcd unreachable at h:1: connection refused");
    }
}
