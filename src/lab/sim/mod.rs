//! `wheelhouse lab sim`: a simulated fleet for scale figures. ONE process serves, on a
//! unix socket per engine, the Docker API subset wheelhouse uses, and every host's agent
//! API on one loopback port; it registers the hosts (and agents) in an etcd it starts or
//! is given, and writes a config listing them. Every figure taken on it is simulated: the
//! integration tests run on real engines.
//!
//! Layout of a sim directory: `sim.json` (the process, its port), `wheelhouse.toml`,
//! `e/<host>.sock`, `sim.log`, and `etcd/` (the etcd-only lab, unless `--etcd` was given).

mod container;
mod docker_api;
mod fleet;
mod query;
mod scenario;
mod series;
mod serve;
mod streams;

pub use scenario::{Action, What};

use super::process::{self, Proc};
use super::{Lab, LabError, LabOptions};
use color_eyre::eyre::{WrapErr, eyre};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const STATE_FILE: &str = "sim.json";
const READY_FILE: &str = "sim.ready";
/// The most engines and containers one simulator holds.
const MAX_ENGINES: usize = 10_000;
const MAX_CONTAINERS: usize = 1_000_000;
/// How long `lab sim` waits for the simulator to bind its sockets and register.
const READY_TIMEOUT: Duration = Duration::from_secs(180);

#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SimCli {
    #[command(subcommand)]
    command: Option<SimCommand>,
    #[command(flatten)]
    start: Start,
}

#[derive(Debug, Clone, clap::Args)]
struct Start {
    /// Simulated Docker engines (hosts), each on its own unix socket.
    #[arg(long, default_value_t = 1000)]
    engines: usize,
    /// Containers at the start, spread round-robin over the engines (unmanaged: no app).
    #[arg(long, default_value_t = 10_000)]
    containers: usize,
    /// Seed for everything random: the same seed, the same fleet and load.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A scenario file: load patterns per host, and actions at set times (README).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Register in this etcd (http://HOST:PORT) instead of starting one.
    #[arg(long)]
    etcd: Option<String>,
    /// Serve no agent API: screens then read every engine's stats streams.
    #[arg(long)]
    no_agents: bool,
    /// Directory for the sockets, config, state and log.
    #[arg(long, default_value = "/tmp/wheelhouse-sim")]
    dir: PathBuf,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum SimCommand {
    /// Stop the simulator (and the etcd it started); its records leave etcd.
    Down {
        /// The simulator's directory.
        #[arg(long, default_value = "/tmp/wheelhouse-sim")]
        dir: PathBuf,
    },
    /// Change simulated hosts now: vanish, return, slow, fast, crash, unhealthy, healthy,
    /// pull-fail, pull-ok.
    Act {
        /// What happens to them.
        what: What,
        /// Host numbers: "all", "7", "1-100", "1-10,50".
        #[arg(long)]
        hosts: String,
        /// For slow: how long each answer waits ("5s").
        #[arg(long)]
        delay: Option<String>,
        /// For crash and unhealthy: containers per host (default all).
        #[arg(long)]
        count: Option<usize>,
        /// For pull-fail and pull-ok: the image (default all).
        #[arg(long)]
        image: Option<String>,
        /// The simulator's directory.
        #[arg(long, default_value = "/tmp/wheelhouse-sim")]
        dir: PathBuf,
    },
    /// Engines up, containers and running ones (JSON).
    Status {
        /// The simulator's directory.
        #[arg(long, default_value = "/tmp/wheelhouse-sim")]
        dir: PathBuf,
    },
    /// The simulator itself (what `lab sim` starts in the background).
    #[command(hide = true)]
    Serve {
        #[command(flatten)]
        start: Start,
        /// The etcd endpoint to register in.
        #[arg(long = "registry")]
        registry: Option<String>,
    },
}

/// What the serving process writes once every socket is bound and every record is in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ready {
    pub port: u16,
    pub engines: usize,
    pub containers: usize,
    pub seed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SimState {
    proc: Proc,
    /// Whether `etcd/` is an etcd-only lab this simulator started.
    own_etcd: bool,
    etcd: String,
    ready: Option<Ready>,
}

pub fn socket_path(dir: &Path, host: &str) -> PathBuf {
    dir.join("e").join(format!("{host}.sock"))
}

fn write_ready(dir: &Path, ready: &Ready) -> std::io::Result<()> {
    let tmp = dir.join(format!("{READY_FILE}.tmp"));
    std::fs::write(&tmp, serde_json::to_vec(ready).unwrap_or_default())?;
    std::fs::rename(tmp, dir.join(READY_FILE))
}

fn read_state(dir: &Path) -> color_eyre::Result<SimState> {
    let path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&path)
        .wrap_err_with(|| format!("no simulator in {} (no {STATE_FILE})", dir.display()))?;
    serde_json::from_str(&text).wrap_err_with(|| format!("{} is damaged", path.display()))
}

pub fn run_cli(cli: SimCli) -> color_eyre::Result<()> {
    match cli.command {
        None => up(&cli.start),
        Some(SimCommand::Down { dir }) => down(&dir),
        Some(SimCommand::Act {
            what,
            hosts,
            delay,
            count,
            image,
            dir,
        }) => {
            let action = Action {
                time: None,
                hosts,
                what,
                delay,
                count,
                image,
            };
            let answer = call(&dir, reqwest::Method::POST, "/sim/act", Some(&action))?;
            println!("{what:?}: {} hosts (simulated)", answer["hosts"]);
            Ok(())
        }
        Some(SimCommand::Status { dir }) => {
            let answer = call::<()>(&dir, reqwest::Method::GET, "/sim/status", None)?;
            println!("{answer}");
            Ok(())
        }
        Some(SimCommand::Serve { start, registry }) => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(serve::run(serve::Options {
                dir: std::path::absolute(&start.dir)?,
                engines: start.engines,
                containers: start.containers,
                seed: start.seed,
                scenario: start.scenario,
                etcd: registry,
                prefix: crate::config::DEFAULT_PREFIX.to_owned(),
                agents: !start.no_agents,
            }))
        }
    }
}

fn up(start: &Start) -> color_eyre::Result<()> {
    if !(1..=MAX_ENGINES).contains(&start.engines) || start.containers > MAX_CONTAINERS {
        return Err(eyre!(
            "a simulator holds 1 to {MAX_ENGINES} engines and at most {MAX_CONTAINERS} containers"
        ));
    }
    let dir = std::path::absolute(&start.dir)?;
    if socket_path(&dir, "sim-0000").as_os_str().len() > super::state::SOCKET_LIMIT {
        return Err(eyre!(
            "{} is too long a path for unix sockets",
            dir.display()
        ));
    }
    if let Ok(state) = read_state(&dir)
        && state.proc.alive()
    {
        return Err(eyre!(
            "a simulator runs in {} (pid {}); stop it first: wheelhouse lab sim down --dir {}",
            dir.display(),
            state.proc.pid,
            dir.display()
        ));
    }
    // A scenario with a mistake is refused here, not in the background.
    if let Some(path) = &start.scenario {
        let text =
            std::fs::read_to_string(path).wrap_err_with(|| format!("read {}", path.display()))?;
        scenario::Scenario::parse(path, &text, start.engines)?;
    }
    std::fs::create_dir_all(dir.join("e"))?;
    let _ = std::fs::remove_file(dir.join(READY_FILE));
    let began = Instant::now();
    let (etcd, own_etcd) = match &start.etcd {
        Some(url) => (url.clone(), false),
        None => {
            let opts = LabOptions {
                images: false,
                ..LabOptions::new(0, dir.join("etcd"))
            };
            (Lab::up(&opts)?.etcd_endpoint(), true)
        }
    };
    let exe = std::env::current_exe()?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["lab", "sim", "serve", "--registry", &etcd])
        .args(["--engines", &start.engines.to_string()])
        .args(["--containers", &start.containers.to_string()])
        .args(["--seed", &start.seed.to_string()])
        .arg("--dir")
        .arg(&dir);
    if let Some(path) = &start.scenario {
        cmd.arg("--scenario").arg(std::path::absolute(path)?);
    }
    if start.no_agents {
        cmd.arg("--no-agents");
    }
    let log = dir.join("sim.log");
    let proc = process::spawn(cmd, "the simulator", &log)?;
    let mut state = SimState {
        proc,
        own_etcd,
        etcd: etcd.clone(),
        ready: None,
    };
    write_state(&dir, &state)?;
    let ready = wait_ready(&dir, &proc, &log)?;
    state.ready = Some(ready.clone());
    write_state(&dir, &state)?;
    let config = dir.join(super::state::CONFIG_FILE);
    std::fs::write(&config, config_text(&dir, &etcd, start.engines))?;
    println!(
        "simulated fleet up in {:.1}s in {}: {} engines, {} containers (simulated), seed {}",
        began.elapsed().as_secs_f64(),
        dir.display(),
        ready.engines,
        ready.containers,
        ready.seed
    );
    println!(
        "  etcd {etcd}; agents and control on http://127.0.0.1:{}",
        ready.port
    );
    println!("config:           {}", config.display());
    println!("open the cockpit: wheelhouse --config {}", config.display());
    println!(
        "stop it:          wheelhouse lab sim down --dir {}",
        dir.display()
    );
    Ok(())
}

fn write_state(dir: &Path, state: &SimState) -> color_eyre::Result<()> {
    std::fs::write(dir.join(STATE_FILE), serde_json::to_vec_pretty(state)?)?;
    Ok(())
}

fn wait_ready(dir: &Path, proc: &Proc, log: &Path) -> Result<Ready, LabError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(text) = std::fs::read_to_string(dir.join(READY_FILE))
            && let Ok(ready) = serde_json::from_str(&text)
        {
            return Ok(ready);
        }
        if !proc.alive() || Instant::now() > deadline {
            process::terminate(proc, Duration::from_secs(2));
            return Err(LabError::Invalid(format!(
                "the simulator did not come up; the end of {}:\n{}",
                log.display(),
                process::log_tail(log, 20)
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Simulated host `i` (from 0) as a lab lists its hosts: named, zoned and labelled as a
/// lab's are, all on the loopback address.
fn sim_host(dir: &Path, i: usize) -> super::LabHost {
    let name = fleet::host_name(i);
    let socket = socket_path(dir, &name);
    super::LabHost {
        engine: format!("unix://{}", socket.display()),
        socket,
        name,
        address: "127.0.0.1".to_owned(),
        zone: super::state::zone(i),
    }
}

/// The cockpit's config: the etcd and every engine, as a lab's; apps may ask for up to
/// 100,000 instances, for the scale figures.
fn config_text(dir: &Path, etcd: &str, engines: usize) -> String {
    let preamble = format!(
        "# Written by `wheelhouse lab sim` for the SIMULATED fleet in {}.\nmax_instances = 100000\n",
        dir.display()
    );
    let hosts: Vec<super::LabHost> = (0..engines).map(|i| sim_host(dir, i)).collect();
    super::state::config_text(&preamble, &[etcd.to_owned()], &hosts, None)
}

fn down(dir: &Path) -> color_eyre::Result<()> {
    let dir = std::path::absolute(dir)?;
    let state = read_state(&dir)?;
    if process::terminate(&state.proc, Duration::from_secs(20)) {
        println!("stopped the simulator (pid {})", state.proc.pid);
    } else {
        println!("the simulator was not running");
    }
    if state.own_etcd {
        Lab::open(&dir.join("etcd"))?.down()?;
        println!("stopped its etcd");
    }
    let _ = std::fs::remove_dir_all(dir.join("e"));
    let _ = std::fs::remove_file(dir.join(STATE_FILE));
    let _ = std::fs::remove_file(dir.join(READY_FILE));
    println!("simulator in {} is down", dir.display());
    Ok(())
}

/// A request to the running simulator's control API.
fn call<T: Serialize>(
    dir: &Path,
    method: reqwest::Method,
    path: &str,
    body: Option<&T>,
) -> color_eyre::Result<serde_json::Value> {
    let state = read_state(&std::path::absolute(dir)?)?;
    let ready = (state.ready.filter(|_| state.proc.alive()))
        .ok_or_else(|| eyre!("the simulator in {} is not running", dir.display()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let http = crate::agent::client::builder().build()?;
        let mut request = http.request(method, format!("http://127.0.0.1:{}{path}", ready.port));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let value: serde_json::Value = response.json().await?;
        if !status.is_success() {
            return Err(eyre!("the simulator refused: {}", value["message"]));
        }
        Ok(value)
    })
}
