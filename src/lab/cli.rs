//! `wheelhouse lab up|status|down`: the lab for people, with human-readable output.

use super::{Lab, LabOptions, TlsPaths, state};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum LabCommand {
    /// Start etcd and N dockerd hosts, import the demo images, write wheelhouse.toml.
    Up {
        /// How many dockerd hosts to start.
        #[arg(long, default_value_t = 3)]
        hosts: usize,
        /// Lab directory (default: the XDG state dir's wheelhouse/lab).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Engines also listen on tcp://ADDRESS:2376 with mutual TLS (certificates in
        /// DIR/tls), and the config reaches them that way, as remote hosts are.
        #[arg(long)]
        tls: bool,
    },
    /// Show each lab process: alive or dead, and whether it answers.
    Status {
        /// Lab directory (default: the XDG state dir's wheelhouse/lab).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
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
        } => {
            let dir = given.clone().unwrap_or_else(default_dir);
            let started = Instant::now();
            let lab = Lab::up(&LabOptions {
                tls,
                ..LabOptions::new(hosts, dir)
            })?;
            println!(
                "lab up in {:.1}s in {}: etcd at {} and {} docker hosts",
                started.elapsed().as_secs_f64(),
                lab.dir().display(),
                lab.etcd_endpoint(),
                lab.hosts().len()
            );
            for h in lab.hosts() {
                println!(
                    "  {:<8} {}  address {}  zone {}",
                    h.name, h.engine, h.address, h.zone
                );
            }
            let config = lab.config_path();
            if tls {
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
                dir_flag(&given, lab.dir())
            );
        }
        LabCommand::Status { dir } => {
            let lab = Lab::open(&dir.unwrap_or_else(default_dir))?;
            println!("lab in {}", lab.dir().display());
            for (name, alive, detail) in lab.status() {
                let word = if alive { "alive" } else { "dead" };
                println!("  {name:<8} {word:<5}  {detail}");
            }
        }
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
