//! One picture of the cluster per process. The feed owns the engine supervisors and the
//! etcd watchers (on one etcd client), applies what they report to one `ClusterState`,
//! and hands it on to any number of subscribers: screens, the controller, `ctl status`.
//! N screens never mean N times the engine polling or N etcd watches.

mod agents;
mod etcd;

use crate::cluster::{
    Change, ClusterEvent, ClusterState, DataEvent, EtcdState, Host, HostSource, Watch,
};
use crate::config::Config;
use crate::docker::{Detail, Pace, Supervisor};
use crate::domain::HostSpec;
use crate::store::{self, EtcdLink};
use etcd::EtcdHealth;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// What a subscriber gets: the picture when it joined, then every event applied after it,
/// in order, so a copy kept by applying them stays equal to the feed's.
pub struct Subscription {
    pub cluster: Arc<ClusterState>,
    pub events: mpsc::Receiver<ClusterEvent>,
}

/// Running supervisors and watchers; dropping the feed stops them all.
pub struct Feed {
    requests: mpsc::Sender<Request>,
    task: JoinHandle<()>,
    /// The process's one etcd client, for whatever else the process writes or reads.
    etcd: Option<EtcdLink>,
}

/// What the feed's task is asked, answered in turn with the events, so a subscriber
/// neither misses nor repeats one.
enum Request {
    Events(oneshot::Sender<Subscription>),
    Snapshots(oneshot::Sender<watch::Receiver<Arc<ClusterState>>>),
}

/// What the process needs from the engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stats {
    /// Per-container CPU and memory (screens).
    With,
    /// Container lists only (the controller, `ctl status`): a stats stream per running
    /// container is most of a supervisor's work.
    Without,
}

/// How many events a subscriber may be behind before the feed waits for it.
const QUEUE: usize = 4096;
/// How many queued engine events at most make one published picture.
const BATCH: usize = 512;
/// Pictures are published at most this often: at a thousand hosts news comes a hundred
/// times a second, and each picture costs a pointer per host to copy and to drop. Not
/// longer: a key acts on the screen's picture, which should lag etcd little (the cockpit
/// limits its frames itself).
const PUBLISH_EVERY: Duration = Duration::from_millis(100);

impl Feed {
    /// Starts a supervisor per configured host (and per host etcd adds) and, with etcd,
    /// the host, app, rollout, placement, restart and service watchers, on the current tokio runtime.
    pub fn start(config: &Config, stats: Stats) -> Feed {
        let (requests, requests_rx) = mpsc::channel(8);
        let (data_tx, data) = mpsc::channel(QUEUE);
        let hosts = (config.hosts.iter())
            .map(|spec| Host::new(spec.clone(), HostSource::Config))
            .collect();
        let mut cluster = ClusterState::with_hosts(hosts);
        let etcd = config.etcd.clone().map(EtcdLink::new);
        // Only screens need per-container figures, so only they follow agents.
        let follow_agents = stats == Stats::With;
        let watchers = (etcd.clone()).map(|link| Watchers::start(link, config, follow_agents));
        if watchers.is_none() {
            cluster.etcd = EtcdState::Disabled;
        }
        let snapshots = watch::Sender::new(Arc::new(cluster.clone()));
        let mut hub = Hub {
            cluster,
            pace: Pace::new(config.refresh),
            stats,
            supervisors: HashMap::new(),
            data_tx,
            subscribers: Vec::new(),
            etcd: EtcdHealth::new(WATCHERS + usize::from(follow_agents)),
            pollers: HashMap::new(),
            // Without etcd there are no agents to wait for.
            agents_listed: !follow_agents || watchers.is_none(),
            clients: Default::default(),
            snapshots,
            published: Instant::now() - PUBLISH_EVERY,
            unpublished: false,
        };
        for spec in &config.hosts {
            hub.supervise(spec.clone());
        }
        let task = tokio::spawn(hub.run(data, watchers, requests_rx));
        Feed {
            requests,
            task,
            etcd,
        }
    }

    /// The etcd client the feed's watchers ride on (None without etcd): commands, audits
    /// and the controller's campaign share it, so a process holds one connection.
    pub fn etcd(&self) -> Option<EtcdLink> {
        self.etcd.clone()
    }

    /// Joins the feed: the picture as it is now, and every event from then on. None if
    /// the feed has stopped.
    pub async fn subscribe(&self) -> Option<Subscription> {
        let (tx, rx) = oneshot::channel();
        self.requests.send(Request::Events(tx)).await.ok()?;
        rx.await.ok()
    }

    /// The picture now and after each event from then on, for readers that need no
    /// events. None if the feed has stopped.
    pub async fn snapshots(&self) -> Option<watch::Receiver<Arc<ClusterState>>> {
        let (tx, rx) = oneshot::channel();
        self.requests.send(Request::Snapshots(tx)).await.ok()?;
        rx.await.ok()
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How many watchers report on etcd's health (hosts, apps, rollouts, placement, restarts,
/// services), besides the agents' watcher of feeds that follow agents.
const WATCHERS: usize = 6;

/// The etcd watchers' channels; their tasks stop when these are dropped.
struct Watchers {
    hosts: mpsc::Receiver<crate::cluster::HostEvent>,
    apps: mpsc::Receiver<crate::cluster::AppEvent>,
    rollouts: mpsc::Receiver<crate::cluster::RolloutEvent>,
    placement: mpsc::Receiver<crate::cluster::PlacementEvent>,
    restarts: mpsc::Receiver<crate::cluster::RestartEvent>,
    services: mpsc::Receiver<crate::cluster::ServiceEvent>,
    agents: Option<mpsc::Receiver<crate::cluster::AgentEvent>>,
    _tasks: Vec<AbortOnDrop>,
}

impl Watchers {
    fn start(link: EtcdLink, config: &Config, follow_agents: bool) -> Watchers {
        let prefix = || config.prefix.clone();
        let (hosts_tx, hosts) = mpsc::channel(256);
        let (apps_tx, apps) = mpsc::channel(256);
        let (rollouts_tx, rollouts) = mpsc::channel(256);
        let (placement_tx, placement) = mpsc::channel(64);
        let (restarts_tx, restarts) = mpsc::channel(64);
        let (services_tx, services) = mpsc::channel(256);
        let mut tasks = vec![
            store::spawn_host_watcher(link.clone(), prefix(), hosts_tx),
            store::spawn_app_watcher(link.clone(), prefix(), config.max_instances, apps_tx),
            store::spawn_rollout_watcher(link.clone(), prefix(), rollouts_tx),
            store::spawn_placement_watcher(link.clone(), prefix(), placement_tx),
            store::spawn_restart_watcher(link.clone(), prefix(), restarts_tx),
            store::spawn_service_watcher(link.clone(), prefix(), services_tx),
        ];
        let agents = follow_agents.then(|| {
            let (agents_tx, agents) = mpsc::channel(64);
            tasks.push(store::spawn_agent_watcher(link, prefix(), agents_tx));
            agents
        });
        Watchers {
            hosts,
            apps,
            rollouts,
            placement,
            restarts,
            services,
            agents,
            _tasks: tasks.into_iter().map(AbortOnDrop).collect(),
        }
    }

    /// The next watcher event, as (which watcher, event); never resolves without etcd.
    async fn next(watchers: &mut Option<Watchers>) -> (usize, ClusterEvent) {
        let Some(w) = watchers else {
            return std::future::pending().await;
        };
        tokio::select! {
            Some(e) = w.hosts.recv() => (0, ClusterEvent::Hosts(e)),
            Some(e) = w.apps.recv() => (1, ClusterEvent::Apps(e)),
            Some(e) = w.rollouts.recv() => (2, ClusterEvent::Rollouts(e)),
            Some(e) = w.placement.recv() => (3, ClusterEvent::Placement(e)),
            Some(e) = w.restarts.recv() => (4, ClusterEvent::Restarts(e)),
            Some(e) = w.services.recv() => (5, ClusterEvent::Services(e)),
            Some(e) = recv(&mut w.agents) => (6, ClusterEvent::Agents(e)),
            else => std::future::pending().await,
        }
    }
}

/// The next message of an optional channel; never resolves without one.
async fn recv<T>(rx: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The feed's task: the one owner of the picture and of the supervisors.
struct Hub {
    cluster: ClusterState,
    /// How often hosts are re-read: the refresh, stretched for a large fleet.
    pace: Pace,
    stats: Stats,
    /// Each host's supervisor, and whether it streams per-container stats (not while the
    /// host's agent answers).
    supervisors: HashMap<String, (Supervisor, bool)>,
    /// The agents read, by host.
    pollers: HashMap<String, AbortOnDrop>,
    /// Whether the agents' records have been read (or cannot be): until then no host gets
    /// stats streams, which a host with an agent would open only to close them again (at
    /// 1,000 hosts, 10,000 streams opened at start).
    agents_listed: bool,
    /// Their clients: one plain, one per distinct set of hosts' TLS files.
    clients: crate::agent::client::Clients,
    data_tx: mpsc::Sender<DataEvent>,
    subscribers: Vec<mpsc::Sender<ClusterEvent>>,
    etcd: EtcdHealth,
    /// Published only while someone reads them, once per batch of events and at most
    /// every `PUBLISH_EVERY`.
    snapshots: watch::Sender<Arc<ClusterState>>,
    /// When the last picture went out, and whether news has come since.
    published: Instant,
    unpublished: bool,
}

impl Hub {
    async fn run(
        mut self,
        mut data: mpsc::Receiver<DataEvent>,
        mut watchers: Option<Watchers>,
        mut requests: mpsc::Receiver<Request>,
    ) {
        loop {
            let publish_at = tokio::time::Instant::from_std(self.published + PUBLISH_EVERY);
            let event = tokio::select! {
                () = tokio::time::sleep_until(publish_at), if self.unpublished => {
                    self.publish();
                    continue;
                }
                Some(event) = data.recv() => ClusterEvent::Engine(event),
                (which, event) = Watchers::next(&mut watchers) => match self.health(which, event) {
                    Some(event) => event,
                    None => continue,
                },
                request = requests.recv() => match request {
                    Some(request) => {
                        self.answer(request);
                        continue;
                    }
                    // The feed was dropped.
                    None => return,
                },
            };
            self.dispatch(event).await;
            // A burst of engine news (a relist, a round of stats) is one picture.
            for _ in 0..BATCH {
                match data.try_recv() {
                    Ok(event) => self.dispatch(ClusterEvent::Engine(event)).await,
                    Err(_) => break,
                }
            }
            if self.published.elapsed() >= PUBLISH_EVERY {
                self.publish();
            } else {
                self.unpublished = true;
            }
        }
    }

    /// Hands readers of snapshots the picture as it is now (a pointer per host: the
    /// hosts themselves are shared until `apply` changes one).
    fn publish(&mut self) {
        if self.snapshots.receiver_count() > 0 {
            self.snapshots.send_replace(Arc::new(self.cluster.clone()));
        }
        (self.published, self.unpublished) = (Instant::now(), false);
    }

    /// A watcher's Connected or Unreachable goes into the one etcd indicator (passed on
    /// only when that changes); its records pass as they are.
    fn health(&mut self, which: usize, event: ClusterEvent) -> Option<ClusterEvent> {
        let news = match &event {
            ClusterEvent::Hosts(w) => connection(w),
            ClusterEvent::Apps(w) => connection(w),
            ClusterEvent::Rollouts(w) => connection(w),
            ClusterEvent::Placement(w) => connection(w),
            ClusterEvent::Restarts(w) => connection(w),
            ClusterEvent::Services(w) => connection(w),
            ClusterEvent::Agents(w) => connection(w),
            ClusterEvent::Engine(_) | ClusterEvent::Etcd(_) => None,
        };
        match news {
            Some(news) => self.etcd.report(which, news).map(ClusterEvent::Etcd),
            None => Some(event),
        }
    }

    fn answer(&mut self, request: Request) {
        let now = Arc::new(self.cluster.clone());
        match request {
            Request::Events(reply) => {
                let (tx, events) = mpsc::channel(QUEUE);
                let subscription = Subscription {
                    cluster: now,
                    events,
                };
                if reply.send(subscription).is_ok() {
                    self.subscribers.push(tx);
                }
            }
            Request::Snapshots(reply) => {
                self.snapshots.send_replace(now);
                let _ = reply.send(self.snapshots.subscribe());
            }
        }
    }

    /// Applies the event, acts on what it changed, then hands it to every subscriber.
    async fn dispatch(&mut self, event: ClusterEvent) {
        // Whether the host's agent answered (its figures stand) or not (the engine's do).
        let agent_answered = match &event {
            ClusterEvent::Engine(DataEvent::Agent { host, .. }) => Some((host.clone(), true)),
            ClusterEvent::Engine(DataEvent::AgentDown { host, .. }) => Some((host.clone(), false)),
            _ => None,
        };
        let agents_listed = !self.agents_listed
            && matches!(
                event,
                ClusterEvent::Agents(Watch::Snapshot(_) | Watch::Unreachable { .. })
            );
        for change in self.cluster.apply(event.clone(), Instant::now()) {
            match change {
                Change::Supervise(spec) => self.supervise(spec),
                Change::Unsupervise(name) => {
                    self.supervisors.remove(&name);
                    self.pollers.remove(&name);
                    self.pace.set_hosts(self.supervisors.len());
                }
                Change::EtcdAnswered => {}
                Change::Agent { host, address } => self.follow_agent(host, address),
            }
        }
        if let Some((host, answered)) = agent_answered {
            self.stream_stats(&host, !answered);
        }
        if agents_listed {
            // Hosts without an agent read their engine's stats from now on.
            self.agents_listed = true;
            let alone: Vec<String> = (self.cluster.hosts.iter())
                .map(|h| h.name().to_owned())
                .filter(|h| !self.cluster.agents.contains_key(h))
                .collect();
            for host in alone {
                self.stream_stats(&host, true);
            }
        }
        // A subscriber that is gone is forgotten; a slow one holds the feed back, as a
        // slow screen held back its own supervisors before.
        let mut i = 0;
        while let Some(subscriber) = self.subscribers.get(i) {
            if subscriber.send(event.clone()).await.is_ok() {
                i += 1;
            } else {
                self.subscribers.swap_remove(i);
            }
        }
    }

    /// Starts (or restarts with a new spec) a host's supervisor; the old one stops on drop.
    /// A host whose agent answers gets no stats streams.
    fn supervise(&mut self, spec: HostSpec) {
        let answering = matches!(
            self.cluster.host(&spec.name).map(|h| &h.metrics),
            Some(crate::cluster::Metrics::Agent { .. })
        );
        let name = spec.name.clone();
        let stats = self.stats == Stats::With && !answering && self.agents_listed;
        self.spawn_supervisor(spec, stats);
        // A changed spec may name other TLS files: its agent is read with them from now.
        let agent = self.cluster.agents.get(&name).map(|a| a.address.clone());
        if self.pollers.contains_key(&name) {
            self.follow_agent(name, agent);
        }
    }

    fn spawn_supervisor(&mut self, spec: HostSpec, stats: bool) {
        let name = spec.name.clone();
        let tx = self.data_tx.clone();
        // Screens show restart counts whoever supplies the figures.
        let detail = match (self.stats, stats) {
            (Stats::Without, _) => Detail::Lists,
            (Stats::With, false) => Detail::Restarts,
            (Stats::With, true) => Detail::Stats,
        };
        let supervisor = Supervisor::start(spec, self.pace.clone(), detail, tx);
        self.supervisors.insert(name, (supervisor, stats));
        self.pace.set_hosts(self.supervisors.len());
    }

    /// Restarts the host's supervisor with or without stats streams, if that changes.
    fn stream_stats(&mut self, host: &str, stats: bool) {
        let stats = stats && self.stats == Stats::With;
        let now = self.supervisors.get(host).map(|(_, s)| *s);
        if now.is_some_and(|now| now != stats)
            && let Some(spec) = self.cluster.host(host).map(|h| h.spec.clone())
        {
            tracing::info!(host, stats, "per-container stats streams follow the agent");
            self.spawn_supervisor(spec, stats);
        }
    }

    /// Reads the host's agent at `address` from now on (None: it is gone; the engine's
    /// stats take over).
    fn follow_agent(&mut self, host: String, address: Option<String>) {
        match address {
            Some(base) => {
                let tls = (self.cluster.host(&host)).and_then(|h| h.spec.tls.as_ref());
                let http = self.clients.for_agent(&base, tls);
                let tx = self.data_tx.clone();
                let task = agents::poll(host.clone(), base, http, self.pace.clone(), tx);
                self.pollers.insert(host, AbortOnDrop(tokio::spawn(task)));
            }
            None => {
                self.pollers.remove(&host);
                self.stream_stats(&host, true);
            }
        }
    }
}

/// Whether a watcher event is news of its connection: Ok(revision) or Err(why).
fn connection<S, C>(event: &Watch<S, C>) -> Option<Result<i64, String>> {
    match event {
        Watch::Connected { revision } => Some(Ok(*revision)),
        Watch::Unreachable { error } => Some(Err(error.clone())),
        Watch::Snapshot(_) | Watch::Change(_) => None,
    }
}
