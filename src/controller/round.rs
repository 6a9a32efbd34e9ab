//! One round of the leader's work, run as a task of its own so the loop keeps listening:
//! host verdicts, then rollout states (stored before their steps; a state that cannot be
//! stored drops its steps), then deregistrations, then the engines' stops and starts,
//! then registrations. A stop whose deregistration failed is not run; one whose endpoint
//! was just deregistered waits `drain` first, so callers that read the registry a moment
//! ago finish their requests.

use super::begin;
use super::rolling::{Initiation, Write};
use crate::cluster::{Rollout, StoredCommand};
use crate::docker::{self, EngineStep, Limits, StepResult};
use crate::domain::HostSpec;
use crate::plan::Step;
use crate::store::{self, AuditEntry, AuditOutcome, AuditReason, HostHealth};
use bollard::Docker;
use etcd_client::{Client, Compare};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

pub(super) struct Round {
    pub client: Client,
    pub prefix: String,
    pub lease: i64,
    pub health: Vec<HostHealth>,
    pub steps: Vec<Step>,
    pub engines: HashMap<String, Docker>,
    /// Where to connect engines the round needs and `engines` lacks.
    pub hosts: HashMap<String, HostSpec>,
    pub limits: Limits,
    pub drain: Duration,
    /// Holds while this leadership stands: every rollout write is guarded by it.
    pub fence: Compare,
    pub writes: Vec<Write>,
    pub initiations: Vec<Initiation>,
    pub discards: Vec<(StoredCommand, String)>,
    pub restores: Vec<Rollout>,
    pub now_ms: u64,
}

#[derive(Default)]
pub(super) struct Report {
    /// Clients connected during the round, for the next rounds.
    pub connected: HashMap<String, Docker>,
    /// Verdicts written.
    pub health: Vec<HostHealth>,
    pub engine: Vec<StepResult>,
    pub registered: Vec<((String, u32), String)>,
    pub deregistered: Vec<(String, u32)>,
    /// (app, message) for everything that failed.
    pub errors: Vec<(String, String)>,
    /// Rollout states stored.
    pub saved: Vec<Rollout>,
}

pub(super) async fn run(mut round: Round) -> Report {
    let mut report = Report::default();
    for verdict in std::mem::take(&mut round.health) {
        match store::set_host_health(&mut round.client, &round.prefix, round.lease, &verdict).await
        {
            Ok(_) => report.health.push(verdict),
            Err(e) => tracing::warn!(host = verdict.host, error = %e, "cannot write host health"),
        }
    }

    rollouts(&mut round, &mut report).await;

    let mut underegistered: BTreeSet<(String, u32)> = BTreeSet::new();
    let mut drained: BTreeSet<(String, u32)> = BTreeSet::new();
    for step in &round.steps {
        let Step::Deregister { app, instance, .. } = step else {
            continue;
        };
        let name = instance.to_string();
        match store::deregister(&mut round.client, &round.prefix, app, &name).await {
            Ok(removed) => {
                if removed {
                    drained.insert((app.clone(), *instance));
                }
                report.deregistered.push((app.clone(), *instance));
            }
            Err(e) => {
                report
                    .errors
                    .push((app.clone(), format!("deregister {app}/{instance}: {e}")));
                underegistered.insert((app.clone(), *instance));
            }
        }
    }

    let engine_steps: Vec<EngineStep> = round
        .steps
        .iter()
        .filter(|s| match s {
            Step::Stop(stop) => !underegistered.contains(&(stop.app.clone(), stop.instance)),
            _ => true,
        })
        .filter_map(EngineStep::from_step)
        .collect();
    let needed: BTreeSet<&str> = engine_steps.iter().map(EngineStep::host).collect();
    for host in needed {
        if round.engines.contains_key(host) {
            continue;
        }
        let Some(spec) = round.hosts.get(host) else {
            continue;
        };
        match docker::connect(spec).await {
            Ok(client) => {
                round.engines.insert(host.to_owned(), client.clone());
                report.connected.insert(host.to_owned(), client);
            }
            Err(e) => tracing::warn!(host, error = %e, "cannot connect to the engine"),
        }
    }
    let (wait, now): (Vec<EngineStep>, Vec<EngineStep>) =
        engine_steps.into_iter().partition(|s| match s {
            EngineStep::Stop(stop) => drained.contains(&(stop.app.clone(), stop.instance)),
            EngineStep::Start(_) => false,
        });
    let drain = round.drain;
    let (mut done, later) =
        tokio::join!(docker::execute(&round.engines, now, round.limits), async {
            if wait.is_empty() {
                return Vec::new();
            }
            tokio::time::sleep(drain).await;
            docker::execute(&round.engines, wait, round.limits).await
        });
    done.extend(later);
    report.engine = done;
    for r in &report.engine {
        if let Err(e) = &r.result {
            report.errors.push((r.step.app().to_owned(), e.to_string()));
        }
    }

    for step in &round.steps {
        let Step::Register {
            app,
            instance,
            endpoint,
        } = step
        else {
            continue;
        };
        let name = instance.to_string();
        let registered = store::register(
            &mut round.client,
            &round.prefix,
            round.lease,
            app,
            &name,
            endpoint,
        )
        .await;
        match registered {
            Ok(_) => report
                .registered
                .push(((app.clone(), *instance), endpoint.container.clone())),
            Err(e) => report
                .errors
                .push((app.clone(), format!("register {app}/{instance}: {e}"))),
        }
    }
    report
}

/// Stores the rollout states (each write's steps join the round only if it was stored),
/// begins new rollouts, writes back rolled-back specs and drops commands nothing can take.
async fn rollouts(round: &mut Round, report: &mut Report) {
    let (client, prefix, fence) = (&mut round.client, round.prefix.as_str(), &round.fence);
    let mut audits: Vec<AuditEntry> = Vec::new();
    for (c, why) in std::mem::take(&mut round.discards) {
        match store::discard_command(client, prefix, fence, &c.app, c.mod_revision).await {
            Ok(_) => {
                // The stored rollout refused the command (nothing to pause, say).
                let mut entry = AuditEntry::now(store::verb(c.command.command), &c.app, "", why)
                    .of_app(&c.app, AuditOutcome::Refused, Some(AuditReason::Invalid));
                entry.who = c.command.who;
                audits.push(entry);
            }
            Err(e) => tracing::warn!(app = c.app, error = %e, "cannot drop a command"),
        }
    }
    for w in std::mem::take(&mut round.writes) {
        let app = w.rollout.app().to_owned();
        match store::save_rollout(client, prefix, fence, &w.rollout, w.applied).await {
            Ok(_) => {
                round.steps.extend(w.steps);
                audits.extend(w.audits);
                report.saved.push(w.rollout);
            }
            Err(e) => report.errors.push((
                app.clone(),
                format!("cannot store the rollout of {app}: {e}"),
            )),
        }
    }
    for init in std::mem::take(&mut round.initiations) {
        let app = init.to_spec.name.clone();
        let begun = begin::begin(
            client,
            prefix,
            &mut round.engines,
            &round.hosts,
            init,
            round.now_ms,
        )
        .await;
        let saved = match begun {
            Ok((rollout, entry)) => store::save_rollout(client, prefix, fence, &rollout, None)
                .await
                .map(|_| (rollout, entry)),
            Err(e) => Err(e),
        };
        match saved {
            Ok((rollout, entry)) => {
                tracing::info!(app, phase = %rollout.state.phase, "rollout begun");
                audits.push(entry);
                report.saved.push(rollout);
            }
            Err(e) => report.errors.push((
                app.clone(),
                format!("cannot begin the rollout of {app}: {e}"),
            )),
        }
    }
    for r in std::mem::take(&mut round.restores) {
        match begin::restore(client, prefix, &r).await {
            Ok(entry) => audits.extend(entry),
            Err(e) => report.errors.push((
                r.app().to_owned(),
                format!("cannot write back the spec of {}: {e}", r.app()),
            )),
        }
    }
    for entry in audits {
        if let Err(e) = store::record(client, prefix, &entry).await {
            tracing::warn!(error = %e, "cannot write to the audit trail");
        }
    }
}
