//! The binary against folders of valid and invalid config files (no terminal needed).

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use wheelhouse::domain::expect::Expected;

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
        (vec!["--refresh", huge], "between 100ms and 1h"),
        (
            vec!["wallboard", "--refresh", "10ms"],
            "between 100ms and 1h",
        ),
        (
            vec!["controller", "--refresh", huge],
            "between 100ms and 1h",
        ),
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
    // In range, the flags are taken: this controller stops only for want of etcd.
    let out = wheelhouse(&[
        "controller",
        "--refresh",
        "1.5s",
        "--grace",
        "1h",
        "--lease-ttl",
        "2s",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the controller needs etcd"), "{stderr}");
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

/// Runs the binary with stdout on a pipe whose reader is already gone.
fn with_closed_stdout(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Command::new(BIN)
        .args(args)
        .env_remove("DOCKER_HOST")
        .env_remove("WHEELHOUSE_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdout(writer)
        .output()
        .expect("binary runs")
}

#[test]
fn no_command_panics_on_a_closed_pipe() {
    for args in [
        &["completions", "bash"][..],
        &["man"],
        &["check"],
        &["--help"],
        &["ctl", "--help"],
    ] {
        let out = with_closed_stdout(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: {stderr}");
        assert!(out.status.code().is_some(), "{args:?} died of a signal");
    }
}

#[test]
fn env_booleans_take_the_usual_spellings() {
    let scale = |value: &str| {
        Command::new(BIN)
            .args(["ctl", "scale", "web", "3"])
            .env("WHEELHOUSE_READONLY", value)
            .env_remove("WHEELHOUSE_CONFIG")
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .output()
            .expect("binary runs")
    };
    for yes in ["1", "true", "yes", "on", "TRUE"] {
        let out = scale(yes);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{yes}: {stderr}");
        assert!(stderr.contains("read-only"), "{yes}: {stderr}");
    }
    for no in ["0", "false", "no", "off", ""] {
        let out = scale(no);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Not read-only: it gets as far as asking for etcd, which is not configured.
        assert!(
            stderr.contains("etcd is not configured"),
            "{no:?}: {stderr}"
        );
    }
    let out = scale("maybe");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("maybe"));
}

#[test]
fn cockpit_flags_are_refused_where_they_do_nothing() {
    for args in [
        &["ctl", "--theme", "light", "status"][..],
        &["ctl", "status", "--keys", "x.keys"],
        &["--theme", "light", "ctl", "status"],
        &["--keys", "x.keys", "ctl", "status"],
        &["--low-bandwidth", "lab", "status"],
        &["lab", "status", "--exit-after-keys"],
        &["--refresh", "1s", "ctl", "status"],
        &["--keymap", "arrows", "completions", "bash"],
        &["--readonly", "lab", "status"],
    ] {
        let out = wheelhouse(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            stderr.contains("unexpected argument") || stderr.contains("cockpit flag"),
            "{args:?}: {stderr}"
        );
    }
    // Where they do something they are still taken, before or after the mode.
    let out = wheelhouse(&["--theme", "light", "--keymap", "arrows", "check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = wheelhouse(&["check", "--theme", "nosuch"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nosuch"));
}

#[test]
fn ctl_help_names_every_verb_and_no_cockpit_flag() {
    let out = wheelhouse(&["ctl", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for verb in [
        "apply",
        "get",
        "delete",
        "scale",
        "status",
        "rollout",
        "rollback",
        "restart",
        "rollout-status",
        "pause",
        "resume",
        "promote",
        "history",
        "audit",
        "--readonly",
    ] {
        assert!(help.contains(&format!("  {verb} ")), "{verb}: {help}");
    }
    for flag in [
        "--theme",
        "--keymap",
        "--keys",
        "--low-bandwidth",
        "--refresh",
    ] {
        assert!(!help.contains(flag), "{flag}: {help}");
    }
    let out = wheelhouse(&["lab", "up", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(!help.contains("--theme"), "{help}");
}

#[test]
fn ctl_status_without_a_config_says_so_and_prints_nothing_else() {
    let out = wheelhouse(&["ctl", "status"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains("etcd is not configured"), "{stderr}");
}

/// A bad file or count is said at once, before the refusal's audit record (which waits
/// on etcd, here at a closed port), and that wait is bounded.
#[test]
fn ctl_says_bad_input_before_auditing_it_and_exits_soon_when_etcd_is_down() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("w.toml");
    std::fs::write(&config, "[etcd]\nendpoints = [\"http://127.0.0.1:1\"]\n").expect("write");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"web\"\nimage = 3\n").expect("write");
    let config = config.to_str().expect("utf-8");
    let bad = bad.to_str().expect("utf-8");
    let cases: [(&[&str], &str); 2] = [
        (&["apply", "-f", bad], "bad.toml:2:"),
        (&["scale", "web", "lots"], "cannot scale web: "),
    ];
    for (args, error) in cases {
        let started = std::time::Instant::now();
        let out = Command::new(BIN)
            .args(["--config", config, "ctl"])
            .args(args)
            .output()
            .expect("binary runs");
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert!(
            lines
                .first()
                .is_some_and(|l| l.starts_with("wheelhouse: ") && l.contains(error)),
            "{args:?}: the error comes first: {stderr}"
        );
        assert_eq!(
            stderr.matches(error).count(),
            1,
            "{args:?}: said once: {stderr}"
        );
        assert!(
            took < std::time::Duration::from_secs(10),
            "{args:?} took {took:?}"
        );
    }
}

/// `rollout-status --reset` prints no data, so an output format with it is refused.
#[test]
fn rollout_status_reset_refuses_an_output_format() {
    let out = wheelhouse(&["ctl", "rollout-status", "web", "--reset", "-o", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    assert!(stderr.contains("--output"), "{stderr}");
}

#[test]
fn ctl_warnings_on_a_piped_stderr_have_no_colour() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("w.toml");
    // Nothing listens on port 1: recording the refusal fails, with a WARN line.
    std::fs::write(&config, "[etcd]\nendpoints = [\"http://127.0.0.1:1\"]\n").expect("write");
    let out = Command::new(BIN)
        .args([
            "--config",
            config.to_str().expect("utf-8"),
            "ctl",
            "--readonly",
        ])
        .args(["scale", "web", "3"])
        .env_remove("NO_COLOR")
        .output()
        .expect("binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("WARN"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
}

#[test]
fn the_man_page_names_every_command_and_renders() {
    let out = wheelhouse(&["man"]);
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    for command in [
        "lab",
        "demo",
        "check",
        "wallboard",
        "controller",
        "ctl",
        "completions",
    ] {
        assert!(page.contains(command), "{command} missing:\n{page}");
    }
    let mut groff = Command::new("groff")
        .args(["-man", "-Tutf8", "-P", "-cbou"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("groff runs");
    std::io::Write::write_all(&mut groff.stdin.take().expect("stdin"), &out.stdout)
        .expect("feed groff");
    let rendered = groff.wait_with_output().expect("groff ends");
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    assert!(
        text.contains("NAME") && text.contains("SUBCOMMANDS"),
        "{text}"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let out = wheelhouse(&["man", "--dir", dir.path().to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for page in [
        "wheelhouse.1",
        "wheelhouse-ctl.1",
        "wheelhouse-ctl-status.1",
        "wheelhouse-lab-up.1",
    ] {
        assert!(dir.path().join(page).is_file(), "{page} not written");
    }
}

#[test]
fn status_with_etcd_down_fails_every_time_however_soon_etcd_is_found_down() {
    // A port nothing listens on: etcd is refused at once, often before `status` has
    // joined its feed; it must still say so, never print "no apps" and exit 0.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("w.toml");
    std::fs::write(
        &config,
        format!(
            "[etcd]\nendpoints = [\"http://127.0.0.1:{port}\"]\n\n[[hosts]]\nname = \"gone\"\nengine = \"unix:///nonexistent/docker.sock\"\n"
        ),
    )
    .unwrap();
    for _ in 0..5 {
        let out = wheelhouse(&["--config", &config.to_string_lossy(), "ctl", "status"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("etcd unreachable"), "{stderr}");
    }
}
