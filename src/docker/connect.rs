//! Engine URLs as docker takes them (unix://, tcp:// with or without TLS, ssh://) and
//! short human messages for engine failures.

use crate::domain::HostSpec;
use bollard::{API_DEFAULT_VERSION, Docker};
use std::time::Duration;

/// bollard's own per-request limit (it only bounds the wait for response headers, so
/// streams are not cut). Callers add tighter timeouts of their own.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// Version negotiation is the first call: ssh needs time for its handshake.
const NEGOTIATE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("unsupported engine URL {url:?}: expected unix://, tcp:// or ssh://")]
    UnknownScheme { url: String },
    #[error("engine URL {url:?} has no {what}")]
    Incomplete { url: String, what: &'static str },
    #[error("engine URL {url:?}: {reason}")]
    BadSsh { url: String, reason: String },
    #[error("engine URL {url:?}: tls files apply to tcp:// engines only")]
    TlsNotTcp { url: String },
    #[error("no socket at {path}")]
    NoSocket { path: String },
    #[error("tls: {message}")]
    Tls { message: String },
    #[error("timeout")]
    Timeout,
    /// The engine failed to answer; the message is already short (see [`describe`]).
    #[error("{0}")]
    Engine(String),
}

impl From<bollard::errors::Error> for DockerError {
    fn from(err: bollard::errors::Error) -> Self {
        use bollard::errors::Error as E;
        match err {
            E::SocketNotFoundError(path) => DockerError::NoSocket { path },
            E::CertPathError { .. }
            | E::CertParseError { .. }
            | E::CertMultipleKeys { .. }
            | E::NoNativeCertsError { .. }
            | E::LoadNativeCertsErrors { .. } => DockerError::Tls {
                message: err.to_string(),
            },
            E::RequestTimeoutError => DockerError::Timeout,
            other => DockerError::Engine(describe(&other)),
        }
    }
}

/// A client for this host's engine, without talking to it yet (a unix socket must exist).
/// The API version is bollard's default until [`connect`] negotiates it.
pub fn client(spec: &HostSpec) -> Result<Docker, DockerError> {
    let url = spec.engine.trim();
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| DockerError::UnknownScheme {
            url: url.to_owned(),
        })?;
    if rest.is_empty() {
        let what = if scheme == "unix" {
            "socket path"
        } else {
            "host"
        };
        return Err(DockerError::Incomplete {
            url: url.to_owned(),
            what,
        });
    }
    if spec.tls.is_some() && scheme != "tcp" {
        return Err(DockerError::TlsNotTcp {
            url: url.to_owned(),
        });
    }
    let secs = CLIENT_TIMEOUT.as_secs();
    let docker = match (scheme, &spec.tls) {
        ("unix", _) => super::pooled::unix(url, secs)?,
        ("tcp", None) => super::pooled::tcp(url, secs)?,
        ("tcp", Some(tls)) => {
            for file in [&tls.ca, &tls.cert, &tls.key] {
                if !file.is_file() {
                    return Err(DockerError::Tls {
                        message: format!("cannot read {}", file.display()),
                    });
                }
            }
            Docker::connect_with_ssl(url, &tls.key, &tls.cert, &tls.ca, secs, API_DEFAULT_VERSION)?
        }
        ("ssh", _) => super::ssh::client(url, secs)?,
        _ => {
            return Err(DockerError::UnknownScheme {
                url: url.to_owned(),
            });
        }
    };
    Ok(docker)
}

/// A client for this host's engine, with the API version negotiated down to the engine's
/// (bollard defaults to a newer API than docker 20.10's 1.41).
pub async fn connect(spec: &HostSpec) -> Result<Docker, DockerError> {
    let docker = client(spec)?;
    match tokio::time::timeout(NEGOTIATE_TIMEOUT, docker.negotiate_version()).await {
        Ok(Ok(docker)) => Ok(docker),
        Ok(Err(err)) => Err(err.into()),
        Err(_) => Err(DockerError::Timeout),
    }
}

/// A short message for an engine failure, for the grid: "connection refused", "timeout", ...
pub fn describe(err: &bollard::errors::Error) -> String {
    use bollard::errors::Error as E;
    match err {
        E::RequestTimeoutError => return "timeout".to_owned(),
        E::SocketNotFoundError(path) => return format!("no socket at {path}"),
        E::DockerResponseServerError {
            status_code,
            message,
        } => return format!("engine error {status_code}: {}", first_line(message)),
        _ => {}
    }
    describe_cause(err)
}

/// A short message for any client's failure (bollard, reqwest): the cause that says what
/// happened is at the bottom of hyper's chain of wrappers.
pub fn describe_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = err;
    while let Some(next) = innermost.source() {
        if let Some(io) = next.downcast_ref::<std::io::Error>() {
            return describe_io(io);
        }
        innermost = next;
    }
    first_line(&innermost.to_string())
}

fn describe_io(io: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match io.kind() {
        K::ConnectionRefused => "connection refused".to_owned(),
        K::ConnectionReset | K::ConnectionAborted => "connection reset".to_owned(),
        K::BrokenPipe | K::UnexpectedEof => "connection closed".to_owned(),
        K::TimedOut => "timeout".to_owned(),
        K::NotFound => "no socket".to_owned(),
        K::PermissionDenied => "permission denied".to_owned(),
        _ => first_line(&io.to_string()),
    }
}

/// One line, at most 120 characters: the grid has no room for a stack of causes.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TlsFiles;
    use std::collections::BTreeMap;

    fn spec(engine: &str) -> HostSpec {
        HostSpec {
            name: "h".into(),
            engine: engine.into(),
            address: None,
            zone: None,
            labels: BTreeMap::new(),
            tls: None,
        }
    }

    #[test]
    fn unknown_or_missing_scheme_is_a_clear_error() {
        for url in ["http2://x", "npipe:////./pipe/docker", "localhost:2375", ""] {
            match client(&spec(url)) {
                Err(DockerError::UnknownScheme { url: u }) => assert_eq!(u, url),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn empty_targets_and_misplaced_tls_are_rejected() {
        assert!(matches!(
            client(&spec("unix://")),
            Err(DockerError::Incomplete {
                what: "socket path",
                ..
            })
        ));
        assert!(matches!(
            client(&spec("tcp://")),
            Err(DockerError::Incomplete { what: "host", .. })
        ));
        let mut s = spec("unix:///var/run/docker.sock");
        s.tls = Some(TlsFiles::default());
        assert!(matches!(client(&s), Err(DockerError::TlsNotTcp { .. })));
    }

    #[test]
    fn missing_socket_and_tls_files_are_named() {
        let err = client(&spec("unix:///nonexistent/wh/docker.sock")).err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("no socket at /nonexistent/wh/docker.sock".to_owned())
        );
        let mut s = spec("tcp://127.0.0.1:2376");
        s.tls = Some(TlsFiles {
            ca: "/nonexistent/ca.pem".into(),
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        });
        let err = client(&s).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err, "tls: cannot read /nonexistent/ca.pem");
    }

    #[test]
    fn tcp_and_ssh_clients_build_without_io() {
        assert!(client(&spec("tcp://127.0.0.1:2375")).is_ok());
        assert!(client(&spec("ssh://admin@example.invalid:2222")).is_ok());
        assert!(matches!(
            client(&spec("ssh://admin@example.invalid:99999")),
            Err(DockerError::BadSsh { .. })
        ));
    }

    #[test]
    fn long_messages_are_cut_to_one_line() {
        let long = format!("{}\nsecond line", "x".repeat(300));
        let short = first_line(&long);
        assert_eq!(short.chars().count(), 121);
        assert!(!short.contains('\n'));
    }
}
