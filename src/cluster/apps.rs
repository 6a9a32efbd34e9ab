//! Apps as the cluster picture holds them: the specs etcd holds, and what the engines run for each,
//! counted from the managed containers' `wheelhouse.app` labels alone.

use super::{BrokenRecord, ClusterState, Watch};
use crate::cluster::HostState;
use crate::domain::Health;
use crate::domain::app::AppSpec;
use crate::plan::RunState;
use crate::plan::labels::APP;
use std::collections::BTreeMap;

/// A spec as read from etcd, with the mod_revision a guarded write must name.
#[derive(Debug, Clone, PartialEq)]
pub struct AppRecord {
    pub spec: AppSpec,
    pub revision: i64,
}

/// One row of the Apps panel (and of `ctl status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppStatus {
    pub name: String,
    /// The spec's image; for containers with no spec, the image they run.
    pub image: String,
    /// The spec's instance count; None for containers whose spec is gone.
    pub desired: Option<u32>,
    /// The spec's mod_revision, when there is a spec.
    pub revision: Option<i64>,
    /// Instances the engines report running.
    pub running: u32,
    /// Running instances whose Docker health check passes, or that have none.
    pub healthy: u32,
    /// Hosts holding a live (running, restarting or paused) instance, by name.
    pub hosts: Vec<String>,
    /// Why the app's record in etcd cannot be read, when it cannot (the counts then
    /// come from its last good spec, if any).
    pub broken: Option<String>,
    /// Containers labelled with the app that the controller did not start (no instance
    /// or revision label of ours): not counted, not adopted, not stopped.
    pub foreign: Vec<String>,
    /// Why the controller cannot place every instance, in one line, when it cannot.
    pub unplaced: Option<String>,
}

impl AppStatus {
    fn new(name: &str, image: &str, desired: Option<u32>, revision: Option<i64>) -> Self {
        AppStatus {
            name: name.to_owned(),
            image: image.to_owned(),
            desired,
            revision,
            running: 0,
            healthy: 0,
            hosts: Vec::new(),
            broken: None,
            foreign: Vec::new(),
            unplaced: None,
        }
    }
}

/// Every app with a spec or a managed container, by name. Containers on hosts that are not
/// online are left out: what an unreachable engine last said is not what runs now.
pub fn app_statuses(cluster: &ClusterState) -> Vec<AppStatus> {
    let mut apps: BTreeMap<&str, AppStatus> = cluster
        .apps
        .iter()
        .map(|(name, r)| {
            let status = AppStatus::new(
                name,
                &r.spec.image,
                Some(r.spec.instances),
                Some(r.revision),
            );
            (name.as_str(), status)
        })
        .collect();
    for (name, problem) in &cluster.unplaced {
        if let Some(app) = apps.get_mut(name.as_str()) {
            app.unplaced = Some(problem.summary());
        }
    }
    for (name, why) in &cluster.broken_apps {
        let app = apps
            .entry(name.as_str())
            .or_insert_with(|| AppStatus::new(name, "", None, None));
        app.broken = Some(why.clone());
    }
    for (name, why) in &cluster.broken_rollouts {
        let app = apps
            .entry(name.as_str())
            .or_insert_with(|| AppStatus::new(name, "", None, None));
        app.broken.get_or_insert_with(|| format!("rollout ({why})"));
    }
    // Hosts are visited in name order, so each app's host list comes out sorted.
    for host in cluster
        .hosts
        .iter()
        .filter(|h| h.state == HostState::Online)
    {
        for c in &host.containers {
            let Some(name) = c.labels.get(APP) else {
                continue;
            };
            let app = apps
                .entry(name.as_str())
                .or_insert_with(|| AppStatus::new(name, &c.image, None, None));
            if crate::plan::labels::is_foreign(c) {
                app.foreign.push(format!("{}/{}", host.name(), c.name));
                continue;
            }
            if c.is_running() {
                app.running += 1;
                if matches!(c.health, Health::Healthy | Health::None) {
                    app.healthy += 1;
                }
            }
            let live = RunState::from_engine(&c.state).occupies();
            if live && app.hosts.last().map(String::as_str) != Some(host.name()) {
                app.hosts.push(host.name().to_owned());
            }
        }
    }
    apps.into_values().collect()
}

/// Every app record read at one revision.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AppListing {
    /// Every good spec with its mod_revision, by name.
    pub apps: Vec<(AppSpec, i64)>,
    /// Records that cannot be read or that `ctl apply` would refuse.
    pub broken: Vec<BrokenRecord>,
    pub revision: i64,
}

impl AppListing {
    /// Replaces `known` (what a reader holds per app) with this listing: each good spec
    /// as `good` makes it, and for each broken record the value `known` had (a broken
    /// record is not a deletion). `broken` becomes the broken records' reasons, by app.
    pub fn replace<T>(
        self,
        known: &mut BTreeMap<String, T>,
        broken: &mut BTreeMap<String, String>,
        good: impl Fn(AppSpec, i64) -> T,
    ) {
        let mut next: BTreeMap<String, T> = (self.apps.into_iter())
            .map(|(spec, revision)| (spec.name.clone(), good(spec, revision)))
            .collect();
        broken.clear();
        for record in self.broken {
            if let Some(last) = known.remove(&record.name) {
                next.insert(record.name.clone(), last);
            }
            broken.insert(record.name, record.reason);
        }
        *known = next;
    }
}

/// The app watcher's news (`<prefix>/apps/`).
pub type AppEvent = Watch<AppListing, AppChange>;

#[derive(Debug, Clone, PartialEq)]
pub enum AppChange {
    /// Boxed: a spec is large beside the other events.
    Put {
        app: Box<AppSpec>,
        mod_revision: i64,
    },
    Deleted {
        name: String,
        revision: i64,
    },
    /// The record was overwritten with something that cannot be read or that `ctl apply`
    /// would refuse. Not a deletion: the app keeps its last good spec (or, with none,
    /// is left alone), and the record is shown as broken.
    Broken {
        record: BrokenRecord,
        mod_revision: i64,
    },
}
