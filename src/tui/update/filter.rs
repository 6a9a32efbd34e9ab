//! `/` and `:filter`: which hosts the grid shows and which apps the Apps panel lists, or,
//! in a host's view, which of its containers are listed.
//! Pure: parsed from text, matched against a host and the load thresholds, or a container.

use crate::cluster::{Host, HostState};
use crate::domain::Thresholds;
use crate::domain::{Container, Health};

/// Whitespace-separated terms that must all match. For hosts: `web` (name contains),
/// `zone=a`, `state=down`, and any other `key=value` as a host label (`disk=ssd`). For
/// containers: `web` (name or image contains), `state=exited`, `health=unhealthy`,
/// `app=web` and any other `key=value` as a container label.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    text: String,
    terms: Vec<Term>,
}

/// What a filter narrows: the grid (and the Apps panel) or one host's containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Hosts,
    Containers,
}

#[derive(Debug, Clone, PartialEq)]
enum Term {
    /// Lower case; matched case-insensitively anywhere in the name (or a container's image).
    Name(String),
    Zone(String),
    State(State),
    Label(String, String),
    /// A container's engine state (`running`, `exited` ...).
    RunState(String),
    Health(Health),
}

/// The engine states `state=` takes in a host's view.
pub const CONTAINER_STATES: &[&str] = &[
    "created",
    "running",
    "paused",
    "restarting",
    "removing",
    "exited",
    "dead",
];

/// The names `health=` takes in a host's view.
pub const HEALTH_NAMES: &[&str] = &["healthy", "unhealthy", "starting", "none"];

fn health(text: &str) -> Option<Health> {
    match text.to_ascii_lowercase().as_str() {
        "healthy" => Some(Health::Healthy),
        "unhealthy" => Some(Health::Unhealthy),
        "starting" => Some(Health::Starting),
        "none" => Some(Health::None),
        _ => None,
    }
}

fn one_of(what: &str, value: &str, names: &[&str]) -> String {
    format!(
        "filter: unknown {what} `{value}` (one of {})",
        names.join(", ")
    )
}

/// A host's state as the grid colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ok,
    Warn,
    Critical,
    Down,
    Unknown,
}

/// The names `state=` takes, for errors and completion.
pub const STATE_NAMES: &[&str] = &["ok", "warn", "critical", "down", "unknown"];

impl State {
    fn parse(text: &str) -> Option<State> {
        match text.to_ascii_lowercase().as_str() {
            "ok" => Some(State::Ok),
            "warn" | "warning" => Some(State::Warn),
            "crit" | "critical" => Some(State::Critical),
            "down" | "offline" => Some(State::Down),
            "unknown" => Some(State::Unknown),
            _ => None,
        }
    }

    /// The same decision as `Theme::level`, from the same thresholds.
    pub fn of(host: &Host, thresholds: Thresholds) -> State {
        match (&host.state, host.load()) {
            (HostState::Offline { .. }, _) => State::Down,
            (HostState::Unknown, _) | (HostState::Online, None) => State::Unknown,
            (HostState::Online, Some(load)) if load.score() >= thresholds.critical => {
                State::Critical
            }
            (HostState::Online, Some(load)) if load.score() >= thresholds.warn => State::Warn,
            (HostState::Online, Some(_)) => State::Ok,
        }
    }
}

impl Filter {
    /// None for blank text (no filter); Err names the term that makes no sense.
    pub fn parse(text: &str, scope: Scope) -> Result<Option<Filter>, String> {
        let mut terms = Vec::new();
        for word in text.split_whitespace() {
            let term = match (scope, word.split_once('=')) {
                (_, None) => Term::Name(word.to_lowercase()),
                (_, Some(("", _))) => {
                    return Err(format!("filter: `{word}` needs a name before `=`"));
                }
                (Scope::Hosts, Some(("zone", zone))) => Term::Zone(zone.to_owned()),
                (Scope::Hosts, Some(("state", state))) => Term::State(
                    State::parse(state).ok_or_else(|| one_of("state", state, STATE_NAMES))?,
                ),
                (Scope::Containers, Some(("zone", _))) => {
                    return Err("filter: zone= narrows the grid; here filter by name, \
                         state=, health= or a container label"
                        .to_owned());
                }
                (Scope::Containers, Some(("state", state))) => {
                    let state = state.to_ascii_lowercase();
                    if !CONTAINER_STATES.contains(&state.as_str()) {
                        return Err(one_of("state", &state, CONTAINER_STATES));
                    }
                    Term::RunState(state)
                }
                (Scope::Containers, Some(("health", value))) => Term::Health(
                    health(value).ok_or_else(|| one_of("health", value, HEALTH_NAMES))?,
                ),
                // The app's own label, under the name an operator knows it by.
                (Scope::Containers, Some(("app", app))) => {
                    Term::Label(crate::plan::labels::APP.to_owned(), app.to_owned())
                }
                (_, Some((key, value))) => Term::Label(key.to_owned(), value.to_owned()),
            };
            terms.push(term);
        }
        if terms.is_empty() {
            return Ok(None);
        }
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok(Some(Filter { text, terms }))
    }

    /// The filter as typed (spaces normalised), for the status bar and the prompt.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn matches_host(&self, host: &Host, thresholds: Thresholds) -> bool {
        self.terms.iter().all(|term| match term {
            Term::Name(part) => host.name().to_lowercase().contains(part),
            Term::Zone(zone) => host.spec.zone.as_deref() == Some(zone.as_str()),
            Term::State(state) => State::of(host, thresholds) == *state,
            Term::Label(key, value) => host.spec.labels.get(key) == Some(value),
            // Container terms are not parsed for hosts.
            Term::RunState(_) | Term::Health(_) => true,
        })
    }

    pub fn matches_container(&self, c: &Container) -> bool {
        self.terms.iter().all(|term| match term {
            Term::Name(part) => {
                c.name.to_lowercase().contains(part) || c.image.to_lowercase().contains(part)
            }
            Term::RunState(state) => c.state.as_str() == state,
            Term::Health(health) => c.health == *health,
            Term::Label(key, value) => c.labels.get(key) == Some(value),
            // Host terms are not parsed for containers.
            Term::Zone(_) | Term::State(_) => true,
        })
    }

    /// Apps are listed by name: only the name terms apply to them.
    pub fn matches_app(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.terms.iter().all(|term| match term {
            Term::Name(part) => name.contains(part),
            Term::Zone(_)
            | Term::State(_)
            | Term::Label(..)
            | Term::RunState(_)
            | Term::Health(_) => true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::HostSource;
    use crate::domain::{HostInfo, HostSpec};
    use std::time::Instant;

    const T: Thresholds = Thresholds {
        warn: 70.0,
        critical: 90.0,
    };

    pub(crate) fn host(name: &str, zone: &str, disk: &str, state: HostState) -> Host {
        let mut spec = HostSpec {
            name: name.to_owned(),
            engine: "unix:///x".to_owned(),
            address: None,
            zone: Some(zone.to_owned()),
            labels: Default::default(),
            tls: None,
        };
        spec.labels.insert("disk".to_owned(), disk.to_owned());
        let mut h = Host::new(spec, HostSource::Config);
        h.state = state;
        h
    }

    fn parse(text: &str) -> Filter {
        match Filter::parse(text, Scope::Hosts) {
            Ok(Some(f)) => f,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn matches_name_zone_label_and_state_together() {
        let down = HostState::Offline {
            error: "gone".into(),
            since: Instant::now(),
        };
        let a = host("lab-1", "a", "ssd", HostState::Unknown);
        let b = host("LAB-2", "b", "hdd", down);
        assert!(parse("lab").matches_host(&a, T));
        assert!(parse("lab-2").matches_host(&b, T), "case-insensitive");
        assert!(!parse("lab-2").matches_host(&a, T));
        assert!(parse("zone=a").matches_host(&a, T));
        assert!(!parse("zone=a").matches_host(&b, T));
        assert!(parse("disk=hdd").matches_host(&b, T));
        assert!(!parse("disk=hdd").matches_host(&a, T));
        assert!(parse("state=down").matches_host(&b, T));
        assert!(parse("state=offline").matches_host(&b, T));
        assert!(!parse("state=down").matches_host(&a, T));
        assert!(parse("state=unknown").matches_host(&a, T));
        assert!(parse("lab zone=b state=down").matches_host(&b, T));
        assert!(!parse("lab zone=a state=down").matches_host(&b, T));
    }

    #[test]
    fn state_follows_the_load_thresholds() {
        let mut h = host("h", "a", "ssd", HostState::Online);
        h.info = Some(HostInfo {
            ncpu: 1,
            mem_total: 100,
            ..Default::default()
        });
        assert_eq!(State::of(&h, T), State::Ok);
        assert!(parse("state=ok").matches_host(&h, T));
        let low = Thresholds {
            warn: 0.0,
            critical: 50.0,
        };
        assert_eq!(State::of(&h, low), State::Warn);
        assert!(parse("state=warn").matches_host(&h, low));
    }

    #[test]
    fn blank_is_no_filter_and_bad_terms_are_errors() {
        assert_eq!(Filter::parse("  ", Scope::Hosts), Ok(None));
        assert_eq!(parse("  zone=a   web ").text(), "zone=a web");
        let e = Filter::parse("state=sleepy", Scope::Hosts)
            .err()
            .unwrap_or_default();
        assert!(e.contains("unknown state `sleepy`"), "{e}");
        assert!(Filter::parse("=x", Scope::Hosts).is_err());
    }

    #[test]
    fn apps_match_by_name_only() {
        assert!(parse("we").matches_app("web"));
        assert!(!parse("db").matches_app("web"));
        assert!(parse("zone=a").matches_app("web"));
    }

    fn container(name: &str, image: &str, state: &str, health: Health) -> Container {
        let mut c = crate::tui::update::tests::support::web_container(name, health);
        c.name = name.to_owned();
        c.image = image.to_owned();
        c.state = state.into();
        let app = name.split('-').next().unwrap_or_default();
        c.labels
            .insert(crate::plan::labels::APP.to_owned(), app.to_owned());
        c
    }

    #[test]
    fn containers_match_by_name_image_state_health_and_label() {
        let web = container("web-1", "wheelhouse/demo:2", "running", Health::Unhealthy);
        let db = container("db-1", "postgres:16", "exited", Health::None);
        let parse = |text| match Filter::parse(text, Scope::Containers) {
            Ok(Some(f)) => f,
            other => panic!("{text}: {other:?}"),
        };
        assert!(parse("web").matches_container(&web));
        assert!(parse("DEMO:2").matches_container(&web), "image, any case");
        assert!(!parse("demo").matches_container(&db));
        assert!(parse("state=exited").matches_container(&db));
        assert!(!parse("state=exited").matches_container(&web));
        assert!(parse("health=unhealthy").matches_container(&web));
        assert!(parse("health=none").matches_container(&db));
        assert!(parse("app=db").matches_container(&db));
        assert!(!parse("app=db").matches_container(&web));
        assert!(parse("wheelhouse.app=web state=running").matches_container(&web));
    }

    #[test]
    fn container_filters_name_what_they_do_not_take() {
        let err = |text| {
            Filter::parse(text, Scope::Containers)
                .err()
                .unwrap_or_default()
        };
        assert!(err("state=down").contains("unknown state `down` (one of created"));
        assert!(err("health=ill").contains("unknown health `ill`"));
        assert!(err("zone=a").contains("zone= narrows the grid"));
        // The host scope keeps its own states.
        assert!(Filter::parse("state=down", Scope::Hosts).is_ok());
    }
}
