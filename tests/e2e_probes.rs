//! Per-hop figures measured where the caller runs, on a real lab with agents (etcd, two
//! dockerd, an agent per host, a controller): `web` depends on `api` (the demo web server,
//! HTTP health path /health). The agent on web's host probes api's endpoints; `ctl trace
//! web -o json` shows both answering with connect and response times and status 200.
//! Then one api instance's server is frozen by hand (SIGSTOP: the kernel still accepts
//! connections, the GET gets no answer): web's host sees it not answering, and the
//! failures count, before the controller's own health check has it replaced; the
//! cockpit's trace shows the caller host's row under the hop going from 2/2 to 1/2.
//! (Removing the container is no test here: the controller starts it again on the same
//! port within a probe period.)

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecOptions};
use common::lab::{BIN, Controller, apply_demo_apps, ctl_ok, wait_until};
use common::tmux::Tmux;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use wheelhouse::lab::TestLab;

#[test]
fn the_callers_agent_measures_each_hop_and_sees_a_frozen_instance() {
    let lab = TestLab::up_with_agents(2, Path::new(BIN)).expect("lab up");
    let config = lab.config_path();
    apply_demo_apps(
        &lab,
        &[
            ("api", "instances = 2\n[health]\nhttp = \"/health\"\n"),
            ("web", "instances = 1\ndepends_on = [\"api\"]\n"),
        ],
    );
    let _controller = Controller::start(&config, &lab.dir().join("controller.log"));
    let trace = |app: &str| -> Value {
        let out = ctl_ok(&config, &["trace", app, "-o", "json"]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    };
    // web's host's agent reports api's two endpoints answering.
    wait_until(
        "api answering from web's host",
        Duration::from_secs(120),
        || {
            let web = trace("web");
            let probes = &web["dependencies"][0]["probes"];
            let host = &probes["hosts"][0];
            let ok = probes["state"] == "measured"
                && host["answering"] == 2
                && host["total"] == 2
                && host["http_status"] == 200;
            (!ok).then(|| web.to_string())
        },
    );
    let web = trace("web");
    let hop = &web["dependencies"][0];
    let host = &hop["probes"]["hosts"][0];
    assert_eq!(hop["verdict"], "healthy", "{web}");
    assert_eq!(host["state"], "probed");
    assert_eq!(host["callers"][0], "web");
    assert_eq!(host["http_path"], "/health");
    for figure in ["last", "p50", "p95"] {
        let connect = host["connect_ms"][figure].as_f64().unwrap();
        assert!((0.0..1000.0).contains(&connect), "connect {figure}: {web}");
        assert!(host["response_ms"][figure].is_f64(), "{web}");
    }
    let web_host = web["instances"][0]["host"].as_str().unwrap().to_owned();
    assert_eq!(
        host["host"],
        web_host.as_str(),
        "probed from web's own host"
    );
    assert_eq!(host["endpoints"].as_array().unwrap().len(), 2);
    println!("measured: {host}");

    // The cockpit's trace of web: under api's hop, a row for web's host with its figures.
    let tmux = Tmux::start("probes", 120, 30);
    tmux.run_cockpit(&config, &lab.dir().join("e2e-probes.log"));
    tmux.wait_text("apps (2)", Duration::from_secs(20));
    // Tab to the Apps panel (api first), down to web, enter.
    tmux.keys(&["Tab", "Down", "Enter"]);
    let host_row = |answering: &'static str| {
        let host = format!("↳ {web_host}");
        move |s: &str| {
            s.lines().any(|l| {
                l.contains(&host)
                    && l.contains(answering)
                    && l.contains("conn ")
                    && l.contains("fail/min")
            })
        }
    };
    let screen = tmux.wait_for("web's host's row", Duration::from_secs(30), host_row("2/2"));
    assert!(screen.contains("HTTP 200"), "{screen}");

    // Freeze one api instance's server: until the controller's health check has it
    // deregistered, web's host sees it not answering; its failures count for the window.
    let api = trace("api");
    let victim = &api["instances"][0];
    let socket = &(lab.hosts().iter())
        .find(|h| h.name == victim["host"])
        .unwrap()
        .socket;
    freeze_server(socket, victim["id"].as_str().unwrap());
    wait_until(
        "the frozen instance seen failing",
        Duration::from_secs(40),
        || {
            let web = trace("web");
            let host = &web["dependencies"][0]["probes"]["hosts"][0];
            let failing = host["answering"] == 1 && host["total"] == 2;
            (!failing).then(|| web.to_string())
        },
    );
    tmux.wait_for(
        "the host's row at 1/2",
        Duration::from_secs(30),
        host_row("1/2"),
    );
    tmux.keys(&["q"]);
    let web = trace("web");
    let hop = &web["dependencies"][0];
    println!("after the freeze: {hop}");
    assert_eq!(hop["verdict"], "not_answering", "{web}");
    let summary = web["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("✗ web → api: 1/2 endpoints answer, connect p95 "),
        "{summary}"
    );
    assert!(
        summary.ends_with(&format!(" ms from {web_host}")),
        "{summary}"
    );
    let host = &hop["probes"]["hosts"][0];
    assert!(host["failures_per_min"].as_f64().unwrap() > 0.0, "{hop}");
    let frozen = (host["endpoints"].as_array().unwrap().iter())
        .find(|e| e["ok"] == false)
        .unwrap();
    assert_eq!(frozen["error"], "GET /health: no status in 2s", "{hop}");
    let text = ctl_ok(&config, &["trace", "web"]);
    assert!(text.contains("endpoints answer"), "{text}");
    assert!(text.contains("failures/min"), "{text}");
}

/// Stops (SIGSTOP) the web server in container `id`, leaving the container running.
fn freeze_server(socket: &Path, id: &str) {
    let script = r#"for d in /proc/[0-9]*; do [ "$(cat $d/comm)" = httpd ] && kill -STOP "${d#/proc/}"; done; true"#;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let docker = Docker::connect_with_unix(
            &socket.display().to_string(),
            10,
            bollard::API_DEFAULT_VERSION,
        )
        .unwrap();
        let exec = CreateExecOptions {
            cmd: Some(vec!["/bin/sh", "-c", script]),
            ..Default::default()
        };
        let exec = docker.create_exec(id, exec).await.unwrap();
        let start = StartExecOptions {
            detach: true,
            ..Default::default()
        };
        docker.start_exec(&exec.id, Some(start)).await.unwrap();
    });
}
