//! The leader's loop: placement, self-healing, rollouts and service registration.
//!
//! Every controller follows the process's feed (a supervisor per host of the config file
//! and the etcd records, the app specs), so its picture of the cluster is warm; only the
//! elected leader acts. The leader plans on every change and at least every `interval`,
//! and runs each plan as a round of its own (see `round`): host verdicts, deregistrations,
//! the engines' stops and starts, registrations. While a round runs, events keep arriving; its effects are laid
//! over the engines' lists until those show them, so a stale list never starts an instance
//! twice. Losing the lease aborts the round at once; the controller campaigns again.
//!
//! Self-healing: an engine that fails longer than `grace` makes its host dead (written to
//! `/health/hosts/<host>`) and its instances are replaced elsewhere; when it answers again,
//! the surplus is stopped. A container Docker keeps restarting (`crash_restarts` restarts)
//! is moved, and its app avoids that host for `crash_penalty`, doubled on each repeat, so
//! it does not flap back. A start that fails keeps the app off that host for a few seconds
//! (doubling up to a minute); the reason reaches the operator through the audit trail.
//! A running instance that stays unhealthy (Docker's health, or the HTTP probe) longer than
//! its app's `health.replace_after` (default 30 s) is deregistered, stopped and replaced
//! where placement decides; each replacement doubles the grace the app's next unhealthy
//! instance gets, and it counts like a crash: after `crash_restarts` of them, each host an
//! unhealthy instance leaves is avoided for `crash_penalty` (doubled per repeat), so an
//! image that is never healthy neither spins nor flaps. An app under a rollout is left to
//! the rollout's health gates.
//!
//! Rollouts (see `rolling`): a spec whose revision some instances do not run is rolled
//! out by the `plan::rollout` machine, its state stored at `/rollouts/<app>` before each
//! tick's steps run; a new leader reads those records and takes them over before acting.
//! An endpoint leaves the registry `drain` before its container is stopped.

mod act;
mod begin;
mod inbox;
mod placement;
mod probe;
mod rolling;
mod round;
mod track;

use crate::cluster::AppChange;
use crate::cluster::{AppEvent, Change, ClusterEvent, ClusterState, DataEvent};
use crate::config::{Config, EtcdConfig};
use crate::docker::Limits;
use crate::domain::app::AppSpec;
use crate::feed::{Feed, Stats};
use crate::plan::Registered;
use crate::store::{self, EtcdLink, Leadership};
use bollard::Docker;
use color_eyre::eyre::eyre;
use etcd_client::Client;
use inbox::{Event, Inbox};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How the controller behaves; `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerOptions {
    /// This controller's name in the election (default: `<hostname>-<pid>`).
    pub id: String,
    /// How long an engine may fail before its host is dead (default 10 s).
    pub grace: Duration,
    /// The leader's lease: a dead leader is replaced within about this long (default 5 s).
    pub lease_ttl: Duration,
    /// Plan at least this often, changes or not (default 1 s).
    pub interval: Duration,
    pub limits: Limits,
    /// Restarts by Docker's policy after which a container is moved, and replacements of
    /// an app's unhealthy instances after which each one moves too (default 3).
    pub crash_restarts: u64,
    /// How long an app avoids a host it crash-looped on (or, past `crash_restarts`
    /// replacements, an unhealthy instance left), doubled per repeat (default 60 s).
    pub crash_penalty: Duration,
    /// How long an instance is left running after it leaves the service registry, so
    /// callers that looked it up just before finish their requests (default 1 s).
    pub drain: Duration,
}

impl Default for ControllerOptions {
    fn default() -> Self {
        ControllerOptions {
            id: default_id(),
            grace: Duration::from_secs(10),
            lease_ttl: store::DEFAULT_LEASE_TTL,
            interval: Duration::from_secs(1),
            limits: Limits::default(),
            crash_restarts: 3,
            crash_penalty: Duration::from_secs(60),
            drain: Duration::from_secs(1),
        }
    }
}

/// `<hostname>-<pid>`: unique among controllers, and says where each one runs.
pub fn default_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "controller".to_owned());
    format!("{host}-{}", std::process::id())
}

/// A start that failed keeps the app off the host this long at first, at most a minute.
const START_BACKOFF: (Duration, Duration) = (Duration::from_secs(5), Duration::from_secs(60));
const CRASH_PENALTY_CAP: Duration = Duration::from_secs(600);
/// Penalties are forgotten (strikes and all) this long after they end.
const FORGET_AFTER: Duration = Duration::from_secs(600);
/// Hosts not heard from by then are planned around rather than waited for.
const READY_WAIT: Duration = Duration::from_secs(15);
/// The loop looks at the clock this often.
const TICK: Duration = Duration::from_millis(100);
const RETRY: Duration = Duration::from_secs(1);

/// Runs the controller until SIGTERM or Ctrl-C (resigning if it leads). Fails only when
/// the configuration cannot work (no etcd).
pub async fn run(config: Config, opts: ControllerOptions) -> color_eyre::Result<()> {
    let etcd = config.etcd.clone().ok_or_else(|| {
        eyre!("the controller needs etcd: add an [etcd] section with endpoints to the config")
    })?;
    let (mut controller, mut inbox) = Controller::new(config, opts, etcd).await?;
    tracing::info!(id = controller.opts.id, "controller starting");
    loop {
        let Some((leadership, client)) = controller.follow(&mut inbox).await else {
            break;
        };
        if controller.lead(&mut inbox, leadership, client).await == Flow::Shutdown {
            break;
        }
    }
    tracing::info!(id = controller.opts.id, "controller stopped");
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Lost,
    Shutdown,
}

struct Controller {
    config: Config,
    opts: ControllerOptions,
    /// The feed's etcd client, which the campaign and leadership share.
    etcd: EtcdLink,
    cluster: ClusterState,
    restarts_tx: mpsc::Sender<(String, u64)>,
    /// The last good spec of every app.
    specs: BTreeMap<String, AppSpec>,
    /// Apps whose record cannot be read now, with why: they keep their last good spec in
    /// `specs`, and without one they are frozen (nothing started or stopped for them).
    broken: BTreeMap<String, String>,
    /// The app watcher has delivered its first snapshot: until then, no plan (it would
    /// stop every instance of every app).
    specs_known: bool,
    /// Hosts whose container list has arrived at least once.
    listed: HashSet<String>,
    started_at: Instant,
    track: track::Tracker,
    prober: probe::Prober,
    engines: HashMap<String, Docker>,
    registered: Registered,
    rolling: rolling::Rolling,
    /// The last problem reported per app and kind ("place", "reconcile"), so the audit
    /// trail gets each once.
    problems: BTreeMap<(String, &'static str), String>,
    /// Placement problems written to `/placement/<app>` under this leadership's lease.
    placement: placement::Placement,
    dirty: bool,
    last_plan: Instant,
}

impl Controller {
    /// A controller following the process's feed (container lists without stats).
    async fn new(
        config: Config,
        opts: ControllerOptions,
        etcd: EtcdConfig,
    ) -> color_eyre::Result<(Controller, Inbox)> {
        let feed = Feed::start(&config, Stats::Without);
        // The campaign rides the feed's etcd client: one connection per process.
        let etcd = feed.etcd().unwrap_or_else(|| EtcdLink::new(etcd));
        let subscription = (feed.subscribe().await).ok_or_else(|| eyre!("the feed stopped"))?;
        let (probes_tx, probes) = mpsc::channel(256);
        let (restarts_tx, restarts) = mpsc::channel(64);
        let now = Instant::now();
        let controller = Controller {
            cluster: (*subscription.cluster).clone(),
            restarts_tx,
            specs: BTreeMap::new(),
            broken: BTreeMap::new(),
            specs_known: false,
            listed: HashSet::new(),
            started_at: now,
            track: track::Tracker::default(),
            prober: probe::Prober::new(probes_tx),
            engines: HashMap::new(),
            registered: Registered::new(),
            rolling: rolling::Rolling::default(),
            problems: BTreeMap::new(),
            placement: placement::Placement::default(),
            dirty: true,
            last_plan: now,
            config,
            opts,
            etcd,
        };
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| tracing::warn!(error = %e, "cannot listen for SIGTERM"))
            .ok();
        let inbox = Inbox {
            cluster: subscription.events,
            probes,
            restarts,
            tick,
            term,
            _feed: feed,
        };
        Ok((controller, inbox))
    }

    /// The feed (re)started a host's supervisor, or stopped it: its engine and list are
    /// to be heard afresh.
    fn forget_engine(&mut self, name: &str) {
        self.engines.remove(name);
        self.listed.remove(name);
    }

    /// Follows the cluster while campaigning; returns once elected (None on shutdown).
    async fn follow(&mut self, inbox: &mut Inbox) -> Option<(Leadership, Client)> {
        loop {
            let (generation, client) = match self.etcd.client().await {
                Ok(client) => client,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot reach etcd to campaign");
                    if !self.idle(inbox, RETRY).await {
                        return None;
                    }
                    continue;
                }
            };
            let (prefix, id, ttl) = (
                self.config.prefix.clone(),
                self.opts.id.clone(),
                self.opts.lease_ttl,
            );
            let candidate = client.clone();
            let campaign = store::campaign(&candidate, &prefix, &id, ttl);
            tokio::pin!(campaign);
            loop {
                tokio::select! {
                    won = &mut campaign => match won {
                        Ok(leadership) => return Some((leadership, client)),
                        Err(e) => {
                            tracing::warn!(error = %e, "campaign failed; trying again");
                            // Connect afresh: the failure may be the connection's.
                            self.etcd.lost(generation).await;
                            break;
                        }
                    },
                    event = inbox.next() => {
                        if !self.observe(event) {
                            return None;
                        }
                    }
                }
            }
            if !self.idle(inbox, RETRY).await {
                return None;
            }
        }
    }

    /// Keeps observing for `pause`; false on shutdown.
    async fn idle(&mut self, inbox: &mut Inbox, pause: Duration) -> bool {
        let until = tokio::time::sleep(pause);
        tokio::pin!(until);
        loop {
            tokio::select! {
                () = &mut until => return true,
                event = inbox.next() => {
                    if !self.observe(event) {
                        return false;
                    }
                }
            }
        }
    }

    /// Acts as leader until the lease is lost or the process is told to stop.
    async fn lead(&mut self, inbox: &mut Inbox, leadership: Leadership, client: Client) -> Flow {
        tracing::info!(id = self.opts.id, lease = leadership.lease_id(), "leading");
        // Earlier verdicts and registrations hung on another lease: judge and register anew.
        self.registered.clear();
        self.track.dead.clear();
        self.problems.clear();
        self.placement.reset();
        self.dirty = true;
        // Resume the rollouts where the last leader left them.
        tokio::select! {
            err = leadership.lost() => {
                tracing::warn!(error = %err, "leadership lost before the rollouts were read");
                return Flow::Lost;
            }
            () = self.load_rollouts(&client) => {}
        }
        let fence = leadership.fence();
        let mut round: Option<JoinHandle<round::Report>> = None;
        let flow = loop {
            tokio::select! {
                err = leadership.lost() => {
                    tracing::warn!(error = %err, "leadership lost: stopping at once");
                    break Flow::Lost;
                }
                report = wait(&mut round) => {
                    round = None;
                    self.absorb(report, &client);
                }
                event = inbox.next() => {
                    if !self.observe(event) {
                        break Flow::Shutdown;
                    }
                }
            }
            if round.is_none() && self.due() {
                round = self.reconcile(&client, leadership.lease_id(), &fence);
            }
        };
        if let Some(r) = round {
            r.abort();
        }
        self.prober.clear();
        if flow == Flow::Shutdown {
            match leadership.resign().await {
                Ok(()) => tracing::info!("resigned"),
                Err(e) => tracing::warn!(error = %e, "cannot resign; the lease will expire"),
            }
        }
        flow
    }

    /// Applies one event to what the controller knows; false on shutdown.
    fn observe(&mut self, event: Event) -> bool {
        let now = Instant::now();
        match event {
            Event::Shutdown => return false,
            Event::Tick => {}
            Event::Cluster(ClusterEvent::Engine(data)) => {
                match &data {
                    DataEvent::Up { host, .. } => self.track.host_up(host),
                    DataEvent::Down { host, .. } => self.track.host_down(host, now),
                    DataEvent::Containers { .. }
                    | DataEvent::Stats { .. }
                    | DataEvent::Agent { .. }
                    | DataEvent::AgentDown { .. }
                    | DataEvent::Probes { .. } => {}
                }
                let relisted = match &data {
                    DataEvent::Containers { host, .. } => Some(host.clone()),
                    DataEvent::Stats { .. }
                    | DataEvent::Agent { .. }
                    | DataEvent::AgentDown { .. }
                    | DataEvent::Probes { .. } => None,
                    _ => {
                        self.dirty = true;
                        None
                    }
                };
                self.cluster.apply(ClusterEvent::Engine(data), now);
                if let Some(host) = relisted {
                    self.track.reapply(&mut self.cluster, &host, now);
                    self.listed.insert(host);
                    self.dirty = true;
                }
            }
            Event::Cluster(ClusterEvent::Hosts(store_event)) => {
                for change in self.cluster.apply(ClusterEvent::Hosts(store_event), now) {
                    match change {
                        Change::Supervise(spec) => self.forget_engine(&spec.name),
                        Change::Unsupervise(name) => self.forget_engine(&name),
                        Change::EtcdAnswered | Change::Agent { .. } => {}
                    }
                }
                self.dirty = true;
            }
            Event::Cluster(ClusterEvent::Apps(app_event)) => self.on_app(app_event),
            Event::Cluster(ClusterEvent::Rollouts(e)) => {
                e.track_broken(&mut self.cluster.broken_rollouts);
                self.dirty |= self.rolling.on_event(e);
            }
            Event::Cluster(ClusterEvent::Restarts(e)) => {
                e.apply(&mut self.rolling.restarting);
                self.dirty = true;
            }
            // The controller writes placement problems and the registry; etcd's health
            // shows in its errors; its feed has no per-container figures, so it follows no
            // agents.
            Event::Cluster(
                ClusterEvent::Placement(_)
                | ClusterEvent::Services(_)
                | ClusterEvent::Etcd(_)
                | ClusterEvent::Agents(_),
            ) => {}
            Event::Probe(outcome) => self.dirty |= self.prober.record(outcome),
            Event::Restarts { container, count } => {
                self.track.restarted(&container, count, now);
                self.dirty |= count >= self.opts.crash_restarts;
            }
        }
        true
    }

    fn on_app(&mut self, event: AppEvent) {
        match event {
            AppEvent::Snapshot(listing) => {
                listing.replace(&mut self.specs, &mut self.broken, |spec, _| spec);
                self.specs_known = true;
            }
            AppEvent::Change(AppChange::Put { app, .. }) => {
                self.broken.remove(&app.name);
                self.specs.insert(app.name.clone(), *app);
            }
            AppEvent::Change(AppChange::Deleted { name, .. }) => {
                self.broken.remove(&name);
                self.specs.remove(&name);
            }
            AppEvent::Change(AppChange::Broken { record, .. }) => {
                self.broken.insert(record.name, record.reason);
            }
            AppEvent::Connected { .. } | AppEvent::Unreachable { .. } => return,
        }
        self.dirty = true;
    }

    /// Apps with a broken record and no good spec known: nothing is started or stopped
    /// for them until their record can be read again.
    fn frozen(&self) -> BTreeSet<String> {
        (self.broken.keys())
            .filter(|app| !self.specs.contains_key(*app))
            .cloned()
            .collect()
    }

    /// Reads every stored rollout and takes the unfinished ones over, retrying until etcd
    /// answers.
    async fn load_rollouts(&mut self, client: &Client) {
        loop {
            let mut c = client.clone();
            match store::list_rollouts(&mut c, &self.config.prefix).await {
                Ok((rollouts, _)) => {
                    let active = rollouts.iter().filter(|r| !r.state.phase.is_done());
                    for r in active {
                        tracing::info!(app = r.app(), phase = %r.state.phase, "resuming rollout");
                    }
                    self.rolling.take_over(rollouts, store::now_ms());
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the rollouts; trying again");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }

    fn due(&self) -> bool {
        self.dirty || self.last_plan.elapsed() >= self.opts.interval
    }

    /// Every host has reported (or failed to), and the specs are known.
    fn ready(&self) -> bool {
        let heard = self.cluster.hosts.iter().all(|h| {
            self.listed.contains(h.name()) || self.track.down_since.contains_key(h.name())
        });
        self.specs_known && (heard || self.started_at.elapsed() >= READY_WAIT)
    }
}

/// The round's report once it is done; never resolves while there is no round.
async fn wait(round: &mut Option<JoinHandle<round::Report>>) -> round::Report {
    match round {
        Some(handle) => handle.await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "a round ended abnormally");
            round::Report::default()
        }),
        None => std::future::pending().await,
    }
}
