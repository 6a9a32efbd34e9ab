//! `ctl logs -f` followed from a test: its stdout and stderr lines collected as they come;
//! the numbered lines of a ticking container; a long line between short ones.

use super::lab::{ctl_command, wait_until};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Prints `tick N` every `period` seconds ("0.3"), N counting on across restarts of the
/// container (kept in its own filesystem), so a line printed twice is a duplicate of ours,
/// never the app's.
pub fn ticker(period: &str) -> String {
    format!(
        "n=$(cat /tmp/n 2>/dev/null || echo 0); \
         while true; do n=$((n+1)); echo $n > /tmp/n; echo \"tick $n\"; sleep {period}; done"
    )
}

/// The highest number that follows `word` in `lines` (0 when none does): the newest of
/// a container's numbered lines on a screen or in a stream.
pub fn last_number<'a>(lines: impl Iterator<Item = &'a str>, word: &str) -> u64 {
    lines
        .filter_map(|l| l.split(word).nth(1))
        .filter_map(|n| n.trim().parse().ok())
        .max()
        .unwrap_or(0)
}

/// Short lines around a line of 40,004 bytes ("HEAD" and x's) that the engine stores as
/// three messages.
pub const AROUND_A_LONG_LINE: &str = "echo s1; echo s2; s=xxxxxxxxxx; s=$s$s$s$s$s$s$s$s$s$s; \
    s=$s$s$s$s$s$s$s$s$s$s; t=$s$s$s$s$s$s$s$s$s$s; t=$t$t$t$t; printf HEAD; echo \"$t\"; \
    echo s3; echo s4; sleep 3600";

/// What `ctl logs` shows of the long line: its head, cut to 16 KiB, and the cut counted.
pub fn long_line() -> String {
    format!(
        "HEAD{} [… {} bytes cut]",
        "x".repeat(16_380),
        40_004 - 16_384
    )
}

/// `ctl logs -f ...` in its own process, its stdout and stderr collected by threads.
pub struct Follow {
    child: Child,
    out: Arc<Mutex<Vec<String>>>,
    pub err: Arc<Mutex<Vec<String>>>,
}

impl Follow {
    pub fn start(config: &Path, args: &[&str]) -> Follow {
        let mut all = vec!["logs", "-f"];
        all.extend_from_slice(args);
        let mut child = ctl_command(config, &[], &all)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ctl logs -f");
        let collect = |pipe: Box<dyn std::io::Read + Send>| {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    sink.lock().unwrap().push(line);
                }
            });
            lines
        };
        let out = collect(Box::new(child.stdout.take().expect("stdout")));
        let err = collect(Box::new(child.stderr.take().expect("stderr")));
        Follow { child, out, err }
    }

    pub fn lines(&self) -> Vec<String> {
        self.out.lock().unwrap().clone()
    }

    /// Whether a stderr line holds `text`.
    pub fn said(&self, text: &str) -> bool {
        self.err.lock().unwrap().iter().any(|l| l.contains(text))
    }

    /// Waits until a stdout line satisfies `ok`.
    pub fn wait_line(&self, what: &str, timeout: Duration, ok: impl Fn(&str) -> bool) {
        wait_until(what, timeout, || {
            let lines = self.lines();
            let err = self.err.lock().unwrap().join("\n");
            (!lines.iter().any(|l| ok(l))).then(|| format!("{}\nstderr:\n{err}", lines.join("\n")))
        });
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The numbers of `tick N` lines, in output order.
pub fn ticks(lines: &[String]) -> Vec<u64> {
    lines
        .iter()
        .filter_map(|l| l.rsplit("tick ").next()?.trim().parse().ok())
        .collect()
}
