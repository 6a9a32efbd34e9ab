//! Waiting on a feed's pictures, and on anything else that becomes true in time.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch::Receiver;
use wheelhouse::cluster::ClusterState;

/// Waits for a picture that `ready` accepts (60 s at most).
pub async fn until(
    pictures: &mut Receiver<Arc<ClusterState>>,
    what: &str,
    ready: impl Fn(&ClusterState) -> bool,
) -> Arc<ClusterState> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = Arc::clone(&pictures.borrow_and_update());
        if ready(&now) {
            return now;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let changed = tokio::time::timeout(left, pictures.changed()).await;
        assert!(
            matches!(changed, Ok(Ok(()))),
            "no picture with {what} in 60 s; last: {:#?}",
            now.hosts
                .iter()
                .map(|h| (h.name(), &h.metrics, h.containers.len()))
                .collect::<Vec<_>>()
        );
    }
}

pub async fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "not within 30 s: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
