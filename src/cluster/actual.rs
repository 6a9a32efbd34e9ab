//! The planner's view of the cluster picture (`plan::Actual`): hosts, how far the planner
//! trusts them, and their managed instances.

use super::{ClusterState, HostState};
use crate::plan::{Actual, HostView, Instance, Liveness, PortRange};
use std::collections::{BTreeMap, BTreeSet};

impl ClusterState {
    /// The planner's view of the picture. Hosts in `dead` that are not online are dead; other
    /// hosts not online are only unreachable. A dead host's last known containers stay, so
    /// their instance numbers are not reused while they may still exist.
    pub fn actual(&self, dead: &BTreeSet<String>) -> Actual {
        let hosts = self
            .hosts
            .iter()
            .map(|h| {
                let liveness = match h.state {
                    HostState::Online => Liveness::Online,
                    _ if dead.contains(h.name()) => Liveness::Dead,
                    _ => Liveness::Unreachable,
                };
                let (ncpu, mem_total) = h.info.as_ref().map_or((0, 0), |i| (i.ncpu, i.mem_total));
                HostView {
                    name: h.spec.name.clone(),
                    zone: h.spec.zone.clone(),
                    labels: h.spec.labels.clone(),
                    address: h.spec.address.clone(),
                    liveness,
                    ncpu,
                    mem_total,
                    ports: PortRange::for_host(&h.spec.labels),
                    instances: h
                        .containers
                        .iter()
                        .filter_map(|c| Instance::from_container(h.name(), c))
                        .collect(),
                }
            })
            .collect();
        Actual { hosts }
    }

    /// The managed containers as per-app instance lists (every host, whatever its state).
    pub fn instances(&self) -> BTreeMap<String, Vec<Instance>> {
        let actual = self.actual(&BTreeSet::new());
        actual
            .by_app()
            .into_iter()
            .map(|(app, list)| (app.to_owned(), list.into_iter().cloned().collect()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Health;
    use crate::domain::app::AppSpec;
    use crate::plan::labels;

    #[test]
    fn instances_from_the_picture() {
        use crate::cluster::{Host, HostSource, HostState};
        use crate::domain::{Container, HostSpec};
        let spec = AppSpec::new("web", "wheelhouse/demo:1");
        let rev = labels::revision(&spec);
        let container = |name: &str, labels| Container {
            id: format!("id-{name}"),
            name: name.to_owned(),
            image: spec.image.clone(),
            state: "running".into(),
            status: "Up 1 second".into(),
            health: Health::None,
            labels,
            cpu_percent: None,
            mem_bytes: None,
            ports: Vec::new(),
            restarts: None,
            last_check: None,
        };
        let hs = HostSpec {
            name: "lab-1".into(),
            engine: "unix:///x".into(),
            address: None,
            zone: None,
            labels: BTreeMap::new(),
            tls: None,
        };
        let mut h = Host::new(hs, HostSource::Config);
        h.state = HostState::Online;
        let ports = [("http".to_owned(), 20000)];
        h.containers = vec![
            container("web.2.x", labels::labels(&spec, 2, rev, &ports)),
            container("other", BTreeMap::new()),
        ];
        let cluster = ClusterState::with_hosts(vec![h]);
        let apps = cluster.instances();
        assert_eq!(apps.len(), 1);
        let web = &apps["web"];
        assert_eq!(web.len(), 1);
        assert_eq!((web[0].id.instance, web[0].host.as_str()), (2, "lab-1"));
        let actual = cluster.actual(&BTreeSet::from(["lab-1".to_owned()]));
        assert_eq!(
            actual.hosts[0].liveness,
            Liveness::Online,
            "online wins over a stale mark"
        );
    }
}
