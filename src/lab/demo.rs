//! Unmanaged demo containers, so a fresh lab's grid has something to show: a web server
//! per host, one that fails its health check, and a CPU burner that lifts its host's load
//! into the warning colour.

use super::images::REPO;
use super::{Lab, LabError, process};
use crate::config::{DEFAULT_PREFIX, EtcdConfig};
use crate::domain::app::AppSpec;
use crate::domain::sanitize::clean;
use crate::store;
use bollard::models::{
    ContainerCreateBody, HealthConfig, HostConfig, RestartPolicy, RestartPolicyNameEnum,
};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

/// Every demo container carries `wheelhouse.demo=true`.
pub const LABEL: &str = "wheelhouse.demo";
/// Web servers listen on WEB_PORT + host index, on their host's address.
pub const WEB_PORT: u16 = 9001;
pub const BROKEN_PORT: u16 = 9100;
/// The engines report NCPU=2, so 1.5 CPUs reads as ~75% on the burner's host.
pub const BURNER_NANO_CPUS: i64 = 1_500_000_000;

/// What one demo container is and where it runs.
struct Demo {
    host: usize,
    name: String,
    config: ContainerCreateBody,
}

/// Replaces any earlier demo containers with a fresh set: on every host a web server
/// (`wheelhouse/demo:1` or `:2`, alternating); on the first host also `demo:broken`; on the
/// second host (the first when there is one) a CPU burner limited to 1.5 CPUs.
pub fn start_demo_containers(lab: &Lab) -> Result<(), LabError> {
    let filter = format!("{LABEL}=true");
    for i in 0..lab.hosts().len() {
        let engine = lab.engine(i);
        for id in engine.containers_with_label(&filter)? {
            engine.remove_container(&id)?;
        }
    }
    for demo in plan(lab) {
        lab.engine(demo.host).run(&demo.name, demo.config)?;
    }
    Ok(())
}

fn plan(lab: &Lab) -> Vec<Demo> {
    let hosts = lab.hosts();
    let mut out = Vec::new();
    for (i, host) in hosts.iter().enumerate() {
        let version = if i % 2 == 0 { "1" } else { "2" };
        let port = WEB_PORT.saturating_add(u16::try_from(i).unwrap_or(u16::MAX));
        out.push(Demo {
            host: i,
            name: format!("demo-web-{}", i + 1),
            config: web(version, &host.address, port),
        });
    }
    if let Some(first) = hosts.first() {
        out.push(Demo {
            host: 0,
            name: "demo-broken".to_owned(),
            config: web("broken", &first.address, BROKEN_PORT),
        });
    }
    if !hosts.is_empty() {
        let host = if hosts.len() > 1 { 1 } else { 0 };
        out.push(Demo {
            host,
            name: "demo-burner".to_owned(),
            config: burner(),
        });
    }
    out
}

fn web(tag: &str, address: &str, port: u16) -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some(format!("{REPO}:{tag}")),
        env: Some(vec![format!("ADDRESS={address}"), format!("PORT={port}")]),
        labels: Some(label()),
        host_config: Some(host_config("host", None)),
        ..Default::default()
    }
}

/// Two busy loops (so it can use more than one CPU), capped by NanoCpus; the TERM trap
/// lets it stop at once.
fn burner() -> ContainerCreateBody {
    let script = "trap 'exit 0' TERM INT; while :; do :; done & while :; do :; done";
    ContainerCreateBody {
        image: Some(format!("{REPO}:1")),
        entrypoint: Some(["/bin/sh", "-c", script].map(str::to_owned).to_vec()),
        labels: Some(label()),
        healthcheck: Some(HealthConfig {
            test: Some(vec!["NONE".to_owned()]),
            ..Default::default()
        }),
        host_config: Some(host_config("none", Some(BURNER_NANO_CPUS))),
        ..Default::default()
    }
}

fn label() -> HashMap<String, String> {
    HashMap::from([(LABEL.to_owned(), "true".to_owned())])
}

fn host_config(network: &str, nano_cpus: Option<i64>) -> HostConfig {
    HostConfig {
        network_mode: Some(network.to_owned()),
        nano_cpus,
        restart_policy: Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
            maximum_retry_count: None,
        }),
        ..Default::default()
    }
}

/// Who runs the lab's controller after `ensure_controller`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControllerRun {
    /// Another controller holds the lease (named by its id, cleaned to print).
    Elsewhere(String),
    /// The lab's own controller process (started now, or still running from before).
    Lab(u32),
}

/// Starts `exe controller` for the lab unless some controller already holds the lease.
/// Its pid goes into the lab's state, so `lab down` stops it with the rest.
pub fn ensure_controller(lab: &mut Lab, exe: &Path) -> Result<ControllerRun, LabError> {
    if let Some(p) = lab.state.controller.filter(|p| p.alive()) {
        return Ok(ControllerRun::Lab(p.pid));
    }
    if let Some(leader) = current_leader(lab.etcd_endpoints()) {
        // Read from etcd, and printed by `demo` and `lab up`.
        return Ok(ControllerRun::Elsewhere(clean(&leader).into_owned()));
    }
    let mut cmd = Command::new(exe);
    cmd.arg("controller")
        .arg("--config")
        .arg(lab.config_path())
        .arg("--log-file")
        .arg(lab.dir().join("controller.log"));
    let log = lab.dir().join("controller.out");
    let proc = process::spawn(cmd, "the lab's controller", &log)?;
    lab.state.controller = Some(proc);
    lab.state.write(lab.dir())?;
    Ok(ControllerRun::Lab(proc.pid))
}

/// The id of the controller holding the lease, if etcd answers and one does.
fn current_leader(endpoints: Vec<String>) -> Option<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let cfg = EtcdConfig {
        endpoints,
        ..EtcdConfig::default()
    };
    runtime.block_on(async {
        let client = store::connect(&cfg).await.ok()?;
        store::current_leader(&client, DEFAULT_PREFIX)
            .await
            .ok()
            .flatten()
    })
}

/// The demo's app spec, shipped as examples/web.toml.
const WEB_SPEC: &str = include_str!("../../examples/web.toml");

/// Creates the demo app unless an app of that name exists (an operator's edits stay).
/// Returns whether it was created.
pub fn ensure_demo_app(lab: &Lab) -> Result<bool, LabError> {
    let spec = AppSpec::from_toml(Path::new("examples/web.toml"), WEB_SPEC)
        .map_err(|e| LabError::Invalid(e.to_string()))?;
    let cfg = EtcdConfig {
        endpoints: lab.etcd_endpoints(),
        ..EtcdConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LabError::io("start a runtime".to_owned(), e))?;
    runtime
        .block_on(async {
            let mut client = store::connect(&cfg).await?;
            match store::put_app(&mut client, DEFAULT_PREFIX, &spec, store::Expect::Absent).await {
                Ok(_) => Ok(true),
                Err(store::StoreError::Conflict { .. }) => Ok(false),
                Err(e) => Err(e),
            }
        })
        .map_err(|e| LabError::Invalid(format!("demo app: {e}")))
}
