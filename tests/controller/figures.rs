//! The timing figures (an ignored test; scripts/bench-scale runs it).

use super::support::*;
use bollard::Docker;
use std::time::Duration;
use wheelhouse::lab::TestLab;

async fn time_until(engines: &[Docker], label: &str, want: usize) -> Duration {
    let start = tokio::time::Instant::now();
    while count_running(engines, label).await != want {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{label}: never {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

/// The timing figures, printed as `figure: name = value` lines (scripts/bench-scale).
#[test]
#[ignore = "a benchmark: run with scripts/bench-scale"]
fn figures() {
    let _heavy = heavy();
    let mut lab = TestLab::up(3).expect("lab up");
    let rt = runtime();
    let engines = rt.block_on(engines(&lab));
    let mut client = rt.block_on(etcd(&lab));
    let sockets: Vec<std::path::PathBuf> = lab.hosts().iter().map(|h| h.socket.clone()).collect();
    let ctl = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_wheelhouse"))
            .arg("--config")
            .arg(lab.config_path())
            .arg("ctl")
            .args(args)
            .output()
            .expect("ctl runs");
        assert!(
            out.status.success(),
            "ctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let _controller = ControllerProcess::spawn(&lab, 1);
    rt.block_on(async {
        apply(&mut client, &demo("demo", "wheelhouse/demo:1", 0)).await;
        a_leader(&client).await;
        // Let the controller see every engine before the clock starts.
        tokio::time::sleep(Duration::from_secs(3)).await;
    });
    let label = "wheelhouse.app=demo";

    // 1. wheelhouse: ctl scale demo 30, until 30 containers run.
    let start = std::time::Instant::now();
    ctl(&["scale", "demo", "30"]);
    let ours = start.elapsed() + rt.block_on(time_until(&engines, label, 30));
    println!(
        "figure: scale 0->30 with wheelhouse = {:.2} s",
        ours.as_secs_f64()
    );
    let spread_now = rt.block_on(spread(&engines, "demo"));
    println!(
        "figure: spread = {:?}",
        spread_now.iter().map(Vec::len).collect::<Vec<_>>()
    );

    // 2. The same 30 as plain `docker run -d`, issued in parallel.
    ctl(&["scale", "demo", "0"]);
    rt.block_on(time_until(&engines, label, 0));
    let start = std::time::Instant::now();
    let runs: Vec<std::process::Child> = (0..30)
        .map(|i| {
            let h = i % 3;
            std::process::Command::new("docker")
                .arg("-H")
                .arg(format!("unix://{}", sockets[h].display()))
                .args(["run", "-d", "--network", "host", "--label", "bench=run"])
                .arg("-e")
                .arg(format!("ADDRESS={}", lab.hosts()[h].address))
                .arg("-e")
                .arg(format!("PORT={}", 31000 + i))
                .arg("wheelhouse/demo:1")
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("docker run")
        })
        .collect();
    for mut run in runs {
        assert!(run.wait().is_ok_and(|s| s.success()), "docker run failed");
    }
    let plain = start.elapsed() + rt.block_on(time_until(&engines, "bench=run", 30));
    println!(
        "figure: 30 parallel docker run -d = {:.2} s",
        plain.as_secs_f64()
    );
    println!(
        "figure: wheelhouse / docker run = {:.2}x (target <= 1.5x)",
        ours.as_secs_f64() / plain.as_secs_f64()
    );
    for s in &sockets {
        let ids = docker_cli(s, &["ps", "-q", "--filter", "label=bench=run"]);
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            docker_cli(s, &[["rm", "-f"].as_slice(), &ids].concat());
        }
    }

    // 3. Docker Swarm on one lab engine: `docker service scale` to 30.
    let s1 = &sockets[0];
    let addr = lab.hosts()[0].address.clone();
    swarm_bench_service(s1, &addr, 0, &[]);
    let start = std::time::Instant::now();
    docker_cli(s1, &["service", "scale", "--detach", "bench=30"]);
    let swarm_label = "com.docker.swarm.service.name=bench";
    let swarm = start.elapsed() + rt.block_on(time_until(&engines[..1], swarm_label, 30));
    println!(
        "figure: docker service scale 0->30 (swarm, one engine) = {:.2} s",
        swarm.as_secs_f64()
    );
    docker_cli(s1, &["service", "rm", "bench"]);
    docker_cli(s1, &["swarm", "leave", "--force"]);

    // 4. Kill a host: its instances run elsewhere after (grace 10 s, the default).
    ctl(&["scale", "demo", "30"]);
    rt.block_on(time_until(&engines, label, 30));
    let on_3 = rt.block_on(spread(&engines[2..], "demo"))[0].len();
    let killed = std::time::Instant::now();
    lab.kill_host(2).expect("kill lab-3");
    rt.block_on(time_until(&engines[..2], label, 30));
    println!(
        "figure: kill lab-3 ({on_3} instances) until 30 run on the others = {:.2} s (grace 10 s)",
        killed.elapsed().as_secs_f64()
    );
}
