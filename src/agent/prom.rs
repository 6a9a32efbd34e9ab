//! `GET /metrics`: a summary in the Prometheus text exposition format (version 0.0.4):
//! per metric family one `# HELP` and one `# TYPE` line, then its samples, label values
//! escaped (backslash, double quote, line feed). Counters are cumulative, so Prometheus'
//! `rate()` works on them; memory is a gauge.

use super::summary::{ContainerSummary, Summary, Totals};
use std::fmt::Write as _;

/// The Content-Type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label value, escaped as the format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One family of container samples: name, help, type, and how to get a value.
struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    value: fn(&Totals) -> Option<f64>,
}

const CONTAINER_FAMILIES: [Family; 8] = [
    Family {
        name: "wheelhouse_container_cpu_seconds_total",
        help: "CPU time the container used, from its cgroup.",
        kind: "counter",
        value: |t| Some(t.cpu_seconds),
    },
    Family {
        name: "wheelhouse_container_memory_bytes",
        help: "Memory the container uses without the inactive page cache, as docker stats shows it.",
        kind: "gauge",
        value: |t| Some(t.mem_bytes as f64),
    },
    Family {
        name: "wheelhouse_container_blkio_read_bytes_total",
        help: "Bytes the container read from block devices.",
        kind: "counter",
        value: |t| Some(t.blk_read_bytes as f64),
    },
    Family {
        name: "wheelhouse_container_blkio_write_bytes_total",
        help: "Bytes the container wrote to block devices.",
        kind: "counter",
        value: |t| Some(t.blk_write_bytes as f64),
    },
    Family {
        name: "wheelhouse_container_blkio_read_ops_total",
        help: "Read operations the container issued to block devices.",
        kind: "counter",
        value: |t| Some(t.blk_read_ops as f64),
    },
    Family {
        name: "wheelhouse_container_blkio_write_ops_total",
        help: "Write operations the container issued to block devices.",
        kind: "counter",
        value: |t| Some(t.blk_write_ops as f64),
    },
    Family {
        name: "wheelhouse_container_network_receive_bytes_total",
        help: "Bytes received on the container's own interfaces (not lo); absent in the host's namespace.",
        kind: "counter",
        value: |t| t.net_rx_bytes.map(|b| b as f64),
    },
    Family {
        name: "wheelhouse_container_network_transmit_bytes_total",
        help: "Bytes sent on the container's own interfaces (not lo); absent in the host's namespace.",
        kind: "counter",
        value: |t| t.net_tx_bytes.map(|b| b as f64),
    },
];

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Values come from integer counters, so they are always finite.
fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    let labels: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    let _ = writeln!(out, "{name}{{{}}} {value}", labels.join(","));
}

fn container_labels<'a>(host: &'a str, c: &'a ContainerSummary) -> [(&'static str, &'a str); 4] {
    [
        ("host", host),
        ("app", c.app.as_deref().unwrap_or("")),
        ("instance", c.instance.as_deref().unwrap_or("")),
        ("container", c.name.as_str()),
    ]
}

/// The whole exposition of one summary.
pub fn render(summary: &Summary) -> String {
    let mut out = String::new();
    let host = summary.host.as_str();
    for family in &CONTAINER_FAMILIES {
        header(&mut out, family.name, family.help, family.kind);
        for c in &summary.containers {
            let Some(value) = c.figures.as_ref().and_then(|f| (family.value)(&f.totals)) else {
                continue;
            };
            sample(&mut out, family.name, &container_labels(host, c), value);
        }
    }
    let m = &summary.machine;
    let sum = &summary.containers_sum.totals;
    let host_families: [(&str, &str, &str, f64); 7] = [
        (
            "wheelhouse_host_cpu_busy_seconds_total",
            "CPU time the host's CPUs were busy, from /proc/stat.",
            "counter",
            m.cpu_busy_seconds_total,
        ),
        (
            "wheelhouse_host_cpu_seconds_total",
            "CPU time of all the host's CPUs, busy and idle, from /proc/stat.",
            "counter",
            m.cpu_seconds_total,
        ),
        (
            "wheelhouse_host_cpus",
            "CPUs the host has.",
            "gauge",
            f64::from(m.ncpu),
        ),
        (
            "wheelhouse_host_memory_total_bytes",
            "The host's MemTotal.",
            "gauge",
            m.mem_total_bytes as f64,
        ),
        (
            "wheelhouse_host_memory_available_bytes",
            "The host's MemAvailable.",
            "gauge",
            m.mem_available_bytes as f64,
        ),
        (
            "wheelhouse_host_containers_cpu_seconds_total",
            "CPU time of the running containers, summed.",
            "counter",
            sum.cpu_seconds,
        ),
        (
            "wheelhouse_host_containers_memory_bytes",
            "Memory of the running containers without the inactive page cache, summed.",
            "gauge",
            sum.mem_bytes as f64,
        ),
    ];
    for (name, help, kind, value) in host_families {
        header(&mut out, name, help, kind);
        sample(&mut out, name, &[("host", host)], value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::summary::{Figures, Machine};

    fn summary() -> Summary {
        let mut figures = Figures::default();
        figures.totals.cpu_seconds = 1.5;
        figures.totals.mem_bytes = 4096;
        figures.totals.net_rx_bytes = Some(7);
        let container =
            |name: &str, app: Option<&str>, figures: Option<Figures>| ContainerSummary {
                id: format!("id-{name}"),
                name: name.into(),
                app: app.map(str::to_owned),
                instance: app.map(|a| format!("{a}-1")),
                figures,
            };
        Summary {
            host: "lab-1".into(),
            version: "0".into(),
            started_at_ms: 0,
            unix_ms: 0,
            source: "cgroup-v1".into(),
            machine: Machine {
                ncpu: 2,
                mem_total_bytes: 100,
                ..Machine::default()
            },
            containers_sum: figures.clone(),
            history_bytes: 0,
            probes_at_ms: None,
            containers: vec![
                container("web-1", Some("web"), Some(figures.clone())),
                container("odd\"name\\\n", None, Some(Figures::default())),
                container("unread", None, None),
            ],
        }
    }

    #[test]
    fn families_have_help_type_and_labelled_samples() {
        let text = render(&summary());
        assert!(text.contains(
            "# HELP wheelhouse_container_cpu_seconds_total CPU time the container used, from its cgroup.\n\
             # TYPE wheelhouse_container_cpu_seconds_total counter\n\
             wheelhouse_container_cpu_seconds_total{host=\"lab-1\",app=\"web\",instance=\"web-1\",container=\"web-1\"} 1.5\n"
        ), "{text}");
        assert!(text.contains("# TYPE wheelhouse_container_memory_bytes gauge\n"));
        assert!(text.contains("wheelhouse_host_cpus{host=\"lab-1\"} 2\n"));
        assert!(text.contains("wheelhouse_host_containers_memory_bytes{host=\"lab-1\"} 4096\n"));
        // Every family is announced exactly once, and the text ends in a line feed.
        assert_eq!(
            text.matches("# TYPE wheelhouse_container_memory_bytes ")
                .count(),
            1
        );
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn label_values_are_escaped_and_absent_figures_left_out() {
        let text = render(&summary());
        assert!(
            text.contains("container=\"odd\\\"name\\\\\\n\"} 0\n"),
            "{text}"
        );
        assert!(!text.contains("unread"));
        // Network only where the container has its own namespace.
        let rx: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("wheelhouse_container_network_receive_bytes_total{"))
            .collect();
        assert_eq!(rx.len(), 1, "{rx:?}");
        assert!(rx[0].ends_with("} 7"));
    }

    #[test]
    fn every_sample_line_parses_as_name_labels_value() {
        let name = regex::Regex::new(
            r#"^[a-zA-Z_:][a-zA-Z0-9_:]*\{([a-z_]+="([^"\\\n]|\\.)*",?)*\} \S+$"#,
        )
        .unwrap();
        for line in render(&summary()).lines().filter(|l| !l.starts_with('#')) {
            assert!(name.is_match(line), "{line}");
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
