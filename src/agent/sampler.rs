//! The containers an agent follows and one tick of readings: cgroup counters, network
//! bytes from each container's namespace, the host's /proc figures, into a `Summary`.

use super::cgroup::{self, Dirs, Layout, ReadError};
use super::procfs::{self, CpuTimes};
use super::sample::{self, Reading};
use super::summary::{ContainerSummary, Machine, Summary};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// A running container as the engine lists it, with its init process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub id: String,
    pub name: String,
    pub app: Option<String>,
    pub instance: Option<String>,
    pub pid: u32,
}

struct Tracked {
    known: Known,
    dirs: Option<Dirs>,
    last: Option<Reading>,
}

pub struct Sampler {
    host: String,
    started_at_ms: i64,
    layout: Option<Layout>,
    cgroup_root: PathBuf,
    proc_root: PathBuf,
    tracked: BTreeMap<String, Tracked>,
    cpu_prev: Option<CpuTimes>,
    /// Containers whose cgroup files were unreadable, warned about once.
    warned: BTreeSet<String>,
}

impl Sampler {
    pub fn new(host: &str, started_at_ms: i64) -> Sampler {
        Sampler::with_roots(host, started_at_ms, cgroup::ROOT.into(), "/proc".into())
    }

    /// A sampler reading cgroups under `cgroup_root` and processes under `proc_root`.
    fn with_roots(
        host: &str,
        started_at_ms: i64,
        cgroup_root: PathBuf,
        proc_root: PathBuf,
    ) -> Sampler {
        Sampler {
            host: host.to_owned(),
            started_at_ms,
            layout: cgroup::detect(&cgroup_root),
            cgroup_root,
            proc_root,
            tracked: BTreeMap::new(),
            cpu_prev: None,
            warned: BTreeSet::new(),
        }
    }

    /// The source of this agent's figures, as the summary names it.
    pub fn source(&self) -> &'static str {
        self.layout.map_or("none", Layout::source)
    }

    pub fn tracks(&self, id: &str) -> bool {
        self.tracked.contains_key(id)
    }

    /// Stops following containers the engine no longer lists as running.
    pub fn retain(&mut self, running: &BTreeSet<String>) {
        self.tracked.retain(|id, _| running.contains(id));
        self.warned.retain(|id| running.contains(id));
    }

    /// Follows a container from now on.
    pub fn add(&mut self, known: Known) {
        let dirs = self.layout.and_then(|layout| {
            let text =
                std::fs::read_to_string(self.proc_root.join(format!("{}/cgroup", known.pid)));
            cgroup::dirs(layout, &self.cgroup_root, &text.ok()?)
        });
        let id = known.id.clone();
        self.tracked.insert(
            id,
            Tracked {
                known,
                dirs,
                last: None,
            },
        );
    }

    /// One tick at `unix_ms`. A container whose cgroup vanished, or that restarted, is
    /// dropped quietly (the next listing brings it back if it runs, with its new process).
    pub fn tick(&mut self, unix_ms: i64) -> Summary {
        let mut gone = Vec::new();
        let mut containers = Vec::with_capacity(self.tracked.len());
        for (id, t) in &mut self.tracked {
            let counters = t.dirs.as_ref().map(cgroup::read);
            let figures = match counters {
                // CPU time went backwards: the container restarted between two ticks, with
                // a new init process; the next listing follows it afresh.
                Some(Ok(counters))
                    if t.last.is_some_and(|l| counters.cpu_ns < l.counters.cpu_ns) =>
                {
                    gone.push(id.clone());
                    continue;
                }
                Some(Ok(counters)) => {
                    let cur = Reading {
                        unix_ms,
                        counters,
                        net: procfs::container_net(&self.proc_root, t.known.pid),
                    };
                    let figures = sample::figures(t.last.as_ref(), &cur);
                    t.last = Some(cur);
                    Some(figures)
                }
                Some(Err(ReadError::Gone)) => {
                    gone.push(id.clone());
                    continue;
                }
                Some(Err(ReadError::Bad(why))) => {
                    if self.warned.insert(id.clone()) {
                        tracing::warn!(container = %t.known.name, "cannot read its cgroup: {why}");
                    }
                    None
                }
                None => None,
            };
            containers.push(ContainerSummary {
                id: id.clone(),
                name: t.known.name.clone(),
                app: t.known.app.clone(),
                instance: t.known.instance.clone(),
                figures,
            });
        }
        for id in gone {
            self.tracked.remove(&id);
        }
        let containers_sum = sample::sum(containers.iter().filter_map(|c| c.figures.as_ref()));
        Summary {
            host: self.host.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at_ms: self.started_at_ms,
            unix_ms,
            source: self.source().to_owned(),
            machine: self.machine(),
            containers_sum,
            containers,
            history_bytes: 0,
            probes_at_ms: None,
        }
    }

    fn machine(&mut self) -> Machine {
        let read = |name: &str| std::fs::read_to_string(self.proc_root.join(name)).ok();
        let stat = read("stat").unwrap_or_default();
        let (mem_total_bytes, mem_available_bytes) = read("meminfo")
            .as_deref()
            .and_then(procfs::meminfo)
            .unwrap_or((0, 0));
        let times = procfs::cpu_times(&stat);
        let cpu_percent = times.and_then(|t| sample::host_cpu_percent(self.cpu_prev, t));
        if times.is_some() {
            self.cpu_prev = times;
        }
        let seconds = |jiffies: u64| jiffies as f64 / USER_HZ;
        Machine {
            ncpu: procfs::cpu_count(&stat),
            cpu_percent,
            cpu_busy_seconds_total: times.map_or(0.0, |t| seconds(t.busy)),
            cpu_seconds_total: times.map_or(0.0, |t| seconds(t.total)),
            mem_total_bytes,
            mem_available_bytes,
        }
    }
}

/// /proc/stat counts in USER_HZ, which Linux fixes at 100 for user space on every
/// architecture we build for.
const USER_HZ: f64 = 100.0;

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// A /proc with the host's files and one process per (pid, cgroup path).
    fn fake_proc(processes: &[(u32, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("stat"),
            "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1\ncpu1 1\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("meminfo"),
            "MemTotal: 1000 kB\nMemAvailable: 400 kB\n",
        )
        .unwrap();
        for (pid, path) in processes {
            let proc = dir.path().join(pid.to_string());
            std::fs::create_dir(&proc).unwrap();
            std::fs::write(proc.join("cgroup"), format!("0::{path}\n")).unwrap();
        }
        dir
    }

    fn known(id: &str, pid: u32) -> Known {
        Known {
            id: id.into(),
            name: format!("c-{id}"),
            app: Some("web".into()),
            instance: None,
            pid,
        }
    }

    #[test]
    fn a_v2_host_is_read_from_its_files_and_vanished_groups_go_quietly() {
        let cgroups = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cgroup/v2");
        let proc = fake_proc(&[(10, "/busy"), (11, "/broken"), (12, "/vanished")]);
        let mut sampler = Sampler::with_roots("h", 0, cgroups, proc.path().to_owned());
        assert_eq!(sampler.source(), "cgroup-v2");
        for (id, pid) in [("a", 10), ("b", 11), ("c", 12)] {
            sampler.add(known(id, pid));
        }
        let summary = sampler.tick(1000);
        let ids: Vec<&str> = summary.containers.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"], "the vanished group is dropped");
        assert!(!sampler.tracks("c"));
        let busy = summary.containers[0].figures.as_ref().unwrap();
        assert_eq!(busy.totals.cpu_seconds, 2.5);
        assert_eq!(busy.totals.mem_bytes, 41_943_040);
        // A file that makes no sense: listed without figures, still followed.
        assert_eq!(summary.containers[1].figures, None);
        assert!(sampler.tracks("b"));
        assert_eq!(summary.containers_sum.totals.mem_bytes, 41_943_040);
        assert_eq!(summary.machine.ncpu, 2);
        assert_eq!(summary.machine.mem_total_bytes, 1000 * 1024);
        assert_eq!(summary.machine.cpu_busy_seconds_total, 1.5);
        // Counters unchanged a second later: 0% CPU, not a gap.
        let again = sampler.tick(2000);
        let rates = &again.containers[0].figures.as_ref().unwrap().rates;
        assert_eq!(rates.cpu_percent, Some(0.0));
        sampler.retain(&BTreeSet::from(["b".to_owned()]));
        assert!(!sampler.tracks("a"));
    }

    #[test]
    fn without_a_cgroup_layout_containers_are_listed_without_figures() {
        let empty = tempfile::tempdir().unwrap();
        let proc = fake_proc(&[(10, "/busy")]);
        let mut sampler =
            Sampler::with_roots("h", 0, empty.path().to_owned(), proc.path().to_owned());
        assert_eq!(sampler.source(), "none");
        sampler.add(known("a", 10));
        let summary = sampler.tick(1000);
        assert_eq!(summary.source, "none");
        assert_eq!(summary.containers.len(), 1);
        assert_eq!(summary.containers[0].figures, None);
    }
}
