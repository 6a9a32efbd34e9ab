//! `ctl trace APP [-o json]`: the trace the cockpit shows (`cluster::Trace`), from the
//! same gathered picture as `ctl status`, as text or as JSON (schema in README).

use super::output::{json as to_json, table};
use super::{CtlError, OutputArg};
use crate::agent::client;
use crate::cluster::{ClusterState, Hop, Node, Probes, Trace};
use crate::config::Config;
use crate::docker;
use crate::domain::app::valid_app_name;
use crate::domain::logs::format_timestamp;
use crate::domain::probe::ProbeReport;
use crate::domain::sanitize::clean;
use crate::store;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Instant;

/// Prints `app`'s trace; an app the picture does not know is the caller's mistake.
pub async fn trace(
    config: &Config,
    app: &str,
    output: OutputArg,
    out: &mut String,
) -> Result<(), CtlError> {
    if !valid_app_name(app) {
        return Err(CtlError::BadInput(format!(
            "app name {app:?}: must be 1-63 lowercase letters, digits or inner '-'"
        )));
    }
    super::etcd_config(config)?;
    let (cluster, etcd_error) = super::status::gather(config).await;
    if let Some(error) = etcd_error {
        return Err(CtlError::Failed(format!(
            "etcd: {error} (no specs to trace)"
        )));
    }
    let mut cluster = cluster;
    cluster.probes = agents_probes(config).await.into();
    let mut trace = Trace::of(&cluster, app);
    inspect_instances(&cluster, &mut trace).await;
    if !trace.known {
        return Err(CtlError::BadInput(format!(
            "no app named {app:?}: no spec, container or endpoint"
        )));
    }
    if output.json() {
        out.push_str(&to_json(&json_of(&trace)));
    } else {
        out.push_str(&text(&trace));
    }
    Ok(())
}

/// Every registered agent's last probe report, read once, by host; an agent that does
/// not answer (or has not finished a round) leaves its host's hops not measured.
async fn agents_probes(config: &Config) -> BTreeMap<String, ProbeReport> {
    let agents = match super::connect(config).await {
        Ok(mut client) => store::list_agents(&mut client, &config.prefix).await,
        Err(e) => {
            tracing::warn!("cannot read the agents: {e}");
            return BTreeMap::new();
        }
    };
    let Ok(agents) = agents else {
        return BTreeMap::new();
    };
    let clients = client::Clients::default();
    let reads = agents.into_iter().map(|(host, record)| {
        // A host's agent takes the TLS files its engine is reached with.
        let tls = (config.hosts.iter())
            .find(|h| h.name == host)
            .and_then(|h| h.tls.as_ref());
        let http = clients.for_agent(&record.address, tls);
        async move {
            let report = client::probes(&http.ok()?, &record.address).await;
            report.ok().map(|r| (host, r))
        }
    });
    futures::future::join_all(reads)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Restart counts and last health checks of the trace's instances: the picture `ctl`
/// gathers lists containers without inspecting them, so the app's own are inspected
/// here, every host at once. An engine that does not answer leaves them unknown.
async fn inspect_instances(cluster: &ClusterState, trace: &mut Trace) {
    let mut ids: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for node in &trace.instances {
        ids.entry(&node.host).or_default().push(node.id.clone());
    }
    let reads = ids.into_iter().map(|(host, ids)| async move {
        let spec = cluster.host(host)?.spec.clone();
        let docker = docker::connect(&spec).await.ok()?;
        Some((host.to_owned(), docker::inspect_all(&docker, &ids).await))
    });
    let read: BTreeMap<String, _> = (futures::future::join_all(reads).await)
        .into_iter()
        .flatten()
        .collect();
    for node in &mut trace.instances {
        if let Some(answer) = read.get(&node.host).and_then(|r| r.get(&node.id)) {
            node.restarts = answer.restarts;
            node.last_check = answer.last_check.clone();
        }
    }
}

/// The summary, then callers, instances and dependencies as tables.
pub fn text(trace: &Trace) -> String {
    let mut out = format!("trace {}\n{}\n", trace.app, clean(&trace.summary()));
    let hop_rows = |hops: &[Hop]| {
        (hops.iter())
            .map(|h| {
                vec![
                    h.verdict.glyph().to_owned(),
                    format!("{} → {}", h.caller, h.callee),
                    h.describe(),
                    h.probes.to_string(),
                ]
            })
            .collect::<Vec<_>>()
    };
    let hop_header = ["", "HOP", "ENDPOINTS", "PROBES"];
    let section = |out: &mut String, title: &str, rows: Vec<Vec<String>>, header: &[&str]| {
        out.push('\n');
        if rows.is_empty() {
            out.push_str(&format!("{title}: none\n"));
        } else {
            out.push_str(&format!("{title}:\n"));
            out.push_str(&table(header, rows));
        }
    };
    section(&mut out, "callers", hop_rows(&trace.callers), &hop_header);
    let nodes = trace.instances.iter().map(node_row).collect();
    let node_header = [
        "HOST",
        "CONTAINER",
        "ID",
        "REVISION",
        "STATE",
        "HEALTH",
        "UP",
        "RESTARTS",
        "ENDPOINT",
        "LOAD",
        "LAST CHECK",
    ];
    section(&mut out, "instances", nodes, &node_header);
    section(
        &mut out,
        "dependencies",
        hop_rows(&trace.dependencies),
        &hop_header,
    );
    out
}

fn node_row(n: &Node) -> Vec<String> {
    let dash = || "-".to_owned();
    vec![
        n.host.clone(),
        n.container.clone(),
        n.id.clone(),
        n.revision.to_string(),
        n.state.to_string(),
        n.health.as_str().to_owned(),
        n.uptime.clone().unwrap_or_else(dash),
        n.restarts.map_or_else(dash, |r| r.to_string()),
        (n.endpoint.as_ref()).map_or_else(|| "✗ not registered".to_owned(), ToString::to_string),
        n.host_load.map_or_else(dash, |l| format!("{l:.0}%")),
        n.check_words(Instant::now()),
    ]
}

/// The last health check as `ctl trace -o json` gives it (schema in README).
fn check_json(node: &Node) -> Value {
    let Some(c) = &node.last_check else {
        return Value::Null;
    };
    json!({
        "start": c.started.map(format_timestamp),
        "end": c.ended.map(format_timestamp),
        "age_seconds": c.age(Instant::now()).map(|d| d.as_secs()),
        "exit_code": c.exit_code,
        "ok": c.ok(),
        "output": c.output,
    })
}

/// A hop's probes: the state, and per caller host the agent's figures for the callee
/// (as `/v1/probes` gives them) with the host's name.
fn probes_json(probes: &Probes) -> Value {
    let hosts: Vec<Value> = match probes {
        Probes::NotMeasured => Vec::new(),
        Probes::Measured(hosts) => (hosts.iter())
            .map(|h| {
                let mut figures = serde_json::to_value(&h.figures).unwrap_or(Value::Null);
                if let Some(map) = figures.as_object_mut() {
                    map.insert("host".to_owned(), json!(h.host));
                    map.insert("http_status".to_owned(), json!(h.http_status()));
                }
                figures
            })
            .collect(),
    };
    json!({"state": probes.as_str(), "reason": probes.reason(), "hosts": hosts})
}

/// `ctl trace -o json` (schema in README).
pub fn json_of(trace: &Trace) -> Value {
    let hops = |hops: &[Hop]| -> Vec<Value> {
        (hops.iter())
            .map(|h| {
                json!({
                    "caller": h.caller,
                    "callee": h.callee,
                    "verdict": h.verdict.as_str(),
                    "endpoints_registered": h.registered,
                    "instances": h.instances,
                    "problem": (h.verdict != crate::cluster::Verdict::Healthy).then(|| h.describe()),
                    "probes": probes_json(&h.probes),
                })
            })
            .collect()
    };
    let instances: Vec<Value> = (trace.instances.iter())
        .map(|n| {
            json!({
                "host": n.host,
                "container": n.container,
                "id": n.id,
                "instance": n.instance,
                "revision": n.revision,
                "state": n.state.as_str(),
                "health": n.health.as_str(),
                "uptime": n.uptime,
                "restarts": n.restarts,
                "last_check": check_json(n),
                "endpoint": n.endpoint.as_ref().map(|e| json!({
                    "address": e.address,
                    "port": e.port,
                })),
                "host_load_percent": n.host_load,
            })
        })
        .collect();
    json!({
        "app": trace.app,
        "summary": trace.summary(),
        "worst": trace.worst().map(|h| json!({"caller": h.caller, "callee": h.callee})),
        "callers": hops(&trace.callers),
        "instances": instances,
        "dependencies": hops(&trace.dependencies),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::trace::tests::picture;

    #[test]
    fn text_and_json_name_the_worst_hop_and_mark_probes_not_measured() {
        let trace = Trace::of(&picture(0), "web");
        let out = text(&trace);
        assert!(
            out.starts_with("trace web\n✗ web → api: 0/2 endpoints registered\n"),
            "{out}"
        );
        assert!(out.contains("cron → web"), "{out}");
        assert!(out.contains("ledger is declared but not an app"), "{out}");
        assert!(out.contains("not measured (no agent probes yet)"), "{out}");
        let doc = json_of(&trace);
        assert_eq!(doc["worst"]["callee"], "api");
        let api = &doc["dependencies"][0];
        assert_eq!(api["verdict"], "not_registered");
        assert_eq!(api["endpoints_registered"], 0);
        assert_eq!(api["probes"]["state"], "not_measured");
        assert_eq!(doc["instances"][0]["endpoint"]["port"], 20000);
        assert_eq!(doc["dependencies"][1]["verdict"], "not_an_app");
    }
}
