//! Everything the controller's loop listens to, as one stream of events.

use super::probe;
use crate::cluster::DataEvent;
use crate::cluster::{AppEvent, HostEvent, RestartEvent, RolloutEvent};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub(super) enum Event {
    Data(DataEvent),
    Store(HostEvent),
    App(AppEvent),
    Rollout(RolloutEvent),
    Restart(RestartEvent),
    Probe(probe::Outcome),
    Restarts { container: String, count: u64 },
    Tick,
    Shutdown,
}

/// Everything the loop listens to.
pub(super) struct Inbox {
    pub data: mpsc::Receiver<DataEvent>,
    pub store: mpsc::Receiver<HostEvent>,
    pub apps: mpsc::Receiver<AppEvent>,
    pub probes: mpsc::Receiver<probe::Outcome>,
    pub restarts: mpsc::Receiver<(String, u64)>,
    pub rollouts: mpsc::Receiver<RolloutEvent>,
    pub marks: mpsc::Receiver<RestartEvent>,
    pub tick: tokio::time::Interval,
    pub term: Option<tokio::signal::unix::Signal>,
    pub _watchers: [WatcherGuard; 4],
}

/// Stops an etcd watcher task with the controller.
pub(super) struct WatcherGuard(pub JoinHandle<()>);

impl Drop for WatcherGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Inbox {
    pub async fn next(&mut self) -> Event {
        let term = &mut self.term;
        let terminated = async move {
            match term {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => Event::Shutdown,
            () = terminated => Event::Shutdown,
            Some(e) = self.data.recv() => Event::Data(e),
            Some(e) = self.store.recv() => Event::Store(e),
            Some(e) = self.apps.recv() => Event::App(e),
            Some(e) = self.probes.recv() => Event::Probe(e),
            Some((container, count)) = self.restarts.recv() => Event::Restarts { container, count },
            Some(e) = self.rollouts.recv() => Event::Rollout(e),
            Some(e) = self.marks.recv() => Event::Restart(e),
            _ = self.tick.tick() => Event::Tick,
        }
    }
}
