//! One round of the leader's work, run as a task of its own so the loop keeps listening:
//! host verdicts, then deregistrations, then the engines' stops and starts, then
//! registrations. A stop whose deregistration failed is not run.

use crate::docker::{self, EngineStep, Limits, StepResult};
use crate::model::HostSpec;
use crate::plan::{Endpoint, Step};
use crate::store::{self, HostHealth};
use bollard::Docker;
use etcd_client::Client;
use std::collections::{BTreeSet, HashMap};

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

    let mut underegistered: BTreeSet<(String, u32)> = BTreeSet::new();
    for step in &round.steps {
        let Step::Deregister { app, instance, .. } = step else {
            continue;
        };
        let name = instance.to_string();
        match store::deregister(&mut round.client, &round.prefix, app, &name).await {
            Ok(_) => report.deregistered.push((app.clone(), *instance)),
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
    report.engine = docker::execute(&round.engines, engine_steps, round.limits).await;
    for r in &report.engine {
        if let Err(e) = &r.result {
            let app = match &r.step {
                EngineStep::Start(s) => &s.app,
                EngineStep::Stop(s) => &s.app,
            };
            report.errors.push((app.clone(), e.to_string()));
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
        let record = store_endpoint(app, *instance, endpoint);
        match store::register(&mut round.client, &round.prefix, round.lease, &record).await {
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

fn store_endpoint(app: &str, instance: u32, e: &Endpoint) -> store::Endpoint {
    store::Endpoint {
        service: app.to_owned(),
        instance: instance.to_string(),
        host: e.host.clone(),
        address: e.address.clone(),
        port: e.port,
        container: e.container.clone(),
        revision: e.revision,
    }
}
