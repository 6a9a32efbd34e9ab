//! Service endpoints: `<prefix>/services/<service>/<instance>`, each attached to a lease
//! (the leader's), so a dead leader's registrations vanish with its lease.

use super::connect::request;
use super::error::StoreError;
use crate::model::app::valid_app_name;
use etcd_client::{Client, GetOptions, PutOptions};
use serde::{Deserialize, Serialize};

/// One healthy instance of a service, where callers can reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The app the instance belongs to.
    pub service: String,
    /// The instance's name within the app (the `wheelhouse.instance` label).
    pub instance: String,
    pub host: String,
    pub address: String,
    pub port: u16,
    /// The container's id.
    pub container: String,
    /// The app revision the instance runs (the `wheelhouse.revision` label).
    pub revision: i64,
}

/// The stored JSON: service and instance are in the key.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    host: String,
    address: String,
    port: u16,
    container: String,
    revision: i64,
}

/// `<prefix>/services/<service>/`: every endpoint of one service.
pub fn service_dir(prefix: &str, service: &str) -> String {
    format!("{}/services/{service}/", prefix.trim_end_matches('/'))
}

/// Registers `endpoint` under `lease_id`; returns the revision of the write.
pub async fn register(
    client: &mut Client,
    prefix: &str,
    lease_id: i64,
    endpoint: &Endpoint,
) -> Result<i64, StoreError> {
    check(&endpoint.service, &endpoint.instance)?;
    let record = Record {
        host: endpoint.host.clone(),
        address: endpoint.address.clone(),
        port: endpoint.port,
        container: endpoint.container.clone(),
        revision: endpoint.revision,
    };
    let value = serde_json::to_string(&record).map_err(|e| StoreError::Invalid {
        what: format!("endpoint {}/{}", endpoint.service, endpoint.instance),
        reason: e.to_string(),
    })?;
    let key = format!(
        "{}{}",
        service_dir(prefix, &endpoint.service),
        endpoint.instance
    );
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
) -> Result<Vec<Endpoint>, StoreError> {
    check_service(service)?;
    let dir = service_dir(prefix, service);
    let resp = request(
        "get",
        client.get(dir.as_str(), Some(GetOptions::new().with_prefix())),
    )
    .await?;
    let mut endpoints = Vec::with_capacity(resp.kvs().len());
    for kv in resp.kvs() {
        let key = String::from_utf8_lossy(kv.key());
        match parse(service, key.strip_prefix(&dir), kv.value()) {
            Ok(endpoint) => endpoints.push(endpoint),
            Err(why) => tracing::warn!(%key, "skipping malformed service endpoint: {why}"),
        }
    }
    Ok(endpoints)
}

fn parse(service: &str, instance: Option<&str>, value: &[u8]) -> Result<Endpoint, String> {
    let instance = instance
        .filter(|i| valid_instance(i))
        .ok_or("the key is not <prefix>/services/<service>/<instance>")?;
    let record: Record = serde_json::from_slice(value).map_err(|e| format!("bad JSON: {e}"))?;
    Ok(Endpoint {
        service: service.to_owned(),
        instance: instance.to_owned(),
        host: record.host,
        address: record.address,
        port: record.port,
        container: record.container,
        revision: record.revision,
    })
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
        let ok = parse("web", Some("web-1"), json);
        assert_eq!(ok.map(|e| (e.instance, e.port)), Ok(("web-1".into(), 8080)));
        assert!(parse("web", Some("a/b"), json).is_err());
        assert!(parse("web", None, json).is_err());
        assert!(parse("web", Some("web-1"), b"{}").is_err_and(|e| e.contains("JSON")));
    }

    #[test]
    fn names_are_checked_before_etcd() {
        assert!(check("web", "web-1").is_ok());
        assert!(check("Web", "web-1").is_err());
        assert!(check("web", "../x").is_err());
        assert!(check("web", "").is_err());
    }
}
