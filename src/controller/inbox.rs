//! Everything the controller's loop listens to, as one stream of events.

use super::probe;
use crate::cluster::ClusterEvent;
use crate::feed::Feed;
use tokio::sync::mpsc;

pub(super) enum Event {
    /// The feed's news: engines, host records, specs, rollouts, restart marks.
    Cluster(ClusterEvent),
    Probe(probe::Outcome),
    Restarts {
        container: String,
        count: u64,
    },
    Tick,
    Shutdown,
}

/// Everything the loop listens to.
pub(super) struct Inbox {
    pub cluster: mpsc::Receiver<ClusterEvent>,
    pub probes: mpsc::Receiver<probe::Outcome>,
    pub restarts: mpsc::Receiver<(String, u64)>,
    pub tick: tokio::time::Interval,
    pub term: Option<tokio::signal::unix::Signal>,
    /// Runs the supervisors and watchers for as long as the controller.
    pub _feed: Feed,
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
            Some(e) = self.cluster.recv() => Event::Cluster(e),
            Some(e) = self.probes.recv() => Event::Probe(e),
            Some((container, count)) = self.restarts.recv() => Event::Restarts { container, count },
            _ = self.tick.tick() => Event::Tick,
        }
    }
}
