//! The binary against folders of valid and invalid config files (no terminal needed).

use std::path::{Path, PathBuf};
use std::process::Command;
use wheelhouse::config::expect::Expected;

const BIN: &str = env!("CARGO_BIN_EXE_wheelhouse");

/// The files of a folder under tests/, e.g. "configs/invalid".
fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("config folder")
        .map(|e| e.expect("dir entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no files in {}", dir.display());
    files
}

fn wheelhouse(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("DOCKER_HOST")
        .env_remove("WHEELHOUSE_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .output()
        .expect("binary runs")
}

#[test]
fn valid_configs_pass_check() {
    for file in files("configs/valid") {
        let out = wheelhouse(&["--config", file.to_str().expect("utf-8 path"), "check"]);
        assert!(
            out.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Each invalid file says where its error is and what it names (`config::expect`).
#[test]
fn invalid_configs_name_file_line_and_column_and_leave_the_terminal_alone() {
    for file in files("configs/invalid") {
        let path = file.to_str().expect("utf-8 path");
        // The cockpit itself (no subcommand) must refuse before touching the terminal.
        for args in [vec!["--config", path], vec!["--config", path, "check"]] {
            refused_as_expected(&file, &args);
        }
    }
}

/// Runs the binary with `args`, which must exit 2 before writing to the terminal, with the
/// error `file` expects (its first line, `config::expect`) on stderr.
fn refused_as_expected(file: &Path, args: &[&str]) -> String {
    let bytes = std::fs::read(file).expect("readable");
    let expected =
        Expected::of(file, &String::from_utf8_lossy(&bytes)).unwrap_or_else(|e| panic!("{e}"));
    let out = wheelhouse(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "{args:?}: wrote to the terminal: {:?}",
        out.stdout
    );
    expected
        .check(file, &stderr)
        .unwrap_or_else(|e| panic!("{e}"));
    stderr
}

/// `ctl apply` refuses every invalid spec before it looks for etcd, naming file:line:col.
#[test]
fn ctl_apply_refuses_invalid_specs_at_their_line_and_column() {
    for file in files("specs/invalid") {
        let path = file.to_str().expect("utf-8 path");
        refused_as_expected(&file, &["ctl", "apply", "-f", path]);
    }
}

/// A key script is read whole before the cockpit touches the terminal.
#[test]
fn invalid_key_scripts_are_refused_before_the_terminal() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs/valid/minimal.toml");
    let config = config.to_str().expect("utf-8 path");
    for file in files("scripts/invalid") {
        let path = file.to_str().expect("utf-8 path");
        refused_as_expected(&file, &["--config", config, "--keys", path]);
    }
}

/// Issue 9 item 1: each of these flags panicked with "cannot convert float seconds to
/// Duration" on a huge value; each has its range.
#[test]
fn duration_flags_are_range_checked() {
    let huge = "99999999999999999999999h";
    for (args, range) in [
        (vec!["--refresh", huge, "check"], "between 100ms and 1h"),
        (vec!["--refresh", "10ms", "check"], "between 100ms and 1h"),
        (vec!["controller", "--grace", huge], "between 1s and 1h"),
        (vec!["controller", "--lease-ttl", huge], "between 1s and 1h"),
        (vec!["controller", "--lease-ttl", "0s"], "between 1s and 1h"),
        (
            vec!["wallboard", "--page-interval", huge],
            "between 0s and 1h",
        ),
        (
            vec!["wallboard", "--page-interval", "soon"],
            "is not a duration",
        ),
    ] {
        let out = wheelhouse(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(range), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    let out = wheelhouse(&["--refresh", "1.5s", "check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 9 item 7: a megabyte unknown key was echoed whole.
#[test]
fn a_megabyte_key_is_echoed_as_a_short_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("w.toml");
    let key = "k".repeat(1 << 20);
    std::fs::write(&file, format!("theme = \"default\"\n{key} = 1\n")).expect("write");
    let out = wheelhouse(&["--config", file.to_str().expect("utf-8 path"), "check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        &stderr[..stderr.len().min(300)]
    );
    assert!(stderr.len() < 1000, "{} bytes of error", stderr.len());
    assert!(
        stderr.contains(&format!("w.toml:2:1: unknown field `{}…`", &key[..60])),
        "{stderr}"
    );
}

#[test]
fn a_missing_config_file_is_an_error() {
    let out = wheelhouse(&["--config", "/nonexistent/w.toml", "check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/w.toml:1:1: cannot read"));
}

#[test]
fn docker_host_alone_is_a_one_host_inventory() {
    let out = Command::new(BIN)
        .args(["check"])
        .env("DOCKER_HOST", "unix:///run/some.sock")
        .env_remove("WHEELHOUSE_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .output()
        .expect("binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 host") && stdout.contains("unix:///run/some.sock"),
        "{stdout}"
    );
}

#[test]
fn completions_and_help() {
    let out = wheelhouse(&["completions", "bash"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("wheelhouse"));
    let out = wheelhouse(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for word in ["lab", "demo", "check", "--config", "--theme", "--keymap"] {
        assert!(help.contains(word), "--help lacks {word}: {help}");
    }
}
