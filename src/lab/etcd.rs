//! The lab's etcd: one member, or a cluster (`lab up --etcd 3`) bootstrapped statically on
//! free loopback ports; members restart on the same ports with their data.

use super::state::EtcdPaths;
use super::{ETCD_GRACE, Lab, LabError, binaries, engine, process, wait_until};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

impl Lab {
    /// Stops every etcd member (SIGTERM, then SIGKILL after a grace period).
    pub fn stop_etcd(&mut self) -> Result<(), LabError> {
        std::thread::scope(|s| {
            for p in self.state.etcd.iter().filter_map(|m| m.proc.as_ref()) {
                s.spawn(move || process::terminate(p, ETCD_GRACE));
            }
        });
        Ok(())
    }

    /// Starts every member that is not running again, on its ports with its data, and
    /// waits until all are healthy.
    pub fn start_etcd(&mut self) -> Result<(), LabError> {
        let dead: Vec<usize> = (0..self.state.etcd.len())
            .filter(|&i| !self.etcd_member_alive(i))
            .collect();
        if !dead.is_empty() {
            let bins = binaries(false)?;
            for i in dead {
                self.spawn_etcd(i, &bins.etcd)?;
            }
        }
        self.wait_etcd()
    }

    /// SIGKILLs etcd member `i` (0-based), as a crash would.
    pub fn kill_etcd_member(&mut self, i: usize) -> Result<(), LabError> {
        let member = self.state.etcd.get(i).ok_or(LabError::NoSuchHost {
            index: i,
            count: self.state.etcd.len(),
        })?;
        if let Some(p) = &member.proc {
            process::kill(p);
        }
        Ok(())
    }

    /// The member that leads the cluster now, from each live member's own metrics.
    pub fn etcd_leader(&self) -> Option<usize> {
        (0..self.state.etcd.len()).find(|&i| {
            self.etcd_member_alive(i)
                && engine::http_get(&self.etcd_address(i), "/metrics").is_ok_and(|(_, body)| {
                    body.lines().any(|l| l.trim() == "etcd_server_is_leader 1")
                })
        })
    }

    /// Every member's client URL, in member order.
    pub fn etcd_endpoints(&self) -> Vec<String> {
        (0..self.state.etcd.len())
            .map(|i| format!("http://{}", self.etcd_address(i)))
            .collect()
    }

    /// The name `lab status` gives member `i`: "etcd" alone, "etcd-1".. in a cluster.
    pub(super) fn etcd_name(&self, i: usize) -> String {
        if self.state.etcd.len() == 1 {
            "etcd".to_owned()
        } else {
            format!("etcd-{}", i + 1)
        }
    }

    pub(super) fn etcd_member_alive(&self, i: usize) -> bool {
        self.state
            .etcd
            .get(i)
            .and_then(|m| m.proc)
            .is_some_and(|p| p.alive())
    }

    fn etcd_address(&self, i: usize) -> String {
        let port = self.state.etcd.get(i).map_or(0, |m| m.client_port);
        format!("127.0.0.1:{port}")
    }

    fn spawn_etcd(&mut self, i: usize, bin: &Path) -> Result<(), LabError> {
        let paths = EtcdPaths::member(&self.dir, i);
        std::fs::create_dir_all(&paths.root)
            .map_err(|e| LabError::io(format!("create {}", paths.root.display()), e))?;
        let peer = |j: usize| {
            let port = self.state.etcd.get(j).map_or(0, |m| m.peer_port);
            format!("http://127.0.0.1:{port}")
        };
        let cluster: Vec<String> = (0..self.state.etcd.len())
            .map(|j| format!("{}={}", member_id(j), peer(j)))
            .collect();
        let client = format!("http://{}", self.etcd_address(i));
        let token = format!(
            "wheelhouse-{:016x}",
            super::fnv1a(self.dir.as_os_str().as_encoded_bytes())
        );
        let mut cmd = Command::new(bin);
        // The --initial-* flags only matter for a new data dir; a restart reuses its data.
        cmd.args(["--name", &member_id(i)])
            .arg("--data-dir")
            .arg(&paths.data)
            .args([
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
            ])
            .args([
                "--listen-peer-urls",
                &peer(i),
                "--initial-advertise-peer-urls",
                &peer(i),
            ])
            .args(["--initial-cluster", &cluster.join(",")])
            .args(["--initial-cluster-token", &token]);
        let what = self.etcd_name(i);
        let proc = process::spawn(cmd, &what, &paths.log)?;
        if let Some(member) = self.state.etcd.get_mut(i) {
            member.proc = Some(proc);
        }
        self.state.write(&self.dir)
    }

    pub(super) fn spawn_etcd_on_free_ports(&mut self, bin: &Path) -> Result<(), LabError> {
        let ports = free_ports(2 * self.state.etcd.len())?;
        for (member, pair) in self.state.etcd.iter_mut().zip(ports.chunks(2)) {
            member.client_port = pair[0];
            member.peer_port = pair[1];
        }
        for i in 0..self.state.etcd.len() {
            self.spawn_etcd(i, bin)?;
        }
        Ok(())
    }

    /// Waits for etcd; if another process took a port in the meantime, starts the
    /// members afresh on new ports.
    pub(super) fn wait_etcd_or_move(&mut self, bin: &Path) -> Result<(), LabError> {
        let mut tries = 0;
        loop {
            let result = self.wait_etcd();
            let port_taken = (0..self.state.etcd.len()).any(|i| {
                process::log_tail(&EtcdPaths::member(&self.dir, i).log, 15)
                    .contains("address already in use")
            });
            match result {
                Err(LabError::NotUp { .. }) if tries < 3 && port_taken => {
                    tries += 1;
                    self.stop_etcd()?;
                    // A cluster bootstrapped on the old ports must not keep them.
                    for i in 0..self.state.etcd.len() {
                        let data = EtcdPaths::member(&self.dir, i).data;
                        let _ = std::fs::remove_dir_all(data);
                    }
                    self.spawn_etcd_on_free_ports(bin)?;
                }
                other => return other,
            }
        }
    }

    /// Waits until every member is healthy (a member answers healthy once the cluster
    /// has a leader).
    fn wait_etcd(&self) -> Result<(), LabError> {
        for (i, member) in self.state.etcd.iter().enumerate() {
            let log = EtcdPaths::member(&self.dir, i).log;
            wait_until(&self.etcd_name(i), &log, member.proc, || {
                self.etcd_member_health(i)
            })?;
        }
        Ok(())
    }

    pub(super) fn etcd_member_health(&self, i: usize) -> Result<(), LabError> {
        match engine::http_get(&self.etcd_address(i), "/health")? {
            (200, body) if body.contains("true") => Ok(()),
            (status, body) => Err(LabError::engine(
                "etcd /health",
                format!("HTTP {status}: {body}"),
            )),
        }
    }
}

/// etcd's --name for member `i`: "lab" for the first (as a one-member lab has always
/// been), then "lab2", "lab3", ...
fn member_id(i: usize) -> String {
    match i {
        0 => "lab".to_owned(),
        _ => format!("lab{}", i + 1),
    }
}

/// `n` distinct free loopback ports, found by binding port 0 (held until all are found).
fn free_ports(n: usize) -> Result<Vec<u16>, LabError> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| LabError::io("find a free loopback port", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| LabError::io("find a free loopback port", e))?
            .port();
        held.push((port, listener));
    }
    Ok(held.into_iter().map(|(port, _)| port).collect())
}
