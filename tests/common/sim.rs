//! A fleet simulator for a test: started by the real binary, stopped when dropped.

use super::lab::{BIN, Run};
use bollard::Docker;
use std::path::PathBuf;
use std::process::Command;

/// A simulator (`wheelhouse lab sim`) in a temporary directory, seed 7, stopped when
/// dropped.
pub struct Sim {
    pub dir: tempfile::TempDir,
}

impl Sim {
    pub fn up(engines: usize, containers: usize) -> Sim {
        let dir = tempfile::Builder::new()
            .prefix("whsim")
            .tempdir_in("/tmp")
            .unwrap();
        let run = Run::of(
            Command::new(BIN)
                .args(["lab", "sim", "--engines", &engines.to_string()])
                .args([
                    "--containers",
                    &containers.to_string(),
                    "--seed",
                    "7",
                    "--dir",
                ])
                .arg(dir.path()),
        );
        assert!(run.ok().contains("(simulated)"), "{}", run.stdout);
        Sim { dir }
    }

    /// Its `wheelhouse.toml`.
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("wheelhouse.toml")
    }

    /// `lab sim act ARGS`: change simulated hosts now.
    pub fn act(&self, args: &[&str]) {
        Run::of(
            Command::new(BIN)
                .args(["lab", "sim", "act"])
                .args(args)
                .arg("--dir")
                .arg(self.dir.path()),
        )
        .ok();
    }

    /// A client for engine `n` (from 1).
    pub fn engine(&self, n: usize) -> Docker {
        let socket = self.dir.path().join("e").join(format!("sim-{n:04}.sock"));
        Docker::connect_with_unix(&socket.to_string_lossy(), 10, bollard::API_DEFAULT_VERSION)
            .unwrap()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = Command::new(BIN)
            .args(["lab", "sim", "down", "--dir"])
            .arg(self.dir.path())
            .output();
    }
}
