//! One task per host: connect, report Up, keep the container list and stats fresh, notice
//! the engine going away within seconds, report Down, and reconnect with backoff.
//! Every engine call has a timeout, so a hung engine stalls only its own supervisor.

use super::connect::{connect, describe};
use super::containers::{container, host_info};
use super::inspect::{Inspected, inspect_all};
use super::pace::Pace;
use super::watch::{Sample, TaskGuard, watch_events, watch_stats};
use crate::cluster::DataEvent;
use crate::domain::{Container, ContainerState, HostSpec};
use bollard::Docker;
use bollard::query_parameters::ListContainersOptions;
use futures::future::BoxFuture;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until, timeout};

const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// info and the container list: small answers, but an engine under load may be slow.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);
/// A burst of container events (a deploy starts ten) gives one list.
const DEBOUNCE: Duration = Duration::from_millis(150);
const BACKOFF_START: Duration = Duration::from_millis(250);
/// Short, so an engine that comes back is seen quickly.
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Supervisors alive in this process (see `Supervisor::live`).
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// Stats streams open in this process (see `Supervisor::stats_streams`).
static STREAMS: AtomicUsize = AtomicUsize::new(0);

/// One container's stats stream, counted in `STREAMS` while it is held.
struct StatsStream(TaskGuard);

impl StatsStream {
    fn spawn(task: impl Future<Output = ()> + Send + 'static) -> StatsStream {
        STREAMS.fetch_add(1, Ordering::Relaxed);
        StatsStream(TaskGuard::spawn(task))
    }
}

impl Drop for StatsStream {
    fn drop(&mut self) {
        STREAMS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A running supervisor. Dropping it (or `stop`) aborts its task and the task's children.
#[derive(Debug)]
pub struct Supervisor {
    task: tokio::task::JoinHandle<()>,
}

/// How much a supervisor asks of its engine besides the container list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// The lists only: the controller and `ctl status`.
    Lists,
    /// Restart counts and last health checks too (an inspect per new or changed
    /// container, and per health check run): a screen whose host's agent supplies the
    /// figures.
    Restarts,
    /// Restart counts and a stats stream per running container: a screen without agent.
    Stats,
}

impl Supervisor {
    /// Starts supervising `spec`'s engine on the current tokio runtime with restart counts
    /// and stats; events go to `tx`. The task ends by itself when `tx`'s receiver is dropped.
    pub fn spawn(spec: HostSpec, refresh: Duration, tx: mpsc::Sender<DataEvent>) -> Supervisor {
        Supervisor::start(spec, refresh, Detail::Stats, tx)
    }

    /// The same with only the `detail` asked for: a stats stream per running container is
    /// most of a supervisor's work.
    /// `pace` says how often to re-read the engine (a refresh, or the feed's pace).
    pub fn start(
        spec: HostSpec,
        pace: impl Into<Pace>,
        detail: Detail,
        tx: mpsc::Sender<DataEvent>,
    ) -> Supervisor {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Supervisor {
            task: tokio::spawn(run(spec, pace.into(), detail, tx)),
        }
    }

    pub fn stop(&self) {
        self.task.abort();
    }

    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// How many supervisors this process holds: one per host however many screens
    /// watch, which the feed's test checks.
    pub fn live() -> usize {
        LIVE.load(Ordering::Relaxed)
    }

    /// How many per-container stats streams this process holds open (none for a host
    /// whose agent answers, which the agent test checks).
    pub fn stats_streams() -> usize {
        STREAMS.load(Ordering::Relaxed)
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.task.abort();
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Why a session with the engine ended.
enum End {
    /// The engine failed; `was_up` says whether Up had been sent in this session.
    Failed { error: String, was_up: bool },
    /// Nobody listens any more.
    Closed,
}

async fn run(spec: HostSpec, pace: Pace, detail: Detail, tx: mpsc::Sender<DataEvent>) {
    let host = spec.name.clone();
    let mut backoff = BACKOFF_START;
    // The last Down sent: repeat attempts with the same failure stay quiet.
    let mut reported: Option<String> = None;
    loop {
        let mut session = Session::new(&spec, pace.clone(), detail, &tx);
        let (error, was_up) = match session.run().await {
            End::Closed => return,
            End::Failed { error, was_up } => (error, was_up),
        };
        drop(session);
        if was_up {
            reported = None;
            backoff = BACKOFF_START;
        }
        if reported.as_deref() != Some(error.as_str()) {
            tracing::warn!(host, error, "engine down");
            let down = DataEvent::Down {
                host: host.clone(),
                error: error.clone(),
            };
            if tx.send(down).await.is_err() {
                return;
            }
            reported = Some(error);
        }
        sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// One connection's worth of state; dropping it aborts the event and stats tasks.
struct Session<'a> {
    spec: &'a HostSpec,
    pace: Pace,
    /// Whether to read restart counts, and stream stats for running containers.
    detail: Detail,
    tx: &'a mpsc::Sender<DataEvent>,
    up: bool,
    /// Last stats per running container, to fill into each new list.
    last: HashMap<String, (f64, u64)>,
    /// Inspects' answers (restart counts, last health checks), with the state they were
    /// read in.
    inspected: HashMap<String, (ContainerState, Inspected)>,
    stats: HashMap<String, StatsStream>,
    samples_tx: mpsc::Sender<Sample>,
    samples_rx: mpsc::Receiver<Sample>,
}

impl<'a> Session<'a> {
    fn new(
        spec: &'a HostSpec,
        pace: Pace,
        detail: Detail,
        tx: &'a mpsc::Sender<DataEvent>,
    ) -> Self {
        let (samples_tx, samples_rx) = mpsc::channel(64);
        Session {
            spec,
            pace,
            detail,
            tx,
            up: false,
            last: HashMap::new(),
            inspected: HashMap::new(),
            stats: HashMap::new(),
            samples_tx,
            samples_rx,
        }
    }

    fn failed(&self, error: String) -> End {
        End::Failed {
            error,
            was_up: self.up,
        }
    }

    async fn send(&self, event: DataEvent) -> Result<(), End> {
        self.tx.send(event).await.map_err(|_| End::Closed)
    }

    async fn run(&mut self) -> End {
        match self.serve().await {
            Ok(never) => match never {},
            Err(end) => end,
        }
    }

    async fn serve(&mut self) -> Result<std::convert::Infallible, End> {
        let docker = Box::pin(connect(self.spec))
            .await
            .map_err(|e| self.failed(e.to_string()))?;
        self.ping(&docker).await?;
        let info = call(CALL_TIMEOUT, docker.info())
            .await
            .map_err(|e| self.failed(e))?;
        let info = host_info(&info);
        tracing::info!(host = self.spec.name, version = info.version, "engine up");
        self.send(DataEvent::Up {
            host: self.spec.name.clone(),
            info,
        })
        .await?;
        self.up = true;

        // The events task holds the only sender: `recv` gives None once the stream ended.
        let (changed_tx, mut changed_rx) = mpsc::channel(1);
        let mut _events =
            TaskGuard::spawn(watch_events(docker.clone(), changed_tx, Duration::ZERO));
        self.relist(&docker).await?;

        let start = Instant::now();
        // A list answers for liveness as a ping does: after one, the next ping waits.
        let mut next_list = start + self.pace.list_every();
        let mut next_ping = self.next_ping();
        let mut debounce: Option<Instant> = None;
        loop {
            tokio::select! {
                () = sleep_until(next_ping.unwrap_or(start)), if next_ping.is_some() => {
                    self.ping(&docker).await?;
                    next_ping = self.next_ping();
                }
                () = sleep_until(next_list) => {
                    self.relist(&docker).await?;
                    next_list = Instant::now() + self.pace.list_every();
                    next_ping = self.next_ping();
                }
                changed = changed_rx.recv() => {
                    if changed.is_some() {
                        debounce.get_or_insert_with(|| Instant::now() + DEBOUNCE);
                        continue;
                    }
                    // The stream ended: most often the engine died, so check now rather than
                    // at the next ping. If it still answers, follow events again (and list,
                    // since some may have been missed).
                    self.ping(&docker).await?;
                    let (changed_tx, rx) = mpsc::channel(1);
                    changed_rx = rx;
                    let watch = watch_events(docker.clone(), changed_tx, BACKOFF_START);
                    _events = TaskGuard::spawn(watch);
                    debounce.get_or_insert_with(|| Instant::now() + BACKOFF_START + DEBOUNCE);
                }
                () = sleep_until(debounce.unwrap_or(start)), if debounce.is_some() => {
                    debounce = None;
                    self.relist(&docker).await?;
                    next_ping = self.next_ping();
                }
                Some(sample) = self.samples_rx.recv() => self.forward(sample).await?,
            }
        }
    }

    /// When to ping next, if pings run between lists at this pace.
    fn next_ping(&self) -> Option<Instant> {
        self.pace.ping_every().map(|every| Instant::now() + every)
    }

    async fn ping(&self, docker: &Docker) -> Result<(), End> {
        call(PING_TIMEOUT, docker.ping())
            .await
            .map(drop)
            .map_err(|e| self.failed(e))
    }

    /// Lists all containers, reconciles the stats tasks with the running ones, and sends
    /// the list with the last known stats.
    async fn relist(&mut self, docker: &Docker) -> Result<(), End> {
        let options = ListContainersOptions {
            all: true,
            ..Default::default()
        };
        let list = call(CALL_TIMEOUT, docker.list_containers(Some(options)))
            .await
            .map_err(|e| self.failed(e))?;
        let mut containers: Vec<Container> = list.into_iter().filter_map(container).collect();
        containers.sort_by(|a, b| a.name.cmp(&b.name));
        let running: HashSet<&str> = containers
            .iter()
            .filter(|c| c.is_running())
            .map(|c| c.id.as_str())
            .collect();

        // A stopped container has no load; a finished stats task is restarted if still running.
        self.last.retain(|id, _| running.contains(id.as_str()));
        self.stats
            .retain(|id, task| running.contains(id.as_str()) && !task.0.is_finished());
        for id in running.iter().filter(|_| self.detail == Detail::Stats) {
            if !self.stats.contains_key(*id) {
                let task = watch_stats(
                    docker.clone(),
                    (*id).to_owned(),
                    self.pace.refresh(),
                    self.samples_tx.clone(),
                );
                self.stats
                    .insert((*id).to_owned(), StatsStream::spawn(task));
            }
        }
        for c in &mut containers {
            if let Some(&(cpu, mem)) = self.last.get(&c.id) {
                c.cpu_percent = Some(cpu);
                c.mem_bytes = Some(mem);
            }
        }
        if self.detail != Detail::Lists {
            self.inspect(docker, &mut containers).await;
        }
        tracing::debug!(
            host = self.spec.name,
            count = containers.len(),
            "containers"
        );
        self.send(DataEvent::Containers {
            host: self.spec.name.clone(),
            containers,
        })
        .await
    }

    /// Fills in restart counts and last health checks (the list carries neither): an
    /// inspect for a container new to the list, one whose state changed, one up for
    /// seconds only (it may just have been restarted), and one whose health check has run
    /// again since; the others keep what was read before. A failed inspect leaves them
    /// unknown until the next list.
    async fn inspect(&mut self, docker: &Docker, containers: &mut [Container]) {
        let ids: HashSet<&str> = containers.iter().map(|c| c.id.as_str()).collect();
        self.inspected.retain(|id, _| ids.contains(id.as_str()));
        let now = Instant::now().into_std();
        let stale: Vec<String> = (containers.iter())
            .filter(|c| {
                let young = c.uptime().is_some_and(|up| up.contains("second"));
                young
                    || self.inspected.get(&c.id).is_none_or(|(state, read)| {
                        *state != c.state || read.recheck.is_some_and(|at| at <= now)
                    })
            })
            .map(|c| c.id.clone())
            .collect();
        let mut read = inspect_all(docker, &stale).await;
        let stale: HashSet<String> = stale.into_iter().collect();
        for c in containers.iter_mut() {
            if stale.contains(&c.id) {
                match read.remove(&c.id) {
                    Some(answer) => {
                        self.inspected
                            .insert(c.id.clone(), (c.state.clone(), answer));
                    }
                    None => {
                        self.inspected.remove(&c.id);
                    }
                }
            }
            let known = self.inspected.get(&c.id).map(|(_, read)| read);
            c.restarts = known.and_then(|r| r.restarts);
            c.last_check = known.and_then(|r| r.last_check.clone());
        }
    }

    async fn forward(&mut self, sample: Sample) -> Result<(), End> {
        // A sample racing the container's removal is dropped with its task.
        if !self.stats.contains_key(&sample.id) {
            return Ok(());
        }
        self.last
            .insert(sample.id.clone(), (sample.cpu_percent, sample.mem_bytes));
        self.send(DataEvent::Stats {
            host: self.spec.name.clone(),
            id: sample.id,
            cpu_percent: sample.cpu_percent,
            mem_bytes: sample.mem_bytes,
        })
        .await
    }
}

/// An engine call bounded by `limit`; the error is already the short message for Down.
///
/// Boxed: a bollard call is kilobytes of state, and a supervisor (one per host) would
/// otherwise carry room for its largest one for its whole life.
fn call<'a, T: 'a>(
    limit: Duration,
    fut: impl Future<Output = Result<T, bollard::errors::Error>> + Send + 'a,
) -> BoxFuture<'a, Result<T, String>> {
    Box::pin(async move {
        match timeout(limit, fut).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(describe(&err)),
            Err(_) => Err("timeout".to_owned()),
        }
    })
}
