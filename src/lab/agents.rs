//! One `wheelhouse agent` per lab host, on the host's own loopback address and the
//! agent's default port (each host has its own address, so one port serves them all),
//! with the engines' server certificate in a TLS lab. Their pids go into the state file
//! like dockerd's; `lab down` stops them by pid.

use super::process::{self, Proc};
use super::state::HostPaths;
use super::{Lab, LabError, TlsPaths};
use crate::agent::DEFAULT_PORT;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// How long an agent gets to revoke its lease and stop after SIGTERM.
pub const AGENT_GRACE: Duration = Duration::from_secs(5);

impl Lab {
    /// The agent of host `i` (0-based): its API's base URL.
    pub fn agent_url(&self, i: usize) -> Option<String> {
        let host = self.state.hosts.get(i)?;
        let scheme = if self.state.tls { "https" } else { "http" };
        Some(format!("{scheme}://{}:{DEFAULT_PORT}", host.address))
    }

    /// The agent process of host `i`, if the lab started one.
    pub fn agent(&self, i: usize) -> Option<Proc> {
        self.state.agents.get(i).copied().flatten()
    }

    /// Starts `exe agent` for every host whose agent is not running, and waits until
    /// each listens. `exe` is remembered, so `lab up` can restart a dead agent.
    pub fn start_agents(&mut self, exe: &Path) -> Result<Vec<String>, LabError> {
        self.state.agent_exe = Some(exe.to_owned());
        self.state.agents.resize(self.state.hosts.len(), None);
        let mut started = Vec::new();
        for i in 0..self.state.hosts.len() {
            if self.agent(i).is_some_and(|p| p.alive()) {
                continue;
            }
            self.spawn_agent(i, exe)?;
            started.push(format!("{}-agent", self.state.hosts[i].name));
        }
        self.state.write(&self.dir)?;
        for i in 0..self.state.hosts.len() {
            self.wait_agent(i)?;
        }
        Ok(started)
    }

    /// `start_agents` again with the program that started them first, if any did.
    pub(super) fn repair_agents(&mut self) -> Result<Vec<String>, LabError> {
        match self.state.agent_exe.clone() {
            Some(exe) => self.start_agents(&exe),
            None => Ok(Vec::new()),
        }
    }

    fn spawn_agent(&mut self, i: usize, exe: &Path) -> Result<(), LabError> {
        let paths = HostPaths::new(&self.dir, i + 1);
        let host = &self.state.hosts[i];
        let mut cmd = Command::new(exe);
        cmd.arg("agent")
            .arg("--config")
            .arg(self.config_path())
            .arg("--host")
            .arg(&host.name)
            .arg("--log-file")
            .arg(paths.root.join("agent.log"));
        if self.state.tls {
            let tls = TlsPaths::new(&self.dir);
            cmd.arg("--tlscacert")
                .arg(tls.ca())
                .arg("--tlscert")
                .arg(tls.server_cert())
                .arg("--tlskey")
                .arg(tls.server_key());
        }
        let what = format!("the agent of {}", host.name);
        let proc = process::spawn(cmd, &what, &paths.root.join("agent.out"))?;
        self.state.agents[i] = Some(proc);
        Ok(())
    }

    fn wait_agent(&self, i: usize) -> Result<(), LabError> {
        let host = &self.state.hosts[i];
        let what = format!("the agent of {}", host.name);
        let log = HostPaths::new(&self.dir, i + 1).root.join("agent.out");
        let address: SocketAddr = format!("{}:{DEFAULT_PORT}", host.address)
            .parse()
            .map_err(|e| LabError::Invalid(format!("{what}: address: {e}")))?;
        super::wait_until(&what, &log, self.agent(i), || {
            TcpStream::connect_timeout(&address, Duration::from_millis(200))
                .map(drop)
                .map_err(|e| LabError::io(format!("connect to {address}"), e))
        })
    }
}
