//! The labels a managed container carries, and reading them back: actual state is rebuilt
//! from these alone, so a restart of the controller (or of etcd) loses nothing.
//!
//! `wheelhouse.revision` is a hash of the parts of the spec that shape the container (image,
//! command, env, cpus, memory, ports, health check, restart policy), not the etcd
//! `mod_revision`: a scale or a constraint change bumps `mod_revision` without changing what
//! a container runs, and a hash can be computed from the spec alone (no etcd revision needed,
//! and a restored etcd with reset revisions does not make every container look stale). It is
//! a positive 63-bit number, written in decimal, so it fits the `i64` revision fields of
//! service endpoints. `restart_generation` is hashed too: a rolling restart is the same
//! spec with the next generation, hence a new revision to roll to. The health check's
//! `replace_after` is the controller's business, not the container's: it is not hashed.

use crate::domain::Container;
use crate::domain::app::{AppSpec, HealthCheck, RestartPolicy};
use serde::Serialize;
use std::collections::BTreeMap;

pub const APP: &str = "wheelhouse.app";
pub const REVISION: &str = "wheelhouse.revision";
pub const INSTANCE: &str = "wheelhouse.instance";
/// The first port ($PORT).
pub const PORT: &str = "wheelhouse.port";
/// Prefix of one label per named port: `wheelhouse.port.<name>`.
pub const PORT_PREFIX: &str = "wheelhouse.port.";
/// What the instance reserves, so a host's reservations are known without the app's spec.
pub const CPU_MILLIS: &str = "wheelhouse.cpu_millis";
pub const MEMORY: &str = "wheelhouse.memory";

/// The spec's fields that shape a container, in a fixed order for hashing.
#[derive(Serialize)]
struct Shape<'a> {
    image: &'a str,
    command: &'a Option<Vec<String>>,
    env: &'a BTreeMap<String, String>,
    cpu_millis: u64,
    memory: u64,
    ports: &'a [String],
    health: Option<HealthCheck>,
    restart: RestartPolicy,
    /// Left out at 0, so specs from before rolling restarts keep their revision.
    #[serde(skip_serializing_if = "is_zero")]
    restart_generation: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The spec's revision: a stable FNV-1a hash of its container shape, top bit cleared.
pub fn revision(spec: &AppSpec) -> i64 {
    let shape = Shape {
        image: &spec.image,
        command: &spec.command,
        env: &spec.env,
        cpu_millis: spec.cpu_millis(),
        memory: spec.memory,
        ports: &spec.ports,
        // At its default, `replace_after` is left out of the JSON: the hash of every check
        // is the one it had before the setting existed.
        health: spec.health.clone().map(|h| HealthCheck {
            replace_after: HealthCheck::DEFAULT_REPLACE_AFTER,
            ..h
        }),
        restart: spec.restart,
        restart_generation: spec.restart_generation,
    };
    // Serializing plain strings, numbers and BTreeMaps cannot fail; an empty text would
    // still hash to a stable value.
    let text = serde_json::to_string(&shape).unwrap_or_default();
    i64::try_from(fnv1a(text.as_bytes()) & (i64::MAX as u64)).unwrap_or_default()
}

/// Labelled `wheelhouse.app=…` but not started by the controller (its labels do not make a
/// whole identity): never counted as an instance, adopted or stopped.
pub fn is_foreign(c: &Container) -> bool {
    c.labels.contains_key(APP) && super::Identity::from_labels(&c.labels).is_none()
}

/// `<app>.<instance>.<8 hex digits of the revision>`: unique per engine because instance
/// numbers are unique per app.
pub fn container_name(app: &str, instance: u32, revision: i64) -> String {
    format!("{app}.{instance}.{:08x}", revision & 0xffff_ffff)
}

/// The labels of a new instance. `ports` are in the spec's order; the first is $PORT.
pub fn labels(
    spec: &AppSpec,
    instance: u32,
    revision: i64,
    ports: &[(String, u16)],
) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (APP.to_owned(), spec.name.clone()),
        (REVISION.to_owned(), revision.to_string()),
        (INSTANCE.to_owned(), instance.to_string()),
        (CPU_MILLIS.to_owned(), spec.cpu_millis().to_string()),
        (MEMORY.to_owned(), spec.memory.to_string()),
    ]);
    if let Some((_, first)) = ports.first() {
        labels.insert(PORT.to_owned(), first.to_string());
    }
    for (name, port) in ports {
        labels.insert(format!("{PORT_PREFIX}{name}"), port.to_string());
    }
    labels
}

/// Who a managed container is, read from its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub app: String,
    pub instance: u32,
    /// The spec hash the container was made from (always positive).
    pub revision: i64,
    /// Named ports in name order; `port` is the first one of the spec ($PORT).
    pub ports: BTreeMap<String, u16>,
    pub port: Option<u16>,
    pub cpu_millis: u64,
    pub memory: u64,
}

impl Identity {
    /// None for a container the controller does not own: no app label, or an instance or
    /// revision label missing or not ours (a container someone else labelled
    /// `wheelhouse.app=web` is foreign: not counted, adopted or stopped).
    pub fn from_labels(labels: &BTreeMap<String, String>) -> Option<Identity> {
        let app = labels.get(APP)?;
        let instance = labels.get(INSTANCE)?.parse().ok()?;
        let revision = labels
            .get(REVISION)?
            .parse::<i64>()
            .ok()
            .filter(|r| *r > 0)?;
        let number = |key: &str| labels.get(key).and_then(|v| v.parse::<u64>().ok());
        let ports = labels
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(PORT_PREFIX)?.to_owned(), v.parse().ok()?)))
            .collect();
        Some(Identity {
            app: app.clone(),
            instance,
            revision,
            ports,
            port: labels.get(PORT).and_then(|v| v.parse().ok()),
            cpu_millis: number(CPU_MILLIS).unwrap_or(0),
            memory: number(MEMORY).unwrap_or(0),
        })
    }

    /// Every host port the instance holds.
    pub fn all_ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.port.into_iter().chain(self.ports.values().copied())
    }
}

/// A stable 64-bit FNV-1a hash (std's hasher is randomly seeded per process).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::app::Probe;
    use std::time::Duration;

    #[test]
    fn labels_round_trip() {
        let mut spec = AppSpec::new("web", "wheelhouse/demo:1");
        spec.ports = vec!["http".into(), "admin".into()];
        let rev = revision(&spec);
        let ports = [("http".to_owned(), 20000), ("admin".to_owned(), 20001)];
        let id = Identity::from_labels(&labels(&spec, 7, rev, &ports)).expect("managed");
        assert_eq!(id.app, "web");
        assert_eq!(id.instance, 7);
        assert_eq!(id.revision, rev);
        assert_eq!(id.port, Some(20000));
        assert_eq!(id.ports.get("admin"), Some(&20001));
        assert_eq!(id.cpu_millis, spec.cpu_millis());
        assert_eq!(id.memory, spec.memory);
        let mut all: Vec<u16> = id.all_ports().collect();
        all.sort_unstable();
        assert_eq!(all, [20000, 20000, 20001]);
    }

    #[test]
    fn unmanaged_or_odd_labels_are_not_instances() {
        assert_eq!(Identity::from_labels(&BTreeMap::new()), None);
        let odd = BTreeMap::from([
            (APP.to_owned(), "web".to_owned()),
            (INSTANCE.to_owned(), "x".to_owned()),
        ]);
        assert_eq!(Identity::from_labels(&odd), None);
        // Labelled by someone else: app and instance, but no revision of ours.
        let mut foreign = BTreeMap::from([
            (APP.to_owned(), "web".to_owned()),
            (INSTANCE.to_owned(), "1".to_owned()),
        ]);
        assert_eq!(Identity::from_labels(&foreign), None);
        for bad in ["0", "-5", "abc"] {
            foreign.insert(REVISION.to_owned(), bad.to_owned());
            assert_eq!(Identity::from_labels(&foreign), None, "{bad}");
        }
        foreign.insert(REVISION.to_owned(), "42".to_owned());
        assert!(Identity::from_labels(&foreign).is_some());
    }

    #[test]
    fn revision_ignores_scale_and_placement_but_not_the_image() {
        let spec = AppSpec::new("web", "wheelhouse/demo:1");
        let mut scaled = spec.clone();
        scaled.instances = 30;
        scaled.zone = Some("a".into());
        assert_eq!(revision(&spec), revision(&scaled));
        let mut new_image = spec.clone();
        new_image.image = "wheelhouse/demo:2".into();
        assert_ne!(revision(&spec), revision(&new_image));
        assert!(revision(&spec) > 0);
        let mut restarted = spec.clone();
        restarted.restart_generation = 1;
        assert_ne!(revision(&spec), revision(&restarted));
    }

    #[test]
    fn generation_zero_keeps_the_revision_of_older_specs() {
        // The hash of demo:1 before restart generations existed.
        let spec = AppSpec::new("web", "wheelhouse/demo:1");
        let text = r#"{"image":"wheelhouse/demo:1","command":null,"env":{},"cpu_millis":100,"memory":67108864,"ports":[],"health":null,"restart":"on-failure"}"#;
        let old = i64::try_from(fnv1a(text.as_bytes()) & (i64::MAX as u64)).unwrap_or_default();
        assert_eq!(revision(&spec), old);
    }

    #[test]
    fn replace_after_is_not_part_of_the_revision() {
        // The hash of a checked demo:1 before replace_after existed.
        let mut spec = AppSpec::new("web", "wheelhouse/demo:1");
        spec.health = Some(HealthCheck::new(Probe::Http("/health".into())));
        let text = r#"{"image":"wheelhouse/demo:1","command":null,"env":{},"cpu_millis":100,"memory":67108864,"ports":[],"health":{"probe":{"http":"/health"},"interval":10000,"timeout":5000,"start_period":0,"retries":3},"restart":"on-failure"}"#;
        let old = i64::try_from(fnv1a(text.as_bytes()) & (i64::MAX as u64)).unwrap_or_default();
        assert_eq!(revision(&spec), old);
        let mut patient = spec.clone();
        if let Some(h) = &mut patient.health {
            h.replace_after = Duration::from_secs(300);
        }
        assert_eq!(revision(&spec), revision(&patient));
        let mut other = spec.clone();
        if let Some(h) = &mut other.health {
            h.retries = 5;
        }
        assert_ne!(revision(&spec), revision(&other));
    }

    #[test]
    fn names_carry_app_instance_and_short_revision() {
        assert_eq!(
            container_name("web", 3, 0x0123_4567_89ab_cdef),
            "web.3.89abcdef"
        );
    }
}
