//! One simulated container: what it runs, its state and health, and the figures the
//! fleet's clock gives it. Answers are built as bollard's own models, so they have the
//! engine's shape.

use crate::domain::logs::format_timestamp;
use bollard::models::{
    ContainerConfig, ContainerInspectResponse, ContainerState, ContainerStateStatusEnum,
    ContainerSummary, ContainerSummaryHealth, ContainerSummaryHealthStatusEnum,
    ContainerSummaryStateEnum, Health, HealthStatusEnum, HostConfig, RestartPolicy,
    RestartPolicyNameEnum,
};
use std::collections::HashMap;

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Run {
    Created,
    Running { since_ms: i64 },
    Exited { code: i64, at_ms: i64 },
}

/// A health check's state: starting until `healthy_at_ms`, then healthy unless forced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Check {
    pub healthy_at_ms: i64,
    pub unhealthy: bool,
}

#[derive(Debug, Clone)]
pub struct SimContainer {
    pub id: String,
    pub name: String,
    pub image: String,
    pub labels: HashMap<String, String>,
    pub created_ms: i64,
    pub run: Run,
    pub restarts: u32,
    pub policy: RestartPolicyNameEnum,
    /// How long a health check takes to pass after a start; None: no health check.
    pub start_period_ms: Option<i64>,
    pub check: Option<Check>,
    /// Its share of the host's load among the running containers.
    pub weight: f64,
    pub mem_base: u64,
    /// CPU seconds used, now and one tick ago (stats' cpu and precpu).
    pub cpu_seconds: f64,
    pub cpu_seconds_before: f64,
    /// Percent of one core over the last tick.
    pub cpu_percent: f64,
    pub mem_bytes: u64,
}

impl SimContainer {
    pub fn running(&self) -> bool {
        matches!(self.run, Run::Running { .. })
    }

    /// Starts it at `now_ms` (a start of a running one changes nothing).
    pub fn start(&mut self, now_ms: i64) {
        if self.running() {
            return;
        }
        self.run = Run::Running { since_ms: now_ms };
        self.check = self.start_period_ms.map(|p| Check {
            healthy_at_ms: now_ms + p,
            unhealthy: false,
        });
    }

    pub fn exit(&mut self, code: i64, now_ms: i64) {
        self.run = Run::Exited {
            code,
            at_ms: now_ms,
        };
        self.check = None;
        self.cpu_percent = 0.0;
    }

    /// Whether its restart policy brings it back after an exit with `code`.
    pub fn restarts_after(&self, code: i64) -> bool {
        use RestartPolicyNameEnum as P;
        match self.policy {
            P::ALWAYS | P::UNLESS_STOPPED => true,
            P::ON_FAILURE => code != 0,
            _ => false,
        }
    }

    pub fn health(&self, now_ms: i64) -> HealthStatusEnum {
        match self.check {
            None => HealthStatusEnum::NONE,
            Some(c) if c.unhealthy => HealthStatusEnum::UNHEALTHY,
            Some(c) if now_ms < c.healthy_at_ms => HealthStatusEnum::STARTING,
            Some(_) => HealthStatusEnum::HEALTHY,
        }
    }

    /// The list's status text: "Up 5 minutes (healthy)", "Exited (137) 3 seconds ago".
    pub fn status(&self, now_ms: i64) -> String {
        match self.run {
            Run::Created => "Created".to_owned(),
            Run::Running { since_ms } => {
                let health = match self.health(now_ms) {
                    HealthStatusEnum::HEALTHY => " (healthy)",
                    HealthStatusEnum::UNHEALTHY => " (unhealthy)",
                    HealthStatusEnum::STARTING => " (health: starting)",
                    _ => "",
                };
                format!("Up {}{health}", human(now_ms - since_ms))
            }
            Run::Exited { code, at_ms } => format!("Exited ({code}) {} ago", human(now_ms - at_ms)),
        }
    }

    pub fn summary(&self, now_ms: i64) -> ContainerSummary {
        let health = match self.health(now_ms) {
            HealthStatusEnum::HEALTHY => Some(ContainerSummaryHealthStatusEnum::HEALTHY),
            HealthStatusEnum::UNHEALTHY => Some(ContainerSummaryHealthStatusEnum::UNHEALTHY),
            HealthStatusEnum::STARTING => Some(ContainerSummaryHealthStatusEnum::STARTING),
            _ => None,
        };
        ContainerSummary {
            id: Some(self.id.clone()),
            names: Some(vec![format!("/{}", self.name)]),
            image: Some(self.image.clone()),
            command: Some("/bin/sh".to_owned()),
            created: Some(self.created_ms / 1000),
            labels: Some(self.labels.clone()),
            state: Some(match self.run {
                Run::Created => ContainerSummaryStateEnum::CREATED,
                Run::Running { .. } => ContainerSummaryStateEnum::RUNNING,
                Run::Exited { .. } => ContainerSummaryStateEnum::EXITED,
            }),
            status: Some(self.status(now_ms)),
            health: health.map(|status| ContainerSummaryHealth {
                status: Some(status),
                failing_streak: Some(0),
            }),
            ports: Some(Vec::new()),
            ..Default::default()
        }
    }

    pub fn inspect(&self, now_ms: i64) -> ContainerInspectResponse {
        let time = |ms: i64| format_timestamp(ms.saturating_mul(1_000_000));
        let zero = "0001-01-01T00:00:00Z".to_owned();
        let (status, started, finished, code) = match self.run {
            Run::Created => (ContainerStateStatusEnum::CREATED, zero.clone(), zero, 0),
            Run::Running { since_ms } => {
                (ContainerStateStatusEnum::RUNNING, time(since_ms), zero, 0)
            }
            Run::Exited { code, at_ms } => (
                ContainerStateStatusEnum::EXITED,
                time(self.created_ms),
                time(at_ms),
                code,
            ),
        };
        let health = self.check.map(|_| Health {
            status: Some(self.health(now_ms)),
            failing_streak: Some(i64::from(self.check.is_some_and(|c| c.unhealthy))),
            log: Some(Vec::new()),
        });
        ContainerInspectResponse {
            id: Some(self.id.clone()),
            name: Some(format!("/{}", self.name)),
            created: Some(time(self.created_ms)),
            image: Some(format!("sha256:{}", &self.id)),
            restart_count: Some(i64::from(self.restarts)),
            state: Some(ContainerState {
                status: Some(status),
                running: Some(self.running()),
                paused: Some(false),
                restarting: Some(false),
                oom_killed: Some(false),
                dead: Some(false),
                pid: Some(if self.running() { 4242 } else { 0 }),
                exit_code: Some(code),
                started_at: Some(started),
                finished_at: Some(finished),
                health,
                ..Default::default()
            }),
            config: Some(ContainerConfig {
                image: Some(self.image.clone()),
                labels: Some(self.labels.clone()),
                tty: Some(false),
                ..Default::default()
            }),
            host_config: Some(HostConfig {
                restart_policy: Some(RestartPolicy {
                    name: Some(self.policy),
                    maximum_retry_count: None,
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// Docker's rough durations: "Less than a second", "5 seconds", "About a minute", "3 hours".
fn human(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0 => "Less than a second".to_owned(),
        1..=59 => format!("{s} seconds"),
        60..=119 => "About a minute".to_owned(),
        120..=3599 => format!("{} minutes", s / 60),
        3600..=7199 => "About an hour".to_owned(),
        7200..=172_799 => format!("{} hours", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> SimContainer {
        SimContainer {
            id: "ab".repeat(32),
            name: "web-1".into(),
            image: "wheelhouse/demo:1".into(),
            labels: HashMap::from([("wheelhouse.app".into(), "web".into())]),
            created_ms: 0,
            run: Run::Created,
            restarts: 0,
            policy: RestartPolicyNameEnum::ALWAYS,
            start_period_ms: Some(2000),
            check: None,
            weight: 1.0,
            mem_base: 1 << 26,
            cpu_seconds: 0.0,
            cpu_seconds_before: 0.0,
            cpu_percent: 0.0,
            mem_bytes: 0,
        }
    }

    #[test]
    fn health_starts_then_passes_and_our_reader_sees_each_state() {
        let mut c = web();
        c.start(1000);
        assert_eq!(c.status(1500), "Up Less than a second (health: starting)");
        assert_eq!(c.health(3000), HealthStatusEnum::HEALTHY);
        assert_eq!(c.status(66_000), "Up About a minute (healthy)");
        let listed = c.summary(3000);
        assert_eq!(listed.names, Some(vec!["/web-1".to_owned()]));
        let health = listed.health.and_then(|h| h.status);
        assert_eq!(health, Some(ContainerSummaryHealthStatusEnum::HEALTHY));
        c.exit(137, 9000);
        assert_eq!(c.status(14_000), "Exited (137) 5 seconds ago");
        assert!(c.restarts_after(137));
    }

    #[test]
    fn the_answers_survive_a_round_trip_through_json() {
        let mut c = web();
        c.start(1000);
        let text = serde_json::to_string(&c.inspect(5000)).unwrap();
        let back: ContainerInspectResponse = serde_json::from_str(&text).unwrap();
        assert_eq!(back.state.and_then(|s| s.running), Some(true));
        assert_eq!(back.restart_count, Some(0));
    }
}
