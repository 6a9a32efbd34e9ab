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
        let cgroup_root = PathBuf::from(cgroup::ROOT);
        Sampler {
            host: host.to_owned(),
            started_at_ms,
            layout: cgroup::detect(&cgroup_root),
            cgroup_root,
            proc_root: PathBuf::from("/proc"),
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
