//! One set of checks for a host entry, wherever it comes from: the config file's
//! `[[hosts]]` (errors placed at file:line:col) and `/hosts/<host>` records in etcd.

use super::check_engine_url;
use super::etcd::check_host;
use crate::domain::HostSpec;
use crate::domain::app::{check_no_controls, check_not_empty};
use crate::domain::valid_name;
use std::net::IpAddr;

/// The field of a host entry a check refused, so the config can point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostField {
    Name,
    Engine,
    Address,
    Zone,
    Labels,
}

/// Checks name, engine URL, address, zone and labels; the error names the field.
pub fn check_host_spec(spec: &HostSpec) -> Result<(), (HostField, String)> {
    let name = &spec.name;
    if !valid_name(name) {
        let why = format!("host name {name:?} must be letters, digits, '-', '_' or '.'");
        return Err((HostField::Name, why));
    }
    check_no_controls("engine", &spec.engine)
        .and_then(|()| check_engine_url(&spec.engine))
        .map_err(|why| (HostField::Engine, why))?;
    if let Some(address) = &spec.address {
        check_address(address).map_err(|why| (HostField::Address, why))?;
    }
    if let Some(zone) = &spec.zone {
        check_not_empty("zone", zone).map_err(|why| (HostField::Zone, why))?;
    }
    for (key, value) in &spec.labels {
        check_not_empty("a label's name", key)
            .and_then(|()| check_no_controls(&format!("label {key:?}"), value))
            .map_err(|why| (HostField::Labels, why))?;
    }
    Ok(())
}

/// An IP address (v4 or v6) or a host name.
fn check_address(address: &str) -> Result<(), String> {
    if address.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    check_host(address).map_err(|why| format!("address: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostSpec {
        HostSpec {
            name: "h1".into(),
            engine: "unix:///tmp/d.sock".into(),
            address: Some("127.0.1.1".into()),
            zone: Some("a".into()),
            labels: [("disk".to_owned(), "ssd".to_owned())].into(),
            tls: None,
        }
    }

    #[test]
    fn each_field_is_checked_and_named() {
        assert_eq!(check_host_spec(&host()), Ok(()));
        let field = |edit: fn(&mut HostSpec)| {
            let mut h = host();
            edit(&mut h);
            check_host_spec(&h).map_err(|(f, _)| f)
        };
        assert_eq!(field(|h| h.address = Some("::1".into())), Ok(()));
        assert_eq!(field(|h| h.address = Some("web-1.lan".into())), Ok(()));
        assert_eq!(field(|h| h.name = "a/b".into()), Err(HostField::Name));
        assert_eq!(
            field(|h| h.engine = "ftp://x".into()),
            Err(HostField::Engine)
        );
        assert_eq!(
            field(|h| h.engine = "tcp://x\u{1b}[2J".into()),
            Err(HostField::Engine)
        );
        assert_eq!(
            field(|h| h.address = Some("999.1.1.1".into())),
            Err(HostField::Address)
        );
        assert_eq!(
            field(|h| h.address = Some("a b".into())),
            Err(HostField::Address)
        );
        assert_eq!(field(|h| h.zone = Some(" ".into())), Err(HostField::Zone));
        assert_eq!(
            field(|h| h.zone = Some("a\u{7}".into())),
            Err(HostField::Zone)
        );
        let bad_label = |k: &str, v: &str| {
            let mut h = host();
            h.labels.insert(k.into(), v.into());
            check_host_spec(&h).map_err(|(f, _)| f)
        };
        assert_eq!(bad_label("", "x"), Err(HostField::Labels));
        assert_eq!(
            bad_label("k", "\u{1b}]0;pwned\u{7}"),
            Err(HostField::Labels)
        );
    }
}
