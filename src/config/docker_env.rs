//! A one-host inventory from the docker CLI's environment, for running without a config.

use crate::domain::{HostSpec, TlsFiles};
use std::collections::BTreeMap;
use std::path::PathBuf;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
