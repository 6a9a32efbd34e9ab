//! What the controller remembers beside the cluster picture: when hosts went down and which it
//! judged dead, what its own steps did that the engines' lists do not show yet, restart
//! counts of restarting containers, since when instances are unhealthy and how often each
//! app had unhealthy instances replaced, and which hosts each app avoids for a while.

use crate::cluster::ClusterState;
use crate::domain::{Container, ContainerState, Health};
use crate::plan::{Actual, Avoid, Liveness, RunState, Start};
use crate::store::{HostHealth, Liveness as Verdict};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

/// How long a step's effect is laid over lists that do not show it yet.
const EXPECT_FOR: Duration = Duration::from_secs(20);
/// A restarting container is inspected at most this often.
const INSPECT_EVERY: Duration = Duration::from_secs(1);

/// A step's effect on one container: it exists (`Some`) or it is gone (`None`).
struct Expected {
    host: String,
    container: Option<Container>,
    until: Instant,
}

struct Penalty {
    until: Instant,
    strikes: u32,
    reason: String,
}

/// An app's replacements of unhealthy instances, kept while any of its instances is
/// unhealthy and for a while after.
struct Replaced {
    count: u32,
    /// When an instance of the app was last seen unhealthy (or replaced).
    last: Instant,
}

#[derive(Default)]
pub(super) struct Tracker {
    pub down_since: HashMap<String, Instant>,
    pub dead: BTreeSet<String>,
    expected: HashMap<String, Expected>,
    /// container -> (restart count, when inspected)
    restarts: HashMap<String, (u64, Instant)>,
    penalties: BTreeMap<(String, String), Penalty>,
    /// container -> when it was first seen unhealthy, this time
    unhealthy_since: HashMap<String, Instant>,
    replaced: BTreeMap<String, Replaced>,
}

impl Tracker {
    pub fn host_up(&mut self, host: &str) {
        self.down_since.remove(host);
    }

    pub fn host_down(&mut self, host: &str, now: Instant) {
        self.down_since.entry(host.to_owned()).or_insert(now);
    }

    /// Hosts down longer than `grace` become dead; dead hosts that answer again become
    /// alive. Returns the verdicts to write.
    pub fn judge(&mut self, now: Instant, grace: Duration, by: &str) -> Vec<HostHealth> {
        let mut verdicts = Vec::new();
        for (host, since) in &self.down_since {
            if now.duration_since(*since) >= grace && self.dead.insert(host.clone()) {
                tracing::warn!(
                    host,
                    "engine down for longer than the grace period: host is dead"
                );
                verdicts.push(HostHealth::now(host.clone(), Verdict::Dead, by));
            }
        }
        let back: Vec<String> = self
            .dead
            .iter()
            .filter(|h| !self.down_since.contains_key(*h))
            .cloned()
            .collect();
        for host in back {
            tracing::info!(host, "dead host answers again");
            self.dead.remove(&host);
            verdicts.push(HostHealth::now(host, Verdict::Alive, by));
        }
        verdicts
    }

    /// Records a container this controller started, and shows it in the picture until the
    /// engine's list does.
    pub fn started(&mut self, cluster: &mut ClusterState, start: &Start, id: &str, now: Instant) {
        let container = Container {
            id: id.to_owned(),
            name: start.name.clone(),
            image: start.spec.image.clone(),
            state: ContainerState::Running,
            status: "Up (just started)".to_owned(),
            health: Health::Starting,
            labels: start.labels(),
            cpu_percent: None,
            mem_bytes: None,
            ports: Vec::new(),
            restarts: None,
            last_check: None,
        };
        self.expected.insert(
            id.to_owned(),
            Expected {
                host: start.host.clone(),
                container: Some(container),
                until: now + EXPECT_FOR,
            },
        );
        self.reapply(cluster, &start.host, now);
    }

    /// Records a container this controller removed, and hides it until the list does.
    pub fn removed(&mut self, cluster: &mut ClusterState, host: &str, id: &str, now: Instant) {
        self.expected.insert(
            id.to_owned(),
            Expected {
                host: host.to_owned(),
                container: None,
                until: now + EXPECT_FOR,
            },
        );
        self.restarts.remove(id);
        self.reapply(cluster, host, now);
    }

    /// Lays the expected effects over `host`'s list; an effect the list shows is done. A
    /// start shows once the container is listed past "created" (a list taken between
    /// create and start would otherwise read as a failed instance).
    pub fn reapply(&mut self, cluster: &mut ClusterState, host: &str, now: Instant) {
        let Some(h) = cluster.host_mut(host) else {
            return;
        };
        self.expected.retain(|id, e| {
            if e.host != host {
                return e.until > now;
            }
            let listed = h.containers.iter().position(|c| &c.id == id);
            let shown = match (&e.container, listed) {
                (Some(_), Some(i)) => h.containers[i].state != ContainerState::Created,
                (None, None) => true,
                _ => false,
            };
            if shown || e.until <= now {
                return false;
            }
            match (&e.container, listed) {
                (Some(c), Some(i)) => h.containers[i] = c.clone(),
                (Some(c), None) => h.containers.push(c.clone()),
                (None, Some(i)) => {
                    h.containers.remove(i);
                }
                (None, None) => {}
            }
            true
        });
    }

    /// Whether a restarting container is due for a look at its restart count.
    pub fn inspect_due(&mut self, id: &str, now: Instant) -> bool {
        match self.restarts.get(id) {
            Some((_, at)) if now.duration_since(*at) < INSPECT_EVERY => false,
            _ => {
                let count = self.restarts.get(id).map_or(0, |r| r.0);
                self.restarts.insert(id.to_owned(), (count, now));
                true
            }
        }
    }

    pub fn restarted(&mut self, id: &str, count: u64, now: Instant) {
        self.restarts.insert(id.to_owned(), (count, now));
    }

    /// Docker restarted it at least `limit` times: time to move it.
    pub fn crash_looping(&self, id: &str, limit: u64) -> bool {
        self.restarts.get(id).is_some_and(|(n, _)| *n >= limit)
    }

    /// Marks the running instances on online hosts that have been unhealthy for longer
    /// than their app's grace, doubled for each replacement of the app still on record (at
    /// most `cap`, or the grace if that is longer). `grace` gives None for apps to leave
    /// alone (a rollout owns them): their clocks are reset. So is a clock whose instance is
    /// healthy again or gone; one on a host out of reach is kept as it is.
    /// Replacement counts are forgotten once the app has had no unhealthy instance for
    /// `forget_after`.
    pub fn judge_health(
        &mut self,
        actual: &mut Actual,
        grace: impl Fn(&str) -> Option<Duration>,
        (cap, forget_after): (Duration, Duration),
        now: Instant,
    ) {
        let mut ticking = HashSet::new();
        for view in &mut actual.hosts {
            let online = view.liveness == Liveness::Online;
            for inst in &mut view.instances {
                if !online {
                    ticking.insert(inst.container.clone());
                    continue;
                }
                let unhealthy = inst.state == RunState::Running && inst.health == Health::Unhealthy;
                let Some(grace) = grace(&inst.id.app).filter(|_| unhealthy) else {
                    continue;
                };
                ticking.insert(inst.container.clone());
                let since = *self
                    .unhealthy_since
                    .entry(inst.container.clone())
                    .or_insert(now);
                let count = match self.replaced.get_mut(&inst.id.app) {
                    Some(r) => {
                        r.last = now;
                        r.count
                    }
                    None => 0,
                };
                let wait = doubled(grace, count, cap.max(grace));
                inst.unhealthy_past_grace = now.duration_since(since) >= wait;
            }
        }
        self.unhealthy_since.retain(|c, _| ticking.contains(c));
        self.replaced
            .retain(|_, r| now.duration_since(r.last) < forget_after);
    }

    /// One more replacement of `app`'s unhealthy instances (count once per round); returns
    /// how many are on record.
    pub fn replaced_unhealthy(&mut self, app: &str, now: Instant) -> u32 {
        let r = self.replaced.entry(app.to_owned()).or_insert(Replaced {
            count: 0,
            last: now,
        });
        r.count = r.count.saturating_add(1);
        r.last = now;
        r.count
    }

    /// Keeps `app` off `host` for `base`, doubled for each earlier strike still on record
    /// (at most `cap`).
    pub fn penalize(
        &mut self,
        app: &str,
        host: &str,
        reason: &str,
        (base, cap): (Duration, Duration),
        now: Instant,
    ) {
        let key = (app.to_owned(), host.to_owned());
        let strikes = self.penalties.get(&key).map_or(0, |p| p.strikes + 1);
        let wait = doubled(base, strikes, cap);
        tracing::info!(app, host, reason, secs = wait.as_secs(), "avoiding host");
        self.penalties.insert(
            key,
            Penalty {
                until: now + wait,
                strikes,
                reason: reason.to_owned(),
            },
        );
    }

    /// The hosts each app avoids now. Expired penalties stop applying but keep their
    /// strikes for a while, so a host that fails again is avoided longer.
    pub fn avoid(&mut self, now: Instant, forget_after: Duration) -> Avoid {
        self.penalties.retain(|_, p| now < p.until + forget_after);
        let mut avoid = Avoid::new();
        for ((app, host), p) in &self.penalties {
            if now < p.until {
                avoid
                    .entry(app.clone())
                    .or_default()
                    .insert(host.clone(), p.reason.clone());
            }
        }
        avoid
    }
}

/// `base` doubled `times` times, at most `cap`.
fn doubled(base: Duration, times: u32, cap: Duration) -> Duration {
    base.saturating_mul(1 << times.min(16)).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{Host, HostSource, HostState};
    use crate::domain::HostSpec;
    use crate::domain::app::AppSpec;
    use crate::plan::labels;

    fn cluster() -> ClusterState {
        let spec = HostSpec {
            name: "h1".into(),
            engine: "unix:///x".into(),
            address: None,
            zone: None,
            labels: BTreeMap::new(),
            tls: None,
        };
        ClusterState::with_hosts(vec![Host::new(spec, HostSource::Config)])
    }

    fn start() -> Start {
        Start {
            app: "web".into(),
            instance: 1,
            host: "h1".into(),
            address: None,
            name: "web.1.x".into(),
            revision: 1,
            ports: Vec::new(),
            spec: AppSpec::new("web", "img"),
        }
    }

    #[test]
    fn started_containers_show_until_listed_and_removed_ones_hide() {
        let now = Instant::now();
        let mut m = cluster();
        let mut t = Tracker::default();
        t.started(&mut m, &start(), "c1", now);
        assert_eq!(m.hosts[0].containers.len(), 1);
        // A list from before the start does not make it vanish.
        std::sync::Arc::make_mut(&mut m.hosts[0]).containers.clear();
        t.reapply(&mut m, "h1", now);
        assert_eq!(m.hosts[0].containers.len(), 1);
        // Listed as only created (between create and start): still shown as started.
        std::sync::Arc::make_mut(&mut m.hosts[0]).containers[0].state = "created".into();
        t.reapply(&mut m, "h1", now);
        assert_eq!(m.hosts[0].containers[0].state, ContainerState::Running);
        // Once listed, the effect is done; then a removal hides it from stale lists.
        t.reapply(&mut m, "h1", now);
        assert!(t.expected.is_empty());
        t.removed(&mut m, "h1", "c1", now);
        assert!(m.hosts[0].containers.is_empty());
        std::sync::Arc::make_mut(&mut m.hosts[0])
            .containers
            .push(t_container());
        t.reapply(&mut m, "h1", now);
        assert!(
            m.hosts[0].containers.is_empty(),
            "stale list shows a removed container"
        );
        // After the expectation lapses, the engine's word stands.
        std::sync::Arc::make_mut(&mut m.hosts[0])
            .containers
            .push(t_container());
        t.reapply(&mut m, "h1", now + EXPECT_FOR);
        assert_eq!(m.hosts[0].containers.len(), 1);
    }

    fn t_container() -> Container {
        Container {
            id: "c1".into(),
            name: "web.1.x".into(),
            image: "img".into(),
            state: "running".into(),
            status: String::new(),
            health: Health::None,
            labels: BTreeMap::new(),
            cpu_percent: None,
            mem_bytes: None,
            ports: Vec::new(),
            restarts: None,
            last_check: None,
        }
    }

    #[test]
    fn hosts_die_after_the_grace_and_come_back() {
        let t0 = Instant::now();
        let mut t = Tracker::default();
        t.host_down("h1", t0);
        t.host_down("h1", t0 + Duration::from_secs(5));
        let grace = Duration::from_secs(10);
        assert!(t.judge(t0 + Duration::from_secs(9), grace, "me").is_empty());
        let v = t.judge(t0 + grace, grace, "me");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].state, Verdict::Dead);
        assert!(t.judge(t0 + grace * 2, grace, "me").is_empty(), "said once");
        t.host_up("h1");
        let v = t.judge(t0 + grace * 2, grace, "me");
        assert_eq!(
            v.iter().map(|h| h.state).collect::<Vec<_>>(),
            [Verdict::Alive]
        );
        assert!(t.dead.is_empty());
    }

    #[test]
    fn penalties_double_and_expire() {
        let t0 = Instant::now();
        let mut t = Tracker::default();
        let times = (Duration::from_secs(10), Duration::from_secs(25));
        let forget = Duration::from_secs(100);
        t.penalize("web", "h1", "crash-looped here", times, t0);
        assert_eq!(t.avoid(t0, forget)["web"]["h1"], "crash-looped here");
        assert!(t.avoid(t0 + times.0, forget).is_empty());
        t.penalize("web", "h1", "again", times, t0 + times.0);
        assert!(
            !t.avoid(t0 + times.0 * 2 + Duration::from_secs(5), forget)
                .is_empty(),
            "doubled"
        );
        t.penalize("web", "h1", "again", times, t0);
        assert!(t.avoid(t0 + times.1, forget).is_empty(), "capped");
        assert!(t.avoid(t0 + Duration::from_secs(1000), forget).is_empty());
        assert!(t.penalties.is_empty(), "forgotten");
    }

    /// The planner's view of one online host running `containers` (id, health) of `web`.
    fn view(containers: &[(&str, Health)]) -> Actual {
        let mut m = cluster();
        std::sync::Arc::make_mut(&mut m.hosts[0]).state = HostState::Online;
        let spec = AppSpec::new("web", "img");
        for (n, (id, health)) in (1..).zip(containers) {
            std::sync::Arc::make_mut(&mut m.hosts[0])
                .containers
                .push(Container {
                    id: (*id).to_owned(),
                    health: *health,
                    labels: labels::labels(&spec, n, 1, &[]),
                    ..t_container()
                });
        }
        m.actual(&BTreeSet::new())
    }

    /// Judges `containers` at `at`: the ids found unhealthy past their grace.
    fn condemned(
        t: &mut Tracker,
        containers: &[(&str, Health)],
        grace: Option<Duration>,
        at: Instant,
    ) -> Vec<String> {
        let mut actual = view(containers);
        let times = (Duration::from_secs(25), Duration::from_secs(100));
        t.judge_health(&mut actual, |_| grace, times, at);
        actual
            .instances()
            .filter(|i| i.unhealthy_past_grace)
            .map(|i| i.container.clone())
            .collect()
    }

    #[test]
    fn unhealthy_instances_are_condemned_after_a_grace_that_doubles_per_replacement() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let grace = Some(s(10));
        let mut t = Tracker::default();
        let sick = [("c1", Health::Unhealthy), ("c2", Health::Healthy)];
        assert!(
            condemned(&mut t, &sick, grace, t0).is_empty(),
            "clock starts"
        );
        assert!(condemned(&mut t, &sick, grace, t0 + s(9)).is_empty());
        assert_eq!(condemned(&mut t, &sick, grace, t0 + s(10)), ["c1"]);
        // Healthy for a moment: the clock starts over.
        condemned(&mut t, &[("c1", Health::Healthy)], grace, t0 + s(11));
        assert!(condemned(&mut t, &sick, grace, t0 + s(12)).is_empty());
        assert_eq!(condemned(&mut t, &sick, grace, t0 + s(22)), ["c1"]);
        // Replaced once: the next unhealthy instance gets twice the grace, then 4x; at
        // most the cap (25 s here).
        assert_eq!(t.replaced_unhealthy("web", t0 + s(22)), 1);
        let next = [("c3", Health::Unhealthy)];
        condemned(&mut t, &next, grace, t0 + s(23));
        assert!(condemned(&mut t, &next, grace, t0 + s(42)).is_empty());
        assert_eq!(condemned(&mut t, &next, grace, t0 + s(43)), ["c3"]);
        assert_eq!(t.replaced_unhealthy("web", t0 + s(43)), 2);
        assert_eq!(t.replaced_unhealthy("web", t0 + s(43)), 3);
        let last = [("c4", Health::Unhealthy)];
        condemned(&mut t, &last, grace, t0 + s(44));
        assert!(condemned(&mut t, &last, grace, t0 + s(68)).is_empty());
        assert_eq!(condemned(&mut t, &last, grace, t0 + s(69)), ["c4"]);
        // A rollout's app is left alone, and its clock stops.
        assert!(condemned(&mut t, &last, None, t0 + s(70)).is_empty());
        assert!(t.unhealthy_since.is_empty());
        // Healthy for `forget_after`: the count is forgotten, the grace is back to 10 s.
        let fine = [("c4", Health::Healthy)];
        condemned(&mut t, &fine, grace, t0 + s(170));
        assert!(t.replaced.is_empty());
        condemned(&mut t, &last, grace, t0 + s(171));
        assert_eq!(condemned(&mut t, &last, grace, t0 + s(181)), ["c4"]);
    }

    #[test]
    fn restart_counts_mark_crash_loops() {
        let now = Instant::now();
        let mut t = Tracker::default();
        assert!(t.inspect_due("c1", now));
        assert!(!t.inspect_due("c1", now), "not twice a second");
        t.restarted("c1", 2, now);
        assert!(!t.crash_looping("c1", 3));
        t.restarted("c1", 3, now);
        assert!(t.crash_looping("c1", 3));
    }
}
