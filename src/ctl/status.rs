//! What runs where, for `ctl status`: app specs from etcd, containers from every engine,
//! as the process's feed folds them into its `ClusterState`, then counted by `app_statuses`.

use super::output::table;
use crate::cluster::{
    AppStatus, ClusterEvent, ClusterState, DataEvent, EtcdEvent, EtcdState, HostState, Watch,
};
use crate::config::Config;
use crate::domain::sanitize::clean;
use crate::feed::{Feed, Stats};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How long engines get to answer; a host silent after this shows as not heard from.
const ENGINE_WAIT: Duration = Duration::from_secs(8);
/// The record kinds status and trace show (hosts, apps, rollouts, placement, services),
/// each read whole once.
const RECORD_KINDS: usize = 5;

/// The cluster as the process's feed (without stats) sees it once every engine has listed
/// its containers or failed and etcd's records are read, or after `ENGINE_WAIT`; with why
/// etcd could not be read, if it could not.
pub async fn gather(config: &Config) -> (ClusterState, Option<String>) {
    let feed = Feed::start(config, Stats::Without);
    let Some(subscription) = feed.subscribe().await else {
        return (
            ClusterState::default(),
            Some("the cluster feed stopped".into()),
        );
    };
    let mut cluster = (*subscription.cluster).clone();
    let mut events = subscription.events;
    // Engines found down before this subscribed send no more news until they answer.
    let mut heard: HashSet<String> = (cluster.hosts.iter())
        .filter(|h| matches!(h.state, HostState::Offline { .. }))
        .map(|h| h.name().to_owned())
        .collect();
    let mut unread = if config.etcd.is_some() {
        RECORD_KINDS
    } else {
        0
    };
    // etcd may have been found down before this subscribed: then no event will say so.
    let mut etcd_error = unreachable(&cluster);
    if etcd_error.is_some() {
        unread = 0;
    }
    let deadline = tokio::time::sleep(ENGINE_WAIT);
    tokio::pin!(deadline);
    while unread > 0 || (cluster.hosts.iter()).any(|h| !heard.contains(h.name())) {
        let event = tokio::select! {
            event = events.recv() => event,
            () = &mut deadline => None,
        };
        let Some(event) = event else { break };
        match &event {
            ClusterEvent::Engine(
                DataEvent::Containers { host, .. } | DataEvent::Down { host, .. },
            ) => {
                heard.insert(host.clone());
            }
            ClusterEvent::Hosts(Watch::Snapshot(_))
            | ClusterEvent::Apps(Watch::Snapshot(_))
            | ClusterEvent::Rollouts(Watch::Snapshot(_))
            | ClusterEvent::Placement(Watch::Snapshot(_))
            | ClusterEvent::Services(Watch::Snapshot(_)) => {
                unread = unread.saturating_sub(1);
            }
            // The records cannot be read: the engines still say what runs.
            ClusterEvent::Etcd(EtcdEvent::Unreachable { error }) => {
                etcd_error = Some(error.clone());
                unread = 0;
            }
            _ => {}
        }
        cluster.apply(event, Instant::now());
    }
    // Records that never came are never "no apps": say why they are missing.
    if unread > 0 && etcd_error.is_none() {
        etcd_error = unreachable(&cluster).or_else(|| {
            (!matches!(cluster.etcd, EtcdState::Connected { .. }))
                .then(|| format!("etcd did not answer within {} s", ENGINE_WAIT.as_secs()))
        });
    }
    (cluster, etcd_error)
}

/// Why etcd cannot be read, if the picture says it cannot.
fn unreachable(cluster: &ClusterState) -> Option<String> {
    match &cluster.etcd {
        EtcdState::Unreachable { error, .. } => Some(error.clone()),
        _ => None,
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
