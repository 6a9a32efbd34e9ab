//! Running the real binary against a lab: `ctl` runs and their output, spec files, and a
//! `wheelhouse controller` process.

use bollard::models::{ContainerCreateBody, HostConfig, RestartPolicy, RestartPolicyNameEnum};
use bollard::query_parameters::ListContainersOptions;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
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
/// Applies apps of wheelhouse/demo:1 with an http port through `ctl`: (name, the rest of
/// the spec's TOML).
pub fn apply_demo_apps(lab: &Lab, apps: &[(&str, &str)]) {
    for (name, text) in apps {
        let spec =
            format!("name = \"{name}\"\nimage = \"wheelhouse/demo:1\"\nports = [\"http\"]\n{text}");
        let file = spec_file(lab.dir(), &format!("{name}.toml"), &spec);
        ctl_ok(
            &lab.config_path(),
            &["apply", "-f", &file.to_string_lossy()],
        );
    }
}

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

/// `web` (wheelhouse/demo:1, `instances`, an http port, surge 1, none unavailable,
/// `min_ready`) applied through `ctl`, then a controller logging to the lab's
/// controller.log.
pub fn web_under_controller(lab: &Lab, instances: u32, min_ready: &str) -> Controller {
    let web = spec_file(
        lab.dir(),
        "web.toml",
        &format!(
            "name = \"web\"\nimage = \"wheelhouse/demo:1\"\ninstances = {instances}\n\
             ports = [\"http\"]\n[update]\nmax_surge = 1\nmax_unavailable = 0\n\
             min_ready = \"{min_ready}\"\n"
        ),
    );
    ctl(&lab.config_path(), &["apply", "-f", &web.to_string_lossy()]).ok();
    Controller::start(&lab.config_path(), &lab.dir().join("controller.log"))
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

/// Images of `app`'s running containers over every lab engine, sorted.
pub fn running_images(lab: &Lab, app: &str) -> Vec<String> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut images = Vec::new();
    for host in lab.hosts() {
        let spec = wheelhouse::domain::HostSpec {
            name: host.name.clone(),
            engine: host.engine.clone(),
            address: None,
            zone: None,
            labels: Default::default(),
            tls: None,
        };
        let options = ListContainersOptions {
            filters: Some(HashMap::from([(
                "label".to_owned(),
                vec![format!("wheelhouse.app={app}")],
            )])),
            ..Default::default()
        };
        let found: Vec<String> = rt.block_on(async {
            let docker = wheelhouse::docker::connect(&spec).await.expect("engine");
            let list = docker.list_containers(Some(options)).await.expect("list");
            list.into_iter().filter_map(|c| c.image).collect()
        });
        images.extend(found);
    }
    images.sort();
    images
}

/// Polls `ok` (None: done; Some: what it sees now) every 500 ms until done, or panics
/// after `timeout` with the last thing it saw.
pub fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> Option<String>) {
    let start = Instant::now();
    let mut last = None;
    while start.elapsed() < timeout {
        match ok() {
            None => return,
            Some(now) => last = Some(now),
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!(
        "{what}: not after {timeout:?}; last seen:\n{}",
        last.unwrap_or_default()
    );
}

/// Waits until `ctl rollout-status APP` starts with `prefix` ("web: succeeded", ...).
pub fn wait_rollout(config: &Path, app: &str, prefix: &str, timeout: Duration) {
    wait_until(prefix, timeout, || {
        let s = ctl(config, &["rollout-status", app]).stdout;
        (!s.starts_with(prefix)).then_some(s)
    });
}

/// A script that idles and ends at once on SIGTERM.
pub const IDLE: &str = "trap 'exit 0' TERM; while :; do sleep 1; done";

/// A busybox shell running `script`, with `labels`, restarted by the engine if `always`.
pub fn shell(script: &str, labels: &[(&str, &str)], always: bool) -> ContainerCreateBody {
    let policy = if always {
        RestartPolicyNameEnum::ALWAYS
    } else {
        RestartPolicyNameEnum::NO
    };
    ContainerCreateBody {
        image: Some("wheelhouse/demo:1".to_owned()),
        entrypoint: Some(vec!["/bin/sh".into(), "-c".into(), script.into()]),
        labels: Some(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<HashMap<_, _>>(),
        ),
        tty: Some(false),
        host_config: Some(HostConfig {
            restart_policy: Some(RestartPolicy {
                name: Some(policy),
                maximum_retry_count: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}
