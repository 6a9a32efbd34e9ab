//! Drives the real binary inside a private tmux server: send-keys in, capture-pane out.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A detached session running an interactive shell on a `width` x `height` screen.
    pub fn start(name: &str, width: u16, height: u16) -> Tmux {
        Tmux::running(
            name,
            width,
            height,
            &[
                "env",
                "-i",
                "PATH=/usr/bin:/bin",
                "TERM=xterm-256color",
                "HOME=/tmp",
                "PS1=$ ",
                "bash",
                "--norc",
                "--noprofile",
            ],
        )
    }

    /// A detached session running `command` on a `width` x `height` screen.
    pub fn running(name: &str, width: u16, height: u16, command: &[&str]) -> Tmux {
        let tmux = Tmux {
            socket: format!("wh-{name}-{}", std::process::id()),
        };
        let (w, h) = (width.to_string(), height.to_string());
        let mut args = vec!["new-session", "-d", "-s", "t", "-x", &w, "-y", &h];
        args.extend_from_slice(command);
        let out = tmux.cmd(&args);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Starts the cockpit on `config` in the session's shell, logging to `log`.
    pub fn run_cockpit(&self, config: &Path, log: &Path) {
        self.run_line(&format!(
            "{} --config {} --log-file {}",
            quote(super::lab::BIN.as_ref()),
            quote(config),
            quote(log),
        ));
    }

    /// In a cockpit on a one-host lab: opens lab-1's view and waits for `container`.
    pub fn open_lab_1(&self, container: &str) {
        self.wait_text("lab-1", Duration::from_secs(20));
        self.keys(&["Enter"]);
        self.wait_text(container, Duration::from_secs(10));
    }

    /// Types a shell command line and presses Enter.
    pub fn run_line(&self, line: &str) {
        self.cmd(&["send-keys", "-t", "t", "-l", line]);
        self.cmd(&["send-keys", "-t", "t", "Enter"]);
    }

    /// Sends tmux key names (`Right`, `Enter`, `Escape`, `q`).
    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.cmd(&["send-keys", "-t", "t", key]);
        }
    }

    /// A tmux format expanded for the pane, e.g. `#{alternate_on}` (1 while the program
    /// on it uses the alternate screen).
    pub fn display(&self, format: &str) -> String {
        let out = self.cmd(&["display-message", "-p", "-t", "t", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }

    /// The screen with its SGR colour sequences.
    pub fn capture(&self) -> String {
        let out = self.cmd(&["capture-pane", "-e", "-p", "-t", "t"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen satisfies `pred`; panics with the last screen on timeout.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            if start.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    pub fn wait_text(&self, text: &str, timeout: Duration) -> String {
        self.wait_for(&format!("{text:?}"), timeout, |s| s.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// Shell-quotes a path for `run_line`.
pub fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}
