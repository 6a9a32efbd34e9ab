//! The `[etcd]` table: endpoints and auth the way etcdctl takes them, checked once here
//! for `check`, the cockpit, `ctl` and the controller alike (the store only connects).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

/// etcd endpoints and auth, the way etcdctl takes them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EtcdConfig {
    pub endpoints: Vec<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub ca_cert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl EtcdConfig {
    /// Whether TLS files are set (bare endpoints then get https://).
    pub fn tls(&self) -> bool {
        self.ca_cert.is_some() || self.cert.is_some() || self.key.is_some()
    }
}

/// The endpoints as URLs to connect to: each checked (`endpoint`), and one scheme for all.
/// An error names the index of the endpoint it is about.
pub fn endpoints(raw: &[String], tls: bool) -> Result<Vec<String>, (usize, String)> {
    if raw.is_empty() {
        return Err((0, "etcd.endpoints needs at least one endpoint".into()));
    }
    let mut urls: Vec<String> = Vec::with_capacity(raw.len());
    for (i, text) in raw.iter().enumerate() {
        let url = endpoint(text, tls).map_err(|m| (i, m))?;
        if let Some(first) = urls.first()
            && scheme(first) != scheme(&url)
        {
            return Err((
                i,
                "endpoints mix http:// and https://; use one scheme".into(),
            ));
        }
        urls.push(url);
    }
    Ok(urls)
}

fn scheme(url: &str) -> &str {
    url.split_once("://").map_or("", |(s, _)| s)
}

/// One endpoint: `host:port`, `http://host:port` or `https://host:port`, the host a name,
/// an IPv4 address or a bracketed IPv6 address. A bare one gets the scheme the TLS
/// settings imply; plain http with TLS files set is a mistake.
pub fn endpoint(raw: &str, tls: bool) -> Result<String, String> {
    let raw = raw.trim();
    let shown = crate::domain::excerpt(raw);
    let (scheme, authority) = match raw.split_once("://") {
        None if tls => ("https", raw),
        None => ("http", raw),
        Some(("http", _)) if tls => {
            return Err(format!(
                "endpoint {shown:?} is plain http but TLS files are set; use https://"
            ));
        }
        Some((s @ ("http" | "https"), rest)) => (s, rest),
        Some((other, _)) => {
            let other = crate::domain::excerpt(other);
            return Err(format!(
                "endpoint {shown:?}: scheme {other:?} is not supported (use http:// or https://)"
            ));
        }
    };
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    check_authority(authority).map_err(|why| format!("endpoint {shown:?}: {why}"))?;
    Ok(format!("{scheme}://{authority}"))
}

/// `host[:port]`, nothing more.
fn check_authority(authority: &str) -> Result<(), String> {
    if authority.is_empty() {
        return Err("no host:port".into());
    }
    if authority.contains(['/', '?', '#', '@']) || authority.chars().any(char::is_whitespace) {
        return Err("only host:port goes here (no path, user or spaces)".into());
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or("an IPv6 address needs its closing ']'")?;
        v6.parse::<Ipv6Addr>()
            .map_err(|_| format!("{v6:?} is not an IPv6 address"))?;
        match after {
            "" => return Ok(()),
            _ => (
                None,
                after
                    .strip_prefix(':')
                    .ok_or("expected ':' and a port after ']'")?,
            ),
        }
    } else {
        match authority.split_once(':') {
            Some((_, port)) if port.contains(':') => {
                return Err("an IPv6 address goes in brackets, like [::1]:2379".into());
            }
            Some((host, port)) => (Some(host), port),
            None => (Some(authority), ""),
        }
    };
    if let Some(host) = host {
        check_host(host)?;
    }
    if port.is_empty() && authority.ends_with(':') {
        return Err("no port after ':'".into());
    }
    if !port.is_empty() {
        port.parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| format!("port {port:?} must be 1 to 65535"))?;
    }
    Ok(())
}

/// A host name (letters, digits, '-', '_', dots between labels) or an IPv4 address: a
/// host of digits and dots alone must be a real IPv4 address (999.1.1.1 is not).
pub(super) fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("no host before the port".into());
    }
    if host.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return host
            .parse::<Ipv4Addr>()
            .map(|_| ())
            .map_err(|_| format!("{host:?} is not an IPv4 address"));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if host.len() > 253 || !host.split('.').all(label_ok) {
        return Err(format!("{host:?} is not a host name or an IP address"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_endpoints_get_a_scheme() {
        assert_eq!(
            endpoint("127.0.0.1:2379", false),
            Ok("http://127.0.0.1:2379".into())
        );
        assert_eq!(endpoint("etcd:2379", true), Ok("https://etcd:2379".into()));
        assert_eq!(
            endpoint("http://etcd-1.lab:2379/", false),
            Ok("http://etcd-1.lab:2379".into())
        );
        assert_eq!(
            endpoint("https://[::1]:2379", false),
            Ok("https://[::1]:2379".into())
        );
        assert_eq!(endpoint("localhost", false), Ok("http://localhost".into()));
    }

    /// Issue 9 item 7: `check` took these and `ctl` refused them later.
    #[test]
    fn nonsense_is_refused_with_the_reason() {
        for (raw, why) in [
            ("foo://127.0.0.1:2379", "scheme \"foo\" is not supported"),
            ("unix:///tmp/etcd.sock", "scheme \"unix\""),
            ("999.1.1.1:2379", "\"999.1.1.1\" is not an IPv4 address"),
            ("http://999.1.1.1:2379", "is not an IPv4 address"),
            ("1.2.3:2379", "is not an IPv4 address"),
            ("http://", "no host:port"),
            ("http://a:0", "port \"0\" must be 1 to 65535"),
            ("a:99999", "must be 1 to 65535"),
            ("a:port", "must be 1 to 65535"),
            ("a:", "no port after ':'"),
            (":2379", "no host before the port"),
            ("::1:2379", "goes in brackets"),
            ("[::g]:1", "is not an IPv6 address"),
            ("[::1", "closing ']'"),
            ("[::1]x", "expected ':'"),
            ("http://a:1/v3", "no path"),
            ("http://u@a:1", "no path, user"),
            ("bad host:1", "no path, user or spaces"),
            ("-a:1", "not a host name"),
            ("a..b:1", "not a host name"),
        ] {
            let err = endpoint(raw, false).expect_err(raw);
            assert!(err.contains(why), "{raw}: {err}");
        }
        assert!(endpoint("http://etcd:2379", true).is_err());
    }

    #[test]
    fn one_scheme_for_all_and_the_bad_one_is_named() {
        let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            endpoints(&list(&["a:1", "b:2"]), false),
            Ok(list(&["http://a:1", "http://b:2"]))
        );
        let (i, why) = endpoints(&list(&["http://a:1", "https://b:2"]), false).expect_err("mix");
        assert_eq!(i, 1);
        assert!(why.contains("mix"), "{why}");
        let (i, _) = endpoints(&list(&["a:1", "b:1", "999.0.0.1:1"]), false).expect_err("bad");
        assert_eq!(i, 2);
        assert!(endpoints(&[], false).is_err());
    }

    #[test]
    fn long_endpoints_are_echoed_short() {
        let long = format!("{}://x", "s".repeat(100_000));
        let err = endpoint(&long, false).expect_err("bad scheme");
        assert!(err.len() < 300, "{}", err.len());
    }
}
