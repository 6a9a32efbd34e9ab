//! Local lab: one etcd and N real dockerd hosts on this machine, for the demo and for the
//! integration tests. Synchronous on purpose: it runs before (or without) an async runtime.
//!
//! Layout of a lab directory: `lab.json` (state: pids, ports, hosts), `wheelhouse.toml`
//! (the cockpit's config), `etcd/{data,etcd.log}` and per host `hN/{data,run,docker.sock,
//! docker.pid,daemon.json,dockerd.log}`.

mod addresses;
mod agents;
mod cli;
pub mod demo;
pub mod engine;
mod error;
mod etcd;
mod images;
mod parts;
mod process;
pub mod sim;
mod state;
mod testlab;
mod tls;

pub use addresses::AddressBlock;
pub use cli::{LabCommand, default_dir, run_cli};
pub use error::LabError;
pub use images::{REPO as DEMO_REPO, TAGS as DEMO_TAGS};
pub use process::pid_running;
pub use testlab::TestLab;

use engine::Engine;
use process::Proc;
use serde::{Deserialize, Serialize};
use state::{EtcdPaths, EtcdRecord, HostPaths, State};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
pub use tls::TlsPaths;

/// How long a process gets to answer after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long dockerd gets to stop its containers after SIGTERM.
const DOCKERD_GRACE: Duration = Duration::from_secs(20);
const ETCD_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct LabOptions {
    pub hosts: usize,
    pub dir: PathBuf,
    /// etcd members: 1, or an odd number for a cluster (`lab up --etcd 3`).
    pub etcd_members: usize,
    /// Import the demo images into every engine.
    pub images: bool,
    /// Engines also listen on tcp://ADDRESS:2376 with mutual TLS, and the config reaches
    /// them that way.
    pub tls: bool,
    /// Start an agent per host by running this program (`<exe> agent --host ...`).
    pub agent: Option<PathBuf>,
}

impl LabOptions {
    pub fn new(hosts: usize, dir: PathBuf) -> Self {
        LabOptions {
            hosts,
            dir,
            etcd_members: 1,
            images: true,
            tls: false,
            agent: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabHost {
    /// "lab-1", "lab-2", ...
    pub name: String,
    /// "unix://<socket>"
    pub engine: String,
    pub socket: PathBuf,
    /// The loopback address its containers bind host-network ports to.
    pub address: String,
    /// "a", "b", "c", round robin.
    pub zone: String,
}

/// A running lab, started by `up` or attached to by `open`.
#[derive(Debug)]
pub struct Lab {
    dir: PathBuf,
    state: State,
}

struct Binaries {
    dockerd: PathBuf,
    etcd: PathBuf,
}

fn binaries(need_busybox: bool) -> Result<Binaries, LabError> {
    let found = Binaries {
        dockerd: process::find_binary("dockerd", "docker.io")?,
        etcd: process::find_binary("etcd", "etcd-server")?,
    };
    if need_busybox && !Path::new(images::BUSYBOX).is_file() {
        return Err(LabError::MissingBinary {
            binary: images::BUSYBOX,
            package: "busybox-static",
        });
    }
    Ok(found)
}

fn absolute(dir: &Path) -> Result<PathBuf, LabError> {
    std::path::absolute(dir).map_err(|e| LabError::io(format!("resolve {}", dir.display()), e))
}

impl Lab {
    /// Starts etcd and `opts.hosts` dockerd engines in `opts.dir`, waits until each
    /// answers, imports the demo images and writes the state file and wheelhouse.toml.
    /// On failure it stops whatever it had started.
    pub fn up(opts: &LabOptions) -> Result<Lab, LabError> {
        // Zero hosts is an etcd-only lab, for tests of the etcd side.
        if opts.hosts > 254 {
            return Err(LabError::Invalid(format!(
                "a lab has 0 to 254 hosts, not {}",
                opts.hosts
            )));
        }
        if opts.etcd_members.is_multiple_of(2) || opts.etcd_members > 7 {
            return Err(LabError::Invalid(format!(
                "etcd runs as 1, 3, 5 or 7 members (an odd number keeps a majority), not {}",
                opts.etcd_members
            )));
        }
        if !process::is_root() {
            return Err(LabError::NotRoot);
        }
        let bins = binaries(opts.images)?;
        let dir = absolute(&opts.dir)?;
        state::check_socket_paths(&dir, opts.hosts)?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| LabError::io(format!("create {}", dir.display()), e))?;
        clear_dir(&dir)?;
        // The state file, written while the block's claim is locked, is what holds it.
        let state = addresses::claim(&dir, |block| {
            let state = State {
                addresses: Some(block),
                etcd: vec![
                    EtcdRecord {
                        proc: None,
                        client_port: 0,
                        peer_port: 0,
                    };
                    opts.etcd_members
                ],
                hosts: (1..=opts.hosts).map(|n| lab_host(&dir, block, n)).collect(),
                dockerd: vec![None; opts.hosts],
                controller: None,
                tls: opts.tls,
                agents: vec![None; opts.hosts],
                agent_exe: None,
            };
            state.write(&dir)?;
            Ok(state)
        })?;
        let mut lab = Lab { dir, state };
        match lab.start(opts, &bins) {
            Ok(()) => Ok(lab),
            Err(e) => {
                if let Err(cleanup) = lab.down() {
                    eprintln!("wheelhouse lab: cleaning up after a failed start: {cleanup}");
                }
                Err(e)
            }
        }
    }

    fn start(&mut self, opts: &LabOptions, bins: &Binaries) -> Result<(), LabError> {
        let tar = if opts.images {
            Some(images::rootfs_tar(Path::new(images::BUSYBOX))?)
        } else {
            None
        };
        if opts.tls {
            let addresses: Vec<String> =
                self.state.hosts.iter().map(|h| h.address.clone()).collect();
            tls::generate(&TlsPaths::new(&self.dir), &addresses)?;
        }
        self.spawn_etcd_on_free_ports(&bins.etcd)?;
        for i in 0..self.state.hosts.len() {
            self.spawn_dockerd(i, &bins.dockerd)?;
        }
        self.wait_etcd_or_move(&bins.etcd)?;
        // Engines come up and take their images in parallel.
        let waits: Vec<Result<(), LabError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..self.state.hosts.len())
                .map(|i| {
                    let this = &*self;
                    let tar = tar.as_deref();
                    s.spawn(move || {
                        this.wait_dockerd(i)?;
                        match tar {
                            Some(tar) => images::import(&this.engine(i), tar),
                            None => Ok(()),
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(LabError::Invalid("a start thread panicked".into()))
                    })
                })
                .collect()
        });
        waits.into_iter().collect::<Result<Vec<()>, _>>()?;
        let tls = self.state.tls.then(|| TlsPaths::new(&self.dir));
        state::write_config(
            &self.dir,
            &self.etcd_endpoints(),
            &self.state.hosts,
            tls.as_ref(),
        )?;
        if let Some(exe) = &opts.agent {
            self.start_agents(exe)?;
        }
        Ok(())
    }

    /// Attaches to the lab whose state file is in `dir`.
    pub fn open(dir: &Path) -> Result<Lab, LabError> {
        let dir = absolute(dir)?;
        let state = State::read(&dir)?;
        Ok(Lab { dir, state })
    }

    /// Stops exactly what the lab started, by pid (SIGTERM, then SIGKILL after a grace
    /// period), kills what dockerd left behind, detaches its mounts, and removes the state
    /// file. Data directories stay until the next `up`.
    pub fn down(&self) -> Result<(), LabError> {
        // The controller first, so it does not see the engines go and react; the agents
        // while etcd is still there to hear them revoke their leases.
        std::thread::scope(|s| {
            if let Some(p) = &self.state.controller {
                s.spawn(move || process::terminate(p, ETCD_GRACE));
            }
            for p in self.state.agents.iter().flatten() {
                s.spawn(move || process::terminate(p, agents::AGENT_GRACE));
            }
        });
        std::thread::scope(|s| {
            for p in self.state.dockerd.iter().flatten() {
                s.spawn(move || process::terminate(p, DOCKERD_GRACE));
            }
            for p in self.state.etcd.iter().filter_map(|m| m.proc.as_ref()) {
                s.spawn(move || process::terminate(p, ETCD_GRACE));
            }
        });
        for n in 1..=self.state.hosts.len() {
            process::sweep(&HostPaths::new(&self.dir, n).exec);
        }
        let still: Vec<String> = self
            .state
            .dockerd
            .iter()
            .chain(self.state.etcd.iter().map(|m| &m.proc))
            .chain([&self.state.controller])
            .chain(&self.state.agents)
            .flatten()
            .filter(|p| p.alive())
            .map(|p| p.pid.to_string())
            .collect();
        if !still.is_empty() {
            return Err(LabError::Invalid(format!(
                "processes {} did not stop; the state file {} is kept",
                still.join(", "),
                self.dir.join(state::STATE_FILE).display()
            )));
        }
        let detached = detach_mounts(&self.dir);
        match std::fs::remove_file(self.dir.join(state::STATE_FILE)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(LabError::io("remove the lab state file", e)),
        }
        if let Some(block) = self.state.addresses {
            addresses::release(block, &self.dir);
        }
        detached
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join(state::CONFIG_FILE)
    }

    pub fn etcd_endpoint(&self) -> String {
        let port = self.state.etcd.first().map_or(0, |m| m.client_port);
        format!("http://127.0.0.1:{port}")
    }

    pub fn hosts(&self) -> &[LabHost] {
        &self.state.hosts
    }

    /// The engine of host `i` (0-based), for blocking API calls.
    pub fn engine(&self, i: usize) -> Engine {
        Engine::new(&HostPaths::new(&self.dir, i + 1).socket)
    }

    /// The pids the lab started and that still run: etcd, each dockerd, the controller.
    pub fn pids(&self) -> Vec<u32> {
        self.processes()
            .into_iter()
            .filter_map(|(_, p)| p.filter(|p| p.alive()).map(|p| p.pid))
            .collect()
    }

    /// Every process the lab manages, by name: etcd, each host's dockerd, the controller
    /// if `wheelhouse demo` started one, then each host's agent.
    fn processes(&self) -> Vec<(String, Option<Proc>)> {
        (0..self.state.etcd.len())
            .map(|i| (self.etcd_name(i), self.state.etcd[i].proc))
            .chain(
                self.state
                    .hosts
                    .iter()
                    .map(|h| h.name.clone())
                    .zip(self.state.dockerd.iter().copied()),
            )
            .chain(
                self.state
                    .controller
                    .map(|p| ("controller".to_owned(), Some(p))),
            )
            .chain(
                self.state
                    .hosts
                    .iter()
                    .map(|h| format!("{}-agent", h.name))
                    .zip(self.state.agents.iter().copied()),
            )
            .collect()
    }

    /// SIGKILLs host `i`'s dockerd, as a crash would.
    pub fn kill_host(&mut self, i: usize) -> Result<(), LabError> {
        self.check_index(i)?;
        if let Some(p) = &self.state.dockerd[i] {
            process::kill(p);
        }
        Ok(())
    }

    /// Starts host `i`'s dockerd again with the same directories and socket, and waits
    /// until it answers. Does nothing if it is running. What the dead one left behind
    /// (containerd, shims and their containers, mounts) goes first.
    pub fn start_host(&mut self, i: usize) -> Result<(), LabError> {
        self.check_index(i)?;
        if !self.state.dockerd[i].is_some_and(|p| p.alive()) {
            let bins = binaries(false)?;
            self.spawn_dockerd(i, &bins.dockerd)?;
            self.state.write(&self.dir)?;
        }
        self.wait_dockerd(i)
    }

    fn check_index(&self, index: usize) -> Result<(), LabError> {
        let count = self.state.hosts.len();
        if index < count {
            Ok(())
        } else {
            Err(LabError::NoSuchHost { index, count })
        }
    }

    fn spawn_dockerd(&mut self, i: usize, bin: &Path) -> Result<(), LabError> {
        let paths = HostPaths::new(&self.dir, i + 1);
        clean_leftovers(&paths)?;
        for d in [&paths.data, &paths.exec] {
            std::fs::create_dir_all(d)
                .map_err(|e| LabError::io(format!("create {}", d.display()), e))?;
        }
        // A crashed dockerd leaves pidfiles behind; while the dead process lingers as a
        // zombie, the new dockerd would take it for running (and wait on a dead containerd).
        for pidfile in [
            paths.pidfile.clone(),
            paths.exec.join("containerd/containerd.pid"),
        ] {
            process::remove_stale_pidfile(&pidfile);
        }
        // An empty config file keeps the machine's /etc/docker/daemon.json out of the lab.
        std::fs::write(&paths.config, "{}\n")
            .map_err(|e| LabError::io(format!("write {}", paths.config.display()), e))?;
        // If a system containerd is running, dockerd uses it instead of its own: separate
        // namespaces keep the lab's engines from seeing each other's containers there.
        let namespace = format!(
            "wh{:016x}",
            fnv1a(paths.root.as_os_str().as_encoded_bytes())
        );
        let mut cmd = Command::new(bin);
        cmd.arg("--data-root")
            .arg(&paths.data)
            .arg("--exec-root")
            .arg(&paths.exec)
            .arg("--host")
            .arg(format!("unix://{}", paths.socket.display()))
            .arg("--pidfile")
            .arg(&paths.pidfile)
            .arg("--config-file")
            .arg(&paths.config)
            .arg("--containerd-namespace")
            .arg(&namespace)
            .arg("--containerd-plugins-namespace")
            .arg(format!("{namespace}p"))
            .args([
                "--bridge=none",
                "--iptables=false",
                "--ip-masq=false",
                "--ip6tables=false",
            ]);
        if self.state.tls {
            cmd.args(TlsPaths::new(&self.dir).dockerd_args(&self.state.hosts[i].address));
        }
        let name = &self.state.hosts[i].name;
        let proc = process::spawn(cmd, &format!("dockerd for {name}"), &paths.log)?;
        self.state.dockerd[i] = Some(proc);
        self.state.write(&self.dir)
    }

    fn wait_dockerd(&self, i: usize) -> Result<(), LabError> {
        let paths = HostPaths::new(&self.dir, i + 1);
        let what = format!("dockerd for {}", self.state.hosts[i].name);
        let engine = self.engine(i);
        wait_until(&what, &paths.log, self.state.dockerd[i], || engine.ping())
    }
}

/// Host number `n` (1-based) of the lab in `dir`, at its address in `block`.
fn lab_host(dir: &Path, block: AddressBlock, n: usize) -> LabHost {
    let socket = HostPaths::new(dir, n).socket;
    LabHost {
        name: format!("lab-{n}"),
        engine: format!("unix://{}", socket.display()),
        socket,
        address: block.host(n),
        zone: state::zone(n - 1),
    }
}

/// Polls `ready` until it succeeds; fails early when the process died.
pub(super) fn wait_until(
    what: &str,
    log: &Path,
    proc: Option<Proc>,
    ready: impl Fn() -> Result<(), LabError>,
) -> Result<(), LabError> {
    let deadline = Instant::now() + START_TIMEOUT;
    let not_up = |reason: String| LabError::NotUp {
        what: what.to_owned(),
        reason,
        log: log.to_owned(),
        log_tail: process::log_tail(log, 15),
    };
    loop {
        let last = match ready() {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if !proc.is_some_and(|p| p.alive()) {
            return Err(not_up("it exited".to_owned()));
        }
        if Instant::now() >= deadline {
            return Err(not_up(format!(
                "no answer within {}s: {last}",
                START_TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Removes what an earlier lab left in `dir` (after making sure none of it still runs),
/// so every `up` starts from empty engines and an empty etcd.
fn clear_dir(dir: &Path) -> Result<(), LabError> {
    match State::read(dir) {
        Ok(old) => {
            let running = old
                .etcd
                .iter()
                .filter_map(|m| m.proc)
                .chain(old.dockerd.iter().flatten().copied())
                .chain(old.agents.iter().flatten().copied())
                .any(|p| p.alive());
            if running {
                return Err(LabError::AlreadyRunning {
                    dir: dir.to_owned(),
                });
            }
        }
        Err(LabError::NoLab { .. } | LabError::State { .. }) => {}
        Err(e) => return Err(e),
    }
    let list =
        || std::fs::read_dir(dir).map_err(|e| LabError::io(format!("list {}", dir.display()), e));
    // Never clear a directory that is not a lab's: it might be anything.
    let is_lab = dir.join(state::STATE_FILE).exists() || EtcdPaths::member(dir, 0).data.is_dir();
    if !is_lab && list()?.next().is_some() {
        return Err(LabError::Invalid(format!(
            "{} is not empty and holds no lab; choose a new or empty --dir",
            dir.display()
        )));
    }
    let ours: Vec<PathBuf> = list()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            // hN (hosts), etcd and etcdN (etcd members).
            let numbered = |prefix: &str| {
                name.strip_prefix(prefix)
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            };
            p.is_dir() && (numbered("h") || name == "etcd" || numbered("etcd"))
        })
        .collect();
    for d in &ours {
        process::sweep(d);
    }
    detach_mounts(dir)?;
    for d in ours {
        std::fs::remove_dir_all(&d)
            .map_err(|e| LabError::io(format!("remove {}", d.display()), e))?;
    }
    Ok(())
}

/// Kills what a dead dockerd of this host left running (its containerd, the shims and
/// their containers) and detaches its mounts, so the next one starts clean.
fn clean_leftovers(paths: &HostPaths) -> Result<(), LabError> {
    process::sweep(&paths.exec);
    detach_mounts(&paths.root)
}

/// Detaches every mount under `dir`. Killed shims may take a moment to release mounts,
/// so it retries a few times before naming the ones that stay.
fn detach_mounts(dir: &Path) -> Result<(), LabError> {
    let mut stuck = process::unmount_under(dir);
    for _ in 0..20 {
        if stuck.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        stuck = process::unmount_under(dir);
    }
    if stuck.is_empty() {
        return Ok(());
    }
    Err(LabError::Invalid(format!(
        "{} holds mounts that would not detach: {}",
        dir.display(),
        stuck
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// A stable 64-bit FNV-1a hash, for names derived from paths.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
