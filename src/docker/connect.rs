//! Engine URLs as docker takes them (unix://, tcp:// with or without TLS, ssh://), the
//! `DOCKER_HOST` inventory, and short human messages for engine failures.

use crate::domain::{HostSpec, TlsFiles};
use bollard::{API_DEFAULT_VERSION, Docker};
use std::collections::BTreeMap;
use std::path::PathBuf;
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
        ("unix", _) => Docker::connect_with_unix(url, secs, API_DEFAULT_VERSION)?,
        ("tcp", None) => Docker::connect_with_http(url, secs, API_DEFAULT_VERSION)?,
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

/// A one-host inventory from `DOCKER_HOST`, `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`,
/// read the docker CLI's way. None when `DOCKER_HOST` is unset or empty.
pub fn host_from_env() -> Option<HostSpec> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let home = directories::BaseDirs::new().map(|d| d.home_dir().to_owned());
    host_from_vars(
        var("DOCKER_HOST"),
        var("DOCKER_TLS_VERIFY"),
        var("DOCKER_CERT_PATH"),
        home,
    )
}

/// [`host_from_env`] on given values: TLS only when `DOCKER_TLS_VERIFY` is set (as the CLI
/// does), with ca.pem, cert.pem and key.pem from `DOCKER_CERT_PATH`, else `~/.docker`.
fn host_from_vars(
    host: Option<String>,
    tls_verify: Option<String>,
    cert_path: Option<String>,
    home: Option<PathBuf>,
) -> Option<HostSpec> {
    let engine = host?.trim().to_owned();
    if engine.is_empty() {
        return None;
    }
    let tls = tls_verify.map(|_| {
        let dir = cert_path
            .map(PathBuf::from)
            .unwrap_or_else(|| home.unwrap_or_default().join(".docker"));
        TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    });
    Some(HostSpec {
        name: host_name(&engine),
        engine,
        address: None,
        zone: None,
        labels: BTreeMap::new(),
        tls,
    })
}

/// A grid name for an engine URL: the remote host's name, or "local" for a socket.
fn host_name(engine: &str) -> String {
    let rest = engine.split_once("://").map_or(engine, |(_, rest)| rest);
    if engine.starts_with("unix://") {
        return "local".to_owned();
    }
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        "local".to_owned()
    } else {
        host.to_owned()
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
    fn env_without_docker_host_is_none() {
        assert_eq!(host_from_vars(None, Some("1".into()), None, None), None);
        assert_eq!(host_from_vars(Some("  ".into()), None, None, None), None);
    }

    #[test]
    fn env_plain_and_tls_hosts() {
        let plain = host_from_vars(
            Some("tcp://dock-a:2375".into()),
            None,
            Some("/c".into()),
            None,
        );
        let plain = plain.expect("a host");
        assert_eq!(plain.name, "dock-a");
        assert_eq!(plain.engine, "tcp://dock-a:2375");
        assert_eq!(plain.tls, None, "cert path alone does not turn TLS on");

        let tls = host_from_vars(
            Some("tcp://dock.example:2376".into()),
            Some("1".into()),
            Some("/certs".into()),
            None,
        )
        .expect("a host");
        assert_eq!(tls.name, "dock.example");
        let files = tls.tls.expect("tls files");
        assert_eq!(files.ca, PathBuf::from("/certs/ca.pem"));
        assert_eq!(files.cert, PathBuf::from("/certs/cert.pem"));
        assert_eq!(files.key, PathBuf::from("/certs/key.pem"));

        let home = host_from_vars(
            Some("tcp://d:2376".into()),
            Some("1".into()),
            None,
            Some("/home/op".into()),
        )
        .and_then(|h| h.tls);
        assert_eq!(
            home.map(|t| t.key),
            Some(PathBuf::from("/home/op/.docker/key.pem"))
        );
    }

    #[test]
    fn host_names_from_urls() {
        assert_eq!(host_name("unix:///var/run/docker.sock"), "local");
        assert_eq!(host_name("ssh://ops@build-3:2222"), "build-3");
        assert_eq!(host_name("ssh://build-4"), "build-4");
        assert_eq!(host_name("tcp://[::1]:2375"), "::1");
    }

    #[test]
    fn long_messages_are_cut_to_one_line() {
        let long = format!("{}\nsecond line", "x".repeat(300));
        let short = first_line(&long);
        assert_eq!(short.chars().count(), 121);
        assert!(!short.contains('\n'));
    }
}
