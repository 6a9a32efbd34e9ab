//! The local lab on real etcd and dockerd: engines answer, the demo images behave, a killed
//! engine comes back, and `down` leaves no process and no mount behind.
//! Each lab claims its own loopback block (127.X.Y.0/24), so tests run in parallel.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bollard::models::{ContainerCreateBody, HostConfig, RestartPolicy, RestartPolicyNameEnum};
use common::lab::{BIN, Run, ctl_ok, spec_file};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use wheelhouse::config::Config;
use wheelhouse::lab::engine::{Engine, http_get};
use wheelhouse::lab::{Lab, LabError, LabOptions, TestLab, demo, pid_running};

/// Polls `f` until it returns Some, for up to `secs` seconds.
fn eventually<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn run_demo(engine: &Engine, name: &str, tag: &str, address: &str, port: u16) {
    let config = ContainerCreateBody {
        image: Some(format!("wheelhouse/demo:{tag}")),
        env: Some(vec![format!("ADDRESS={address}"), format!("PORT={port}")]),
        host_config: Some(HostConfig {
            network_mode: Some("host".to_owned()),
            ..Default::default()
        }),
        ..Default::default()
    };
    engine.run(name, config).expect("demo container starts");
}

/// (status, body) of GET http://addr/path once the server answers.
fn get(addr: &str, path: &str) -> (u16, String) {
    eventually(15, || http_get(addr, path).ok())
        .unwrap_or_else(|| panic!("{addr}{path} never answered"))
}

fn mounts_under(dir: &Path) -> Vec<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| Path::new(p).starts_with(dir))
        .map(str::to_owned)
        .collect()
}

/// Live processes with an argument inside `dir` (containerd, shims, their containers).
fn processes_using(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != std::process::id() && pid_running(*pid))
        .filter(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmd).contains(&needle)
        })
        .collect()
}

#[test]
fn lab_serves_demo_images_survives_a_crash_and_goes_down_clean() {
    let mut lab = TestLab::up(2).expect("lab up");
    let dir = lab.dir().to_owned();

    // Both engines answer and hold the three demo images; etcd is healthy.
    for i in 0..2 {
        let engine = lab.engine(i);
        engine.ping().expect("engine answers");
        let tags = engine.image_tags().expect("image list");
        for tag in [
            "wheelhouse/demo:1",
            "wheelhouse/demo:2",
            "wheelhouse/demo:broken",
        ] {
            assert!(
                tags.iter().any(|t| t == tag),
                "{tag} missing on host {i}: {tags:?}"
            );
        }
    }
    let etcd_addr = lab.etcd_endpoint().trim_start_matches("http://").to_owned();
    assert_eq!(
        http_get(&etcd_addr, "/health").expect("etcd answers").0,
        200
    );
    assert!(
        lab.status().iter().all(|(_, alive, _)| *alive),
        "{:?}",
        lab.status()
    );

    // The config it wrote is one the cockpit accepts, with etcd and both hosts.
    let text = std::fs::read_to_string(lab.config_path()).expect("config written");
    let config = Config::parse(&lab.config_path(), &text).expect("config parses");
    assert_eq!(
        config.etcd.expect("etcd section").endpoints,
        vec![lab.etcd_endpoint()]
    );
    let names: Vec<_> = config.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["lab-1", "lab-2"]);
    let block = lab.addresses().expect("an address block");
    assert_eq!(config.hosts[1].address, Some(block.host(2)));
    assert_eq!(config.hosts[1].engine, lab.hosts()[1].engine);

    // demo:1 serves its version and a healthy /health on its host's address.
    let good = format!("{}:18080", lab.hosts()[0].address);
    run_demo(
        &lab.engine(0),
        "t-good",
        "1",
        &lab.hosts()[0].address,
        18080,
    );
    let (status, body) = get(&good, "/");
    assert_eq!(status, 200);
    assert!(body.contains("wheelhouse demo version 1"), "{body}");
    assert_eq!(get(&good, "/health").0, 200);

    // demo:broken serves / but fails /health.
    let bad = format!("{}:18080", lab.hosts()[1].address);
    run_demo(
        &lab.engine(1),
        "t-bad",
        "broken",
        &lab.hosts()[1].address,
        18080,
    );
    let (status, body) = get(&bad, "/");
    assert_eq!(status, 200);
    assert!(body.contains("version broken"), "{body}");
    assert_ne!(get(&bad, "/health").0, 200);

    // A killed engine stops answering, and answers again once restarted.
    lab.kill_host(1).expect("kill");
    let down = lab
        .engine(1)
        .ping()
        .expect_err("killed engine still answers");
    let socket = lab.hosts()[1].socket.display().to_string();
    assert!(
        down.to_string()
            .starts_with(&format!("engine at {socket}: ping: ")),
        "{down}"
    );
    assert!(
        !lab.status()[2].1,
        "status still says alive: {:?}",
        lab.status()
    );
    lab.start_host(1).expect("restart");
    lab.engine(1).ping().expect("restarted engine answers");

    // Down stops every process it started and leaves no mount behind.
    let pids = lab.pids();
    assert_eq!(pids.len(), 3, "etcd + 2 dockerd");
    lab.down().expect("down");
    for pid in pids {
        assert!(!pid_running(pid), "pid {pid} still runs after down");
    }
    assert_eq!(
        processes_using(&dir),
        Vec::<u32>::new(),
        "leftover processes"
    );
    assert_eq!(mounts_under(&dir), Vec::<String>::new(), "leftover mounts");
    assert!(
        matches!(Lab::open(&dir), Err(LabError::NoLab { .. })),
        "state file kept"
    );
}

#[test]
fn etcd_restarts_on_its_port_and_a_running_lab_is_not_started_twice() {
    let mut lab = TestLab::up(1).expect("lab up");
    let endpoint = lab.etcd_endpoint();
    let addr = endpoint.trim_start_matches("http://").to_owned();

    // A second lab in the same directory is refused; open attaches to the running one.
    let again = Lab::up(&LabOptions::new(1, lab.dir().to_owned()));
    assert!(
        matches!(again, Err(LabError::AlreadyRunning { .. })),
        "{again:?}"
    );
    let opened = Lab::open(lab.dir()).expect("open");
    assert_eq!(opened.hosts(), lab.hosts());
    assert_eq!(opened.etcd_endpoint(), endpoint);

    lab.stop_etcd().expect("stop etcd");
    let down = http_get(&addr, "/health").expect_err("stopped etcd still answers");
    assert_eq!(
        down.to_string(),
        format!("GET http://{addr}/health: connection refused")
    );
    assert!(!lab.status()[0].1);
    lab.start_etcd().expect("start etcd");
    assert_eq!(lab.etcd_endpoint(), endpoint);
    assert_eq!(http_get(&addr, "/health").expect("etcd answers").0, 200);
}

#[test]
fn demo_containers_run_on_every_host() {
    let lab = TestLab::up(2).expect("lab up");
    demo::start_demo_containers(&lab).expect("demo containers");
    let label = format!("{}=true", demo::LABEL);
    let on = |i: usize| {
        lab.engine(i)
            .containers_with_label(&label)
            .expect("list")
            .len()
    };
    // Host 1: a web server and the broken one; host 2: a web server and the burner.
    assert_eq!((on(0), on(1)), (2, 2));
    let web2 = format!("{}:{}", lab.hosts()[1].address, demo::WEB_PORT + 1);
    assert!(get(&web2, "/").1.contains("version 2"));
    let broken = format!("{}:{}", lab.hosts()[0].address, demo::BROKEN_PORT);
    assert_ne!(get(&broken, "/health").0, 200);
    // Starting them again replaces the set instead of failing on taken names.
    demo::start_demo_containers(&lab).expect("demo containers again");
    assert_eq!((on(0), on(1)), (2, 2));
}

/// `wheelhouse lab VERB --dir DIR`.
fn lab_cli(verb: &str, dir: &Path) -> Run {
    lab_cli_with(verb, dir, &[])
}

/// `wheelhouse lab VERB --dir DIR ARGS`.
fn lab_cli_with(verb: &str, dir: &Path, args: &[&str]) -> Run {
    Run::of(
        Command::new(BIN)
            .args(["lab", verb, "--dir"])
            .arg(dir)
            .args(args),
    )
}

#[test]
fn labs_side_by_side_have_their_own_addresses() {
    let a = TestLab::up(2).expect("lab up");
    let b = TestLab::up(1).expect("second lab up");
    let (block_a, block_b) = (a.addresses().expect("block"), b.addresses().expect("block"));
    assert_ne!(block_a, block_b);
    for (lab, block) in [(&a, block_a), (&b, block_b)] {
        for (i, host) in lab.hosts().iter().enumerate() {
            assert_eq!(host.address, block.host(i + 1));
            assert!(!host.address.starts_with("127.0."), "{}", host.address);
        }
    }
    // The block stays the lab's across a reopen; a new lab never takes it while it runs.
    assert_eq!(Lab::open(a.dir()).expect("open").addresses(), Some(block_a));
    let c = TestLab::up(0).expect("third lab up");
    assert!(![block_a, block_b].contains(&c.addresses().expect("block")));
}

#[test]
fn a_lab_with_dead_parts_is_reported_and_comes_back_with_its_data() {
    let mut lab = TestLab::up(1).expect("lab up");
    let dir = lab.dir().to_owned();
    let config = lab.config_path();
    let spec = spec_file(
        &dir,
        "kept.toml",
        "name = \"kept\"\nimage = \"wheelhouse/demo:1\"\ninstances = 1\n",
    );
    ctl_ok(&config, &["apply", "-f", &spec.to_string_lossy()]);
    let kept = ContainerCreateBody {
        image: Some("wheelhouse/demo:1".to_owned()),
        env: Some(vec![
            format!("ADDRESS={}", lab.hosts()[0].address),
            "PORT=18090".to_owned(),
        ]),
        labels: Some(HashMap::from([("kept".to_owned(), "yes".to_owned())])),
        host_config: Some(HostConfig {
            network_mode: Some("host".to_owned()),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                maximum_retry_count: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    lab.engine(0).run("kept", kept).expect("container runs");
    let kept_at = format!("{}:18090", lab.hosts()[0].address);
    assert_eq!(get(&kept_at, "/").0, 200);
    assert_eq!(lab_cli("status", &dir).code, 0);

    // etcd stops and dockerd is killed: its containerd shim and container stay behind.
    lab.stop_etcd().expect("stop etcd");
    lab.kill_host(0).expect("kill dockerd");
    let orphans = processes_using(&dir.join("h1"));
    assert!(!orphans.is_empty(), "a killed dockerd leaves its shims");

    let status = lab_cli("status", &dir);
    status.fails(
        1,
        "dead: etcd, lab-1; start them again with their data: wheelhouse lab up",
    );
    assert!(
        status.stdout.contains("etcd       dead"),
        "{}",
        status.stdout
    );
    // ... and says that what the dead dockerd started still runs.
    assert!(
        status.stdout.contains("processes it started still run"),
        "{}",
        status.stdout
    );

    // `lab up` on it restarts both with their data instead of refusing or wiping.
    let up = lab_cli("up", &dir);
    assert!(
        up.ok().contains("restarted etcd, lab-1 with their data"),
        "{}",
        up.stdout
    );
    for pid in &orphans {
        assert!(
            !pid_running(*pid),
            "orphan {pid} of the dead dockerd still runs"
        );
    }
    assert!(ctl_ok(&config, &["get", "kept"]).contains("wheelhouse/demo:1"));
    // The container with a restart policy runs again (the dead engine's leftovers went
    // first; left in place, the new engine stopped it for good).
    assert_eq!(get(&kept_at, "/").0, 200);
    let reopened = Lab::open(&dir).expect("open");
    assert_eq!(
        reopened
            .engine(0)
            .containers_with_label("kept=yes")
            .expect("list")
            .len(),
        1
    );
    assert!(
        lab_cli("up", &dir)
            .ok()
            .contains("runs; nothing to restart")
    );
    let refused = lab_cli_with("up", &dir, &["--hosts", "3"]);
    refused.fails(
        2,
        "has 1 host and 1 etcd member without TLS; to start a different one: wheelhouse lab down",
    );

    // The demo's controller is one of the parts `status` lists, and judges.
    let mut reopened = reopened;
    let demo::ControllerRun::Lab(pid) =
        demo::ensure_controller(&mut reopened, Path::new(BIN)).expect("controller")
    else {
        panic!("another controller leads this fresh lab");
    };
    let status = lab_cli("status", &dir);
    assert!(
        status.ok().contains("controller alive"),
        "{}",
        status.stdout
    );
    Command::new("kill")
        .arg("-9")
        .arg(pid.to_string())
        .status()
        .expect("kill");
    let gone = eventually(10, || (!pid_running(pid)).then_some(()));
    assert!(gone.is_some(), "controller {pid} still runs");
    lab_cli("status", &dir).fails(1, "dead: controller");
}
