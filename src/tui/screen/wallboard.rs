//! The wallboard's state and what it alerts on: pure functions of the `Screen`.
//!
//! `update` turns the page and sets the clock text on the loop's `Msg::WallClock`; drawing
//! only reads them.

use super::{Screen, shown_rollouts};
use crate::cluster::HostState;
use crate::cluster::app_statuses;
use crate::domain::Health;
use crate::plan::rollout::Phase;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The pages a wallboard cycles through, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Grid,
    Apps,
    Alerts,
}

impl Page {
    pub const ALL: [Page; 3] = [Page::Grid, Page::Apps, Page::Alerts];

    pub fn title(self) -> &'static str {
        match self {
            Page::Grid => "hosts",
            Page::Apps => "apps",
            Page::Alerts => "alerts",
        }
    }

    fn next(self) -> Page {
        match self {
            Page::Grid => Page::Apps,
            Page::Apps => Page::Alerts,
            Page::Alerts => Page::Grid,
        }
    }
}

/// A read-only wall screen: which page shows, since when, and the clock to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Wallboard {
    pub interval: Duration,
    pub page: Page,
    /// When the current page came up.
    pub since: Instant,
    /// Wall-clock text ("14:03:27 UTC"), handed in by the loop so drawing stays pure.
    pub clock: String,
}

impl Wallboard {
    pub fn new(interval: Duration, now: Instant) -> Self {
        Wallboard {
            interval,
            page: Page::Grid,
            since: now,
            clock: String::new(),
        }
    }

    /// Moves to the next page once the interval is over. Returns whether the page changed.
    /// A zero interval keeps the first page.
    pub fn advance(&mut self, now: Instant) -> bool {
        if self.interval.is_zero() || now.saturating_duration_since(self.since) < self.interval {
            return false;
        }
        self.page = self.page.next();
        self.since = now;
        true
    }

    /// Sets the clock text. Returns whether it changed (a redraw is due).
    pub fn set_clock(&mut self, text: String) -> bool {
        if self.clock == text {
            return false;
        }
        self.clock = text;
        true
    }
}

/// Where the wall's clock is: seconds east of UTC and the zone's short name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub offset: i64,
    pub name: String,
}

impl Zone {
    pub fn utc() -> Zone {
        Zone {
            offset: 0,
            name: "UTC".to_owned(),
        }
    }
}

/// "HH:MM:SS CET" for a wall-clock time in `zone`.
pub fn clock_text(at: SystemTime, zone: &Zone) -> String {
    let utc = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let secs = i64::try_from(utc).unwrap_or(0).saturating_add(zone.offset);
    let secs = secs.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02} {}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        zone.name
    )
}

/// Something on the wall that needs a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    HostOffline {
        host: String,
    },
    /// Fewer healthy instances than the spec asks for.
    BelowDesired {
        app: String,
        healthy: u32,
        desired: u32,
    },
    /// A container whose health check fails.
    Unhealthy {
        container: String,
        host: String,
    },
    /// A rollout that is paused or rolling back, or that failed or rolled back (for
    /// `LINGER` after it ended).
    Rollout {
        app: String,
        phase: &'static str,
    },
}

impl Alert {
    /// One line for the alerts page.
    pub fn text(&self) -> String {
        match self {
            Alert::HostOffline { host } => format!("host {host} offline"),
            Alert::BelowDesired {
                app,
                healthy,
                desired,
            } => format!("app {app}: {healthy}/{desired} healthy"),
            Alert::Unhealthy { container, host } => {
                format!("container {container} on {host} unhealthy")
            }
            Alert::Rollout { app, phase } => format!("rollout of {app} {phase}"),
        }
    }
}

/// Every alert: hosts first, then apps by name, unhealthy containers, then rollouts by app.
pub fn alerts(screen: &Screen) -> Vec<Alert> {
    let mut out: Vec<Alert> = screen
        .cluster
        .hosts
        .iter()
        .filter(|h| matches!(h.state, HostState::Offline { .. }))
        .map(|h| Alert::HostOffline {
            host: h.name().to_owned(),
        })
        .collect();
    for status in app_statuses(&screen.cluster) {
        if let Some(desired) = status.desired
            && status.healthy < desired
        {
            out.push(Alert::BelowDesired {
                app: status.name,
                healthy: status.healthy,
                desired,
            });
        }
    }
    for host in screen
        .cluster
        .hosts
        .iter()
        .filter(|h| h.state == HostState::Online)
    {
        for c in host
            .containers
            .iter()
            .filter(|c| c.health == Health::Unhealthy)
        {
            out.push(Alert::Unhealthy {
                container: c.name.clone(),
                host: host.name().to_owned(),
            });
        }
    }
    for rollout in shown_rollouts(screen) {
        let phase = &rollout.state.phase;
        if !matches!(phase, Phase::Progressing | Phase::Canary) {
            out.push(Alert::Rollout {
                app: rollout.app().to_owned(),
                phase: phase.name(),
            });
        }
    }
    out
}

/// The banner's one line: "2 hosts offline · web 4/6 · rollout api paused"; None when
/// all is well.
pub fn banner_text(alerts: &[Alert]) -> Option<String> {
    if alerts.is_empty() {
        return None;
    }
    let offline = alerts
        .iter()
        .filter(|a| matches!(a, Alert::HostOffline { .. }))
        .count();
    let unhealthy = alerts
        .iter()
        .filter(|a| matches!(a, Alert::Unhealthy { .. }))
        .count();
    let mut parts = Vec::new();
    match offline {
        0 => {}
        1 => parts.push("1 host offline".to_owned()),
        n => parts.push(format!("{n} hosts offline")),
    }
    if unhealthy > 0 {
        parts.push(format!("{unhealthy} unhealthy"));
    }
    for alert in alerts {
        match alert {
            Alert::HostOffline { .. } | Alert::Unhealthy { .. } => {}
            Alert::BelowDesired {
                app,
                healthy,
                desired,
            } => parts.push(format!("{app} {healthy}/{desired}")),
            Alert::Rollout { app, phase } => parts.push(format!("rollout {app} {phase}")),
        }
    }
    Some(parts.join(" · "))
}

#[cfg(test)]
mod tests;
