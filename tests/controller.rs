//! The executor and the controller against a real lab (address bases 60..69).

use bollard::Docker;
use bollard::query_parameters::{InspectContainerOptions, ListContainersOptions};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use wheelhouse::config::Config;
use wheelhouse::controller::{self, ControllerOptions};
use wheelhouse::docker::{self, Done, EngineStep, ExecError, Limits};
use wheelhouse::lab::TestLab;
use wheelhouse::model::HostSpec;
use wheelhouse::model::app::{AppSpec, HealthCheck, Probe};
use wheelhouse::plan::{self, Actual, HostView, Liveness, Registered};
use wheelhouse::store;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn host_spec(lab: &TestLab, i: usize) -> HostSpec {
    let h = &lab.hosts()[i];
    HostSpec {
        name: h.name.clone(),
        engine: h.engine.clone(),
        address: Some(h.address.clone()),
        zone: Some(h.zone.clone()),
        labels: BTreeMap::new(),
        tls: None,
    }
}

/// Managed containers on one engine: (name, state).
async fn managed(docker: &Docker) -> Vec<(String, String)> {
    let options = ListContainersOptions {
        all: true,
        filters: Some(HashMap::from([(
            "label".to_owned(),
            vec!["wheelhouse.app".to_owned()],
        )])),
        ..Default::default()
    };
    let list = docker
        .list_containers(Some(options))
        .await
        .expect("list containers");
    let mut out: Vec<(String, String)> = list
        .into_iter()
        .map(|c| {
            let name = c.names.unwrap_or_default().join(",");
            let state = c.state.map(|s| s.to_string()).unwrap_or_default();
            (name.trim_start_matches('/').to_owned(), state)
        })
        .collect();
    out.sort();
    out
}

fn demo(name: &str, image: &str, instances: u32) -> AppSpec {
    let mut spec = AppSpec::new(name, image);
    spec.instances = instances;
    spec.ports = vec!["http".into()];
    spec
}

/// A one-host Actual with nothing on it, as the planner sees a fresh lab host.
fn empty_host(spec: &HostSpec) -> HostView {
    HostView {
        name: spec.name.clone(),
        zone: spec.zone.clone(),
        labels: BTreeMap::new(),
        address: spec.address.clone(),
        liveness: Liveness::Online,
        ncpu: 2,
        mem_total: 2 << 30,
        ports: Ok(plan::DEFAULT_RANGE),
        instances: Vec::new(),
    }
}

fn starts(specs: &[AppSpec], host: &HostSpec) -> Vec<EngineStep> {
    let specs: BTreeMap<String, AppSpec> =
        specs.iter().map(|s| (s.name.clone(), s.clone())).collect();
    let actual = Actual {
        hosts: vec![empty_host(host)],
    };
    let p = plan::plan(&plan::Input {
        specs: &specs,
        actual: &actual,
        registered: &Registered::new(),
        avoid: &plan::Avoid::new(),
    });
    assert!(p.unplaced.is_empty(), "{:?}", p.unplaced);
    p.steps.iter().filter_map(EngineStep::from_step).collect()
}

fn http_get(addr: &str, path: &str) -> Option<u16> {
    wheelhouse::lab::engine::http_get(addr, path)
        .ok()
        .map(|(status, _)| status)
}

#[test]
fn the_executor_starts_and_stops_real_containers() {
    let lab = TestLab::up(1, 60).expect("lab up");
    let host = host_spec(&lab, 0);
    runtime().block_on(async {
        let docker = docker::connect(&host).await.expect("connect");
        let engines = HashMap::from([(host.name.clone(), docker.clone())]);
        let tags = docker::image_tags(&docker, &host.name)
            .await
            .expect("images");
        assert!(tags.contains("wheelhouse/demo:1"), "{tags:?}");

        let steps = starts(&[demo("web", "wheelhouse/demo:1", 3)], &host);
        assert_eq!(steps.len(), 3);
        let results = docker::execute(&engines, steps, Limits::default()).await;
        let mut ids = Vec::new();
        for r in &results {
            match &r.result {
                Ok(Done::Started { container }) => ids.push(container.clone()),
                other => panic!("{:?}: {other:?}", r.step),
            }
        }
        let names: Vec<String> = managed(&docker).await.into_iter().map(|c| c.0).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("web.")), "{names:?}");

        // Host network, $ADDRESS:$PORT, limits and labels as planned.
        let info = docker
            .inspect_container(&ids[0], None::<InspectContainerOptions>)
            .await
            .expect("inspect");
        let hc = info.host_config.expect("host config");
        assert_eq!(hc.network_mode.as_deref(), Some("host"));
        assert_eq!(hc.nano_cpus, Some(100_000_000));
        assert_eq!(hc.memory, hc.memory_swap);
        let labels = info.config.and_then(|c| c.labels).unwrap_or_default();
        assert_eq!(
            labels.get("wheelhouse.app").map(String::as_str),
            Some("web")
        );
        let port = labels.get("wheelhouse.port").cloned().expect("port label");
        let addr = format!("{}:{port}", lab.hosts()[0].address);
        let mut status = None;
        for _ in 0..50 {
            status = http_get(&addr, "/health");
            if status == Some(200) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(status, Some(200), "demo answers on {addr}");

        // An image no host has: a clear error and no container.
        let steps = starts(&[demo("ghost", "wheelhouse/demo:nope", 1)], &host);
        let results = docker::execute(&engines, steps, Limits::default()).await;
        match &results[0].result {
            Err(e @ ExecError::ImageMissing { image, .. }) => {
                assert_eq!(image, "wheelhouse/demo:nope");
                assert!(e.to_string().contains("never pulls"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(managed(&docker).await.len(), 3, "nothing half-started");

        // A command that cannot start (no such binary): removed again, error reported.
        let mut bad = demo("bad", "wheelhouse/demo:1", 1);
        bad.command = Some(vec!["/no/such/binary".into()]);
        let results = docker::execute(&engines, starts(&[bad], &host), Limits::default()).await;
        assert!(
            matches!(
                results[0].result,
                Err(ExecError::Engine { what: "start", .. })
            ),
            "{:?}",
            results[0].result
        );
        assert_eq!(
            managed(&docker).await.len(),
            3,
            "the failed container was removed"
        );

        // Stop: removed; stopping again is still fine (already gone).
        let listed = managed(&docker).await;
        let stop = |container: &str| {
            EngineStep::Stop(plan::Stop {
                app: "web".into(),
                instance: 1,
                host: host.name.clone(),
                container: container.to_owned(),
                name: String::new(),
                reason: plan::StopReason::Surplus,
            })
        };
        let steps: Vec<EngineStep> = ids.iter().map(|id| stop(id)).collect();
        let results = docker::execute(&engines, steps.clone(), Limits::default()).await;
        assert!(
            results.iter().all(|r| r.result == Ok(Done::Removed)),
            "{results:?}"
        );
        assert!(managed(&docker).await.is_empty(), "was {listed:?}");
        let again = docker::execute(&engines, steps, Limits::default()).await;
        assert!(again.iter().all(|r| r.result == Ok(Done::Removed)));

        // No engine for a host: an error per step, not a panic.
        let results = docker::execute(&HashMap::new(), vec![stop("x")], Limits::default()).await;
        assert!(matches!(results[0].result, Err(ExecError::NoEngine { .. })));
    });
}

// ---- the controller against a real lab -------------------------------------------------

/// The heavy tests each bring up three engines; one at a time on a 2-core CI machine.
static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

const PREFIX: &str = "/wheelhouse";

/// Instance numbers of `app`'s running containers on one engine.
async fn running(docker: &Docker, app: &str) -> Vec<u32> {
    let options = ListContainersOptions {
        filters: Some(HashMap::from([(
            "label".to_owned(),
            vec![format!("wheelhouse.app={app}")],
        )])),
        ..Default::default()
    };
    let Ok(list) = docker.list_containers(Some(options)).await else {
        return Vec::new();
    };
    let mut numbers: Vec<u32> = list
        .into_iter()
        .filter_map(|c| c.labels?.get("wheelhouse.instance")?.parse().ok())
        .collect();
    numbers.sort_unstable();
    numbers
}

/// Per engine (None when it does not answer), the running instance numbers of `app`.
async fn spread(engines: &[Docker], app: &str) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    for d in engines {
        out.push(running(d, app).await);
    }
    out
}

async fn wait_until<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let start = tokio::time::Instant::now();
    let mut last = String::new();
    while start.elapsed() < limit {
        match check().await {
            Ok(()) => return start.elapsed(),
            Err(why) => last = why,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what}: not within {limit:?}; last: {last}");
}

async fn engines(lab: &TestLab) -> Vec<Docker> {
    let mut out = Vec::new();
    for i in 0..lab.hosts().len() {
        out.push(docker::connect(&host_spec(lab, i)).await.expect("connect"));
    }
    out
}

async fn etcd(lab: &TestLab) -> etcd_client::Client {
    let cfg = wheelhouse::config::EtcdConfig {
        endpoints: vec![lab.etcd_endpoint()],
        ..Default::default()
    };
    store::connect(&cfg).await.expect("etcd")
}

async fn delete(client: &mut etcd_client::Client, app: &str) {
    let (_, revision) = store::get_app(client, PREFIX, app)
        .await
        .expect("get app")
        .expect("app exists");
    store::delete_app(client, PREFIX, app, revision)
        .await
        .expect("delete app");
}

fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            std::env::var("WHEELHOUSE_LOG").unwrap_or_else(|_| "wheelhouse=info".to_owned()),
        )
        .with_test_writer()
        .try_init();
}

async fn apply(client: &mut etcd_client::Client, spec: &AppSpec) {
    store::put_app(client, PREFIX, spec, store::Expect::Any)
        .await
        .expect("put app");
}

fn web(instances: u32) -> AppSpec {
    let mut spec = demo("web", "wheelhouse/demo:1", instances);
    spec.health = Some(HealthCheck {
        interval: Duration::from_millis(500),
        ..HealthCheck::new(Probe::Http("/health".into()))
    });
    spec
}

fn all_distinct(spread: &[Vec<u32>]) -> bool {
    let all: Vec<u32> = spread.iter().flatten().copied().collect();
    let set: std::collections::BTreeSet<u32> = all.iter().copied().collect();
    set.len() == all.len()
}

#[test]
fn the_controller_places_heals_and_reports() {
    let _heavy = heavy();
    logs();
    let mut lab = TestLab::up(3, 61).expect("lab up");
    let config = Config::load(Some(&lab.config_path())).expect("lab config");
    let opts = ControllerOptions {
        grace: Duration::from_secs(3),
        crash_penalty: Duration::from_secs(60),
        ..ControllerOptions::default()
    };
    let rt = runtime();
    let controller = rt.spawn(controller::run(config, opts));
    let engines = rt.block_on(engines(&lab));
    let mut client = rt.block_on(etcd(&lab));

    rt.block_on(async {
        apply(&mut client, &web(9)).await;
        let mut db = demo("db", "wheelhouse/demo:1", 2);
        db.machine_metadata = BTreeMap::from([("disk".to_owned(), vec!["ssd".to_owned()])]);
        apply(&mut client, &db).await;

        let took = wait_until(Duration::from_secs(40), "web 3/3/3, db on ssd", || async {
            let w = spread(&engines, "web").await;
            let d = spread(&engines, "db").await;
            let counts: Vec<usize> = w.iter().map(Vec::len).collect();
            let dbs: Vec<usize> = d.iter().map(Vec::len).collect();
            (counts == [3, 3, 3] && dbs == [1, 0, 1] && all_distinct(&w))
                .then_some(())
                .ok_or(format!("web {w:?}, db {d:?}"))
        })
        .await;
        eprintln!("9 + 2 instances placed in {took:?}");

        // Healthy instances are registered, each answering where it says.
        wait_until(Duration::from_secs(20), "9 web endpoints", || async {
            let mut c = client.clone();
            let eps = store::list_endpoints(&mut c, PREFIX, "web")
                .await
                .map_err(|e| e.to_string())?;
            (eps.len() == 9)
                .then_some(())
                .ok_or(format!("{} endpoints", eps.len()))
        })
        .await;
        let eps = store::list_endpoints(&mut client, PREFIX, "web")
            .await
            .expect("endpoints");
        for ep in eps.iter().take(3) {
            let addr = format!("{}:{}", ep.address, ep.port);
            assert_eq!(http_get(&addr, "/health"), Some(200), "{ep:?}");
        }

        // An image no host has: a clear error in the audit trail, nothing created.
        apply(&mut client, &demo("ghost", "wheelhouse/demo:nope", 2)).await;
        wait_until(
            Duration::from_secs(20),
            "ghost's error in the audit trail",
            || async {
                let mut c = client.clone();
                let trail = store::list_audit(&mut c, PREFIX, 50)
                    .await
                    .map_err(|e| e.to_string())?;
                trail
                    .iter()
                    .any(|e| {
                        e.target == "ghost"
                            && e.result.contains("wheelhouse/demo:nope")
                            && e.result.contains("never pulls")
                    })
                    .then_some(())
                    .ok_or(format!("{trail:?}"))
            },
        )
        .await;
        for d in &engines {
            let any: Vec<(String, String)> = managed(d)
                .await
                .into_iter()
                .filter(|c| c.0.starts_with("ghost"))
                .collect();
            assert!(any.is_empty(), "half-started: {any:?}");
        }
        delete(&mut client, "ghost").await;
    });

    // A dead host's instances come back on the others within grace + a few seconds.
    lab.kill_host(2).expect("kill lab-3");
    rt.block_on(async {
        let took = wait_until(
            Duration::from_secs(25),
            "9 web on lab-1 and lab-2",
            || async {
                let w = spread(&engines[..2], "web").await;
                let d = spread(&engines[..2], "db").await;
                let n: usize = w.iter().map(Vec::len).sum();
                (n == 9 && d[0].len() == 2 && all_distinct(&w))
                    .then_some(())
                    .ok_or(format!("web {w:?}, db {d:?}"))
            },
        )
        .await;
        eprintln!("a killed host's instances ran elsewhere after {took:?} (grace 3s)");
        let mut c = client.clone();
        let verdicts = store::list_host_health(&mut c, PREFIX)
            .await
            .expect("health");
        assert!(
            verdicts
                .iter()
                .any(|v| v.host == "lab-3" && v.state == store::Liveness::Dead),
            "{verdicts:?}"
        );
    });

    // When it returns, the surplus goes and the count is exact again.
    lab.start_host(2).expect("restart lab-3");
    rt.block_on(async {
        wait_until(
            Duration::from_secs(30),
            "exactly 9 web and 2 db again",
            || async {
                let w = spread(&engines, "web").await;
                let d = spread(&engines, "db").await;
                let n: usize = w.iter().map(Vec::len).sum();
                let m: usize = d.iter().map(Vec::len).sum();
                (n == 9 && m == 2 && all_distinct(&w))
                    .then_some(())
                    .ok_or(format!("web {w:?}, db {d:?}"))
            },
        )
        .await;
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let n: usize = spread(&engines, "web").await.iter().map(Vec::len).sum();
            assert_eq!(n, 9, "the count stays exact");
        }
    });

    // A crash-looping container moves on, and does not flap back.
    rt.block_on(async {
        let mut crashy = AppSpec::new("crashy", "wheelhouse/demo:1");
        crashy.command = Some(vec!["sh".into(), "-c".into(), "exit 1".into()]);
        apply(&mut client, &crashy).await;
        wait_until(
            Duration::from_secs(60),
            "crashy avoided everywhere",
            || async {
                let mut c = client.clone();
                let trail = store::list_audit(&mut c, PREFIX, 50)
                    .await
                    .map_err(|e| e.to_string())?;
                let entry = trail
                    .iter()
                    .find(|e| e.target == "crashy")
                    .ok_or("no entry")?;
                let avoided = entry
                    .result
                    .lines()
                    .filter(|l| l.contains("crash-looped here") || l.contains("exited here"))
                    .count();
                (avoided == 3).then_some(()).ok_or(entry.result.clone())
            },
        )
        .await;
        for _ in 0..5 {
            let s = spread(&engines, "crashy").await;
            assert!(s.iter().all(Vec::is_empty), "crashy flapped back: {s:?}");
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    });
    controller.abort();
}

/// A `wheelhouse controller` process; SIGKILLed on drop if still running.
struct ControllerProcess(std::process::Child);

impl ControllerProcess {
    fn spawn(lab: &TestLab, n: usize) -> ControllerProcess {
        let log = lab.dir().join(format!("controller-{n}.log"));
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_wheelhouse"))
            .arg("--config")
            .arg(lab.config_path())
            .arg("--log-file")
            .arg(&log)
            .arg("controller")
            .env("WHEELHOUSE_LOG", "wheelhouse=info")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("start a controller");
        ControllerProcess(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn sigkill_of_the_leader_hands_over_without_losing_or_doubling_instances() {
    let _heavy = heavy();
    let lab = TestLab::up(3, 62).expect("lab up");
    let rt = runtime();
    let engines = rt.block_on(engines(&lab));
    let mut client = rt.block_on(etcd(&lab));
    let mut controllers = [
        ControllerProcess::spawn(&lab, 1),
        ControllerProcess::spawn(&lab, 2),
    ];
    rt.block_on(async {
        apply(&mut client, &web(6)).await;
        wait_until(
            Duration::from_secs(40),
            "6 web running and registered",
            || async {
                let w = spread(&engines, "web").await;
                let n: usize = w.iter().map(Vec::len).sum();
                let mut c = client.clone();
                let eps = store::list_endpoints(&mut c, PREFIX, "web")
                    .await
                    .map_err(|e| e.to_string())?;
                (n == 6 && eps.len() == 6)
                    .then_some(())
                    .ok_or(format!("web {w:?}, {} endpoints", eps.len()))
            },
        )
        .await;
    });
    let leader = rt
        .block_on(store::current_leader(&client, PREFIX))
        .expect("leader query")
        .expect("a leader");
    let index = controllers
        .iter()
        .position(|c| leader.ends_with(&format!("-{}", c.pid())))
        .unwrap_or_else(|| panic!("leader {leader} is none of ours"));
    let killed = std::time::Instant::now();
    controllers[index].kill();
    let survivor = controllers[1 - index].pid();

    rt.block_on(async {
        // The other takes over within the lease TTL (5 s) and a little more; meanwhile the
        // count never moves.
        let took = wait_until(Duration::from_secs(12), "the survivor leads", || async {
            for _ in 0..3 {
                let n: usize = spread(&engines, "web").await.iter().map(Vec::len).sum();
                if n != 6 {
                    panic!("{n} web instances during the handover");
                }
            }
            let now = store::current_leader(&client, PREFIX)
                .await
                .map_err(|e| e.to_string())?;
            (now.as_deref()
                .is_some_and(|l| l.ends_with(&format!("-{survivor}"))))
            .then_some(())
            .ok_or(format!("leader {now:?}"))
        })
        .await;
        eprintln!("handover {took:?} after SIGKILL");
        assert!(killed.elapsed() < Duration::from_secs(12));

        // The new leader registers the instances under its own lease and acts.
        store::scale_app(&mut client, PREFIX, "web", 8, 1000, None)
            .await
            .expect("scale");
        wait_until(
            Duration::from_secs(20),
            "8 web, distinct, registered",
            || async {
                let w = spread(&engines, "web").await;
                let n: usize = w.iter().map(Vec::len).sum();
                let mut c = client.clone();
                let eps = store::list_endpoints(&mut c, PREFIX, "web")
                    .await
                    .map_err(|e| e.to_string())?;
                (n == 8 && all_distinct(&w) && eps.len() == 8)
                    .then_some(())
                    .ok_or(format!("web {w:?}, {} endpoints", eps.len()))
            },
        )
        .await;
    });
}

/// Runs the docker CLI against one engine; panics with its stderr on failure.
fn docker_cli(socket: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("docker")
        .arg("-H")
        .arg(format!("unix://{}", socket.display()))
        .args(args)
        .output()
        .expect("the docker CLI runs");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Running containers with `label` over `engines`.
async fn count_running(engines: &[Docker], label: &str) -> usize {
    let mut n = 0;
    for d in engines {
        let options = ListContainersOptions {
            filters: Some(HashMap::from([(
                "label".to_owned(),
                vec![label.to_owned()],
            )])),
            ..Default::default()
        };
        n += d
            .list_containers(Some(options))
            .await
            .map_or(0, |l| l.len());
    }
    n
}

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
    let mut lab = TestLab::up(3, 63).expect("lab up");
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
        wait_until(Duration::from_secs(20), "a leader", || async {
            let l = store::current_leader(&client, PREFIX)
                .await
                .map_err(|e| e.to_string())?;
            l.map(drop).ok_or("none".to_owned())
        })
        .await;
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
    docker_cli(
        s1,
        &[
            "swarm",
            "init",
            "--advertise-addr",
            &addr,
            "--listen-addr",
            &format!("{addr}:2377"),
        ],
    );
    docker_cli(
        s1,
        &[
            "service",
            "create",
            "--detach",
            "--name",
            "bench",
            "--network",
            "host",
            "--replicas",
            "0",
            "--no-resolve-image",
            "--env",
            &format!("ADDRESS={addr}"),
            "--env",
            "PORT=4{{.Task.Slot}}",
            "wheelhouse/demo:1",
        ],
    );
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
