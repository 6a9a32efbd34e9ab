//! Host records: JSON `HostSpec`s under `<prefix>/hosts/<name>`.

use super::connect::request;
use super::error::StoreError;
use crate::cluster::BrokenRecord;
use crate::config::check_host_spec;
use crate::domain::HostSpec;
use crate::domain::valid_name;
use etcd_client::{Client, GetOptions};

/// `<prefix>/hosts/`: the key range every host record lives in.
pub fn hosts_dir(prefix: &str) -> String {
    format!("{}/hosts/", prefix.trim_end_matches('/'))
}

pub fn host_key(prefix: &str, name: &str) -> String {
    format!("{}{name}", hosts_dir(prefix))
}

/// The host name a key under `hosts_dir` stands for, if it is one.
pub(crate) fn name_of_key<'a>(dir: &str, key: &'a [u8]) -> Option<&'a str> {
    let name = std::str::from_utf8(key).ok()?.strip_prefix(dir)?;
    valid_name(name).then_some(name)
}

/// Decodes one record; the error says what is wrong with it (the caller names the key).
pub(crate) fn parse_record(dir: &str, key: &[u8], value: &[u8]) -> Result<HostSpec, String> {
    let name = name_of_key(dir, key).ok_or("the key is not <prefix>/hosts/<valid name>")?;
    let spec: HostSpec = serde_json::from_slice(value).map_err(|e| format!("bad JSON: {e}"))?;
    if spec.name != name {
        return Err(format!(
            "record names host {:?}, the key names {name:?}",
            spec.name
        ));
    }
    check_host_spec(&spec).map_err(|(_, why)| why)?;
    Ok(spec)
}

/// Every well-formed host record and the revision they were read at. Malformed records
/// are skipped with a warning naming the key, so one bad record hides no others.
pub async fn list_hosts(
    client: &mut Client,
    prefix: &str,
) -> Result<(Vec<HostSpec>, i64), StoreError> {
    let (hosts, _, revision) = list_host_records(client, prefix).await?;
    Ok((hosts, revision))
}

/// Every well-formed host record, every broken one (with what is wrong), and the
/// revision they were read at.
pub async fn list_host_records(
    client: &mut Client,
    prefix: &str,
) -> Result<(Vec<HostSpec>, Vec<BrokenRecord>, i64), StoreError> {
    let dir = hosts_dir(prefix);
    let resp = request(
        "get",
        client.get(dir.as_str(), Some(GetOptions::new().with_prefix())),
    )
    .await?;
    let revision = resp.header().map_or(0, |h| h.revision());
    let mut hosts = Vec::with_capacity(resp.kvs().len());
    let mut broken = Vec::new();
    for kv in resp.kvs() {
        match parse_record(&dir, kv.key(), kv.value()) {
            Ok(spec) => hosts.push(spec),
            Err(why) => {
                let key = String::from_utf8_lossy(kv.key());
                tracing::warn!(%key, "malformed host record, host kept as it was: {why}");
                if let Some(name) = name_of_key(&dir, kv.key()) {
                    broken.push(BrokenRecord::new(name, kv.key(), why));
                }
            }
        }
    }
    Ok((hosts, broken, revision))
}

/// Writes (creates or replaces) a host record; returns the revision of the write.
pub async fn put_host(
    client: &mut Client,
    prefix: &str,
    spec: &HostSpec,
) -> Result<i64, StoreError> {
    // What a read would take for broken is not written.
    check_host_spec(spec).map_err(|(_, reason)| StoreError::InvalidRecord {
        name: spec.name.clone(),
        reason,
    })?;
    let value = serde_json::to_vec(spec).map_err(|e| StoreError::Encode {
        name: spec.name.clone(),
        reason: e.to_string(),
    })?;
    let resp = request("put", client.put(host_key(prefix, &spec.name), value, None)).await?;
    Ok(resp.header().map_or(0, |h| h.revision()))
}

/// Deletes a host record; says whether there was one.
pub async fn delete_host(
    client: &mut Client,
    prefix: &str,
    name: &str,
) -> Result<bool, StoreError> {
    check_name(name)?;
    let resp = request("delete", client.delete(host_key(prefix, name), None)).await?;
    Ok(resp.deleted() > 0)
}

fn check_name(name: &str) -> Result<(), StoreError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(StoreError::InvalidRecord {
            name: name.to_owned(),
            reason: "a host name is 1-63 letters, digits, '-', '_' or '.'".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = "/wheelhouse/hosts/";

    #[test]
    fn keys_ignore_a_trailing_slash_on_the_prefix() {
        assert_eq!(host_key("/wheelhouse/", "h1"), "/wheelhouse/hosts/h1");
        assert_eq!(hosts_dir("/wheelhouse"), DIR);
    }

    #[test]
    fn a_good_record_parses() {
        let rec = parse_record(
            DIR,
            b"/wheelhouse/hosts/h1",
            br#"{"name":"h1","engine":"unix:///tmp/d.sock","zone":"a"}"#,
        );
        assert_eq!(rec.map(|r| r.zone), Ok(Some("a".into())));
    }

    #[test]
    fn malformed_records_say_why() {
        let bad = |key: &[u8], value: &[u8]| parse_record(DIR, key, value).err();
        let json = br#"{"name":"h1","engine":"unix:///x"}"#;
        assert!(bad(b"/wheelhouse/hosts/h2", json).is_some_and(|e| e.contains("\"h2\"")));
        assert!(bad(b"/wheelhouse/hosts/a/b", json).is_some());
        assert!(bad(b"/wheelhouse/hosts/h1", b"{not json").is_some_and(|e| e.contains("JSON")));
        assert!(
            bad(
                b"/wheelhouse/hosts/h1",
                br#"{"name":"h1","engine":"ftp://x"}"#
            )
            .is_some()
        );
        assert!(
            bad(
                b"/wheelhouse/hosts/h1",
                br#"{"name":"h1","engine":"unix:///x","x":1}"#
            )
            .is_some()
        );
        // Issue 9 item 3: the config's checks, not the engine URL alone.
        let zone = br#"{"name":"h1","engine":"unix:///x","zone":"a\u001b[2J"}"#;
        assert!(bad(b"/wheelhouse/hosts/h1", zone).is_some_and(|e| e.contains("zone")));
        let address = br#"{"name":"h1","engine":"unix:///x","address":"999.1.1.1"}"#;
        assert!(bad(b"/wheelhouse/hosts/h1", address).is_some_and(|e| e.contains("IPv4")));
        let label = br#"{"name":"h1","engine":"unix:///x","labels":{"k":"\u0007"}}"#;
        assert!(bad(b"/wheelhouse/hosts/h1", label).is_some_and(|e| e.contains("label")));
    }
}
