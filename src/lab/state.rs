//! What a lab writes into its directory: the state file (pids, ports, hosts) that
//! `Lab::open` reads back, the cockpit's wheelhouse.toml, and the per-host paths.

use super::addresses::AddressBlock;
use super::process::Proc;
use super::tls::TlsPaths;
use super::{LabError, LabHost};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const STATE_FILE: &str = "lab.json";
pub const CONFIG_FILE: &str = "wheelhouse.toml";
/// Unix socket paths must fit in sun_path (108 bytes); stay well below it.
pub const SOCKET_LIMIT: usize = 100;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EtcdRecord {
    pub proc: Option<Proc>,
    pub client_port: u16,
    pub peer_port: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// The lab's own loopback block; None for a lab started before blocks were claimed.
    #[serde(default)]
    pub addresses: Option<AddressBlock>,
    /// One record per etcd member (a lab from before clusters has a single object here).
    #[serde(deserialize_with = "one_or_many")]
    pub etcd: Vec<EtcdRecord>,
    pub hosts: Vec<LabHost>,
    /// The dockerd of `hosts[i]`; `None` until it was started.
    pub dockerd: Vec<Option<Proc>>,
    /// A controller `wheelhouse demo` started for this lab, stopped with it.
    #[serde(default)]
    pub controller: Option<Proc>,
    /// Engines also listen on TCP with mutual TLS (`lab up --tls`).
    #[serde(default)]
    pub tls: bool,
    /// The agent of `hosts[i]`; empty for a lab started without agents.
    #[serde(default)]
    pub agents: Vec<Option<Proc>>,
    /// The program the agents run (`<exe> agent ...`), for restarting a dead one.
    #[serde(default)]
    pub agent_exe: Option<PathBuf>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<EtcdRecord>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(EtcdRecord),
        Many(Vec<EtcdRecord>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

impl State {
    pub fn read(dir: &Path) -> Result<State, LabError> {
        let path = dir.join(STATE_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(LabError::NoLab {
                    dir: dir.to_owned(),
                    state: path,
                });
            }
            Err(e) => return Err(LabError::io(format!("read {}", path.display()), e)),
        };
        let state: State = serde_json::from_str(&text).map_err(|e| LabError::State {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if state.hosts.len() != state.dockerd.len() {
            return Err(LabError::State {
                path,
                message: "hosts and dockerd lists differ in length".to_owned(),
            });
        }
        Ok(state)
    }

    /// Written to a temporary file and renamed, so a reader never sees half a file.
    pub fn write(&self, dir: &Path) -> Result<(), LabError> {
        let path = dir.join(STATE_FILE);
        let text = serde_json::to_string_pretty(self).map_err(|e| LabError::State {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_atomic(&path, text.as_bytes())
    }
}

fn write_atomic(path: &Path, data: &[u8]) -> Result<(), LabError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, data).map_err(|e| LabError::io(format!("write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| LabError::io(format!("write {}", path.display()), e))
}

/// Where host number `n` (1-based) keeps its files.
pub struct HostPaths {
    pub root: PathBuf,
    pub data: PathBuf,
    pub exec: PathBuf,
    pub socket: PathBuf,
    pub pidfile: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
}

impl HostPaths {
    pub fn new(dir: &Path, n: usize) -> Self {
        let root = dir.join(format!("h{n}"));
        HostPaths {
            data: root.join("data"),
            exec: root.join("run"),
            socket: root.join("docker.sock"),
            pidfile: root.join("docker.pid"),
            config: root.join("daemon.json"),
            log: root.join("dockerd.log"),
            root,
        }
    }

    /// Every unix socket this host's dockerd and its containerd create, longest last.
    pub fn sockets(&self) -> [PathBuf; 3] {
        let containerd = self.exec.join("containerd");
        [
            self.socket.clone(),
            containerd.join("containerd.sock.ttrpc"),
            containerd.join("containerd-debug.sock"),
        ]
    }
}

pub struct EtcdPaths {
    pub root: PathBuf,
    pub data: PathBuf,
    pub log: PathBuf,
}

impl EtcdPaths {
    /// Member `i` (0-based) keeps its files in `etcd/` (the first) or `etcd<i+1>/`.
    pub fn member(dir: &Path, i: usize) -> Self {
        let root = match i {
            0 => dir.join("etcd"),
            _ => dir.join(format!("etcd{}", i + 1)),
        };
        EtcdPaths {
            data: root.join("data"),
            log: root.join("etcd.log"),
            root,
        }
    }
}

/// Fails unless every socket path of `hosts` hosts under `dir` fits the limit.
pub fn check_socket_paths(dir: &Path, hosts: usize) -> Result<(), LabError> {
    // The highest host number has the longest paths.
    for path in HostPaths::new(dir, hosts.max(1)).sockets() {
        let len = path.as_os_str().len();
        if len >= SOCKET_LIMIT {
            return Err(LabError::SocketPathTooLong {
                path,
                len,
                limit: SOCKET_LIMIT,
            });
        }
    }
    Ok(())
}

/// A TOML basic string, quoted and escaped.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// Zones `a`, `b`, `c` in turn, for host `i` (from 0).
pub fn zone(i: usize) -> String {
    ["a", "b", "c"][i % 3].to_owned()
}

/// A `disk` label, `ssd` and `hdd` in turn, for host `i` (from 0): something for
/// placement constraints to choose by.
pub fn disk_label(i: usize) -> &'static str {
    if i.is_multiple_of(2) { "ssd" } else { "hdd" }
}

/// The cockpit's config for a lab (or the fleet simulator): `preamble` (a comment saying
/// who wrote it, and any top-level settings), its etcd and every host. Written by hand
/// rather than serialized so it reads like the documented format (inline label tables).
/// With `tls`, each host's engine is its TCP address, with the client's certificate.
pub fn config_text(
    preamble: &str,
    etcd_endpoints: &[String],
    hosts: &[LabHost],
    tls: Option<&TlsPaths>,
) -> String {
    let mut out = format!(
        "{preamble}refresh = \"2s\"\n\n[etcd]\nendpoints = [{}]\n",
        etcd_endpoints
            .iter()
            .map(|e| quoted(e))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (i, h) in hosts.iter().enumerate() {
        let disk = disk_label(i);
        let engine = match tls {
            Some(_) => format!("tcp://{}:{}", h.address, super::tls::PORT),
            None => h.engine.clone(),
        };
        out.push_str(&format!(
            "\n[[hosts]]\nname = {}\nengine = {}\naddress = {}\nzone = {}\nlabels = {{ disk = {} }}\n",
            quoted(&h.name),
            quoted(&engine),
            quoted(&h.address),
            quoted(&h.zone),
            quoted(disk)
        ));
        if let Some(tls) = tls {
            let file = |path: PathBuf| quoted(&path.display().to_string());
            out.push_str(&format!(
                "tls = {{ ca = {}, cert = {}, key = {} }}\n",
                file(tls.client_ca()),
                file(tls.client_cert()),
                file(tls.client_key())
            ));
        }
    }
    out
}

fn lab_preamble(dir: &Path) -> String {
    format!(
        "# Written by `wheelhouse lab up` for the lab in {}; rewritten on every lab up.\n",
        dir.display()
    )
}

pub fn write_config(
    dir: &Path,
    etcd_endpoints: &[String],
    hosts: &[LabHost],
    tls: Option<&TlsPaths>,
) -> Result<PathBuf, LabError> {
    let path = dir.join(CONFIG_FILE);
    write_atomic(
        &path,
        config_text(&lab_preamble(dir), etcd_endpoints, hosts, tls).as_bytes(),
    )?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(n: usize) -> LabHost {
        LabHost {
            name: format!("lab-{n}"),
            engine: format!("unix:///tmp/l/h{n}/docker.sock"),
            socket: PathBuf::from(format!("/tmp/l/h{n}/docker.sock")),
            address: format!("127.0.1.{n}"),
            zone: "a".to_owned(),
        }
    }

    #[test]
    fn config_lists_etcd_and_every_host() {
        let etcd = ["http://127.0.0.1:2379", "http://127.0.0.1:2381"].map(str::to_owned);
        let text = config_text(
            &lab_preamble(Path::new("/tmp/l")),
            &etcd,
            &[host(1), host(2)],
            None,
        );
        let value: toml::Value = toml::from_str(&text).unwrap();
        let endpoints: Vec<_> = value["etcd"]["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e.as_str())
            .collect();
        assert_eq!(endpoints, etcd);
        let hosts = value["hosts"].as_array().unwrap();
        assert_eq!(hosts.len(), 2);
        assert_eq!(hosts[1]["name"].as_str(), Some("lab-2"));
        assert_eq!(
            hosts[1]["engine"].as_str(),
            Some("unix:///tmp/l/h2/docker.sock")
        );
        assert_eq!(hosts[1]["address"].as_str(), Some("127.0.1.2"));
        assert_eq!(hosts[0]["labels"]["disk"].as_str(), Some("ssd"));
        // The cockpit's own parser accepts it.
        let config =
            crate::config::Config::parse(Path::new("/tmp/l/wheelhouse.toml"), &text).unwrap();
        assert_eq!(config.hosts.len(), 2);
        assert_eq!(config.hosts[0].zone.as_deref(), Some("a"));
    }

    #[test]
    fn a_tls_lab_reaches_engines_over_tcp_with_the_client_certificate() {
        let tls = TlsPaths::new(Path::new("/tmp/l"));
        let text = config_text(
            &lab_preamble(Path::new("/tmp/l")),
            &["http://127.0.0.1:1".to_owned()],
            &[host(2)],
            Some(&tls),
        );
        let config =
            crate::config::Config::parse(Path::new("/tmp/l/wheelhouse.toml"), &text).unwrap();
        let spec = &config.hosts[0];
        assert_eq!(spec.engine, "tcp://127.0.1.2:2376");
        let files = spec.tls.as_ref().expect("tls files");
        assert_eq!(files.ca, Path::new("/tmp/l/tls/client/ca.pem"));
        assert_eq!(files.cert, Path::new("/tmp/l/tls/client/cert.pem"));
        assert_eq!(files.key, Path::new("/tmp/l/tls/client/key.pem"));
    }

    #[test]
    fn config_strings_are_escaped() {
        let mut odd = host(1);
        odd.engine = "unix:///tmp/a \"b\"\\c/docker.sock".to_owned();
        let text = config_text(
            &lab_preamble(Path::new("/tmp/l")),
            &["http://127.0.0.1:1".to_owned()],
            &[odd.clone()],
            None,
        );
        let value: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(
            value["hosts"][0]["engine"].as_str(),
            Some(odd.engine.as_str())
        );
    }

    #[test]
    fn a_state_file_from_before_clusters_reads_as_one_member() {
        let old = r#"{"address_base":1,"etcd":{"proc":null,"client_port":5,"peer_port":6},
            "hosts":[],"dockerd":[]}"#;
        let state: State = serde_json::from_str(old).unwrap();
        assert_eq!(state.etcd.len(), 1);
        assert_eq!((state.etcd[0].client_port, state.etcd[0].peer_port), (5, 6));
        assert_eq!(state.addresses, None);
        let again: State = serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
        assert_eq!(again.etcd.len(), 1);
    }

    #[test]
    fn long_dirs_are_refused() {
        assert!(check_socket_paths(Path::new("/tmp/short"), 3).is_ok());
        let long = PathBuf::from(format!("/tmp/{}", "x".repeat(60)));
        match check_socket_paths(&long, 3) {
            Err(LabError::SocketPathTooLong { len, .. }) => assert!(len >= SOCKET_LIMIT),
            other => panic!("expected SocketPathTooLong, got {other:?}"),
        }
    }
}
