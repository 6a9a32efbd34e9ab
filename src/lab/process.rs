//! The lab's processes: start them detached, tell whether they live, stop them by pid,
//! and clean up what dockerd leaves behind (shims, mounts).

use super::LabError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::ffi::CString;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A process the lab started. The start time (clock ticks since boot, from /proc) guards
/// against signalling an unrelated process that reused the pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proc {
    pub pid: u32,
    pub start_time: u64,
}

impl Proc {
    /// Running (a zombie counts as gone) and still the process we started.
    pub fn alive(&self) -> bool {
        stat(self.pid).is_some_and(|s| s.start_time == self.start_time && !s.zombie)
    }
}

struct Stat {
    ppid: u32,
    start_time: u64,
    zombie: bool,
}

fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let after = text.get(text.rfind(')')? + 1..)?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state): ppid is field 4, starttime field 22.
    Some(Stat {
        zombie: matches!(*fields.first()?, "Z" | "X"),
        ppid: fields.get(1)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// Whether any process with this pid exists that is not a zombie (for tests and status).
pub fn pid_running(pid: u32) -> bool {
    stat(pid).is_some_and(|s| !s.zombie)
}

/// Removes a pidfile whose process is gone (or a zombie); keeps it otherwise.
pub fn remove_stale_pidfile(path: &Path) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    if !text.trim().parse::<u32>().is_ok_and(pid_running) {
        let _ = std::fs::remove_file(path);
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Finds `binary` on PATH (and the sbin dirs, which a non-login root shell may lack).
pub fn find_binary(binary: &'static str, package: &'static str) -> Result<PathBuf, LabError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|dir| dir.join(binary))
        .find(|p| p.is_file())
        .ok_or(LabError::MissingBinary { binary, package })
}

/// Starts `cmd` in its own process group so it outlives the command that started it and
/// the terminal's Ctrl-C; output goes to `log`. A thread reaps it when it exits.
pub fn spawn(mut cmd: Command, what: &str, log: &Path) -> Result<Proc, LabError> {
    let out =
        File::create(log).map_err(|e| LabError::io(format!("create {}", log.display()), e))?;
    let err = out
        .try_clone()
        .map_err(|e| LabError::io(format!("open {}", log.display()), e))?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| LabError::io(format!("start {what}"), e))?;
    let pid = child.id();
    let start_time = stat(pid).map_or(0, |s| s.start_time);
    // Reaping keeps a stopped child from lingering as a zombie while this process lives.
    std::thread::spawn(move || child.wait());
    Ok(Proc { pid, start_time })
}

fn signal(pid: u32, sig: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill() only sends a signal; a stale pid yields ESRCH, which we ignore.
    unsafe {
        libc::kill(pid, sig);
    }
}

fn wait_gone(p: &Proc, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while p.alive() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    true
}

/// SIGTERM, up to `grace` to exit, then SIGKILL. Returns whether it was running.
pub fn terminate(p: &Proc, grace: Duration) -> bool {
    if !p.alive() {
        return false;
    }
    signal(p.pid, libc::SIGTERM);
    if !wait_gone(p, grace) {
        signal(p.pid, libc::SIGKILL);
        wait_gone(p, Duration::from_secs(5));
    }
    true
}

/// SIGKILL, then wait until it is gone.
pub fn kill(p: &Proc) {
    if p.alive() {
        signal(p.pid, libc::SIGKILL);
        wait_gone(p, Duration::from_secs(5));
    }
}

/// Kills processes left behind by a dockerd that died (see [`leftovers`]). Returns how
/// many it killed.
pub fn sweep(root: &Path) -> usize {
    let marked = leftovers(root);
    for pid in &marked {
        signal(*pid, libc::SIGKILL);
    }
    marked.len()
}

/// Every process with an argument inside `root` (a dockerd's containerd and shims name its
/// exec-root), and their descendants (the containers), this process excepted.
pub fn leftovers(root: &Path) -> Vec<u32> {
    let root_text = root.to_string_lossy().into_owned();
    let inside = format!("{root_text}/");
    let mut parents: HashMap<u32, u32> = HashMap::new();
    let mut marked = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Some(st) = stat(pid) else { continue };
        if st.zombie {
            continue;
        }
        parents.insert(pid, st.ppid);
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let ours = cmdline.split(|b| *b == 0).any(|arg| {
            let arg = String::from_utf8_lossy(arg);
            arg == root_text || arg.starts_with(&inside)
        });
        if ours && pid != std::process::id() {
            marked.insert(pid);
        }
    }
    // Add descendants until nothing changes (process trees are shallow).
    loop {
        let before = marked.len();
        for (pid, ppid) in &parents {
            if marked.contains(ppid) {
                marked.insert(*pid);
            }
        }
        if marked.len() == before {
            break;
        }
    }
    marked.into_iter().collect()
}

/// Mount points at or below `dir`, deepest first.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut found: Vec<PathBuf> = text
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape_mount(p)))
        .filter(|p| p.starts_with(dir))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    found.dedup();
    found
}

/// mountinfo escapes space, tab, newline and backslash as octal (`\040`).
fn unescape_mount(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 8).ok())
        });
        match (bytes[i], octal) {
            (b'\\', Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Detaches every mount at or below `dir` (dockerd leaves its data-root bind mount and
/// network namespace files behind). Returns the mount points it could not detach.
pub fn unmount_under(dir: &Path) -> Vec<PathBuf> {
    let mut failed = Vec::new();
    for point in mounts_under(dir) {
        let Ok(c) = CString::new(point.as_os_str().as_encoded_bytes()) else {
            failed.push(point);
            continue;
        };
        // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
        let rc = unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        if rc != 0 {
            failed.push(point);
        }
    }
    failed.retain(|p| mounts_under(p).contains(p));
    failed
}

/// The last `lines` lines of a log file, for error messages.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_a_fake_start_time_is_not() {
        let me = std::process::id();
        let st = stat(me).map(|s| s.start_time);
        assert!(st.is_some());
        let p = Proc {
            pid: me,
            start_time: st.unwrap_or_default(),
        };
        assert!(p.alive());
        let other = Proc {
            pid: me,
            start_time: p.start_time + 1,
        };
        assert!(!other.alive());
    }

    #[test]
    fn spawned_process_is_terminated_and_reaped() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let log = std::env::temp_dir().join(format!("wh-proc-test-{}.log", std::process::id()));
        let p = spawn(cmd, "sleep", &log);
        let _ = std::fs::remove_file(&log);
        let Ok(p) = p else {
            panic!("spawn failed: {p:?}");
        };
        assert!(p.alive());
        assert!(terminate(&p, Duration::from_secs(5)));
        assert!(!p.alive());
        assert!(!terminate(&p, Duration::from_secs(1)));
    }

    #[test]
    fn unescapes_mountinfo_paths() {
        assert_eq!(unescape_mount(r"/tmp/a\040b"), "/tmp/a b");
        assert_eq!(unescape_mount(r"/x\\y"), r"/x\\y");
        assert_eq!(unescape_mount("/plain"), "/plain");
    }
}
