//! Helpers for the rollout tests: the app, a client that uses the service registry, and
//! waits on the stored rollout.

use super::support::*;
use bollard::Docker;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wheelhouse::cluster::Rollout;
use wheelhouse::domain::app::{Amount, AppSpec, FailureAction, HealthCheck, Probe};
use wheelhouse::lab::TestLab;
use wheelhouse::plan::labels;
use wheelhouse::plan::rollout::{Counts, Phase};
use wheelhouse::store::{self};

/// `web`: the demo image, HTTP-probed every second, rolled one at a time (surge 1,
/// unavailable 0) with a short min_ready.
pub fn app(image: &str, instances: u32) -> AppSpec {
    let mut spec = demo("web", image, instances);
    spec.health = Some(HealthCheck {
        interval: Duration::from_secs(1),
        timeout: Duration::from_millis(800),
        retries: 2,
        ..HealthCheck::new(Probe::Http("/health".into()))
    });
    spec.update.max_surge = Amount::Count(1);
    spec.update.max_unavailable = Amount::Count(0);
    spec.update.min_ready = Duration::from_secs(1);
    spec.update.healthy_deadline = Duration::from_secs(8);
    spec.update.progress_deadline = Duration::from_secs(60);
    spec.update.failure_action = FailureAction::Rollback;
    spec
}

/// The revision label of every running `app` container, over all engines.
pub async fn revisions(engines: &[Docker], app: &str) -> Vec<i64> {
    let list = labelled(engines, &format!("wheelhouse.app={app}")).await;
    list.into_iter()
        .filter_map(|(_, c)| c.labels?.get(labels::REVISION)?.parse().ok())
        .collect()
}

pub async fn rollout(client: &etcd_client::Client, app: &str) -> Option<Rollout> {
    let mut c = client.clone();
    store::get_rollout(&mut c, PREFIX, app).await.ok().flatten()
}

/// Waits until the rollout to `spec`'s revision is in a phase `done` accepts, checking
/// the capacity bounds on every look: running instances never above desired + surge nor
/// below desired - unavailable, and the machine's own counts within the same bounds.
pub async fn watch_rollout(
    client: &etcd_client::Client,
    engines: &[Docker],
    spec: &AppSpec,
    limit: Duration,
    done: impl Fn(&Phase) -> bool,
) -> Rollout {
    let to = labels::revision(spec);
    let budget = spec.update.resolve(spec.instances);
    let (low, high) = (
        spec.instances - budget.unavailable,
        spec.instances + budget.surge,
    );
    let mut last = None;
    let start = tokio::time::Instant::now();
    while start.elapsed() < limit {
        let running = revisions(engines, &spec.name).await.len() as u32;
        assert!(
            (low..=high).contains(&running),
            "{running} running, outside {low}..={high}"
        );
        if let Some(r) = rollout(client, &spec.name).await
            && r.state.to_revision == to
        {
            let c = r.state.counts;
            let total = c.old + c.new + c.starting + c.stopping;
            // A state not yet stepped has no counts.
            let stepped = c != Counts::default();
            if stepped && !r.state.phase.is_done() {
                assert!(
                    c.available >= low,
                    "available {} < {low}: {c:?}",
                    c.available
                );
                assert!(total <= high, "total {total} > {high}: {c:?}");
            }
            if done(&r.state.phase) {
                return r;
            }
            last = Some(r.state.phase.clone());
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    panic!(
        "the rollout of {} never got there; last {last:?}",
        spec.name
    );
}

/// What the registry client saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub requests: u32,
    pub errors: Vec<String>,
    /// The version each answer named, in order ("1", "2", ...).
    pub versions: Vec<String>,
}

/// A client that, every 50 ms, reads `/services/<app>/`, picks an endpoint (round robin)
/// and asks it for `/`, until stopped.
pub struct Client {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Seen>>,
}

impl Client {
    pub fn start(lab: &TestLab, app: &str) -> Client {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, endpoint, app) = (stop.clone(), lab.etcd_endpoint(), app.to_owned());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let cfg = wheelhouse::config::EtcdConfig {
                endpoints: vec![endpoint],
                ..Default::default()
            };
            let mut etcd = rt.block_on(store::connect(&cfg)).expect("etcd");
            let mut seen = Seen::default();
            let mut turn = 0usize;
            while !flag.load(Ordering::Relaxed) {
                let eps = rt.block_on(store::list_endpoints(&mut etcd, PREFIX, &app));
                match eps {
                    Ok(eps) if !eps.is_empty() => {
                        turn += 1;
                        let Some(ep) = eps.values().nth(turn % eps.len()) else {
                            continue;
                        };
                        let Some(port) = ep.port else {
                            seen.errors
                                .push(format!("{}: registered without a port", ep.address));
                            continue;
                        };
                        let addr = format!("{}:{port}", ep.address);
                        seen.requests += 1;
                        match wheelhouse::lab::engine::http_get(&addr, "/") {
                            Ok((200, body)) => seen.versions.push(version(&body)),
                            Ok((status, _)) => seen.errors.push(format!("{addr}: {status}")),
                            Err(e) => seen.errors.push(format!("{addr}: {e}")),
                        }
                    }
                    Ok(_) => seen.errors.push("no endpoint registered".into()),
                    Err(e) => seen.errors.push(format!("registry: {e}")),
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            seen
        });
        Client {
            stop,
            thread: Some(thread),
        }
    }

    pub fn finish(mut self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map(|t| t.join().expect("client thread"))
            .unwrap_or_default()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// "wheelhouse demo version 2 on host" -> "2".
fn version(body: &str) -> String {
    body.split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .unwrap_or("?")
        .to_owned()
}

/// Waits for `n` running instances of `spec`'s revision and `n` endpoints.
pub async fn settled(client: &etcd_client::Client, engines: &[Docker], spec: &AppSpec, n: usize) {
    let rev = labels::revision(spec);
    wait_until(Duration::from_secs(60), "settled", || async {
        let revs = revisions(engines, &spec.name).await;
        let mut c = client.clone();
        let eps = store::list_endpoints(&mut c, PREFIX, &spec.name)
            .await
            .map_err(|e| e.to_string())?;
        (revs.len() == n && revs.iter().all(|r| *r == rev) && eps.len() == n)
            .then_some(())
            .ok_or(format!(
                "{} running ({revs:?}), {} endpoints",
                revs.len(),
                eps.len()
            ))
    })
    .await;
}
