//! An engine reached over ssh on a non-standard port: a real sshd on 127.0.0.1 with a
//! throwaway key bridges to a lab dockerd through `docker system dial-stdio`, as the
//! docker CLI does.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::lab::{Run, ctl_command};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wheelhouse::lab::TestLab;

/// sshd in the foreground, killed (by its own pid) on drop.
struct Sshd(Child);

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen (openssh-client)")
        .success();
    assert!(ok, "ssh-keygen failed");
}

/// Starts sshd on `port` for root with `dir/id.pub`, whose sessions reach `socket`.
fn start_sshd(dir: &Path, port: u16, socket: &Path) -> Sshd {
    keygen(&dir.join("host_key"));
    keygen(&dir.join("id"));
    std::fs::copy(dir.join("id.pub"), dir.join("authorized_keys")).expect("authorized_keys");
    // sshd refuses to start without its privilege separation directory.
    std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
    let config = dir.join("sshd_config");
    write(
        &config,
        &format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nSetEnv DOCKER_HOST=unix://{s}\n",
            d = dir.display(),
            s = socket.display()
        ),
    );
    let child = Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("sshd.log")).expect("sshd.log"))
        .spawn()
        .expect("start sshd (openssh-server)");
    let sshd = Sshd(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "sshd never listened on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    sshd
}

/// A directory holding an `ssh` that uses only this test's key and known_hosts file (ssh
/// reads no config from the environment, so a wrapper first on PATH does it).
fn ssh_wrapper(dir: &Path) -> PathBuf {
    let config = dir.join("ssh_config");
    write(
        &config,
        &format!(
            "Host *\n  IdentityFile {d}/id\n  IdentitiesOnly yes\n  UserKnownHostsFile {d}/known_hosts\n  StrictHostKeyChecking accept-new\n",
            d = dir.display()
        ),
    );
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let ssh = bin.join("ssh");
    write(
        &ssh,
        &format!(
            "#!/bin/sh\nexec /usr/bin/ssh -F {} \"$@\"\n",
            config.display()
        ),
    );
    let ok = Command::new("chmod")
        .arg("+x")
        .arg(&ssh)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "chmod {}", ssh.display());
    bin
}

/// `ctl status` against a config whose only host is `engine`, with the wrapper on PATH.
fn status_of(dir: &Path, bin: &Path, etcd: &str, engine: &str) -> Run {
    let config = dir.join("wheelhouse.toml");
    write(
        &config,
        &format!(
            "[etcd]\nendpoints = [\"{etcd}\"]\n\n[[hosts]]\nname = \"far\"\nengine = \"{engine}\"\n"
        ),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Run::of(ctl_command(&config, &[], &["status"]).env("PATH", path))
}

#[test]
fn an_engine_on_a_non_standard_ssh_port_answers() {
    let lab = TestLab::up(1).expect("lab up");
    let dir = lab.dir().join("ssh");
    std::fs::create_dir_all(&dir).expect("ssh dir");
    let port = free_port();
    let _sshd = start_sshd(&dir, port, &lab.hosts()[0].socket);
    let bin = ssh_wrapper(&dir);

    let good = status_of(
        &dir,
        &bin,
        &lab.etcd_endpoint(),
        &format!("ssh://root@127.0.0.1:{port}"),
    );
    assert!(
        good.ok().contains("hosts: 1/1 online"),
        "{}\n{}",
        good.stdout,
        good.stderr
    );

    // Nothing listens on the next port: the grid says what ssh said, not a bare EOF.
    let closed = free_port();
    let bad = status_of(
        &dir,
        &bin,
        &lab.etcd_endpoint(),
        &format!("ssh://root@127.0.0.1:{closed}"),
    );
    assert!(
        bad.stdout.contains(&format!(
            "far: offline (ssh: connect to host 127.0.0.1 port {closed}: Connection refused)"
        )),
        "{}\n{}",
        bad.stdout,
        bad.stderr
    );
}
