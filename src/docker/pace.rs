//! How often a process re-reads each host. A few hosts are re-read every `refresh`; a
//! large fleet within a fixed budget of calls a second, so a thousand hosts cost about
//! what a hundred do. Engine events still bring each change at once: only the periodic
//! re-reads stretch (the lists that catch what events missed, the liveness pings, and the
//! agents' figures). Measured on the fleet simulator: at 1,000 hosts these re-reads were
//! most of an idle cockpit's CPU. A list answers for liveness as a ping does, so pings
//! run only where lists are further apart (a long refresh on a small fleet): an engine
//! that hangs with its events stream open is seen within a list period.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The whole process's budget per kind of re-read, in calls a second.
const LISTS_PER_SECOND: f64 = 50.0;
const AGENT_READS_PER_SECOND: f64 = 100.0;
/// Below this, re-reads would spin (and tokio's interval rejects zero).
const REFRESH_MIN: Duration = Duration::from_millis(100);
/// A ping at least this often while the fleet is small, whatever the refresh.
const PING_EVERY_MAX: Duration = Duration::from_secs(2);

/// Shared by a feed's supervisors and agent readers; the feed keeps the host count.
#[derive(Debug, Clone)]
pub struct Pace {
    refresh: Duration,
    hosts: Arc<AtomicUsize>,
}

impl From<Duration> for Pace {
    /// A pace for one host alone: every `refresh`.
    fn from(refresh: Duration) -> Pace {
        Pace::new(refresh)
    }
}

impl Pace {
    pub fn new(refresh: Duration) -> Pace {
        Pace {
            refresh: refresh.max(REFRESH_MIN),
            hosts: Arc::new(AtomicUsize::new(1)),
        }
    }

    pub fn refresh(&self) -> Duration {
        self.refresh
    }

    pub fn set_hosts(&self, hosts: usize) {
        self.hosts.store(hosts, Ordering::Relaxed);
    }

    /// How long `per_second` calls take to go round every host once.
    fn round(&self, per_second: f64) -> Duration {
        Duration::from_secs_f64(self.hosts.load(Ordering::Relaxed) as f64 / per_second)
    }

    pub fn list_every(&self) -> Duration {
        self.refresh.max(self.round(LISTS_PER_SECOND))
    }

    /// How often to ping between lists; None when lists come as often.
    pub fn ping_every(&self) -> Option<Duration> {
        let every = (self.refresh.min(PING_EVERY_MAX)).max(self.round(LISTS_PER_SECOND));
        (every < self.list_every()).then_some(every)
    }

    pub fn agent_every(&self) -> Duration {
        self.refresh.max(self.round(AGENT_READS_PER_SECOND))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_fleets_keep_the_refresh_and_large_ones_keep_the_budget() {
        let pace = Pace::new(Duration::from_secs(2));
        pace.set_hosts(3);
        assert_eq!(pace.list_every(), Duration::from_secs(2));
        assert_eq!(pace.ping_every(), None);
        assert_eq!(pace.agent_every(), Duration::from_secs(2));
        pace.clone().set_hosts(1000);
        assert_eq!(pace.list_every(), Duration::from_secs(20));
        assert_eq!(pace.ping_every(), None);
        assert_eq!(pace.agent_every(), Duration::from_secs(10));
        // A long refresh on a small fleet: pings in between keep liveness within 2 s.
        let slow = Pace::new(Duration::from_secs(10));
        slow.set_hosts(10);
        assert_eq!(slow.ping_every(), Some(Duration::from_secs(2)));
        slow.set_hosts(200);
        assert_eq!(slow.ping_every(), Some(Duration::from_secs(4)));
    }
}
