//! What runs where, for `ctl status`: app specs from etcd, containers from every engine,
//! folded into a `ClusterState` as any screen's is, then counted by `app_statuses`.

use super::output::table;
use crate::cluster::{
    AppRecord, AppStatus, ClusterEvent, ClusterState, DataEvent, Host, HostSource, HostState,
};
use crate::config::Config;
use crate::docker::Supervisor;
use crate::domain::HostSpec;
use crate::domain::sanitize::clean;
use crate::store::{self, StoreError};
use etcd_client::Client;
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long engines get to answer; a host silent after this shows as not heard from.
const ENGINE_WAIT: Duration = Duration::from_secs(8);

/// The cluster as seen once: specs (when etcd answered) and every engine's containers.
pub async fn gather(
    config: &Config,
    etcd: Option<&mut Client>,
) -> Result<ClusterState, StoreError> {
    let mut hosts: Vec<HostSpec> = config.hosts.clone();
    let mut apps = Vec::new();
    let (mut broken_apps, mut broken_hosts) = (Vec::new(), Vec::new());
    let mut broken_rollouts = Vec::new();
    let mut placement = BTreeMap::new();
    if let Some(client) = etcd {
        let listing = store::list_apps(client, &config.prefix, config.max_instances).await?;
        apps = listing.apps;
        broken_apps = listing.broken;
        placement = store::list_placement(client, &config.prefix).await?;
        let (records, broken, _) = store::list_host_records(client, &config.prefix).await?;
        broken_hosts = broken;
        broken_rollouts = store::list_broken_rollouts(client, &config.prefix).await?;
        for record in records {
            hosts.retain(|h| h.name != record.name);
            hosts.push(record);
        }
    }
    let hosts = hosts
        .into_iter()
        .map(|spec| Host::new(spec, HostSource::Config))
        .collect();
    let mut cluster = ClusterState::with_hosts(hosts);
    cluster.apps = apps
        .into_iter()
        .map(|(spec, revision)| (spec.name.clone(), AppRecord { spec, revision }))
        .collect();
    cluster.broken_apps = (broken_apps.into_iter())
        .map(|b| (b.name, b.reason))
        .collect();
    cluster.unplaced = placement;
    cluster.broken_hosts = (broken_hosts.into_iter())
        .map(|b| (b.name, b.reason))
        .collect();
    cluster.broken_rollouts = (broken_rollouts.into_iter())
        .map(|b| (b.name, b.reason))
        .collect();
    listen_to_engines(&mut cluster, config.refresh).await;
    Ok(cluster)
}

/// Runs a supervisor per host until each has listed its containers or failed once.
async fn listen_to_engines(cluster: &mut ClusterState, refresh: Duration) {
    let (tx, mut rx) = mpsc::channel::<DataEvent>(1024);
    let _supervisors: Vec<Supervisor> = cluster
        .hosts
        .iter()
        .map(|h| Supervisor::spawn_without_stats(h.spec.clone(), refresh, tx.clone()))
        .collect();
    drop(tx);
    let mut waiting: HashSet<String> = cluster.hosts.iter().map(|h| h.name().to_owned()).collect();
    let deadline = tokio::time::sleep(ENGINE_WAIT);
    tokio::pin!(deadline);
    while !waiting.is_empty() {
        let event = tokio::select! {
            event = rx.recv() => event,
            () = &mut deadline => None,
        };
        let Some(event) = event else { break };
        match &event {
            DataEvent::Containers { host, .. } | DataEvent::Down { host, .. } => {
                waiting.remove(host);
            }
            DataEvent::Up { .. } | DataEvent::Stats { .. } => {}
        }
        cluster.apply(ClusterEvent::Engine(event), Instant::now());
    }
}

/// The apps table (or "no apps"), then the hosts' lines.
pub fn text(apps: &[AppStatus], cluster: &ClusterState) -> String {
    let rows = apps
        .iter()
        .map(|s| {
            let hosts = if s.hosts.is_empty() {
                "-".to_owned()
            } else {
                s.hosts.join(",")
            };
            vec![
                s.name.clone(),
                s.image.clone(),
                s.desired.map_or("-".to_owned(), |d| d.to_string()),
                s.running.to_string(),
                s.healthy.to_string(),
                hosts,
            ]
        })
        .collect::<Vec<_>>();
    let mut out = if rows.is_empty() {
        "no apps\n".to_owned()
    } else {
        let header = ["APP", "IMAGE", "DESIRED", "RUNNING", "HEALTHY", "HOSTS"];
        table(&header, rows)
    };
    // Each line cleaned whole, so cluster text cannot break it in two.
    for line in host_lines(cluster)
        .into_iter()
        .chain(problem_lines(apps, cluster))
    {
        out.push_str(&clean(&line));
        out.push('\n');
    }
    out
}

/// `ctl status -o json` (schema in README).
pub fn json(
    apps: &[AppStatus],
    cluster: &ClusterState,
    etcd_error: Option<&str>,
) -> serde_json::Value {
    let apps_foreign: Vec<&AppStatus> = apps.iter().filter(|s| !s.foreign.is_empty()).collect();
    let apps: Vec<serde_json::Value> = apps
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name,
                "image": s.image,
                "desired": s.desired,
                "revision": s.revision,
                "running": s.running,
                "healthy": s.healthy,
                "hosts": s.hosts,
            })
        })
        .collect();
    let hosts: Vec<serde_json::Value> = cluster
        .hosts
        .iter()
        .map(|host| {
            let (state, error) = match &host.state {
                HostState::Online => ("online", None),
                HostState::Offline { error, .. } => ("offline", Some(error.clone())),
                HostState::Unknown => ("unknown", None),
            };
            serde_json::json!({
                "name": host.name(),
                "engine": host.spec.engine,
                "state": state,
                "error": error,
            })
        })
        .collect();
    let unplaced: Vec<serde_json::Value> = (cluster.unplaced.values())
        .map(|u| serde_json::json!({ "app": u.app, "summary": u.summary(), "detail": u }))
        .collect();
    let foreign: serde_json::Map<String, serde_json::Value> = (apps_foreign.iter())
        .map(|s| (s.name.clone(), serde_json::json!(s.foreign)))
        .collect();
    serde_json::json!({
        "apps": apps,
        "hosts": hosts,
        "online": cluster.online_count(),
        "etcd_error": etcd_error,
        "broken_apps": cluster.broken_apps,
        "broken_hosts": cluster.broken_hosts,
        "broken_rollouts": cluster.broken_rollouts,
        "unplaced": unplaced,
        "foreign": foreign,
    })
}

/// One line per record in etcd that cannot be read ("app s4: broken record (why)"),
/// then, per app the controller cannot place in full, why, host by host; then the
/// containers labelled with an app that the controller did not start (`apps` counts them).
pub fn problem_lines(apps: &[AppStatus], cluster: &ClusterState) -> Vec<String> {
    let foreign = (apps.iter()).filter(|s| !s.foreign.is_empty()).map(|s| {
        format!(
            "app {}: {} foreign container(s) not started by the controller, not counted: {}",
            s.name,
            s.foreign.len(),
            s.foreign.join(", ")
        )
    });
    let broken_apps = (cluster.broken_apps.iter())
        .map(|(name, why)| format!("app {name}: broken record ({why})"));
    let broken_hosts = (cluster.broken_hosts.iter())
        .map(|(name, why)| format!("host {name}: broken record ({why}); kept as it was"));
    let rollouts = (cluster.broken_rollouts.iter()).map(|(app, why)| {
        format!("app {app}: broken rollout record ({why}); `wheelhouse ctl rollout-status {app} --reset` removes it")
    });
    let unplaced = (cluster.unplaced.values()).map(|u| format!("app {}: {}", u.app, u.summary()));
    (broken_apps.chain(broken_hosts))
        .chain(rollouts)
        .chain(unplaced)
        .chain(foreign)
        .collect()
}

/// "3/3 hosts online", then one line per host that is not.
fn host_lines(cluster: &ClusterState) -> Vec<String> {
    let mut lines = vec![format!(
        "hosts: {}/{} online",
        cluster.online_count(),
        cluster.hosts.len()
    )];
    for host in &cluster.hosts {
        let name = host.name();
        match &host.state {
            HostState::Online => {}
            HostState::Offline { error, .. } => lines.push(format!("  {name}: offline ({error})")),
            HostState::Unknown => lines.push(format!("  {name}: no answer yet")),
        }
    }
    lines
}
