//! The lab's etcd: started on free loopback ports, restarted on the same ones.

use super::state::EtcdPaths;
use super::{ETCD_GRACE, Lab, LabError, binaries, engine, process, wait_until};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

impl Lab {
    pub fn stop_etcd(&mut self) -> Result<(), LabError> {
        if let Some(p) = &self.state.etcd.proc {
            process::terminate(p, ETCD_GRACE);
        }
        Ok(())
    }

    /// Starts etcd again on the same ports with the same data, and waits until healthy.
    pub fn start_etcd(&mut self) -> Result<(), LabError> {
        if !self.state.etcd.proc.is_some_and(|p| p.alive()) {
            let bins = binaries(false)?;
            self.spawn_etcd(&bins.etcd)?;
            self.state.write(&self.dir)?;
        }
        self.wait_etcd()
    }

    fn spawn_etcd(&mut self, bin: &Path) -> Result<(), LabError> {
        let paths = EtcdPaths::new(&self.dir);
        std::fs::create_dir_all(&paths.root)
            .map_err(|e| LabError::io(format!("create {}", paths.root.display()), e))?;
        let client = self.etcd_endpoint();
        let peer = format!("http://127.0.0.1:{}", self.state.etcd.peer_port);
        let mut cmd = Command::new(bin);
        // The --initial-* flags only matter for a new data dir; a restart reuses its data.
        cmd.args(["--name", "lab"])
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
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
            ])
            .args(["--initial-cluster", &format!("lab={peer}")]);
        self.state.etcd.proc = Some(process::spawn(cmd, "etcd", &paths.log)?);
        self.state.write(&self.dir)
    }

    pub(super) fn spawn_etcd_on_free_ports(&mut self, bin: &Path) -> Result<(), LabError> {
        let (client, peer) = free_ports()?;
        self.state.etcd.client_port = client;
        self.state.etcd.peer_port = peer;
        self.spawn_etcd(bin)
    }

    /// Waits for etcd; if another process took its port in the meantime, tries new ports.
    pub(super) fn wait_etcd_or_move(&mut self, bin: &Path) -> Result<(), LabError> {
        let mut tries = 0;
        loop {
            match self.wait_etcd() {
                Err(LabError::NotUp { log_tail, .. })
                    if tries < 3 && log_tail.contains("address already in use") =>
                {
                    tries += 1;
                    self.stop_etcd()?;
                    self.spawn_etcd_on_free_ports(bin)?;
                }
                other => return other,
            }
        }
    }

    fn wait_etcd(&self) -> Result<(), LabError> {
        let log = EtcdPaths::new(&self.dir).log;
        wait_until("etcd", &log, self.state.etcd.proc, || self.etcd_health())
    }

    pub(super) fn etcd_health(&self) -> Result<(), LabError> {
        let addr = format!("127.0.0.1:{}", self.state.etcd.client_port);
        match engine::http_get(&addr, "/health")? {
            (200, body) if body.contains("true") => Ok(()),
            (status, body) => Err(LabError::engine(
                "etcd /health",
                format!("HTTP {status}: {body}"),
            )),
        }
    }
}

/// Two distinct free loopback ports, found by binding port 0.
fn free_ports() -> Result<(u16, u16), LabError> {
    let bind = || {
        TcpListener::bind("127.0.0.1:0")
            .and_then(|l| Ok((l.local_addr()?.port(), l)))
            .map_err(|e| LabError::io("find a free loopback port", e))
    };
    let (a, _la) = bind()?;
    let (b, _lb) = bind()?;
    Ok((a, b))
}
