//! The simulated fleet: every engine's containers, images and behaviour, moved on by one
//! clock tick a second. The Docker API and agent API answer from here.

use super::container::{Run, SimContainer};
use super::scenario::{Checked, Load, Pattern, What, draw, unit};
use super::series;
use crate::agent::summary::{
    ContainerSummary as AgentContainer, Figures, Machine, Rates, Summary, Totals,
};
use crate::lab::images;
use bollard::models::{
    ContainerCreateBody, EventActor, EventMessage, EventMessageScopeEnum, EventMessageTypeEnum,
    RestartPolicyNameEnum,
};
use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Every simulated host's size.
pub const NCPU: u32 = 8;
pub const MEM_TOTAL: u64 = 32 << 30;
/// What `info` and `version` say.
pub const VERSION: &str = "sim-1";
pub const API_VERSION: &str = "1.47";

/// An engine call that cannot be done: the HTTP status and Docker's message.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

fn refuse(status: u16, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        message: message.into(),
    }
}

pub struct Engine {
    pub index: usize,
    pub name: String,
    /// When the fleet started (unix ms): the stats' system clock counts from here.
    pub started_ms: i64,
    seed: u64,
    inner: Mutex<Inner>,
    /// Container events as JSON lines, for every `/events` stream open.
    pub events: broadcast::Sender<Bytes>,
    /// Whether it answers (false: vanished).
    pub up: watch::Sender<bool>,
}

struct Inner {
    containers: BTreeMap<String, SimContainer>,
    delay: Duration,
    load: Load,
    images: BTreeSet<String>,
    /// Images whose pulls fail; "*" for all.
    failing_pulls: BTreeSet<String>,
    made: u64,
}

impl Engine {
    pub fn new(index: usize, seed: u64, load: Option<Load>, started_ms: i64) -> Engine {
        // Without a scenario, each host wanders around its own seeded level.
        let base = 5.0 + 80.0 * unit(seed, index as u64, u64::MAX);
        let load = load.unwrap_or(Load {
            pattern: Pattern::Noise,
            low: (base - 5.0).max(0.0),
            high: (base + 10.0).min(100.0),
            period: Duration::from_secs(60),
        });
        Engine {
            index,
            name: host_name(index),
            started_ms,
            seed,
            inner: Mutex::new(Inner {
                containers: BTreeMap::new(),
                delay: Duration::ZERO,
                load,
                images: images::TAGS
                    .iter()
                    .map(|t| format!("{}:{t}", images::REPO))
                    .collect(),
                failing_pulls: BTreeSet::new(),
                made: 0,
            }),
            events: broadcast::channel(1024).0,
            up: watch::Sender::new(true),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn delay(&self) -> Duration {
        self.lock().delay
    }

    fn event(&self, c: &SimContainer, action: &str, now_ms: i64) {
        let mut attributes: HashMap<String, String> = c.labels.clone();
        attributes.insert("name".to_owned(), c.name.clone());
        attributes.insert("image".to_owned(), c.image.clone());
        let message = EventMessage {
            typ: Some(EventMessageTypeEnum::CONTAINER),
            action: Some(action.to_owned()),
            actor: Some(EventActor {
                id: Some(c.id.clone()),
                attributes: Some(attributes),
            }),
            scope: Some(EventMessageScopeEnum::LOCAL),
            time: Some(now_ms / 1000),
            time_nano: Some(now_ms.saturating_mul(1_000_000)),
        };
        if let Ok(mut line) = serde_json::to_vec(&message) {
            line.push(b'\n');
            // Nobody listening is fine.
            let _ = self.events.send(Bytes::from(line));
        }
    }

    fn new_id(&self, inner: &mut Inner) -> String {
        inner.made += 1;
        let (i, n) = (self.index as u64, inner.made);
        (0..4)
            .map(|k| format!("{:016x}", draw(self.seed, i, n * 4 + k)))
            .collect()
    }

    /// Adds a running, unmanaged container (the fleet's starting load).
    pub fn seed_container(&self, name: String, now_ms: i64, up_for_ms: i64) {
        let mut inner = self.lock();
        let id = self.new_id(&mut inner);
        let since = now_ms - up_for_ms;
        let mut c = self.blank(
            id,
            name,
            format!("{}:1", images::REPO),
            HashMap::new(),
            since,
        );
        c.start(since);
        inner.containers.insert(c.id.clone(), c);
    }

    fn blank(
        &self,
        id: String,
        name: String,
        image: String,
        labels: HashMap<String, String>,
        now_ms: i64,
    ) -> SimContainer {
        // The id is already a seeded draw: its first digits pick the container's share
        // of its host's load and its memory.
        let salt = u64::from_str_radix(id.get(..12).unwrap_or("0"), 16).unwrap_or(0);
        SimContainer {
            weight: 0.2 + unit(self.seed, salt, 1),
            mem_base: (32 << 20) + (unit(self.seed, salt, 2) * f64::from(480u32 << 20)) as u64,
            id,
            name,
            image,
            labels,
            created_ms: now_ms,
            run: Run::Created,
            restarts: 0,
            policy: RestartPolicyNameEnum::NO,
            start_period_ms: None,
            check: None,
            cpu_seconds: 0.0,
            cpu_seconds_before: 0.0,
            cpu_percent: 0.0,
            mem_bytes: 0,
        }
    }

    /// Moves the engine on one second: load shared out, health decided, exited containers
    /// restarted by their policy.
    pub fn tick(&self, second: u64, now_ms: i64) {
        let mut inner = self.lock();
        let percent = series::host_percent(&inner.load, self.seed, self.index, second);
        let total_weight: f64 = (inner.containers.values())
            .filter(|c| c.running())
            .map(|c| c.weight)
            .sum();
        let mut restarted = Vec::new();
        for c in inner.containers.values_mut() {
            c.cpu_seconds_before = c.cpu_seconds;
            match c.run {
                Run::Running { .. } => {
                    c.cpu_percent = series::cpu_percent(percent, c.weight, total_weight);
                    c.cpu_seconds += c.cpu_percent / 100.0;
                    c.mem_bytes = series::mem_bytes(c.mem_base, percent);
                }
                Run::Exited { code, at_ms } if c.restarts_after(code) && now_ms - at_ms >= 1000 => {
                    c.restarts += 1;
                    c.start(now_ms);
                    restarted.push(c.clone());
                }
                _ => c.mem_bytes = 0,
            }
        }
        drop(inner);
        for c in restarted {
            self.event(&c, "start", now_ms);
        }
    }

    pub fn act(&self, action: &Checked, now_ms: i64) {
        let mut inner = self.lock();
        let mut touched = Vec::new();
        match action.what {
            What::Vanish | What::Return => {
                self.up.send_replace(action.what == What::Return);
            }
            What::Slow => inner.delay = action.delay,
            What::Fast => inner.delay = Duration::ZERO,
            What::Crash | What::Unhealthy | What::Healthy => {
                let limit = action.count.unwrap_or(usize::MAX);
                let chosen = (inner.containers.values_mut())
                    .filter(|c| c.running())
                    .filter(|c| action.what == What::Crash || c.check.is_some())
                    .take(limit);
                for c in chosen {
                    match action.what {
                        What::Crash => c.exit(137, now_ms),
                        _ => {
                            if let Some(check) = &mut c.check {
                                check.unhealthy = action.what == What::Unhealthy;
                            }
                        }
                    }
                    touched.push(c.clone());
                }
            }
            What::PullFail => {
                inner
                    .failing_pulls
                    .insert(action.image.clone().unwrap_or_else(|| "*".into()));
            }
            What::PullOk => match &action.image {
                Some(image) => drop(inner.failing_pulls.remove(image)),
                None => inner.failing_pulls.clear(),
            },
        }
        drop(inner);
        let word = match action.what {
            What::Crash => "die",
            What::Unhealthy => "health_status: unhealthy",
            _ => "health_status: healthy",
        };
        for c in touched {
            self.event(&c, word, now_ms);
        }
    }

    /// The containers as `GET /containers/json` lists them (running only unless `all`),
    /// kept by `keep`.
    pub fn list(
        &self,
        all: bool,
        keep: impl Fn(&SimContainer) -> bool,
        now_ms: i64,
    ) -> Vec<bollard::models::ContainerSummary> {
        (self.lock().containers.values())
            .filter(|c| all || c.running())
            .filter(|c| keep(c))
            .map(|c| c.summary(now_ms))
            .collect()
    }

    /// Runs `f` on the container named by full id, name or unique id prefix.
    pub fn with<T>(&self, key: &str, f: impl FnOnce(&mut SimContainer) -> T) -> Result<T, Refusal> {
        let mut inner = self.lock();
        let id = find(&inner.containers, key)?;
        inner
            .containers
            .get_mut(&id)
            .map(f)
            .ok_or_else(|| no_such(key))
    }

    pub fn create(
        &self,
        name: Option<&str>,
        body: ContainerCreateBody,
        now_ms: i64,
    ) -> Result<String, Refusal> {
        let mut inner = self.lock();
        let image = body.image.clone().unwrap_or_default();
        if !inner.images.contains(&image) {
            return Err(refuse(404, format!("No such image: {image}")));
        }
        let id = self.new_id(&mut inner);
        let name = name.map_or_else(|| format!("sim_{}", &id[..8]), str::to_owned);
        if inner.containers.values().any(|c| c.name == name) {
            return Err(refuse(
                409,
                format!("Conflict. The container name \"/{name}\" is already in use"),
            ));
        }
        let labels: HashMap<String, String> = body.labels.unwrap_or_default();
        let mut c = self.blank(id.clone(), name, image, labels, now_ms);
        c.policy = (body.host_config.as_ref())
            .and_then(|h| h.restart_policy.as_ref())
            .and_then(|p| p.name)
            .unwrap_or(RestartPolicyNameEnum::NO);
        // A health check passes after its start period (at least one interval).
        c.start_period_ms = body.healthcheck.map(|h| {
            let ms = |n: Option<i64>| n.unwrap_or(0) / 1_000_000;
            ms(h.start_period).max(ms(h.interval)).clamp(500, 30_000)
        });
        self.event(&c, "create", now_ms);
        inner.containers.insert(id.clone(), c);
        Ok(id)
    }

    /// Start, stop, kill or restart: (whether anything changed, the event).
    pub fn change(&self, key: &str, verb: &str, now_ms: i64) -> Result<bool, Refusal> {
        let (changed, c) = self.with(key, |c| {
            let was = c.running();
            match verb {
                "start" => c.start(now_ms),
                "stop" if was => c.exit(0, now_ms),
                "kill" if was => c.exit(137, now_ms),
                "kill" => return Err(refuse(409, format!("Container {} is not running", c.id))),
                "restart" => {
                    c.exit(0, now_ms);
                    c.start(now_ms);
                }
                _ => {}
            }
            Ok((was != c.running() || verb == "restart", c.clone()))
        })??;
        if changed {
            let word = match verb {
                "stop" | "kill" => "die",
                v => v,
            };
            self.event(&c, word, now_ms);
        }
        Ok(changed)
    }

    pub fn remove(&self, key: &str, force: bool, now_ms: i64) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let id = find(&inner.containers, key)?;
        let running = inner.containers.get(&id).is_some_and(SimContainer::running);
        if running && !force {
            return Err(refuse(
                409,
                "You cannot remove a running container. Stop the container before attempting removal or force remove",
            ));
        }
        if let Some(c) = inner.containers.remove(&id) {
            drop(inner);
            self.event(&c, "destroy", now_ms);
        }
        Ok(())
    }

    pub fn images(&self) -> Vec<String> {
        self.lock().images.iter().cloned().collect()
    }

    pub fn has_image(&self, name: &str) -> bool {
        self.lock().images.contains(name)
    }

    /// A pull: the image is there afterwards, unless pulls of it fail here.
    pub fn pull(&self, image: &str) -> Result<(), String> {
        let mut inner = self.lock();
        if inner.failing_pulls.contains("*") || inner.failing_pulls.contains(image) {
            return Err(format!("simulated pull failure for {image}"));
        }
        inner.images.insert(image.to_owned());
        Ok(())
    }

    pub fn counts(&self) -> (usize, usize) {
        let inner = self.lock();
        let running = inner.containers.values().filter(|c| c.running()).count();
        (inner.containers.len(), running)
    }

    /// Adds its running app instances to `counts`, by app and image.
    pub fn count_apps(&self, counts: &mut BTreeMap<String, BTreeMap<String, usize>>) {
        let inner = self.lock();
        for c in inner.containers.values().filter(|c| c.running()) {
            if let Some(app) = c.labels.get("wheelhouse.app") {
                let images = counts.entry(app.clone()).or_default();
                *images.entry(c.image.clone()).or_default() += 1;
            }
        }
    }

    /// The model its agent's series are computed from, at `now_ms`.
    pub fn model(&self, now_ms: i64) -> series::Model {
        let inner = self.lock();
        let (mut running, mut stopped) = (Vec::new(), Vec::new());
        for c in inner.containers.values() {
            match c.run {
                Run::Running { since_ms } => running.push(series::Share {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    weight: c.weight,
                    mem_base: c.mem_base,
                    since_ms,
                }),
                _ => stopped.push((c.id.clone(), c.name.clone())),
            }
        }
        series::Model {
            load: inner.load,
            seed: self.seed,
            index: self.index,
            started_ms: self.started_ms,
            now_ms,
            running,
            stopped,
        }
    }

    /// What this host's agent would say at `now_ms`.
    pub fn summary(&self, started_ms: i64, now_ms: i64) -> Summary {
        let inner = self.lock();
        let mut sum = Figures::default();
        let containers: Vec<AgentContainer> = (inner.containers.values())
            .filter(|c| c.running())
            .map(|c| {
                let figures = Figures {
                    totals: Totals {
                        cpu_seconds: c.cpu_seconds,
                        mem_bytes: c.mem_bytes,
                        ..Totals::default()
                    },
                    rates: Rates {
                        cpu_percent: Some(c.cpu_percent),
                        ..Rates::default()
                    },
                };
                sum.totals.cpu_seconds += c.cpu_seconds;
                sum.totals.mem_bytes += c.mem_bytes;
                *sum.rates.cpu_percent.get_or_insert(0.0) += c.cpu_percent;
                AgentContainer {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    app: c.labels.get("wheelhouse.app").cloned(),
                    instance: c.labels.get("wheelhouse.instance").cloned(),
                    figures: Some(figures),
                }
            })
            .collect();
        let cpu = sum.rates.cpu_percent.unwrap_or(0.0) / f64::from(NCPU);
        Summary {
            host: self.name.clone(),
            version: VERSION.to_owned(),
            started_at_ms: started_ms,
            unix_ms: now_ms,
            source: "simulated".to_owned(),
            machine: Machine {
                ncpu: NCPU,
                cpu_percent: Some(cpu),
                cpu_busy_seconds_total: sum.totals.cpu_seconds,
                cpu_seconds_total: (now_ms - started_ms) as f64 / 1000.0 * f64::from(NCPU),
                mem_total_bytes: MEM_TOTAL,
                mem_available_bytes: MEM_TOTAL.saturating_sub(sum.totals.mem_bytes),
            },
            containers_sum: sum,
            containers,
            history_bytes: 0,
            probes_at_ms: None,
        }
    }
}

fn no_such(key: &str) -> Refusal {
    refuse(404, format!("No such container: {key}"))
}

/// The id of the container a key names: a full id, a name, or a unique id prefix.
fn find(containers: &BTreeMap<String, SimContainer>, key: &str) -> Result<String, Refusal> {
    let key = key.trim_start_matches('/');
    if containers.contains_key(key) {
        return Ok(key.to_owned());
    }
    if let Some(c) = containers.values().find(|c| c.name == key) {
        return Ok(c.id.clone());
    }
    let mut prefixed = containers
        .keys()
        .filter(|id| !key.is_empty() && id.starts_with(key));
    match (prefixed.next(), prefixed.next()) {
        (Some(id), None) => Ok(id.clone()),
        (Some(_), Some(_)) => Err(refuse(
            400,
            format!("multiple IDs found with provided prefix: {key}"),
        )),
        _ => Err(no_such(key)),
    }
}

/// "sim-0001": sortable, and a valid host name.
pub fn host_name(index: usize) -> String {
    format!("sim-{:04}", index + 1)
}

/// The whole fleet.
pub struct Fleet {
    pub engines: Vec<Arc<Engine>>,
    pub seed: u64,
    pub started_ms: i64,
}

impl Fleet {
    /// `engines` hosts with `containers` spread round-robin, each up for a seeded while.
    pub fn new(
        engines: usize,
        containers: usize,
        seed: u64,
        loads: &[Option<Load>],
        now_ms: i64,
    ) -> Fleet {
        let engines: Vec<Arc<Engine>> = (0..engines)
            .map(|i| {
                Arc::new(Engine::new(
                    i,
                    seed,
                    loads.get(i).copied().flatten(),
                    now_ms,
                ))
            })
            .collect();
        for k in 0..containers {
            let engine = &engines[k % engines.len().max(1)];
            let up_for = (unit(seed, k as u64, 7) * 86_400_000.0) as i64;
            engine.seed_container(format!("load-{}", k + 1), now_ms, up_for);
        }
        Fleet {
            engines,
            seed,
            started_ms: now_ms,
        }
    }

    pub fn engine(&self, name: &str) -> Option<&Arc<Engine>> {
        let n: usize = name.strip_prefix("sim-")?.parse().ok()?;
        self.engines
            .get(n.checked_sub(1)?)
            .filter(|e| e.name == name)
    }

    pub fn act(&self, action: &Checked, now_ms: i64) {
        for &i in &action.hosts {
            if let Some(engine) = self.engines.get(i) {
                engine.act(action, now_ms);
            }
        }
    }
}

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod tests;
