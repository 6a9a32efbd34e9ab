//! Connecting to etcd the way etcdctl does: endpoints, user/password, TLS.

use super::endpoints::Tended;
use super::error::StoreError;
use crate::config::EtcdConfig;
use etcd_client::{Certificate, Client, ConnectOptions, Identity, TlsOptions};
use std::path::Path;
use std::time::Duration;

/// How long one TCP/TLS connect may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a connect (with auth and the first request) or a single request may take:
/// an unreachable or hung etcd is an error after this, never a hang.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// Connects and checks that etcd answers (and accepts the credentials, if any).
pub async fn connect(cfg: &EtcdConfig) -> Result<Client, StoreError> {
    let at = cfg.endpoints.join(",");
    let (endpoints, options) = prepare(cfg)?;
    let attempt = async {
        // Several members: keep the dead ones out of the balancer (see endpoints.rs).
        let connected = if endpoints.len() > 1 {
            Client::connect_with_balanced_channel(&endpoints, Some(options), Tended).await
        } else {
            Client::connect(&endpoints, Some(options)).await
        };
        let mut client = connected.map_err(|e| StoreError::from_etcd("connect", &e))?;
        // Client::connect only talks to etcd when it must authenticate: ask once so a
        // dead endpoint fails here rather than on first use.
        client
            .status()
            .await
            .map_err(|e| StoreError::from_etcd("status", &e))?;
        Ok(client)
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, attempt).await {
        Ok(result) => result.map_err(|e: StoreError| e.at(&at)),
        Err(_) => Err(StoreError::timeout(REQUEST_TIMEOUT).at(&at)),
    }
}

/// Runs one request with `REQUEST_TIMEOUT`, classifying its error.
pub(crate) async fn request<T>(
    op: &'static str,
    fut: impl Future<Output = Result<T, etcd_client::Error>>,
) -> Result<T, StoreError> {
    request_within(REQUEST_TIMEOUT, op, fut).await
}

pub(crate) async fn request_within<T>(
    limit: Duration,
    op: &'static str,
    fut: impl Future<Output = Result<T, etcd_client::Error>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(result) => result.map_err(|e| StoreError::from_etcd(op, &e)),
        Err(_) => Err(StoreError::timeout(limit)),
    }
}

/// Checks the settings and builds the endpoint list and options (no IO but reading TLS files).
fn prepare(cfg: &EtcdConfig) -> Result<(Vec<String>, ConnectOptions), StoreError> {
    let tls = tls_options(cfg)?;
    let endpoints = crate::config::endpoints(&cfg.endpoints, cfg.tls())
        .map_err(|(_, why)| StoreError::Config(why))?;
    let https = endpoints.iter().any(|e| e.starts_with("https://"));
    let mut options = ConnectOptions::new().with_connect_timeout(CONNECT_TIMEOUT);
    if let Some((user, password)) = credentials(cfg)? {
        options = options.with_user(user, password);
    }
    // https:// without a CA file still needs TLS options (the server's cert is checked
    // against no roots then, which fails loudly rather than silently going plain).
    match tls {
        Some(tls) => options = options.with_tls(tls),
        None if https => options = options.with_tls(TlsOptions::new()),
        None => {}
    }
    Ok((endpoints, options))
}

/// user + password, or etcdctl's `user = "name:password"` form.
fn credentials(cfg: &EtcdConfig) -> Result<Option<(String, String)>, StoreError> {
    match (&cfg.user, &cfg.password) {
        (None, None) => Ok(None),
        (Some(user), Some(password)) => Ok(Some((user.clone(), password.clone()))),
        (Some(user), None) => match user.split_once(':') {
            Some((name, password)) => Ok(Some((name.to_owned(), password.to_owned()))),
            None => Err(StoreError::Config(format!(
                "user {user:?} has no password (set password, or user = \"name:password\")"
            ))),
        },
        (None, Some(_)) => Err(StoreError::Config("password is set but user is not".into())),
    }
}

fn tls_options(cfg: &EtcdConfig) -> Result<Option<TlsOptions>, StoreError> {
    let identity = match (&cfg.cert, &cfg.key) {
        (Some(cert), Some(key)) => Some(Identity::from_pem(read(cert)?, read(key)?)),
        (None, None) => None,
        _ => {
            return Err(StoreError::Config(
                "cert and key must be given together".into(),
            ));
        }
    };
    let ca = cfg.ca_cert.as_deref().map(read).transpose()?;
    if ca.is_none() && identity.is_none() {
        return Ok(None);
    }
    let mut tls = TlsOptions::new();
    if let Some(ca) = ca {
        tls = tls.ca_certificate(Certificate::from_pem(ca));
    }
    if let Some(identity) = identity {
        tls = tls.identity(identity);
    }
    Ok(Some(tls))
}

fn read(path: &Path) -> Result<Vec<u8>, StoreError> {
    std::fs::read(path).map_err(|source| StoreError::TlsFile {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(endpoints: &[&str]) -> EtcdConfig {
        EtcdConfig {
            endpoints: endpoints.iter().map(|e| e.to_string()).collect(),
            ..EtcdConfig::default()
        }
    }

    #[test]
    fn mixed_schemes_are_refused() {
        let err = prepare(&cfg(&["http://a:1", "https://b:2"])).err();
        assert!(matches!(err, Some(StoreError::Config(_))), "{err:?}");
    }

    #[test]
    fn user_may_carry_the_password() {
        let mut c = cfg(&["a:1"]);
        c.user = Some("root:secret".into());
        assert_eq!(
            credentials(&c).ok().flatten(),
            Some(("root".into(), "secret".into()))
        );
        c.user = Some("root".into());
        assert!(credentials(&c).is_err());
    }

    #[test]
    fn unreadable_tls_file_is_named() {
        let mut c = cfg(&["https://a:1"]);
        c.ca_cert = Some("/nonexistent/ca.pem".into());
        let err = prepare(&c).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err.starts_with("cannot read TLS file /nonexistent/ca.pem:"),
            "{err}"
        );
    }

    #[test]
    fn cert_without_key_is_refused() {
        let mut c = cfg(&["https://a:1"]);
        c.cert = Some("/tmp/cert.pem".into());
        assert!(matches!(prepare(&c), Err(StoreError::Config(_))));
    }
}
