//! `/` and `:filter`: which hosts the grid shows and which apps the Apps panel lists.
//! Pure: parsed from text, matched against a host and the load thresholds.

use crate::model::{Host, HostState};
use crate::tui::theme::Thresholds;

/// Whitespace-separated terms that must all match: `web` (name contains), `zone=a`,
/// `state=down`, and any other `key=value` as a host label (`disk=ssd`).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    text: String,
    terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq)]
enum Term {
    /// Lower case; matched case-insensitively anywhere in the name.
    Name(String),
    Zone(String),
    State(State),
    Label(String, String),
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
    pub fn parse(text: &str) -> Result<Option<Filter>, String> {
        let mut terms = Vec::new();
        for word in text.split_whitespace() {
            let term = match word.split_once('=') {
                None => Term::Name(word.to_lowercase()),
                Some(("", _)) => {
                    return Err(format!("filter: `{word}` needs a name before `=`"));
                }
                Some(("zone", zone)) => Term::Zone(zone.to_owned()),
                Some(("state", state)) => Term::State(State::parse(state).ok_or_else(|| {
                    format!(
                        "filter: unknown state `{state}` (one of {})",
                        STATE_NAMES.join(", ")
                    )
                })?),
                Some((key, value)) => Term::Label(key.to_owned(), value.to_owned()),
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
        })
    }

    /// Apps are listed by name: only the name terms apply to them.
    pub fn matches_app(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.terms.iter().all(|term| match term {
            Term::Name(part) => name.contains(part),
            Term::Zone(_) | Term::State(_) | Term::Label(..) => true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HostInfo, HostSource, HostSpec};
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
        match Filter::parse(text) {
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
        assert_eq!(Filter::parse("  "), Ok(None));
        assert_eq!(parse("  zone=a   web ").text(), "zone=a web");
        let e = Filter::parse("state=sleepy").err().unwrap_or_default();
        assert!(e.contains("unknown state `sleepy`"), "{e}");
        assert!(Filter::parse("=x").is_err());
    }

    #[test]
    fn apps_match_by_name_only() {
        assert!(parse("we").matches_app("web"));
        assert!(!parse("db").matches_app("web"));
        assert!(parse("zone=a").matches_app("web"));
    }
}
