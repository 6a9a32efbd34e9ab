//! Service endpoints: `<prefix>/services/<service>/<instance>`, each attached to a lease
//! (the leader's), so a dead leader's registrations vanish with its lease.

use super::connect::request;
use super::error::StoreError;
use super::watch::{Feed, spawn_watcher};
use crate::cluster::{Registry, ServiceChange, ServiceEvent};
use crate::domain::app::valid_app_name;
use crate::plan::Endpoint;
use etcd_client::{Client, Event, EventType, GetOptions, PutOptions};
use std::collections::BTreeMap;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

/// `<prefix>/services/`: the whole registry.
pub fn services_dir(prefix: &str) -> String {
    format!("{}/services/", prefix.trim_end_matches('/'))
}

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

/// Splits a key under `<prefix>/services/` into (app, instance); None unless both are
/// valid names.
fn split_key<'k>(dir: &str, key: &'k [u8]) -> Option<(&'k str, &'k str)> {
    let rest = std::str::from_utf8(key).ok()?.strip_prefix(dir)?;
    let (app, instance) = rest.split_once('/')?;
    (valid_app_name(app) && valid_instance(instance)).then_some((app, instance))
}

/// The whole registry and the revision it was read at. Malformed records are skipped
/// with a warning naming the key.
async fn list_registry(client: &mut Client, prefix: &str) -> Result<(Registry, i64), StoreError> {
    let dir = services_dir(prefix);
    let options = GetOptions::new().with_prefix();
    let resp = request("get", client.get(dir.as_str(), Some(options))).await?;
    let revision = resp.header().map_or(0, |h| h.revision());
    let mut registry = Registry::new();
    for kv in resp.kvs() {
        match read_record(&dir, kv.key(), kv.value()) {
            Ok((app, instance, endpoint)) => {
                registry
                    .entry(app.to_owned())
                    .or_default()
                    .insert(instance.to_owned(), endpoint);
            }
            Err(why) => tracing::warn!(
                key = %String::from_utf8_lossy(kv.key()),
                "skipping malformed service endpoint: {why}"
            ),
        }
    }
    Ok((registry, revision))
}

fn read_record<'k>(
    dir: &str,
    key: &'k [u8],
    value: &[u8],
) -> Result<(&'k str, &'k str, Endpoint), String> {
    let (app, instance) =
        split_key(dir, key).ok_or("the key is not <prefix>/services/<service>/<instance>")?;
    let endpoint = serde_json::from_slice(value).map_err(|e| format!("bad JSON: {e}"))?;
    Ok((app, instance, endpoint))
}

/// Follows `<prefix>/services/` (the host watcher's loop); runs until `tx`'s receiver is
/// dropped.
pub fn spawn_service_watcher(
    link: impl Into<super::link::EtcdLink>,
    prefix: String,
    tx: Sender<ServiceEvent>,
) -> JoinHandle<()> {
    let feed = ServiceFeed {
        dir: services_dir(&prefix),
        prefix,
    };
    spawn_watcher(link, feed, tx)
}

struct ServiceFeed {
    prefix: String,
    dir: String,
}

impl Feed for ServiceFeed {
    type Snapshot = Registry;
    type Change = ServiceChange;
    const WHAT: &'static str = "services";

    fn dir(&self) -> &str {
        &self.dir
    }

    async fn list(&self, client: &mut Client) -> Result<(Registry, i64), StoreError> {
        list_registry(client, &self.prefix).await
    }

    fn change(&self, event: &Event, _revision: i64) -> Option<ServiceChange> {
        let kv = event.kv()?;
        match event.event_type() {
            EventType::Delete => {
                let (app, instance) = split_key(&self.dir, kv.key())?;
                Some(ServiceChange::Deregistered {
                    app: app.to_owned(),
                    instance: instance.to_owned(),
                })
            }
            EventType::Put => match read_record(&self.dir, kv.key(), kv.value()) {
                Ok((app, instance, endpoint)) => Some(ServiceChange::Registered {
                    app: app.to_owned(),
                    instance: instance.to_owned(),
                    endpoint,
                }),
                Err(why) => {
                    let key = String::from_utf8_lossy(kv.key());
                    tracing::warn!(%key, "ignoring a malformed service endpoint: {why}");
                    None
                }
            },
        }
    }
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
    fn registry_keys_name_an_app_and_an_instance() {
        let dir = services_dir("/wh/");
        assert_eq!(split_key(&dir, b"/wh/services/web/1"), Some(("web", "1")));
        assert_eq!(split_key(&dir, b"/wh/services/web/"), None);
        assert_eq!(split_key(&dir, b"/wh/services/Web/1"), None);
        assert_eq!(split_key(&dir, b"/wh/services/web/1/2"), None);
        assert_eq!(split_key(&dir, b"/wh/hosts/web/1"), None);
        let json = br#"{"host":"h1","address":"a","container":"c","revision":1}"#;
        assert!(read_record(&dir, b"/wh/services/web/1", json).is_ok());
        assert!(read_record(&dir, b"/wh/services/web/1", b"[]").is_err_and(|e| e.contains("JSON")));
    }

    #[test]
    fn names_are_checked_before_etcd() {
        assert!(check("web", "web-1").is_ok());
        assert!(check("Web", "web-1").is_err());
        assert!(check("web", "../x").is_err());
        assert!(check("web", "").is_err());
    }
}
