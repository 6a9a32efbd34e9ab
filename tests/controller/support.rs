//! Helpers for the controller's integration tests: the lab, its engines and etcd.

use bollard::Docker;
use bollard::models::ContainerSummary;
use bollard::query_parameters::ListContainersOptions;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use wheelhouse::docker::{self, EngineStep};
use wheelhouse::domain::HostSpec;
use wheelhouse::domain::app::{AppSpec, HealthCheck, Probe};
use wheelhouse::lab::TestLab;
use wheelhouse::plan::{self, Actual, HostView, Liveness, Registered};
use wheelhouse::store;

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub fn host_spec(lab: &TestLab, i: usize) -> HostSpec {
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
pub async fn managed(docker: &Docker) -> Vec<(String, String)> {
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

pub fn demo(name: &str, image: &str, instances: u32) -> AppSpec {
    let mut spec = AppSpec::new(name, image);
    spec.instances = instances;
    spec.ports = vec!["http".into()];
    spec
}

/// A one-host Actual with nothing on it, as the planner sees a fresh lab host.
pub fn empty_host(spec: &HostSpec) -> HostView {
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

pub fn starts(specs: &[AppSpec], host: &HostSpec) -> Vec<EngineStep> {
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
        frozen: &std::collections::BTreeSet::new(),
    });
    assert!(p.unplaced.is_empty(), "{:?}", p.unplaced);
    p.steps.iter().filter_map(EngineStep::from_step).collect()
}

pub fn http_get(addr: &str, path: &str) -> Option<u16> {
    wheelhouse::lab::engine::http_get(addr, path)
        .ok()
        .map(|(status, _)| status)
}

/// The heavy tests each bring up three engines; one at a time on a 2-core CI machine.
pub static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

pub const PREFIX: &str = "/wheelhouse";

/// The running containers with `label` (`key` or `key=value`) over `engines`, each with
/// its engine's index; an engine that does not answer lists nothing.
pub async fn labelled(engines: &[Docker], label: &str) -> Vec<(usize, ContainerSummary)> {
    let mut out = Vec::new();
    for (i, d) in engines.iter().enumerate() {
        let options = ListContainersOptions {
            filters: Some(HashMap::from([(
                "label".to_owned(),
                vec![label.to_owned()],
            )])),
            ..Default::default()
        };
        let list = d.list_containers(Some(options)).await.unwrap_or_default();
        out.extend(list.into_iter().map(|c| (i, c)));
    }
    out
}

/// Instance numbers of `app`'s running containers on one engine.
pub async fn running(docker: &Docker, app: &str) -> Vec<u32> {
    let list = labelled(
        std::slice::from_ref(docker),
        &format!("wheelhouse.app={app}"),
    )
    .await;
    let mut numbers: Vec<u32> = list
        .into_iter()
        .filter_map(|(_, c)| c.labels?.get("wheelhouse.instance")?.parse().ok())
        .collect();
    numbers.sort_unstable();
    numbers
}

/// Per engine (None when it does not answer), the running instance numbers of `app`.
pub async fn spread(engines: &[Docker], app: &str) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    for d in engines {
        out.push(running(d, app).await);
    }
    out
}

pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
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

pub async fn engines(lab: &TestLab) -> Vec<Docker> {
    let mut out = Vec::new();
    for i in 0..lab.hosts().len() {
        out.push(docker::connect(&host_spec(lab, i)).await.expect("connect"));
    }
    out
}

pub async fn etcd(lab: &TestLab) -> etcd_client::Client {
    let cfg = wheelhouse::config::EtcdConfig {
        endpoints: vec![lab.etcd_endpoint()],
        ..Default::default()
    };
    store::connect(&cfg).await.expect("etcd")
}

pub async fn delete(client: &mut etcd_client::Client, app: &str) {
    let (_, revision) = store::get_app(client, PREFIX, app)
        .await
        .expect("get app")
        .expect("app exists");
    store::delete_app(client, PREFIX, app, revision)
        .await
        .expect("delete app");
}

pub fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            std::env::var("WHEELHOUSE_LOG").unwrap_or_else(|_| "wheelhouse=info".to_owned()),
        )
        .with_test_writer()
        .try_init();
}

pub async fn apply(client: &mut etcd_client::Client, spec: &AppSpec) {
    store::put_app(client, PREFIX, spec, store::Expect::Any)
        .await
        .expect("put app");
}

pub fn web(instances: u32) -> AppSpec {
    let mut spec = demo("web", "wheelhouse/demo:1", instances);
    spec.health = Some(HealthCheck {
        interval: Duration::from_millis(500),
        ..HealthCheck::new(Probe::Http("/health".into()))
    });
    spec
}

pub fn all_distinct(spread: &[Vec<u32>]) -> bool {
    let all: Vec<u32> = spread.iter().flatten().copied().collect();
    let set: std::collections::BTreeSet<u32> = all.iter().copied().collect();
    set.len() == all.len()
}

/// A `wheelhouse controller` process; SIGKILLed on drop if still running.
pub struct ControllerProcess(std::process::Child);

impl ControllerProcess {
    pub fn spawn(lab: &TestLab, n: usize) -> ControllerProcess {
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

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs the docker CLI against one engine; panics with its stderr on failure.
pub fn docker_cli(socket: &std::path::Path, args: &[&str]) -> String {
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

/// How many containers with `label` run over `engines`.
pub async fn count_running(engines: &[Docker], label: &str) -> usize {
    labelled(engines, label).await.len()
}

/// Two `wheelhouse controller` processes racing for the lead.
pub fn two_controllers(lab: &TestLab) -> [ControllerProcess; 2] {
    [
        ControllerProcess::spawn(lab, 1),
        ControllerProcess::spawn(lab, 2),
    ]
}

/// SIGKILLs whichever of `controllers` leads: the survivor's pid and when the kill happened.
pub fn kill_the_leader(
    rt: &tokio::runtime::Runtime,
    client: &etcd_client::Client,
    controllers: &mut [ControllerProcess; 2],
) -> (u32, std::time::Instant) {
    let leader = rt
        .block_on(store::current_leader(client, PREFIX))
        .expect("leader query")
        .expect("a leader");
    let index = controllers
        .iter()
        .position(|c| leader.ends_with(&format!("-{}", c.pid())))
        .unwrap_or_else(|| panic!("leader {leader} is none of ours"));
    let killed = std::time::Instant::now();
    controllers[index].kill();
    (controllers[1 - index].pid(), killed)
}

/// Waits up to 20 s until some controller leads.
pub async fn a_leader(client: &etcd_client::Client) {
    wait_until(Duration::from_secs(20), "a leader", || async {
        let l = store::current_leader(client, PREFIX)
            .await
            .map_err(|e| e.to_string())?;
        l.map(drop).ok_or("none".to_owned())
    })
    .await;
}

/// Panics if any instance of `app` is registered.
pub async fn assert_unregistered(client: &mut etcd_client::Client, app: &str) {
    let eps = store::list_endpoints(client, PREFIX, app)
        .await
        .expect("endpoints");
    assert!(
        eps.is_empty(),
        "an unhealthy instance was registered: {eps:?}"
    );
}

/// Makes the engine at `socket` a one-node swarm and creates the service `bench` of
/// `wheelhouse/demo:1` with `replicas`, host networking, each task on its own port at
/// `address`; `options` go before the image (`--update-parallelism 3` ...).
pub fn swarm_bench_service(
    socket: &std::path::Path,
    address: &str,
    replicas: u32,
    options: &[&str],
) {
    let listen = format!("{address}:2377");
    docker_cli(
        socket,
        &[
            "swarm",
            "init",
            "--advertise-addr",
            address,
            "--listen-addr",
            &listen,
        ],
    );
    let replicas = replicas.to_string();
    let env = format!("ADDRESS={address}");
    let create = [
        "service",
        "create",
        "--detach",
        "--name",
        "bench",
        "--network",
        "host",
        "--replicas",
        &replicas,
        "--no-resolve-image",
        "--env",
        &env,
        "--env",
        "PORT=4{{.Task.Slot}}",
    ];
    docker_cli(
        socket,
        &[&create[..], options, &["wheelhouse/demo:1"]].concat(),
    );
}

/// A lab, the runtime a controller (default options) runs on, its task, the lab's
/// engines and an etcd client.
pub type LabWithController = (
    TestLab,
    tokio::runtime::Runtime,
    tokio::task::JoinHandle<color_eyre::Result<()>>,
    Vec<Docker>,
    etcd_client::Client,
);

/// A lab of `hosts` hosts with a controller running on it.
pub fn lab_with_controller(hosts: usize) -> LabWithController {
    let lab = TestLab::up(hosts).expect("lab up");
    let config = wheelhouse::config::Config::load(Some(&lab.config_path())).expect("lab config");
    let rt = runtime();
    let options = wheelhouse::controller::ControllerOptions::default();
    let controller = rt.spawn(wheelhouse::controller::run(config, options));
    let engines = rt.block_on(engines(&lab));
    let client = rt.block_on(etcd(&lab));
    (lab, rt, controller, engines, client)
}
