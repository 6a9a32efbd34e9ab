//! HTTP health probes: one task per running instance of an app with `http = "/path"`,
//! probing `address:port/path` every interval; 2xx and 3xx are healthy.

use crate::domain::Health;
use crate::domain::app::HealthCheck;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// One instance to probe.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Target {
    pub container: String,
    pub url: String,
    pub check: HealthCheck,
}

/// One probe's outcome.
#[derive(Debug)]
pub(super) struct Outcome {
    pub container: String,
    pub ok: bool,
}

struct Probe {
    target: Target,
    task: JoinHandle<()>,
    started: Instant,
    failures: u32,
    health: Health,
    /// Some outcome has arrived: until then `health` is only a placeholder.
    answered: bool,
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(super) struct Prober {
    client: reqwest::Client,
    tx: mpsc::Sender<Outcome>,
    probes: HashMap<String, Probe>,
}

impl Prober {
    pub fn new(tx: mpsc::Sender<Outcome>) -> Prober {
        Prober {
            // No proxy: probes go straight to the hosts' addresses.
            client: crate::agent::client::builder().build().unwrap_or_default(),
            tx,
            probes: HashMap::new(),
        }
    }

    /// Probes exactly `targets`: new ones start (as `Starting`), gone or changed ones stop.
    pub fn sync(&mut self, targets: Vec<Target>) {
        let mut wanted: HashMap<String, Target> = targets
            .into_iter()
            .map(|t| (t.container.clone(), t))
            .collect();
        self.probes
            .retain(|id, p| wanted.get(id).is_some_and(|t| *t == p.target));
        for (id, target) in wanted.drain() {
            if self.probes.contains_key(&id) {
                continue;
            }
            let task = tokio::spawn(probe_loop(
                self.client.clone(),
                target.clone(),
                self.tx.clone(),
            ));
            self.probes.insert(
                id,
                Probe {
                    target,
                    task,
                    started: Instant::now(),
                    failures: 0,
                    health: Health::Starting,
                    answered: false,
                },
            );
        }
    }

    /// Applies an outcome; says whether the instance's health changed.
    pub fn record(&mut self, outcome: Outcome) -> bool {
        let Some(p) = self.probes.get_mut(&outcome.container) else {
            return false;
        };
        let before = p.health;
        p.answered = true;
        if outcome.ok {
            p.failures = 0;
            p.health = Health::Healthy;
        } else if p.started.elapsed() >= p.target.check.start_period {
            p.failures += 1;
            if p.failures >= p.target.check.retries {
                p.health = Health::Unhealthy;
            }
        }
        p.health != before
    }

    /// The probed health of a container, if it is probed.
    pub fn health(&self, container: &str) -> Option<Health> {
        self.probes.get(container).map(|p| p.health)
    }

    /// Probed, with no outcome yet: its health is not known.
    pub fn unanswered(&self, container: &str) -> bool {
        self.probes.get(container).is_some_and(|p| !p.answered)
    }

    pub fn clear(&mut self) {
        self.probes.clear();
    }
}

async fn probe_loop(client: reqwest::Client, target: Target, tx: mpsc::Sender<Outcome>) {
    let every = target.check.interval.max(Duration::from_millis(100));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let request = client.get(&target.url).timeout(target.check.timeout).send();
        let ok = match request.await {
            Ok(resp) => resp.status().is_success() || resp.status().is_redirection(),
            Err(e) => {
                tracing::debug!(url = target.url, error = %e, "probe failed");
                false
            }
        };
        let outcome = Outcome {
            container: target.container.clone(),
            ok,
        };
        if tx.send(outcome).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::app::Probe as Check;

    fn target(url: &str) -> Target {
        Target {
            container: "c1".into(),
            url: url.into(),
            check: HealthCheck {
                interval: Duration::from_millis(100),
                timeout: Duration::from_millis(500),
                retries: 2,
                ..HealthCheck::new(Check::Http("/health".into()))
            },
        }
    }

    #[tokio::test]
    async fn failures_count_up_to_unhealthy_and_one_success_heals() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut prober = Prober::new(tx);
        // Nothing listens on port 1: every probe fails.
        prober.sync(vec![target("http://127.0.0.1:1/health")]);
        assert_eq!(prober.health("c1"), Some(Health::Starting));
        assert!(prober.unanswered("c1"));
        let first = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        let first = first.ok().flatten().expect("a probe outcome");
        assert!(!first.ok);
        assert!(!prober.record(first), "one failure of two allowed");
        assert!(!prober.unanswered("c1"));
        let failed = Outcome {
            container: "c1".into(),
            ok: false,
        };
        assert!(prober.record(failed));
        assert_eq!(prober.health("c1"), Some(Health::Unhealthy));
        let ok = Outcome {
            container: "c1".into(),
            ok: true,
        };
        assert!(prober.record(ok));
        assert_eq!(prober.health("c1"), Some(Health::Healthy));
        // A changed target starts over; a gone one is no longer probed.
        prober.sync(vec![target("http://127.0.0.1:2/health")]);
        assert_eq!(prober.health("c1"), Some(Health::Starting));
        prober.sync(Vec::new());
        assert_eq!(prober.health("c1"), None);
    }
}
