//! A container's counters from its cgroup: cgroup v1 (cpuacct, memory, blkio controllers
//! each in its own hierarchy) or v2 (one unified directory). Parsing is pure, over the
//! files' text; reading resolves a container's directories from `/proc/<pid>/cgroup` of
//! its init process, so it works whatever cgroup parent the engine was given.

use std::path::{Path, PathBuf};

/// Where cgroup hierarchies are mounted.
pub const ROOT: &str = "/sys/fs/cgroup";

/// Which cgroup layout the host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    V1,
    V2,
}

impl Layout {
    /// The agent's source name for its figures: "cgroup-v1" or "cgroup-v2".
    pub fn source(self) -> &'static str {
        match self {
            Layout::V1 => "cgroup-v1",
            Layout::V2 => "cgroup-v2",
        }
    }
}

/// The layout under `root`: v2 when the root itself is the unified hierarchy (it has
/// `cgroup.controllers`), v1 when the cpuacct and memory controllers have their own
/// mounts (a hybrid host's extra `unified` mount carries no controllers we read).
pub fn detect(root: &Path) -> Option<Layout> {
    if root.join("cgroup.controllers").is_file() {
        Some(Layout::V2)
    } else if root.join("cpuacct").is_dir() && root.join("memory").is_dir() {
        Some(Layout::V1)
    } else {
        None
    }
}

/// A container's cgroup directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dirs {
    V1 {
        cpuacct: PathBuf,
        memory: PathBuf,
        blkio: PathBuf,
    },
    V2 {
        dir: PathBuf,
    },
}

/// The directories of a process from its `/proc/<pid>/cgroup` text
/// (`hierarchy-id:controller,list:path` lines; v2's is `0::path`).
pub fn dirs(layout: Layout, root: &Path, proc_cgroup: &str) -> Option<Dirs> {
    let path_of = |wanted: &str| {
        proc_cgroup.lines().find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let hit = match wanted {
                "" => controllers.is_empty(),
                name => controllers.split(',').any(|c| c == name),
            };
            hit.then(|| path.trim_start_matches('/').to_owned())
        })
    };
    match layout {
        Layout::V2 => Some(Dirs::V2 {
            dir: root.join(path_of("")?),
        }),
        Layout::V1 => Some(Dirs::V1 {
            cpuacct: root.join("cpuacct").join(path_of("cpuacct")?),
            memory: root.join("memory").join(path_of("memory")?),
            blkio: root.join("blkio").join(path_of("blkio")?),
        }),
    }
}

/// One reading of a container's cumulative counters, and its memory now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    pub cpu_ns: u64,
    /// In use without the inactive page cache, as `docker stats` shows it.
    pub mem_bytes: u64,
    pub io: Io,
}

/// Block I/O summed over devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Io {
    pub read_bytes: u64,
    pub write_bytes: u64,
    pub read_ops: u64,
    pub write_ops: u64,
}

/// Why a reading failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The cgroup is gone (the container stopped between listing and reading): quiet.
    Gone,
    /// A file that should be there could not be read or made no sense.
    Bad(String),
}

/// Reads every counter of a container; a directory that vanished mid-read is `Gone`.
pub fn read(dirs: &Dirs) -> Result<Counters, ReadError> {
    match dirs {
        Dirs::V1 {
            cpuacct,
            memory,
            blkio,
        } => {
            let cpu_ns = number(&file(&cpuacct.join("cpuacct.usage"))?)
                .ok_or_else(|| bad(cpuacct, "cpuacct.usage"))?;
            let usage = number(&file(&memory.join("memory.usage_in_bytes"))?)
                .ok_or_else(|| bad(memory, "memory.usage_in_bytes"))?;
            let stat = file(&memory.join("memory.stat"))?;
            let bytes = file(&blkio.join("blkio.throttle.io_service_bytes"))?;
            let ops = file(&blkio.join("blkio.throttle.io_serviced"))?;
            let (read_bytes, write_bytes) = v1_blkio(&bytes);
            let (read_ops, write_ops) = v1_blkio(&ops);
            Ok(Counters {
                cpu_ns,
                mem_bytes: without_cache(usage, keyed(&stat, "total_inactive_file")),
                io: Io {
                    read_bytes,
                    write_bytes,
                    read_ops,
                    write_ops,
                },
            })
        }
        Dirs::V2 { dir } => {
            let usec = keyed(&file(&dir.join("cpu.stat"))?, "usage_usec")
                .ok_or_else(|| bad(dir, "cpu.stat"))?;
            let current = number(&file(&dir.join("memory.current"))?)
                .ok_or_else(|| bad(dir, "memory.current"))?;
            let stat = file(&dir.join("memory.stat"))?;
            // io.stat is absent when the io controller is not enabled for the group.
            let io = match file(&dir.join("io.stat")) {
                Ok(text) => v2_io(&text),
                Err(ReadError::Gone) if dir.is_dir() => Io::default(),
                Err(e) => return Err(e),
            };
            Ok(Counters {
                cpu_ns: usec.saturating_mul(1000),
                mem_bytes: without_cache(current, keyed(&stat, "inactive_file")),
                io,
            })
        }
    }
}

fn file(path: &Path) -> Result<String, ReadError> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        // ENODEV: the group was removed while the file was open.
        std::io::ErrorKind::NotFound => ReadError::Gone,
        _ if e.raw_os_error() == Some(libc::ENODEV) => ReadError::Gone,
        _ => ReadError::Bad(format!("{}: {e}", path.display())),
    })
}

fn bad(dir: &Path, name: &str) -> ReadError {
    ReadError::Bad(format!("{}: not a number", dir.join(name).display()))
}

/// A file holding one number.
pub fn number(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// The value of `key` in `key value` lines (memory.stat, cpu.stat).
pub fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// Usage minus the inactive page cache, as the docker CLI subtracts it (not below zero;
/// a missing figure subtracts nothing).
pub fn without_cache(usage: u64, inactive_file: Option<u64>) -> u64 {
    usage.saturating_sub(inactive_file.unwrap_or(0))
}

/// Read and Write summed over devices from v1's `blkio.throttle.io_service_bytes` or
/// `io_serviced` (`MAJ:MIN Op value` lines, and a closing `Total value`).
pub fn v1_blkio(text: &str) -> (u64, u64) {
    text.lines().fold((0, 0), |(r, w), line| {
        let mut fields = line.split_whitespace();
        let (Some(_device), Some(op), Some(value)) = (fields.next(), fields.next(), fields.next())
        else {
            return (r, w);
        };
        let value: u64 = value.parse().unwrap_or(0);
        match op {
            "Read" => (r.saturating_add(value), w),
            "Write" => (r, w.saturating_add(value)),
            _ => (r, w),
        }
    })
}

/// v2's `io.stat`, summed over devices: `MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. ..`.
pub fn v2_io(text: &str) -> Io {
    let mut io = Io::default();
    for (key, value) in text
        .lines()
        .flat_map(|line| line.split_whitespace().skip(1))
        .filter_map(|field| field.split_once('='))
    {
        let value: u64 = value.parse().unwrap_or(0);
        let slot = match key {
            "rbytes" => &mut io.read_bytes,
            "wbytes" => &mut io.write_bytes,
            "rios" => &mut io.read_ops,
            "wios" => &mut io.write_ops,
            _ => continue,
        };
        *slot = slot.saturating_add(value);
    }
    io
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/cgroup/v2")
            .join(name)
    }

    #[test]
    fn v1_blkio_sums_reads_and_writes_over_devices() {
        let text = "8:16 Read 4096\n8:16 Write 8192\n8:16 Sync 8192\n8:16 Async 4096\n\
                    8:16 Discard 0\n8:16 Total 12288\n8:0 Read 1\n8:0 Write 2\nTotal 12291\n";
        assert_eq!(v1_blkio(text), (4097, 8194));
        assert_eq!(v1_blkio("Total 0\n"), (0, 0));
        assert_eq!(v1_blkio(""), (0, 0));
        assert_eq!(v1_blkio("8:0 Read lots\n8:0 Write 3\n"), (0, 3));
    }

    #[test]
    fn memory_leaves_the_inactive_cache_out() {
        let stat = "cache 16384\nrss 100\ninactive_file 8192\ntotal_inactive_file 4096\n";
        assert_eq!(keyed(stat, "total_inactive_file"), Some(4096));
        assert_eq!(keyed(stat, "inactive_file"), Some(8192));
        assert_eq!(keyed(stat, "absent"), None);
        assert_eq!(
            without_cache(790_528, keyed(stat, "total_inactive_file")),
            786_432
        );
        assert_eq!(without_cache(10, Some(20)), 0);
        assert_eq!(without_cache(10, None), 10);
        assert_eq!(number("41524749\n"), Some(41_524_749));
        assert_eq!(number("max\n"), None);
    }

    #[test]
    fn v2_io_stat_sums_devices_and_ignores_other_keys() {
        let text = "8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n\
                    8:0 rbytes=100 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n";
        assert_eq!(
            v2_io(text),
            Io {
                read_bytes: 1_459_300,
                write_bytes: 314_773_504,
                read_ops: 193,
                write_ops: 353,
            }
        );
        assert_eq!(v2_io(""), Io::default());
    }

    #[test]
    fn dirs_come_from_the_process_cgroup_file() {
        let v1 = "9:name=systemd:/docker/abc\n4:memory:/docker/abc\n\
                  2:cpu,cpuacct:/docker/abc\n7:blkio:/docker/abc\n0::/docker/abc\n";
        assert_eq!(
            dirs(Layout::V1, Path::new("/r"), v1),
            Some(Dirs::V1 {
                cpuacct: "/r/cpuacct/docker/abc".into(),
                memory: "/r/memory/docker/abc".into(),
                blkio: "/r/blkio/docker/abc".into(),
            })
        );
        assert_eq!(
            dirs(
                Layout::V2,
                Path::new("/r"),
                "0::/system.slice/docker-abc.scope\n"
            ),
            Some(Dirs::V2 {
                dir: "/r/system.slice/docker-abc.scope".into()
            })
        );
        assert_eq!(dirs(Layout::V1, Path::new("/r"), "0::/x\n"), None);
        assert_eq!(dirs(Layout::V2, Path::new("/r"), "garbage"), None);
    }

    #[test]
    fn v2_reads_the_documented_files() {
        let counters = read(&Dirs::V2 {
            dir: fixture("busy"),
        })
        .unwrap();
        // cpu.stat usage_usec 2500000; memory.current 52428800 minus inactive_file 10485760.
        assert_eq!(counters.cpu_ns, 2_500_000_000);
        assert_eq!(counters.mem_bytes, 41_943_040);
        assert_eq!(counters.io.read_bytes, 1_459_200 + 4096);
        assert_eq!(counters.io.write_ops, 353);
    }

    #[test]
    fn a_vanished_group_is_gone_and_a_broken_file_is_bad() {
        let gone = read(&Dirs::V2 {
            dir: fixture("no-such-group"),
        });
        assert_eq!(gone, Err(ReadError::Gone));
        match read(&Dirs::V2 {
            dir: fixture("broken"),
        }) {
            Err(ReadError::Bad(why)) => assert!(why.contains("memory.current"), "{why}"),
            other => panic!("expected Bad, got {other:?}"),
        }
    }

    #[test]
    fn layout_is_detected_from_the_mounts() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(detect(dir.path()), None);
        std::fs::create_dir(dir.path().join("cpuacct")).unwrap();
        std::fs::create_dir(dir.path().join("memory")).unwrap();
        assert_eq!(detect(dir.path()), Some(Layout::V1));
        std::fs::write(dir.path().join("cgroup.controllers"), "cpu io memory\n").unwrap();
        assert_eq!(detect(dir.path()), Some(Layout::V2));
    }

    proptest::proptest! {
        #[test]
        fn parsers_take_any_text(text in "(?s).{0,200}", lines in "([0-9:a-z=]{0,8}[ \n]){0,20}") {
            for t in [&text, &lines] {
                let _ = (v1_blkio(t), v2_io(t), keyed(t, "inactive_file"), number(t));
                let _ = (dirs(Layout::V1, Path::new("/r"), t), dirs(Layout::V2, Path::new("/r"), t));
            }
        }
    }
}
