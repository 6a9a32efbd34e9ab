//! `wheelhouse lab up|status|down`: the lab for people, with human-readable output.

use super::{Lab, LabError, LabOptions, TlsPaths, state};
use color_eyre::eyre::eyre;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum LabCommand {
    /// Start etcd, N dockerd hosts and an agent per host (on the host's address, port
    /// 9101), import the demo images, write wheelhouse.toml.
    /// On a lab that exists, start its dead parts again with their data.
    Up {
        /// Number of docker hosts [default: 3].
        #[arg(long)]
        hosts: Option<usize>,
        /// Lab directory (default: the XDG state dir's wheelhouse/lab).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Engines also listen on tcp://ADDRESS:2376 with mutual TLS (certificates in
        /// DIR/tls), and the config reaches them that way, as remote hosts are.
        #[arg(long)]
        tls: bool,
        /// etcd members: 1, or 3, 5, 7 for a cluster on loopback ports (the config lists
        /// every member's endpoint) [default: 1].
        #[arg(long)]
        etcd: Option<usize>,
        /// Start no agents: screens read every host from its engine's stats (for
        /// comparisons, and hosts that cannot run one).
        #[arg(long)]
        no_agents: bool,
    },
    /// Show each lab process: alive or dead, and whether it answers. Exits 1 when a part
    /// is dead.
    Status {
        /// Lab directory (default: the XDG state dir's wheelhouse/lab).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// A SIMULATED fleet for scale figures: one process serving the Docker API subset
    /// wheelhouse uses on a socket per engine, and every host's agent API.
    Sim(super::sim::SimCli),
    /// Stop everything the lab started, by pid.
    Down {
        /// Lab directory (default: the XDG state dir's wheelhouse/lab).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// The lab directory when none is given: `<XDG state dir>/wheelhouse/lab`, or
/// /tmp/wheelhouse-lab when that is unknown or too long for unix socket paths.
pub fn default_dir() -> PathBuf {
    let fallback = PathBuf::from("/tmp/wheelhouse-lab");
    let Some(dirs) = directories::ProjectDirs::from("", "", "wheelhouse") else {
        return fallback;
    };
    let dir = dirs.state_dir().unwrap_or(dirs.data_dir()).join("lab");
    if state::check_socket_paths(&dir, 99).is_ok() {
        dir
    } else {
        fallback
    }
}

fn dir_flag(given: &Option<PathBuf>, dir: &Path) -> String {
    match given {
        Some(_) => format!(" --dir {}", dir.display()),
        None => String::new(),
    }
}

pub fn run_cli(cmd: LabCommand) -> color_eyre::Result<()> {
    match cmd {
        LabCommand::Up {
            hosts,
            dir: given,
            tls,
            etcd,
            no_agents,
        } => {
            let dir = given.clone().unwrap_or_else(default_dir);
            match Lab::open(&dir) {
                Ok(lab) => repair(lab, Shape { hosts, tls, etcd }, &given)?,
                Err(LabError::NoLab { .. } | LabError::State { .. }) => {
                    let opts = LabOptions {
                        tls,
                        etcd_members: etcd.unwrap_or(1),
                        agent: (!no_agents).then(std::env::current_exe).transpose()?,
                        ..LabOptions::new(hosts.unwrap_or(3), dir)
                    };
                    start(&opts, &given)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        LabCommand::Status { dir: given } => {
            let lab = Lab::open(&given.clone().unwrap_or_else(default_dir))?;
            println!("lab in {}", lab.dir().display());
            let mut dead = Vec::new();
            for (name, alive, detail) in lab.status() {
                let word = if alive { "alive" } else { "dead" };
                println!("  {name:<10} {word:<5}  {detail}");
                if !alive {
                    dead.push(name);
                }
            }
            if !dead.is_empty() {
                return Err(LabError::PartsDead {
                    parts: dead,
                    dir_flag: dir_flag(&given, lab.dir()),
                }
                .into());
            }
        }
        LabCommand::Sim(sim) => super::sim::run_cli(sim)?,
        LabCommand::Down { dir } => {
            let lab = Lab::open(&dir.unwrap_or_else(default_dir))?;
            let running: Vec<(String, u32)> = lab
                .processes()
                .into_iter()
                .filter_map(|(name, p)| p.filter(|p| p.alive()).map(|p| (name, p.pid)))
                .collect();
            lab.down()?;
            for (name, pid) in &running {
                println!("stopped {name} (pid {pid})");
            }
            let stopped = running.len();
            if stopped == 0 {
                println!("nothing was running");
            }
            println!("lab in {} is down", lab.dir().display());
        }
    }
    Ok(())
}

/// `lab up` where no lab is: a fresh one.
fn start(opts: &LabOptions, given: &Option<PathBuf>) -> color_eyre::Result<()> {
    let started = Instant::now();
    let lab = Lab::up(opts)?;
    println!(
        "lab up in {:.1}s in {}: etcd at {} and {} docker hosts",
        started.elapsed().as_secs_f64(),
        lab.dir().display(),
        lab.etcd_endpoints().join(", "),
        lab.hosts().len()
    );
    for (i, h) in lab.hosts().iter().enumerate() {
        let agent = match (lab.agent(i), lab.agent_url(i)) {
            (Some(_), Some(url)) => format!("  agent {url}"),
            _ => String::new(),
        };
        println!(
            "  {:<8} {}  address {}  zone {}{agent}",
            h.name, h.engine, h.address, h.zone
        );
    }
    let config = lab.config_path();
    if opts.tls {
        let client = TlsPaths::new(lab.dir()).client_dir();
        let address = lab
            .hosts()
            .first()
            .map_or("ADDRESS", |h| h.address.as_str());
        println!(
            "tls:              DOCKER_CERT_PATH={} docker --tlsverify -H tcp://{address}:2376 ps",
            client.display()
        );
    }
    println!("config:           {}", config.display());
    println!("open the cockpit: wheelhouse --config {}", config.display());
    println!(
        "stop the lab:     wheelhouse lab down{}",
        dir_flag(given, lab.dir())
    );
    Ok(())
}

/// What `lab up` was asked for, flag by flag (None: not given).
struct Shape {
    hosts: Option<usize>,
    tls: bool,
    etcd: Option<usize>,
}

/// `lab up` on a lab that exists: its dead parts start again with their data. A different
/// shape (hosts, TLS, etcd members) is refused: that takes `lab down` and a fresh `up`.
fn repair(mut lab: Lab, asked: Shape, given: &Option<PathBuf>) -> color_eyre::Result<()> {
    let (hosts, members) = (lab.hosts().len(), lab.etcd_members());
    let flag = dir_flag(given, lab.dir());
    if asked.hosts.is_some_and(|n| n != hosts)
        || (asked.tls && !lab.tls())
        || asked.etcd.is_some_and(|n| n != members)
    {
        let tls = if lab.tls() { "with" } else { "without" };
        return Err(eyre!(
            "the lab in {} has {} and {} {tls} TLS; to start a different one: wheelhouse lab down{flag}",
            lab.dir().display(),
            count(hosts, "host"),
            count(members, "etcd member"),
        ));
    }
    let mut restarted = lab.repair()?;
    if lab.controller_died() {
        let exe = std::env::current_exe()?;
        match super::demo::ensure_controller(&mut lab, &exe)? {
            super::demo::ControllerRun::Lab(_) => restarted.push("controller".to_owned()),
            super::demo::ControllerRun::Elsewhere(id) => {
                println!("controller: not restarted, {id} holds the lease");
            }
        }
    }
    if restarted.is_empty() {
        println!("lab in {} runs; nothing to restart", lab.dir().display());
    } else {
        println!(
            "lab in {}: restarted {} with their data",
            lab.dir().display(),
            restarted.join(", ")
        );
    }
    println!("config:           {}", lab.config_path().display());
    Ok(())
}

/// "1 host", "3 hosts".
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("{n} {what}")
    } else {
        format!("{n} {what}s")
    }
}
