//! A lab for tests: a fresh short directory under /tmp, brought down and removed on Drop
//! (also when the test panics).

use super::{Lab, LabError, LabOptions};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

pub struct TestLab(Lab);

impl TestLab {
    /// A lab of `hosts` hosts in its own loopback block (claimed at `up`, like every
    /// lab's), so tests and other labs can run in parallel without address clashes.
    pub fn up(hosts: usize) -> Result<TestLab, LabError> {
        TestLab::start(hosts, |_| {})
    }

    /// Like `up`, with engines also on TCP with mutual TLS, and a config that uses it.
    pub fn up_tls(hosts: usize) -> Result<TestLab, LabError> {
        TestLab::start(hosts, |o| o.tls = true)
    }

    /// Like `up`, with an agent per host, running `exe agent` (the test's wheelhouse binary).
    pub fn up_with_agents(hosts: usize, exe: &Path) -> Result<TestLab, LabError> {
        TestLab::start(hosts, |o| o.agent = Some(exe.to_owned()))
    }

    /// Like `up_with_agents`, with TLS engines: the agents serve with mutual TLS too.
    pub fn up_tls_with_agents(hosts: usize, exe: &Path) -> Result<TestLab, LabError> {
        TestLab::start(hosts, |o| {
            o.tls = true;
            o.agent = Some(exe.to_owned());
        })
    }

    /// Like `up`, with an etcd cluster of `members` members.
    pub fn up_etcd_cluster(hosts: usize, members: usize) -> Result<TestLab, LabError> {
        TestLab::start(hosts, |o| o.etcd_members = members)
    }

    fn start(hosts: usize, adjust: impl FnOnce(&mut LabOptions)) -> Result<TestLab, LabError> {
        let dir = fresh_dir()?;
        let mut opts = LabOptions::new(hosts, dir.clone());
        adjust(&mut opts);
        match Lab::up(&opts) {
            Ok(lab) => Ok(TestLab(lab)),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }
}

/// /tmp rather than $TMPDIR: socket paths must stay short.
fn fresh_dir() -> Result<PathBuf, LabError> {
    let base = Path::new("/tmp");
    let pid = std::process::id();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("whl-{pid}-{n}"));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => continue,
            Err(e) => return Err(LabError::io(format!("create {}", dir.display()), e)),
        }
    }
}

impl Deref for TestLab {
    type Target = Lab;
    fn deref(&self) -> &Lab {
        &self.0
    }
}

impl DerefMut for TestLab {
    fn deref_mut(&mut self) -> &mut Lab {
        &mut self.0
    }
}

impl Drop for TestLab {
    fn drop(&mut self) {
        // The state file is newer than this copy when the test ran `lab up` to repair it.
        let down = match Lab::open(self.0.dir()) {
            Ok(current) => current.down(),
            Err(_) => self.0.down(),
        };
        match down {
            Ok(()) => {
                let _ = std::fs::remove_dir_all(self.0.dir());
            }
            Err(e) => eprintln!("test lab in {}: down failed: {e}", self.0.dir().display()),
        }
    }
}
