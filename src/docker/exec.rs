//! The executor: runs a plan's start and stop steps against the engines, with bounded
//! parallelism per host and overall, and reports a result per step.
//!
//! Images are never pulled (no registry is reachable from a lab, and a pull would hide a
//! typo behind a long wait): an image the engine does not have is an error.

use super::connect::describe;
use crate::domain::app::{AppSpec, Probe};
use crate::plan::{Start, Step, Stop};
use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, HealthConfig, HostConfig, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptions, ListImagesOptions, RemoveContainerOptions, StopContainerOptions,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::timeout;

/// One engine call (inspect, create, start, remove) may take this long.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How many engine steps run at once: per host, and in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_host: usize,
    pub total: usize,
    /// How long `docker stop` waits after SIGTERM before SIGKILL.
    pub stop_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_host: 4,
            total: 16,
            stop_grace: Duration::from_secs(10),
        }
    }
}

/// A step the engines carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineStep {
    /// Boxed: a start carries the whole spec.
    Start(Box<Start>),
    Stop(Stop),
}

impl EngineStep {
    /// The engine part of a plan step; registrations are etcd's business.
    pub fn from_step(step: &Step) -> Option<EngineStep> {
        match step {
            Step::Start(s) => Some(EngineStep::Start(s.clone())),
            Step::Stop(s) => Some(EngineStep::Stop(s.clone())),
            Step::Register { .. } | Step::Deregister { .. } => None,
        }
    }

    pub fn host(&self) -> &str {
        match self {
            EngineStep::Start(s) => &s.host,
            EngineStep::Stop(s) => &s.host,
        }
    }

    pub fn app(&self) -> &str {
        match self {
            EngineStep::Start(s) => &s.app,
            EngineStep::Stop(s) => &s.app,
        }
    }
}

impl std::fmt::Display for EngineStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineStep::Start(s) => s.fmt(f),
            EngineStep::Stop(s) => s.fmt(f),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    #[error("{host}: no connection to its engine")]
    NoEngine { host: String },
    #[error(
        "{host}: image {image} is not there (wheelhouse never pulls: import or load it on the host)"
    )]
    ImageMissing { host: String, image: String },
    #[error("{host}: {what}: {message}")]
    Engine {
        host: String,
        what: &'static str,
        message: String,
    },
    #[error("{host}: {what} timed out after {}s", CALL_TIMEOUT.as_secs())]
    Timeout { host: String, what: &'static str },
}

/// What a step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    /// Created and started this container.
    Started { container: String },
    /// The container is gone (stopped and removed, or it was already gone).
    Removed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepResult {
    pub step: EngineStep,
    pub result: Result<Done, ExecError>,
}

/// Runs `steps` against `engines` (host name -> client), at most `limits.per_host` at a
/// time on one host and `limits.total` in all. Results come in the order of `steps`.
pub async fn execute(
    engines: &HashMap<String, Docker>,
    steps: Vec<EngineStep>,
    limits: Limits,
) -> Vec<StepResult> {
    let total = Arc::new(Semaphore::new(limits.total.max(1)));
    let mut per_host: HashMap<&str, Arc<Semaphore>> = HashMap::new();
    for step in &steps {
        per_host
            .entry(step.host())
            .or_insert_with(|| Arc::new(Semaphore::new(limits.per_host.max(1))));
    }
    let runs = steps.iter().map(|step| {
        let host_slots = per_host.get(step.host()).cloned();
        let total = total.clone();
        let docker = engines.get(step.host());
        async move {
            // The host's slot first: waiting for a busy host holds none of the total.
            let _host = match host_slots {
                Some(s) => s.acquire_owned().await.ok(),
                None => None,
            };
            let _slot = total.acquire_owned().await.ok();
            let result = match docker {
                None => Err(ExecError::NoEngine {
                    host: step.host().to_owned(),
                }),
                Some(docker) => match step {
                    EngineStep::Start(s) => start(docker, s).await,
                    EngineStep::Stop(s) => stop(docker, s, limits.stop_grace).await,
                },
            };
            match &result {
                Ok(_) => tracing::info!(step = %step, "done"),
                Err(e) => tracing::warn!(step = %step, error = %e, "failed"),
            }
            result
        }
    });
    let results = futures::future::join_all(runs).await;
    steps
        .into_iter()
        .zip(results)
        .map(|(step, result)| StepResult { step, result })
        .collect()
}

/// Checks the image is there, creates the container and starts it. A container that was
/// created but would not start is removed again, so nothing is left half-started.
async fn start(docker: &Docker, s: &Start) -> Result<Done, ExecError> {
    let host = &s.host;
    match call(host, "inspect image", docker.inspect_image(&s.spec.image)).await {
        Ok(_) => {}
        Err(Failure::NotFound) => {
            return Err(ExecError::ImageMissing {
                host: host.clone(),
                image: s.spec.image.clone(),
            });
        }
        Err(f) => return Err(f.into_error(host, "inspect image")),
    }
    let options = CreateContainerOptions {
        name: Some(s.name.clone()),
        ..Default::default()
    };
    let created = call(
        host,
        "create",
        docker.create_container(Some(options), create_body(s)),
    )
    .await
    .map_err(|f| f.into_error(host, "create"))?;
    let id = created.id;
    if let Err(f) = call(host, "start", docker.start_container(&id, None)).await {
        if let Err(cleanup) = remove(docker, host, &id).await {
            tracing::warn!(host, container = id, error = %cleanup, "cannot remove a container that failed to start");
        }
        return Err(f.into_error(host, "start"));
    }
    Ok(Done::Started { container: id })
}

/// Stops (SIGTERM, then SIGKILL after the grace) and removes; a container already gone
/// counts as removed.
async fn stop(docker: &Docker, s: &Stop, grace: Duration) -> Result<Done, ExecError> {
    let host = &s.host;
    let t = i32::try_from(grace.as_secs()).unwrap_or(i32::MAX);
    let options = StopContainerOptions {
        t: Some(t),
        ..Default::default()
    };
    let stopping = docker.stop_container(&s.container, Some(options));
    match timeout(grace + CALL_TIMEOUT, stopping).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => match Failure::from(err) {
            Failure::NotFound => return Ok(Done::Removed),
            f => return Err(f.into_error(host, "stop")),
        },
        Err(_) => {
            return Err(ExecError::Timeout {
                host: host.clone(),
                what: "stop",
            });
        }
    }
    remove(docker, host, &s.container).await?;
    Ok(Done::Removed)
}

async fn remove(docker: &Docker, host: &str, id: &str) -> Result<(), ExecError> {
    let options = RemoveContainerOptions {
        force: true,
        ..Default::default()
    };
    match call(host, "remove", docker.remove_container(id, Some(options))).await {
        Ok(()) | Err(Failure::NotFound) => Ok(()),
        Err(f) => Err(f.into_error(host, "remove")),
    }
}

/// The container a `Start` creates: the spec's image, command (replacing the image's
/// entrypoint and command) and environment plus the
/// instance's ports and address, host networking, CPU and memory limits (swap = memory,
/// so none), the restart policy, Docker's health check for a command probe, and labels.
pub fn create_body(s: &Start) -> ContainerCreateBody {
    let spec = &s.spec;
    let mut env = spec.env.clone();
    if let Some(port) = s.port() {
        env.insert("PORT".to_owned(), port.to_string());
    }
    for (name, port) in &s.ports {
        env.insert(AppSpec::port_env(name), port.to_string());
    }
    env.insert(
        "ADDRESS".to_owned(),
        s.address.clone().unwrap_or_else(|| "0.0.0.0".to_owned()),
    );
    env.insert("HOST".to_owned(), s.host.clone());
    let memory = i64::try_from(spec.memory).unwrap_or(i64::MAX);
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        // The whole command line, as `docker run --entrypoint`: images built for the lab
        // have an entrypoint that would otherwise take the command as its arguments.
        entrypoint: spec.command.clone(),
        env: Some(env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(s.labels().into_iter().collect()),
        // Without a TTY the engine keeps stdout and stderr apart for `logs`.
        tty: Some(false),
        healthcheck: health_config(spec),
        host_config: Some(HostConfig {
            network_mode: Some("host".to_owned()),
            nano_cpus: Some(spec.nano_cpus()),
            memory: Some(memory),
            memory_swap: Some(memory),
            restart_policy: Some(RestartPolicy {
                name: Some(restart_name(spec.restart)),
                maximum_retry_count: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn restart_name(policy: crate::domain::app::RestartPolicy) -> RestartPolicyNameEnum {
    use crate::domain::app::RestartPolicy as P;
    match policy {
        P::No => RestartPolicyNameEnum::NO,
        P::OnFailure => RestartPolicyNameEnum::ON_FAILURE,
        P::Always => RestartPolicyNameEnum::ALWAYS,
        P::UnlessStopped => RestartPolicyNameEnum::UNLESS_STOPPED,
    }
}

/// Docker runs a command probe; an HTTP probe is the controller's, so the image's own
/// health check (if any) is left as it is.
fn health_config(spec: &AppSpec) -> Option<HealthConfig> {
    let health = spec.health.as_ref()?;
    let Probe::Command(command) = &health.probe else {
        return None;
    };
    let nanos = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    Some(HealthConfig {
        test: Some(
            std::iter::once("CMD".to_owned())
                .chain(command.iter().cloned())
                .collect(),
        ),
        interval: Some(nanos(health.interval)),
        timeout: Some(nanos(health.timeout)),
        retries: Some(i64::from(health.retries)),
        start_period: Some(nanos(health.start_period)),
        start_interval: None,
    })
}

/// The repo:tag names of the images an engine holds.
pub async fn image_tags(docker: &Docker, host: &str) -> Result<BTreeSet<String>, ExecError> {
    let images = call(
        host,
        "list images",
        docker.list_images(Some(ListImagesOptions::default())),
    )
    .await
    .map_err(|f| f.into_error(host, "list images"))?;
    Ok(images.into_iter().flat_map(|i| i.repo_tags).collect())
}

/// How often Docker's restart policy has restarted the container.
pub async fn restart_count(docker: &Docker, host: &str, id: &str) -> Result<u64, ExecError> {
    let info = call(host, "inspect", docker.inspect_container(id, None))
        .await
        .map_err(|f| f.into_error(host, "inspect"))?;
    Ok(info
        .restart_count
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0))
}

/// An engine call's failure, with "not found" kept apart (it often means "already done").
enum Failure {
    NotFound,
    Timeout,
    Other(String),
}

impl From<bollard::errors::Error> for Failure {
    fn from(err: bollard::errors::Error) -> Self {
        match &err {
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            } => Failure::NotFound,
            _ => Failure::Other(describe(&err)),
        }
    }
}

impl Failure {
    fn into_error(self, host: &str, what: &'static str) -> ExecError {
        match self {
            Failure::NotFound => ExecError::Engine {
                host: host.to_owned(),
                what,
                message: "not found".to_owned(),
            },
            Failure::Timeout => ExecError::Timeout {
                host: host.to_owned(),
                what,
            },
            Failure::Other(message) => ExecError::Engine {
                host: host.to_owned(),
                what,
                message,
            },
        }
    }
}

async fn call<T>(
    host: &str,
    what: &'static str,
    fut: impl Future<Output = Result<T, bollard::errors::Error>>,
) -> Result<T, Failure> {
    match timeout(CALL_TIMEOUT, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(err.into()),
        Err(_) => {
            tracing::debug!(host, what, "engine call timed out");
            Err(Failure::Timeout)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::app::HealthCheck;

    fn start() -> Start {
        let mut spec = AppSpec::new("web", "wheelhouse/demo:1");
        spec.ports = vec!["http".into(), "admin".into()];
        spec.env.insert("MODE".into(), "demo".into());
        spec.cpus = 0.5;
        spec.memory = 128 << 20;
        spec.health = Some(HealthCheck::new(Probe::Command(vec![
            "wget".into(),
            "-q".into(),
        ])));
        Start {
            app: "web".into(),
            instance: 3,
            host: "lab-1".into(),
            address: Some("127.0.1.1".into()),
            name: "web.3.abcdef01".into(),
            revision: 0x0abc_def0_1234,
            ports: vec![("http".into(), 20000), ("admin".into(), 20001)],
            spec,
        }
    }

    #[test]
    fn the_container_carries_ports_limits_health_and_labels() {
        let body = create_body(&start());
        let env = body.env.unwrap_or_default();
        for want in [
            "PORT=20000",
            "PORT_HTTP=20000",
            "PORT_ADMIN=20001",
            "ADDRESS=127.0.1.1",
            "HOST=lab-1",
            "MODE=demo",
        ] {
            assert!(env.iter().any(|e| e == want), "{want} in {env:?}");
        }
        assert_eq!(body.tty, Some(false));
        let host = body.host_config.unwrap_or_default();
        assert_eq!(host.network_mode.as_deref(), Some("host"));
        assert_eq!(host.nano_cpus, Some(500_000_000));
        assert_eq!(host.memory, Some(128 << 20));
        assert_eq!(host.memory_swap, host.memory);
        assert_eq!(
            host.restart_policy.and_then(|p| p.name),
            Some(RestartPolicyNameEnum::ON_FAILURE)
        );
        let health = body.healthcheck.unwrap_or_default();
        assert_eq!(
            health.test,
            Some(vec!["CMD".to_owned(), "wget".into(), "-q".into()])
        );
        assert_eq!(health.interval, Some(10_000_000_000));
        let labels = body.labels.unwrap_or_default();
        assert_eq!(
            labels.get("wheelhouse.instance").map(String::as_str),
            Some("3")
        );
        assert_eq!(
            labels.get("wheelhouse.port").map(String::as_str),
            Some("20000")
        );
        assert_eq!(body.entrypoint, None, "the image's own command");
    }

    #[test]
    fn http_probes_leave_the_image_health_check_alone() {
        let mut s = start();
        s.spec.health = Some(HealthCheck::new(Probe::Http("/health".into())));
        assert_eq!(create_body(&s).healthcheck, None);
        s.address = None;
        let env = create_body(&s).env.unwrap_or_default();
        assert!(env.iter().any(|e| e == "ADDRESS=0.0.0.0"));
    }
}
