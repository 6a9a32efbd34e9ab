//! The planner's loop: one app at a time, in name order, keeping the hosts' reservations,
//! app counts and used ports current so later apps see earlier apps' decisions.

use super::actual::{Actual, Instance, Liveness, RunState, reserve};
use super::{Endpoint, Input, Plan, Start, Step, Stop, StopReason, labels};
use crate::domain::app::{AppSpec, Constraint, ConstraintOp, Pattern};
use crate::sched::{self, Candidate, Unplaceable};
use std::collections::{BTreeMap, BTreeSet};

/// The state the plan changes as it goes.
struct Planner<'a> {
    input: &'a Input<'a>,
    index: BTreeMap<&'a str, usize>,
    candidates: Vec<Candidate>,
    used_ports: Vec<BTreeSet<u16>>,
    deregister: Vec<Step>,
    stop: Vec<Step>,
    start: Vec<Step>,
    register: Vec<Step>,
    unplaced: Vec<Unplaceable>,
    /// Hosts an app's replacements must not go to in this plan: where the instance they
    /// replace crash-looped or exited.
    replaced_on: BTreeMap<String, BTreeMap<String, String>>,
}

pub(super) fn plan(input: &Input) -> Plan {
    let actual: &Actual = input.actual;
    let mut planner = Planner {
        input,
        index: actual
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (h.name.as_str(), i))
            .collect(),
        candidates: actual.hosts.iter().map(|h| h.candidate()).collect(),
        used_ports: actual.hosts.iter().map(|h| h.used_ports()).collect(),
        deregister: Vec::new(),
        stop: Vec::new(),
        start: Vec::new(),
        register: Vec::new(),
        unplaced: Vec::new(),
        replaced_on: BTreeMap::new(),
    };
    let by_app = actual.by_app();
    let apps: BTreeSet<&str> = input
        .specs
        .keys()
        .map(String::as_str)
        .chain(by_app.keys().copied())
        .chain(input.registered.keys().map(|(app, _)| app.as_str()))
        .filter(|app| !input.frozen.contains(*app))
        .collect();
    // Every app's stops first, so capacity they free is there for every app's starts.
    let empty = Vec::new();
    let trimmed: Vec<(&str, &[&Instance], Vec<&Instance>)> = apps
        .into_iter()
        .map(|app| {
            let instances = by_app.get(app).unwrap_or(&empty).as_slice();
            (app, instances, planner.trim(app, instances))
        })
        .collect();
    for (app, instances, kept) in trimmed {
        planner.fill(app, instances, &kept);
    }
    let Planner {
        deregister,
        stop,
        start,
        register,
        unplaced,
        ..
    } = planner;
    let steps = [deregister, stop, start, register].concat();
    Plan { steps, unplaced }
}

impl<'a> Planner<'a> {
    fn liveness(&self, host: &str) -> Liveness {
        self.index
            .get(host)
            .map_or(Liveness::Dead, |&i| self.input.actual.hosts[i].liveness)
    }

    /// Decides what of the app stops (failed, crash-looping, unhealthy past its grace,
    /// duplicate, deleted, surplus) and returns the instances that stay counted. Where a
    /// replaced instance failed or crash-looped is avoided by its replacement; an unhealthy
    /// one's host is not (the controller's penalties move it once that keeps happening).
    fn trim(&mut self, app: &str, instances: &[&'a Instance]) -> Vec<&'a Instance> {
        let spec = self.input.specs.get(app);
        let mut removed: Vec<(&Instance, StopReason)> = Vec::new();
        let mut counted: Vec<&Instance> = Vec::new();
        for &inst in instances {
            match self.liveness(&inst.host) {
                Liveness::Dead => {}
                Liveness::Unreachable if inst.state.occupies() => counted.push(inst),
                Liveness::Unreachable => {}
                Liveness::Online => match (spec, inst.state) {
                    (_, RunState::Removing) => {}
                    (None, _) => removed.push((inst, StopReason::Deleted)),
                    (_, RunState::Failed) => removed.push((inst, StopReason::Failed)),
                    _ if inst.crash_looping => removed.push((inst, StopReason::CrashLoop)),
                    _ if inst.unhealthy_past_grace => {
                        removed.push((inst, StopReason::Unhealthy));
                    }
                    _ => counted.push(inst),
                },
            }
        }
        let (mut kept, shadowed) = self.dedupe(counted, &mut removed);
        for (inst, _) in &removed {
            self.unreserve(inst);
        }
        if let Some(spec) = spec {
            let desired = spec.instances as usize;
            let excess = kept.len().saturating_sub(desired);
            let surplus = self.surplus(spec, &kept, &shadowed, excess);
            for inst in surplus {
                kept.retain(|k| !std::ptr::eq(*k, inst));
                self.unreserve(inst);
                removed.push((inst, StopReason::Surplus));
            }
        }
        removed.sort_by(|a, b| (&a.0.host, a.0.id.instance).cmp(&(&b.0.host, b.0.id.instance)));
        for (inst, reason) in removed {
            let why = match reason {
                StopReason::CrashLoop => Some("crash-looped here"),
                StopReason::Failed => Some("exited here"),
                _ => None,
            };
            if let Some(why) = why {
                self.replaced_on
                    .entry(app.to_owned())
                    .or_default()
                    .entry(inst.host.clone())
                    .or_insert_with(|| why.to_owned());
            }
            self.stop.push(Step::Stop(Stop::of(app, inst, reason)));
        }
        kept
    }

    /// Places what the app misses and settles its registrations.
    fn fill(&mut self, app: &str, instances: &[&Instance], kept: &[&Instance]) {
        if let Some(spec) = self.input.specs.get(app)
            && kept.len() < spec.instances as usize
        {
            self.place(spec, instances, spec.instances as usize - kept.len());
        }
        self.registrations(app, kept);
    }

    /// One instance per number: the one on an online host, serving, running, first by host
    /// name and container is kept; the others are stopped where they can be reached. Also
    /// returns the numbers whose copy on an unreachable host was passed over: stopping the
    /// kept one would only let that copy count again.
    fn dedupe(
        &self,
        mut counted: Vec<&'a Instance>,
        removed: &mut Vec<(&'a Instance, StopReason)>,
    ) -> (Vec<&'a Instance>, BTreeSet<u32>) {
        counted.sort_by_key(|i| {
            (
                i.id.instance,
                self.liveness(&i.host) != Liveness::Online,
                !i.is_serving(),
                i.state != RunState::Running,
                i.host.clone(),
                i.container.clone(),
            )
        });
        let mut kept: Vec<&Instance> = Vec::with_capacity(counted.len());
        let mut shadowed = BTreeSet::new();
        for inst in counted {
            let taken = kept
                .last()
                .is_some_and(|k| k.id.instance == inst.id.instance);
            if !taken {
                kept.push(inst);
            } else if self.liveness(&inst.host) == Liveness::Online {
                removed.push((inst, StopReason::Duplicate));
            } else {
                shadowed.insert(inst.id.instance);
            }
        }
        (kept, shadowed)
    }

    fn unreserve(&mut self, inst: &Instance) {
        if let (Some(&i), true) = (self.index.get(inst.host.as_str()), inst.state.occupies()) {
            reserve(&mut self.candidates[i], &inst.id, -1);
        }
    }

    /// The `count` instances to stop on scale-down, among those that can be reached and
    /// have no shadow copy.
    fn surplus(
        &self,
        spec: &AppSpec,
        kept: &[&'a Instance],
        shadowed: &BTreeSet<u32>,
        count: usize,
    ) -> Vec<&'a Instance> {
        if count == 0 {
            return Vec::new();
        }
        let reachable: Vec<&Instance> = kept
            .iter()
            .copied()
            .filter(|i| self.liveness(&i.host) == Liveness::Online)
            .filter(|i| !shadowed.contains(&i.id.instance))
            .collect();
        let views: Vec<sched::Instance> = reachable
            .iter()
            .map(|i| sched::Instance {
                id: i.id.instance.to_string(),
                host: i.host.clone(),
                seq: u64::from(i.id.instance),
                healthy: i.is_serving(),
            })
            .collect();
        sched::choose_victims(&self.candidates, spec, &views, count)
            .into_iter()
            .filter_map(|v| {
                reachable
                    .iter()
                    .copied()
                    .find(|i| i.host == v.host && i.id.instance.to_string() == v.id)
            })
            .collect()
    }

    /// Places `missing` new instances, on the lowest numbers no instance of the app holds.
    /// A host that runs out of ports within the batch is avoided and the rest placed again.
    fn place(&mut self, spec: &AppSpec, instances: &[&Instance], missing: usize) {
        let mut avoid = self.avoided(spec);
        let wanted = u32::try_from(missing).unwrap_or(u32::MAX);
        let taken: BTreeSet<u32> = instances.iter().map(|i| i.id.instance).collect();
        let mut numbers = (1..=u32::MAX).filter(|n| !taken.contains(n));
        let revision = labels::revision(spec);
        let mut placed = 0u32;
        let unplaced = loop {
            let placing = avoiding(spec, avoid.keys().map(String::as_str));
            let placement = sched::place(&self.candidates, &placing, wanted - placed);
            let mut exhausted = None;
            for host in &placement.hosts {
                let Some(&h) = self.index.get(host.as_str()) else {
                    continue;
                };
                let view = &self.input.actual.hosts[h];
                let ports = match &view.ports {
                    Ok(range) => range.allocate(&self.used_ports[h], spec.ports.len()),
                    Err(_) => None,
                };
                let (Some(ports), Some(instance)) = (ports, numbers.next()) else {
                    exhausted = Some(host.clone());
                    break;
                };
                self.used_ports[h].extend(ports.iter().copied());
                self.candidates[h].add_instances(spec, 1);
                placed += 1;
                self.start.push(Step::Start(Box::new(Start {
                    app: spec.name.clone(),
                    instance,
                    host: host.clone(),
                    address: view.address.clone(),
                    name: labels::container_name(&spec.name, instance, revision),
                    revision,
                    ports: spec.ports.iter().cloned().zip(ports).collect(),
                    spec: spec.clone(),
                })));
            }
            match exhausted {
                Some(host) => {
                    avoid.insert(host, "no free port left in its range".to_owned());
                }
                None => break placement.unplaced,
            }
        };
        if let Some(mut u) = unplaced {
            for (host, reason) in &mut u.reasons {
                if let Some(why) = avoid.get(host) {
                    reason.clone_from(why);
                }
            }
            u.wanted = wanted;
            u.placed = placed;
            self.unplaced.push(u);
        }
    }

    /// The hosts this app avoids: the caller's list, where its replaced instances failed,
    /// and hosts whose ports cannot serve it.
    fn avoided(&self, spec: &AppSpec) -> BTreeMap<String, String> {
        let mut avoid = self
            .input
            .avoid
            .get(&spec.name)
            .cloned()
            .unwrap_or_default();
        for (host, why) in self.replaced_on.get(&spec.name).into_iter().flatten() {
            avoid.entry(host.clone()).or_insert_with(|| why.clone());
        }
        if spec.ports.is_empty() {
            return avoid;
        }
        for (h, view) in self.input.actual.hosts.iter().enumerate() {
            let why = match &view.ports {
                Err(why) => why.clone(),
                Ok(range)
                    if range
                        .allocate(&self.used_ports[h], spec.ports.len())
                        .is_none() =>
                {
                    format!("no free port in {range}")
                }
                Ok(_) => continue,
            };
            avoid.entry(view.name.clone()).or_insert(why);
        }
        avoid
    }

    /// Registers the serving instances that are not yet; deregisters every other
    /// registration of the app, except those of instances on an unreachable host.
    fn registrations(&mut self, app: &str, kept: &[&Instance]) {
        let mut serving: BTreeMap<u32, &Instance> = BTreeMap::new();
        let mut unreachable: BTreeSet<(u32, &str)> = BTreeSet::new();
        for inst in kept {
            match self.liveness(&inst.host) {
                Liveness::Online if inst.is_serving() => {
                    serving.insert(inst.id.instance, inst);
                }
                Liveness::Unreachable => {
                    unreachable.insert((inst.id.instance, inst.container.as_str()));
                }
                _ => {}
            }
        }
        let registered = self.input.registered;
        let range = (app.to_owned(), 0)..=(app.to_owned(), u32::MAX);
        for ((_, n), container) in registered.range(range) {
            // A registration overwritten by a Register below needs no Deregister.
            if serving.contains_key(n) || unreachable.contains(&(*n, container.as_str())) {
                continue;
            }
            self.deregister.push(Step::Deregister {
                app: app.to_owned(),
                instance: *n,
                container: container.clone(),
            });
        }
        for (n, inst) in serving {
            if registered.get(&(app.to_owned(), n)) == Some(&inst.container) {
                continue;
            }
            let view = self
                .index
                .get(inst.host.as_str())
                .map(|&i| &self.input.actual.hosts[i]);
            self.register.push(Step::Register {
                app: app.to_owned(),
                instance: n,
                endpoint: Endpoint {
                    host: inst.host.clone(),
                    address: view
                        .and_then(|v| v.address.clone())
                        .unwrap_or_else(|| inst.host.clone()),
                    port: inst.id.port,
                    container: inst.container.clone(),
                    revision: inst.id.revision,
                },
            });
        }
    }
}

/// The spec with one `hostname UNLIKE <host>` constraint per avoided host: a hard filter
/// that keeps the host's instances counted for UNIQUE, MAX_PER and GROUP_BY.
fn avoiding<'h>(spec: &AppSpec, hosts: impl Iterator<Item = &'h str>) -> AppSpec {
    let mut placing = spec.clone();
    for host in hosts {
        if let Ok(pattern) = Pattern::new(&regex::escape(host)) {
            placing.constraints.push(Constraint {
                field: "hostname".to_owned(),
                op: ConstraintOp::Unlike(pattern),
            });
        }
    }
    placing
}
