//! Unmanaged demo containers, so a fresh lab's grid has something to show: a web server
//! per host, one that fails its health check, and a CPU burner that lifts its host's load
//! into the warning colour.

use super::images::REPO;
use super::{Lab, LabError};
use serde_json::{Value, json};

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
    config: Value,
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
        lab.engine(demo.host).run(&demo.name, &demo.config)?;
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

fn web(tag: &str, address: &str, port: u16) -> Value {
    json!({
        "Image": format!("{REPO}:{tag}"),
        "Env": [format!("ADDRESS={address}"), format!("PORT={port}")],
        "Labels": { LABEL: "true" },
        "HostConfig": {
            "NetworkMode": "host",
            "RestartPolicy": { "Name": "unless-stopped" },
        },
    })
}

/// Two busy loops (so it can use more than one CPU), capped by NanoCpus; the TERM trap
/// lets it stop at once.
fn burner() -> Value {
    json!({
        "Image": format!("{REPO}:1"),
        "Entrypoint": ["/bin/sh", "-c",
            "trap 'exit 0' TERM INT; while :; do :; done & while :; do :; done"],
        "Labels": { LABEL: "true" },
        "Healthcheck": { "Test": ["NONE"] },
        "HostConfig": {
            "NetworkMode": "none",
            "NanoCpus": BURNER_NANO_CPUS,
            "RestartPolicy": { "Name": "unless-stopped" },
        },
    })
}
