//! From the engine's list and info answers to the model's plain data.

use crate::domain::{Container, Health, HostInfo};
use bollard::models::{
    ContainerSummary, ContainerSummaryHealthStatusEnum, PortSummary, SystemInfo,
};

/// `docker info` figures; a negative or missing count reads as zero.
pub(crate) fn host_info(info: &SystemInfo) -> HostInfo {
    let count = |v: Option<i64>| v.and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
    HostInfo {
        hostname: info.name.clone().unwrap_or_default(),
        version: info.server_version.clone().unwrap_or_default(),
        ncpu: count(info.ncpu),
        mem_total: info
            .mem_total
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0),
        containers_running: count(info.containers_running),
    }
}

/// A list entry as the model's `Container`, without stats. None for an entry with no id.
pub(crate) fn container(summary: ContainerSummary) -> Option<Container> {
    let id = summary.id.filter(|id| !id.is_empty())?;
    let status = summary.status.unwrap_or_default();
    // API 1.52+ reports health as a field; older engines (20.10 = 1.41) only in the status text.
    let health = match summary.health.and_then(|h| h.status) {
        Some(ContainerSummaryHealthStatusEnum::HEALTHY) => Health::Healthy,
        Some(ContainerSummaryHealthStatusEnum::UNHEALTHY) => Health::Unhealthy,
        Some(ContainerSummaryHealthStatusEnum::STARTING) => Health::Starting,
        _ => health_from_status(&status),
    };
    Some(Container {
        name: container_name(summary.names.as_deref().unwrap_or_default(), &id),
        id,
        image: summary.image.unwrap_or_default(),
        state: (summary
            .state
            .map(|s| s.to_string())
            .unwrap_or_default()
            .as_str())
        .into(),
        status,
        health,
        labels: summary.labels.unwrap_or_default().into_iter().collect(),
        cpu_percent: None,
        mem_bytes: None,
        ports: ports(summary.ports.as_deref().unwrap_or_default()),
        restarts: None,
        last_check: None,
    })
}

/// "8080→80" for a published port, "80" for one only exposed ("/udp" and "/sctp" said,
/// tcp understood); the same port published on IPv4 and IPv6 once.
fn ports(list: &[PortSummary]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for port in list {
        let kind = port.typ.map(|t| t.to_string()).unwrap_or_default();
        let inner = match kind.as_str() {
            "" | "tcp" => port.private_port.to_string(),
            kind => format!("{}/{kind}", port.private_port),
        };
        let text = match port.public_port {
            Some(public) => format!("{public}→{inner}"),
            None => inner,
        };
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

/// The container's own name: the list also carries link aliases ("/web/db"), which have a
/// second slash. Falls back to the short id.
pub(crate) fn container_name(names: &[String], id: &str) -> String {
    let own = names
        .iter()
        .map(|n| n.trim_start_matches('/'))
        .find(|n| !n.is_empty() && !n.contains('/'));
    match own {
        Some(name) => name.to_owned(),
        None => id.chars().take(12).collect(),
    }
}

/// The health the engine appends to the status text: "Up 5 minutes (healthy)".
pub(crate) fn health_from_status(status: &str) -> Health {
    if status.contains("(healthy)") {
        Health::Healthy
    } else if status.contains("(unhealthy)") {
        Health::Unhealthy
    } else if status.contains("(health: starting)") {
        Health::Starting
    } else {
        Health::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ContainerState;
    use bollard::models::{ContainerSummaryHealth, ContainerSummaryStateEnum};
    use std::collections::HashMap;

    #[test]
    fn ports_read_published_then_exposed_once_each() {
        use bollard::models::PortSummaryTypeEnum;
        let port = |public: Option<u16>, ip: &str| PortSummary {
            ip: Some(ip.into()),
            private_port: 80,
            public_port: public,
            typ: Some(PortSummaryTypeEnum::TCP),
        };
        let mut udp = port(Some(53), "0.0.0.0");
        udp.typ = Some(PortSummaryTypeEnum::UDP);
        let list = [
            port(Some(8080), "0.0.0.0"),
            port(Some(8080), "::"),
            port(None, ""),
            udp,
        ];
        assert_eq!(ports(&list), ["8080→80", "80", "53→80/udp"]);
    }

    fn summary(status: &str) -> ContainerSummary {
        ContainerSummary {
            id: Some("0123456789abcdef0123".into()),
            names: Some(vec!["/web/db".into(), "/db".into()]),
            image: Some("wheelhouse/demo:1".into()),
            state: Some(ContainerSummaryStateEnum::RUNNING),
            status: Some(status.into()),
            labels: Some(HashMap::from([("wheelhouse.app".into(), "web".into())])),
            ..Default::default()
        }
    }

    #[test]
    fn maps_a_list_entry() {
        let c = container(summary("Up 3 minutes")).expect("a container");
        assert_eq!(c.id, "0123456789abcdef0123");
        assert_eq!(c.name, "db");
        assert_eq!(c.image, "wheelhouse/demo:1");
        assert_eq!(c.state, ContainerState::Running);
        assert!(c.is_running());
        assert_eq!(c.status, "Up 3 minutes");
        assert_eq!(c.health, Health::None);
        assert_eq!(
            c.labels.get("wheelhouse.app").map(String::as_str),
            Some("web")
        );
        assert_eq!((c.cpu_percent, c.mem_bytes), (None, None));
    }

    #[test]
    fn health_from_the_status_text() {
        let cases = [
            ("Up 5 minutes (healthy)", Health::Healthy),
            ("Up 2 seconds (health: starting)", Health::Starting),
            ("Up 1 hour (unhealthy)", Health::Unhealthy),
            ("Exited (0) 3 seconds ago", Health::None),
            ("", Health::None),
        ];
        for (status, want) in cases {
            assert_eq!(health_from_status(status), want, "{status}");
            assert_eq!(container(summary(status)).map(|c| c.health), Some(want));
        }
    }

    #[test]
    fn health_field_wins_over_status_text() {
        let mut s = summary("Up 5 minutes");
        s.health = Some(ContainerSummaryHealth {
            status: Some(ContainerSummaryHealthStatusEnum::UNHEALTHY),
            ..Default::default()
        });
        assert_eq!(container(s).map(|c| c.health), Some(Health::Unhealthy));
    }

    #[test]
    fn odd_entries_do_not_panic() {
        assert_eq!(container(ContainerSummary::default()), None);
        let bare = ContainerSummary {
            id: Some("fedcba9876543210".into()),
            ..Default::default()
        };
        let c = container(bare).expect("a container");
        assert_eq!(c.name, "fedcba987654");
        assert_eq!(c.state, ContainerState::Other(String::new()));
    }

    #[test]
    fn info_figures() {
        let info = SystemInfo {
            name: Some("lab-1".into()),
            server_version: Some("20.10.24".into()),
            ncpu: Some(2),
            mem_total: Some(25_000_000_000),
            containers_running: Some(-1),
            ..Default::default()
        };
        let h = host_info(&info);
        assert_eq!(h.hostname, "lab-1");
        assert_eq!(h.version, "20.10.24");
        assert_eq!(h.ncpu, 2);
        assert_eq!(h.mem_total, 25_000_000_000);
        assert_eq!(h.containers_running, 0);
    }
}
