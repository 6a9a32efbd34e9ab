//! The binary against folders of valid and invalid config files (no terminal needed).

use std::path::{Path, PathBuf};
use std::process::Command;
use wheelhouse::config::expect::Expected;

const BIN: &str = env!("CARGO_BIN_EXE_wheelhouse");

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/configs")
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
    for file in files("valid") {
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
    for file in files("invalid") {
        let text = std::fs::read_to_string(&file).expect("readable");
        let expected = Expected::of(&file, &text).unwrap_or_else(|e| panic!("{e}"));
        let path = file.to_str().expect("utf-8 path");
        // The cockpit itself (no subcommand) must refuse before touching the terminal.
        for args in [vec!["--config", path], vec!["--config", path, "check"]] {
            let out = wheelhouse(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{path}: {stderr}");
            assert!(
                out.stdout.is_empty(),
                "{path}: wrote to the terminal: {:?}",
                out.stdout
            );
            expected
                .check(&file, &stderr)
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
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
