//! The lab's parts one by one: whether each lives and answers (`lab status`), and bringing
//! the dead ones back with their data (`lab up` on a lab that exists).

use super::process::{self, Proc};
use super::state::HostPaths;
use super::{Lab, LabError};

impl Lab {
    /// One entry per process: name, alive, and a detail line (pid, endpoint, answering).
    /// The demo's controller is listed when `wheelhouse demo` started one.
    pub fn status(&self) -> Vec<(String, bool, String)> {
        let mut out = Vec::with_capacity(self.state.hosts.len() + 2);
        let endpoints = self.etcd_endpoints();
        for (i, (member, endpoint)) in self.state.etcd.iter().zip(&endpoints).enumerate() {
            let alive = self.etcd_member_alive(i);
            let answer = if alive {
                match self.etcd_member_health(i) {
                    Ok(()) => "healthy".to_owned(),
                    Err(e) => format!("not healthy: {e}"),
                }
            } else {
                "stopped".to_owned()
            };
            out.push((
                self.etcd_name(i),
                alive,
                format!("{} {endpoint} {answer}", pid_text(member.proc)),
            ));
        }
        for (i, host) in self.state.hosts.iter().enumerate() {
            let proc = self.state.dockerd.get(i).copied().flatten();
            let alive = proc.is_some_and(|p| p.alive());
            let answer = if alive {
                match self.engine(i).ping() {
                    Ok(()) => "answers".to_owned(),
                    Err(e) => format!("not answering: {e}"),
                }
            } else {
                // Its shims and containers outlive it until `lab up` or `lab down`.
                match process::leftovers(&HostPaths::new(&self.dir, i + 1).exec).len() {
                    0 => "stopped".to_owned(),
                    n => format!("stopped; {n} processes it started still run"),
                }
            };
            out.push((
                host.name.clone(),
                alive,
                format!(
                    "{} {} {} {answer}",
                    pid_text(proc),
                    host.engine,
                    host.address
                ),
            ));
        }
        for (i, host) in self.state.hosts.iter().enumerate() {
            let Some(p) = self.agent(i) else { continue };
            let url = self.agent_url(i).unwrap_or_default();
            out.push((
                format!("{}-agent", host.name),
                p.alive(),
                format!("{} {url}", pid_text(Some(p))),
            ));
        }
        if let Some(p) = self.state.controller {
            out.push((
                "controller".to_owned(),
                p.alive(),
                format!(
                    "{} log {}",
                    pid_text(Some(p)),
                    self.dir.join("controller.log").display()
                ),
            ));
        }
        out
    }

    /// Starts every dead part again (etcd, then each dockerd, then each agent) on its
    /// ports, sockets and data, cleaning up after a dead dockerd first. Returns the names it restarted; the
    /// demo's controller is the caller's (it needs this program's path).
    pub fn repair(&mut self) -> Result<Vec<String>, LabError> {
        if let Some(block) = self.state.addresses {
            super::addresses::reclaim(block, &self.dir)?;
        }
        let mut restarted: Vec<String> = (0..self.state.etcd.len())
            .filter(|&i| !self.etcd_member_alive(i))
            .map(|i| self.etcd_name(i))
            .collect();
        if !restarted.is_empty() {
            self.start_etcd()?;
        }
        for i in 0..self.state.hosts.len() {
            if !self.state.dockerd[i].is_some_and(|p| p.alive()) {
                self.start_host(i)?;
                restarted.push(self.state.hosts[i].name.clone());
            }
        }
        restarted.extend(self.repair_agents()?);
        Ok(restarted)
    }

    /// Whether `wheelhouse demo` started a controller for this lab that is gone.
    pub fn controller_died(&self) -> bool {
        self.state.controller.is_some_and(|p| !p.alive())
    }

    /// The lab's own loopback block (None for a lab from before blocks were claimed).
    pub fn addresses(&self) -> Option<super::AddressBlock> {
        self.state.addresses
    }

    /// How many etcd members it runs.
    pub fn etcd_members(&self) -> usize {
        self.state.etcd.len()
    }

    /// Whether it runs with TLS engines (`lab up --tls`).
    pub fn tls(&self) -> bool {
        self.state.tls
    }
}

fn pid_text(p: Option<Proc>) -> String {
    p.map_or_else(|| "never started".to_owned(), |p| format!("pid {}", p.pid))
}
