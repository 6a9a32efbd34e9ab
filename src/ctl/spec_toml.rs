//! An app spec written back as the TOML an operator writes, in the file's usual key order,
//! so `ctl get web > web.toml` then `ctl apply -f web.toml` changes nothing.

use crate::domain::app::{Amount, AppSpec, HealthCheck, Probe, RestartPolicy, UpdatePolicy};
use crate::domain::sanitize;
use std::fmt::Write;
use std::time::Duration;
use toml::Value;

/// The spec as TOML; every value exact (memory in whole units, timings in ms when needed).
pub fn to_toml(spec: &AppSpec) -> String {
    let mut out = String::new();
    let mut line = |key: &str, value: Value| {
        let _ = writeln!(out, "{key} = {value}");
    };
    line("name", text(&spec.name));
    line("image", text(&spec.image));
    if let Some(command) = &spec.command {
        line("command", list(command));
    }
    line("instances", Value::Integer(i64::from(spec.instances)));
    line("cpus", Value::Float(spec.cpus));
    line("memory", text(&memory(spec.memory)));
    if !spec.ports.is_empty() {
        line("ports", list(&spec.ports));
    }
    if spec.restart != RestartPolicy::default() {
        line("restart", text(spec.restart.as_str()));
    }
    if let Some(zone) = &spec.zone {
        line("zone", text(zone));
    }
    if let Some(pin) = &spec.pin {
        line("pin", text(pin));
    }
    for (key, values) in [
        ("machine_of", &spec.machine_of),
        ("conflicts", &spec.conflicts),
        ("depends_on", &spec.depends_on),
    ] {
        if !values.is_empty() {
            line(key, list(values));
        }
    }
    if !spec.constraints.is_empty() {
        let parts = spec.constraints.iter().map(|c| list(&c.to_parts()));
        line("constraints", Value::Array(parts.collect()));
    }
    if !spec.env.is_empty() {
        out.push_str("\n[env]\n");
        for (key, value) in &spec.env {
            let _ = writeln!(out, "{} = {}", bare_key(key), basic_string(value));
        }
    }
    if !spec.machine_metadata.is_empty() {
        out.push_str("\n[machine_metadata]\n");
        for (key, values) in &spec.machine_metadata {
            let _ = writeln!(out, "{} = {}", bare_key(key), list(values));
        }
    }
    if let Some(health) = &spec.health {
        health_table(&mut out, health);
    }
    if spec.update != UpdatePolicy::default() {
        update_table(&mut out, &spec.update);
    }
    out
}

/// The whole policy: once one setting differs from the defaults, all are spelled out.
fn update_table(out: &mut String, policy: &UpdatePolicy) {
    out.push_str("\n[update]\n");
    let amount = |a: Amount| match a {
        Amount::Count(n) => Value::Integer(i64::from(n)),
        Amount::Percent(_) => text(&a.to_string()),
    };
    let lines = [
        ("max_surge", amount(policy.max_surge)),
        ("max_unavailable", amount(policy.max_unavailable)),
        ("min_ready", text(&duration(policy.min_ready))),
        ("healthy_deadline", text(&duration(policy.healthy_deadline))),
        (
            "progress_deadline",
            text(&duration(policy.progress_deadline)),
        ),
        ("failure_action", text(policy.failure_action.as_str())),
        ("max_failure_ratio", Value::Float(policy.max_failure_ratio)),
        ("canary", Value::Integer(i64::from(policy.canary))),
        (
            "history_limit",
            Value::Integer(i64::from(policy.history_limit)),
        ),
    ];
    for (key, value) in lines {
        let _ = writeln!(out, "{key} = {value}");
    }
}

fn health_table(out: &mut String, health: &HealthCheck) {
    out.push_str("\n[health]\n");
    let _ = match &health.probe {
        Probe::Command(command) => writeln!(out, "command = {}", list(command)),
        Probe::Http(path) => writeln!(out, "http = {}", text(path)),
        Probe::Image => {
            let replace_after = text(&duration(health.replace_after));
            let _ = writeln!(out, "replace_after = {replace_after}");
            return;
        }
    };
    for (key, d) in [
        ("interval", health.interval),
        ("timeout", health.timeout),
        ("start_period", health.start_period),
        ("replace_after", health.replace_after),
    ] {
        let _ = writeln!(out, "{key} = {}", text(&duration(d)));
    }
    let _ = writeln!(out, "retries = {}", health.retries);
}

fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

/// A TOML basic string in which every character a terminal would act on is a `\uXXXX`
/// escape: an env value may hold control characters, and `get` shows them, never sends them.
fn basic_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            c if sanitize::needs_care(c) => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| text(s)).collect())
}

/// A key as written bare when TOML allows it, else quoted.
fn bare_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_owned()
    } else {
        text(key).to_string()
    }
}

/// The largest binary unit that divides `bytes` exactly: "128MiB", "1536MiB", "4097".
fn memory(bytes: u64) -> String {
    for (unit, size) in [
        ("TiB", 1u64 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ] {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    bytes.to_string()
}

/// "10s", or "1500ms" when not whole seconds.
fn duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn spec_files() -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs/valid");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files
    }

    #[test]
    fn every_valid_spec_file_round_trips() {
        let files = spec_files();
        assert!(files.len() >= 3, "spec files found: {files:?}");
        for path in files {
            let source = std::fs::read_to_string(&path).unwrap_or_default();
            let spec = AppSpec::from_toml(&path, &source).unwrap_or_else(|e| panic!("{e}"));
            let written = to_toml(&spec);
            let back = AppSpec::from_toml(Path::new("written.toml"), &written)
                .unwrap_or_else(|e| panic!("{}: {e}\n{written}", path.display()));
            assert_eq!(back, spec, "{}:\n{written}", path.display());
        }
    }

    #[test]
    fn values_are_exact_and_quoted() {
        assert_eq!(memory(128 << 20), "128MiB");
        assert_eq!(memory(1536 << 20), "1536MiB");
        assert_eq!(memory(3 << 30), "3GiB");
        assert_eq!(memory(4097), "4097");
        assert_eq!(duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(duration(Duration::from_secs(10)), "10s");
        assert_eq!(bare_key("MODE"), "MODE");
        assert_eq!(bare_key("a.b"), "\"a.b\"");
        let mut spec = AppSpec::new("web", "demo:1");
        spec.env.insert("GREETING".into(), "say \"hi\"\n".into());
        spec.env.insert(
            "HOSTILE".into(),
            "\x1b[2J\x1b]0;pwned\x07\u{9b}\u{202e}\\".into(),
        );
        let written = to_toml(&spec);
        let back =
            AppSpec::from_toml(Path::new("w.toml"), &written).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.env, spec.env, "{written}");
        assert!(
            !written
                .chars()
                .any(|c| c != '\n' && sanitize::needs_care(c)),
            "{written}"
        );
        assert!(
            written.contains(r#"HOSTILE = "\u001B[2J\u001B]0;pwned\u0007"#),
            "{written}"
        );
    }
}
