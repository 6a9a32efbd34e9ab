//! Service endpoints: `<prefix>/services/<service>/<instance>`, each attached to a lease
//! (the leader's), so a dead leader's registrations vanish with its lease.

use super::connect::request;
use super::error::StoreError;
use crate::domain::app::valid_app_name;
use crate::plan::Endpoint;
use etcd_client::{Client, GetOptions, PutOptions};
use std::collections::BTreeMap;

/// `<prefix>/services/<service>/`: every endpoint of one service.
pub fn service_dir(prefix: &str, service: &str) -> String {
    format!("{}/services/{service}/", prefix.trim_end_matches('/'))
}

/// Registers `endpoint` as `instance` of `service` under `lease_id`; returns the revision
/// of the write.
pub async fn register(
    client: &mut Client,
    prefix: &str,
    lease_id: i64,
    service: &str,
    instance: &str,
    endpoint: &Endpoint,
) -> Result<i64, StoreError> {
    check(service, instance)?;
    let value = serde_json::to_string(endpoint).map_err(|e| StoreError::Invalid {
        what: format!("endpoint {service}/{instance}"),
        reason: e.to_string(),
    })?;
    let key = format!("{}{instance}", service_dir(prefix, service));
    let options = PutOptions::new().with_lease(lease_id);
    let resp = request("put", client.put(key, value, Some(options))).await?;
    Ok(resp.header().map_or(0, |h| h.revision()))
}

/// Removes one endpoint; says whether it was registered.
pub async fn deregister(
    client: &mut Client,
    prefix: &str,
    service: &str,
    instance: &str,
) -> Result<bool, StoreError> {
    check(service, instance)?;
    let key = format!("{}{instance}", service_dir(prefix, service));
    let resp = request("delete", client.delete(key, None)).await?;
    Ok(resp.deleted() > 0)
}

/// Every well-formed endpoint of `service`, by instance name. Malformed records are
/// skipped with a warning naming the key.
pub async fn list_endpoints(
    client: &mut Client,
    prefix: &str,
    service: &str,
) -> Result<BTreeMap<String, Endpoint>, StoreError> {
    check_service(service)?;
    let dir = service_dir(prefix, service);
    let resp = request(
        "get",
        client.get(dir.as_str(), Some(GetOptions::new().with_prefix())),
    )
    .await?;
    let mut endpoints = BTreeMap::new();
    for kv in resp.kvs() {
        let key = String::from_utf8_lossy(kv.key());
        match parse(key.strip_prefix(&dir), kv.value()) {
            Ok((instance, endpoint)) => {
                endpoints.insert(instance, endpoint);
            }
            Err(why) => tracing::warn!(%key, "skipping malformed service endpoint: {why}"),
        }
    }
    Ok(endpoints)
}

fn parse(instance: Option<&str>, value: &[u8]) -> Result<(String, Endpoint), String> {
    let instance = instance
        .filter(|i| valid_instance(i))
        .ok_or("the key is not <prefix>/services/<service>/<instance>")?;
    let endpoint = serde_json::from_slice(value).map_err(|e| format!("bad JSON: {e}"))?;
    Ok((instance.to_owned(), endpoint))
}

/// Instance names are one key segment: no '/', nothing unprintable.
fn valid_instance(instance: &str) -> bool {
    !instance.is_empty()
        && instance.len() <= 128
        && instance
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn check_service(service: &str) -> Result<(), StoreError> {
    if valid_app_name(service) {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what: format!("service name {service:?}"),
            reason: "must be an app name: 1-63 lowercase letters, digits or inner '-'".into(),
        })
    }
}

fn check(service: &str, instance: &str) -> Result<(), StoreError> {
    check_service(service)?;
    if !valid_instance(instance) {
        return Err(StoreError::Invalid {
            what: format!("instance name {instance:?}"),
            reason: "must be 1-128 letters, digits, '-', '_' or '.'".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse_and_bad_ones_say_why() {
        let json =
            br#"{"host":"h1","address":"127.0.1.1","port":8080,"container":"abc","revision":7}"#;
        let ok = parse(Some("web-1"), json);
        assert_eq!(
            ok.map(|(i, e)| (i, e.port)),
            Ok(("web-1".into(), Some(8080)))
        );
        assert!(parse(Some("a/b"), json).is_err());
        assert!(parse(None, json).is_err());
        assert!(parse(Some("web-1"), b"{}").is_err_and(|e| e.contains("JSON")));
    }

    #[test]
    fn an_endpoint_without_a_port_leaves_the_field_out_and_reads_back() {
        let endpoint = Endpoint {
            host: "h1".into(),
            address: "127.0.1.1".into(),
            port: None,
            container: "abc".into(),
            revision: 7,
        };
        let json = serde_json::to_string(&endpoint).expect("serializes");
        assert_eq!(
            json,
            r#"{"host":"h1","address":"127.0.1.1","container":"abc","revision":7}"#
        );
        assert_eq!(
            parse(Some("1"), json.as_bytes()),
            Ok(("1".into(), endpoint.clone()))
        );
        // A writer that spells the missing port as null is read the same.
        let null =
            br#"{"host":"h1","address":"127.0.1.1","port":null,"container":"abc","revision":7}"#;
        assert_eq!(parse(Some("1"), null), Ok(("1".into(), endpoint)));
    }

    #[test]
    fn names_are_checked_before_etcd() {
        assert!(check("web", "web-1").is_ok());
        assert!(check("Web", "web-1").is_err());
        assert!(check("web", "../x").is_err());
        assert!(check("web", "").is_err());
    }
}
