//! Running the real binary against a lab: `ctl` runs and their output, spec files, and a
//! `wheelhouse controller` process.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use wheelhouse::lab::Lab;

pub const BIN: &str = env!("CARGO_BIN_EXE_wheelhouse");

/// What one `ctl` run printed and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Runs `command` to the end and keeps what it printed.
    pub fn of(command: &mut Command) -> Run {
        let out = command
            .output()
            .unwrap_or_else(|e| panic!("run {BIN}: {e}"));
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts exit code 0; the stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts the exit code and that stderr mentions `needle`.
    pub fn fails(&self, code: i32, needle: &str) {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "{needle:?} not in:\n{}",
            self.stderr
        );
    }
}

/// The command `wheelhouse [flags] --config CONFIG ctl ARGS`.
pub fn ctl_command(config: &Path, flags: &[&str], args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(flags)
        .arg("--config")
        .arg(config)
        .arg("ctl")
        .args(args);
    command
}

/// Runs `wheelhouse [flags] --config CONFIG ctl ARGS`.
pub fn ctl_with(config: &Path, flags: &[&str], args: &[&str]) -> Run {
    Run::of(&mut ctl_command(config, flags, args))
}

/// Runs `wheelhouse --config CONFIG ctl ARGS`.
pub fn ctl(config: &Path, args: &[&str]) -> Run {
    ctl_with(config, &[], args)
}

/// `wheelhouse --config CONFIG ctl ARGS`: stdout, after checking it exited 0.
pub fn ctl_ok(config: &Path, args: &[&str]) -> String {
    ctl(config, args).ok().to_owned()
}

/// Writes `text` to `dir/name`.
pub fn spec_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// `wheelhouse controller` in its own process, killed (by its own pid) on drop.
/// `web`: 2 instances of wheelhouse/demo:1 with an http port, applied through `ctl`.
pub fn apply_web(lab: &Lab) {
    let spec = spec_file(
        lab.dir(),
        "web",
        // Each instance gets its own $PORT: the demo's httpd binds the host's network.
        "name = \"web\"\nimage = \"wheelhouse/demo:1\"\ninstances = 2\nports = [\"http\"]\n",
    );
    let applied = ctl_ok(
        &lab.config_path(),
        &["apply", "-f", &spec.to_string_lossy()],
    );
    assert!(applied.starts_with("web created"), "{applied}");
}

pub struct Controller(Child);

impl Controller {
    /// Starts `wheelhouse --config CONFIG --log-file LOG controller`, output discarded.
    pub fn start(config: &Path, log: &Path) -> Controller {
        let child = Command::new(BIN)
            .arg("--config")
            .arg(config)
            .arg("--log-file")
            .arg(log)
            .arg("controller")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start the controller: {e}"));
        Controller(child)
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
