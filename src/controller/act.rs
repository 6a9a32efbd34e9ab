//! The leader's acts: planning a round, and taking in what it did.

use super::{CRASH_PENALTY_CAP, Controller, FORGET_AFTER, START_BACKOFF, probe, rolling, round};
use crate::docker::{self, Done, EngineStep};
use crate::domain::Health;
use crate::domain::app::{HealthCheck, Probe};
use crate::plan::{self, Actual, Liveness, RunState, Step, StopReason};
use crate::store::{self, AuditEntry, AuditOutcome, AuditReason};
use etcd_client::{Client, Compare};
use std::collections::{BTreeMap, HashSet};
use std::time::Instant;
use tokio::task::JoinHandle;

impl Controller {
    /// Plans, and starts a round if there is anything to do.
    pub(super) fn reconcile(
        &mut self,
        client: &Client,
        lease: i64,
        fence: &Compare,
    ) -> Option<JoinHandle<round::Report>> {
        if !self.ready() {
            return None;
        }
        let now = Instant::now();
        let now_ms = store::now_ms();
        self.dirty = false;
        self.last_plan = now;
        let health = self.track.judge(now, self.opts.grace, &self.opts.id);
        let mut actual = self.actual(now);
        let unknown: HashSet<String> = actual
            .instances()
            .filter(|i| self.prober.unanswered(&i.container))
            .map(|i| i.container.clone())
            .collect();
        let tick = self
            .rolling
            .tick(&self.specs, &actual, &unknown, now_ms, now);
        // An app its rollout holds keeps its unhealthy instances: the rollout's health
        // gates decide about them.
        let (specs, held) = (&self.specs, &tick.held);
        let grace = |app: &str| {
            let spec = specs.get(app).filter(|_| !held.contains_key(app))?;
            Some(HealthCheck::replace_after(spec.health.as_ref()))
        };
        let times = (CRASH_PENALTY_CAP, FORGET_AFTER);
        self.track.judge_health(&mut actual, grace, times, now);
        self.rolling.hide_leaving(&mut actual, now);
        // Held apps are planned with the spec and count their rollout wants.
        let mut specs = self.specs.clone();
        for (app, hold) in &tick.held {
            specs.insert(app.clone(), hold.spec.clone());
        }
        let avoid = self.track.avoid(now, FORGET_AFTER);
        let frozen = self.frozen();
        let plan = plan::plan(&plan::Input {
            specs: &specs,
            actual: &actual,
            registered: &self.registered,
            avoid: &avoid,
            frozen: &frozen,
        });
        for (app, reason) in self.broken.clone() {
            let kept = if frozen.contains(&app) {
                "no good spec known: nothing is started or stopped for it"
            } else {
                "acting on its last good spec"
            };
            self.report(
                client,
                &app,
                "broken",
                format!("broken record ({reason}); {kept}"),
            );
        }
        for (host, reason) in self.cluster.broken_hosts.clone() {
            let kept = format!("broken host record ({reason}); the host is kept as it was");
            self.report(client, &host, "broken-host", kept);
        }
        for (app, reason) in self.cluster.broken_rollouts.clone() {
            let kept = format!(
                "broken rollout record ({reason}); `wheelhouse ctl rollout-status {app} --reset` \
                 removes it"
            );
            self.report(client, &app, "broken-rollout", kept);
        }
        let (broken, hosts) = (&self.broken, &self.cluster.broken_hosts);
        let rollouts = &self.cluster.broken_rollouts;
        self.problems.retain(|(name, kind), _| match *kind {
            "broken" => broken.contains_key(name),
            "broken-host" => hosts.contains_key(name),
            "broken-rollout" => rollouts.contains_key(name),
            _ => true,
        });
        let held = &tick.held;
        for u in plan.unplaced.iter().filter(|u| !held.contains_key(&u.app)) {
            self.report(client, &u.app, "place", u.to_string());
        }
        (self.placement).publish(client, &self.config.prefix, lease, &plan.unplaced);
        let specs = &self.specs;
        self.problems.retain(|(app, kind), _| {
            let placed = *kind == "place" && !plan.unplaced.iter().any(|u| &u.app == app);
            if placed && specs.contains_key(app) {
                tracing::info!(app, "every instance placed again");
            }
            !placed
        });
        // A held app's starts are its rollout's; its stops are the rollout's business.
        let mut steps = Vec::new();
        let mut starts: BTreeMap<String, Vec<Step>> = BTreeMap::new();
        for step in plan.steps {
            match (&step, held.get(step.app())) {
                (Step::Start(_), Some(hold)) => {
                    let list = starts.entry(step.app().to_owned()).or_default();
                    if list.len() < hold.starts as usize {
                        list.push(step);
                    }
                }
                (Step::Stop(_), Some(_)) => {}
                _ => steps.push(step),
            }
        }
        let mut writes = tick.writes;
        for w in &mut writes {
            let app = w.rollout.app().to_owned();
            let placed = starts.remove(&app).unwrap_or_default();
            let wanted = held.get(&app).map_or(0, |h| h.starts as usize);
            let why = plan
                .unplaced
                .iter()
                .find(|u| u.app == app)
                .map_or_else(|| "it could not be placed".to_owned(), ToString::to_string);
            for _ in placed.len()..wanted {
                self.rolling.start_failed(&app, why.clone());
            }
            w.steps.extend(placed);
        }
        // A rollout's stop carries its own deregistration; drop the planner's copy.
        let leaving: HashSet<(&str, u32)> = writes
            .iter()
            .flat_map(|w| &w.steps)
            .filter_map(|s| match s {
                Step::Deregister { app, instance, .. } => Some((app.as_str(), *instance)),
                _ => None,
            })
            .collect();
        steps.retain(|s| match s {
            Step::Deregister { app, instance, .. } => !leaving.contains(&(app.as_str(), *instance)),
            _ => true,
        });
        let quiet = steps.is_empty()
            && health.is_empty()
            && writes.is_empty()
            && tick.initiations.is_empty()
            && tick.discards.is_empty()
            && tick.restores.is_empty();
        if quiet {
            return None;
        }
        for step in steps.iter().chain(writes.iter().flat_map(|w| &w.steps)) {
            tracing::info!(step = %step, "planned");
        }
        let hosts = self
            .cluster
            .hosts
            .iter()
            .map(|h| (h.spec.name.clone(), h.spec.clone()))
            .collect();
        Some(tokio::spawn(round::run(round::Round {
            client: client.clone(),
            prefix: self.config.prefix.clone(),
            lease,
            health,
            steps,
            engines: self.engines.clone(),
            hosts,
            limits: self.opts.limits,
            drain: self.opts.drain,
            fence: fence.clone(),
            writes,
            initiations: tick.initiations,
            discards: tick.discards,
            restores: tick.restores,
            now_ms,
        })))
    }

    /// The planner's view: the cluster picture, with probe results and crash loops laid over it;
    /// also keeps the probes and restart-count checks in line with it.
    fn actual(&mut self, now: Instant) -> Actual {
        let mut actual = self.cluster.actual(&self.track.dead);
        let mut targets = Vec::new();
        for view in &mut actual.hosts {
            let online = view.liveness == Liveness::Online;
            let address = view.address.clone().unwrap_or_else(|| view.name.clone());
            for inst in &mut view.instances {
                // An exit the operator asked for (`R`): the engine is starting it again.
                if inst.state == RunState::Failed
                    && rolling::restart_asked(&self.rolling.restarting, inst)
                {
                    inst.state = RunState::Restarting;
                }
                let http = self
                    .specs
                    .get(&inst.id.app)
                    .and_then(|s| s.health.as_ref())
                    .and_then(|c| match &c.probe {
                        Probe::Http(path) => Some((c.clone(), path.clone())),
                        Probe::Command(_) | Probe::Image => None,
                    });
                if let Some((check, path)) = http {
                    inst.health = self
                        .prober
                        .health(&inst.container)
                        .unwrap_or(Health::Starting);
                    if let (true, RunState::Running, Some(port)) =
                        (online, inst.state, inst.id.port)
                    {
                        targets.push(probe::Target {
                            container: inst.container.clone(),
                            url: format!("http://{address}:{port}{path}"),
                            check,
                        });
                    }
                }
                inst.crash_looping = self
                    .track
                    .crash_looping(&inst.container, self.opts.crash_restarts);
                if online
                    && inst.state == RunState::Restarting
                    && self.track.inspect_due(&inst.container, now)
                {
                    self.inspect(&view.name, &inst.container);
                }
            }
        }
        self.prober.sync(targets);
        actual
    }

    /// Asks the engine how often it restarted a container, in the background.
    fn inspect(&self, host: &str, container: &str) {
        let client = self.engines.get(host).cloned();
        let spec = self.cluster.host(host).map(|h| h.spec.clone());
        let (host, container, tx) = (
            host.to_owned(),
            container.to_owned(),
            self.restarts_tx.clone(),
        );
        tokio::spawn(async move {
            let docker = match (client, spec) {
                (Some(d), _) => d,
                (None, Some(spec)) => match docker::connect(&spec).await {
                    Ok(d) => d,
                    Err(_) => return,
                },
                (None, None) => return,
            };
            match docker::restart_count(&docker, &host, &container).await {
                Ok(count) => {
                    let _ = tx.send((container, count)).await;
                }
                Err(e) => tracing::debug!(error = %e, "cannot inspect a restarting container"),
            }
        });
    }

    /// Takes in what a round did.
    pub(super) fn absorb(&mut self, report: round::Report, client: &Client) {
        let now = Instant::now();
        self.dirty = true;
        self.engines.extend(report.connected);
        for rollout in report.saved {
            self.rolling.saved(rollout);
        }
        for verdict in &report.health {
            tracing::info!(host = verdict.host, state = ?verdict.state, "host verdict written");
        }
        let touched: HashSet<String> = report
            .engine
            .iter()
            .map(|r| r.step.app().to_owned())
            .collect();
        // One strike per app and host per round, however many of its steps failed there;
        // one replacement per app and round, however many unhealthy instances it replaced.
        let mut struck: HashSet<(String, String)> = HashSet::new();
        let mut replaced: BTreeMap<String, u32> = BTreeMap::new();
        for r in report.engine {
            if let (EngineStep::Start(s), Err(e)) = (&r.step, &r.result) {
                self.rolling.start_failed(&s.app, e.to_string());
            }
            match (&r.step, r.result) {
                (EngineStep::Start(s), Ok(Done::Started { container })) => {
                    self.track.started(&mut self.cluster, s, &container, now);
                }
                (EngineStep::Start(s), Err(e))
                    if struck.insert((s.app.clone(), s.host.clone())) =>
                {
                    let text = e.to_string();
                    let reason = text.strip_prefix(&format!("{}: ", s.host)).unwrap_or(&text);
                    self.track
                        .penalize(&s.app, &s.host, reason, START_BACKOFF, now);
                }
                (EngineStep::Stop(s), Ok(_)) => {
                    self.track
                        .removed(&mut self.cluster, &s.host, &s.container, now);
                    // An exit may be the host's fault (it died): only a short backoff.
                    let penalty = match s.reason {
                        StopReason::CrashLoop => Some((
                            "crash-looped here",
                            (self.opts.crash_penalty, CRASH_PENALTY_CAP),
                        )),
                        StopReason::Failed => Some(("exited here", START_BACKOFF)),
                        // Counted like a crash: after `crash_restarts` replacements, each
                        // host an unhealthy instance leaves is avoided like a crash loop's.
                        StopReason::Unhealthy => {
                            let count = *replaced
                                .entry(s.app.clone())
                                .or_insert_with(|| self.track.replaced_unhealthy(&s.app, now));
                            (u64::from(count) >= self.opts.crash_restarts).then_some((
                                "unhealthy here",
                                (self.opts.crash_penalty, CRASH_PENALTY_CAP),
                            ))
                        }
                        _ => None,
                    };
                    if let Some((why, times)) = penalty
                        && struck.insert((s.app.clone(), s.host.clone()))
                    {
                        self.track.penalize(&s.app, &s.host, why, times, now);
                    }
                }
                // Failed stops are reported with the round's errors.
                _ => {}
            }
        }
        for (app, instance) in report.deregistered {
            self.registered.remove(&(app, instance));
        }
        for (key, container) in report.registered {
            self.registered.insert(key, container);
        }
        let mut failed: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (app, error) in report.errors {
            let list = failed.entry(app).or_default();
            if !list.contains(&error) {
                list.push(error);
            }
        }
        // Apps whose round went through clean have no reconcile problem any more.
        self.problems.retain(|(app, kind), _| {
            *kind != "reconcile" || !touched.contains(app) || failed.contains_key(app)
        });
        for (app, errors) in failed {
            self.report(client, &app, "reconcile", errors.join("; "));
        }
    }

    /// Logs a problem of `app` and appends it to the audit trail, once per distinct text.
    fn report(&mut self, client: &Client, app: &str, action: &'static str, problem: String) {
        let key = (app.to_owned(), action);
        if self.problems.get(&key) == Some(&problem) {
            return;
        }
        tracing::warn!(app, "{problem}");
        self.problems.insert(key, problem.clone());
        let (what, reason) = match action {
            "place" => ("placing instances", AuditReason::Unplaceable),
            "broken" => ("reading the app's record", AuditReason::Broken),
            "broken-host" => ("reading the host's record", AuditReason::Broken),
            "broken-rollout" => ("reading the app's rollout record", AuditReason::Broken),
            _ => (
                "starting, stopping and registering instances",
                AuditReason::Unavailable,
            ),
        };
        let mut entry = AuditEntry::now(action, app, what, problem).of_app(
            app,
            AuditOutcome::Failed,
            Some(reason),
        );
        entry.who = format!("controller {}", self.opts.id);
        let (mut client, prefix) = (client.clone(), self.config.prefix.clone());
        tokio::spawn(async move {
            if let Err(e) = store::record(&mut client, &prefix, &entry).await {
                tracing::warn!(error = %e, "cannot write to the audit trail");
            }
        });
    }
}
