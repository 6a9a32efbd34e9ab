//! The fuzz targets' checks, one function per target (fuzz_targets/ call them, and the main
//! crate's tests/fuzz_regressions.rs runs them over every kept finding and seed, so
//! `cargo test` covers them without cargo-fuzz). Besides "no panic": a file parser's error
//! names a place inside the file and echoes a bounded message; what a parser accepts
//! survives being written back.

use std::path::Path;
use std::time::Duration;
use wheelhouse::config::Config;
use wheelhouse::domain::app::AppSpec;
use wheelhouse::domain::sanitize::{clean, clean_bytes, clean_lines, needs_care};
use wheelhouse::domain::{Bounds, FileError, MAX_ECHO, MAX_MESSAGE, decode, format_duration};
use wheelhouse::metrics::Resolution;
use wheelhouse::metrics::gorilla::{self, Encoder};
use wheelhouse::tui::keymap::Keymap;
use wheelhouse::tui::script;
use wheelhouse::tui::theme::Theme;

/// A target's check of one input: returns if it holds, panics if not.
pub type Check = fn(&[u8]);

/// Every target by name, as `cargo fuzz list` names them.
pub const TARGETS: [(&str, Check); 9] = [
    ("config", config),
    ("theme", theme),
    ("keymap", keymap),
    ("app_spec", app_spec),
    ("key_script", key_script),
    ("duration", duration),
    ("etcd_record", etcd_record),
    ("sanitize", sanitize),
    ("gorilla", gorilla),
];

/// wheelhouse.toml: `Config::parse`.
pub fn config(bytes: &[u8]) {
    parse_file(bytes, Config::parse);
}

/// Theme files: `Theme::parse` (read over the default theme).
pub fn theme(bytes: &[u8]) {
    parse_file(bytes, Theme::parse);
}

/// Keymap files: `Keymap::parse` (read over the default keymap).
pub fn keymap(bytes: &[u8]) {
    parse_file(bytes, Keymap::parse);
}

/// Key scripts (`--keys FILE`): `script::parse`.
pub fn key_script(bytes: &[u8]) {
    parse_file(bytes, script::parse);
}

/// App spec files (`ctl apply -f`): a spec `AppSpec::from_toml` accepts passes the checks
/// records from etcd get, and survives JSON (etcd) and `ctl get`'s TOML unchanged.
pub fn app_spec(bytes: &[u8]) {
    let Some(source) = text(bytes) else {
        return;
    };
    match AppSpec::from_toml(Path::new("fuzz.toml"), &source) {
        Err(err) => check_error(&source, &err),
        Ok(spec) => round_trip(&spec),
    }
}

/// App records as read from etcd: a record `AppSpec::from_json` accepts survives JSON and
/// `ctl get`'s TOML unchanged.
pub fn etcd_record(bytes: &[u8]) {
    if let Ok(spec) = AppSpec::from_json(bytes) {
        round_trip(&spec);
    }
}

/// The one duration reader: within its bounds or an error, and what it reads is written
/// back (`format_duration`) as text that reads the same.
pub fn duration(bytes: &[u8]) {
    const BOUNDS: [Bounds; 3] = [
        Bounds::new(Duration::ZERO, Duration::from_secs(24 * 3600)),
        Bounds::new(Duration::from_millis(100), Duration::from_secs(3600)),
        Bounds::new(Duration::ZERO, Duration::MAX),
    ];
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    for bounds in BOUNDS {
        match bounds.parse("fuzz", text) {
            Ok(d) => {
                assert!(bounds.min <= d && d <= bounds.max, "{text:?} -> {d:?}");
                let written = format_duration(d);
                assert_eq!(
                    bounds.parse("fuzz", &written),
                    Ok(d),
                    "{text:?} -> {written}"
                );
            }
            // At most `MAX_ECHO` characters of the text, each escaped in at most 10 bytes
            // ("\u{10ffff}"), and the setting's name and range.
            Err(message) => {
                let most = MAX_ECHO * 10 + 100;
                assert!(message.len() <= most, "{} bytes", message.len());
            }
        }
    }
}

/// The sanitizer: nothing it lets through can act on a terminal, and cleaning twice
/// changes nothing more.
pub fn sanitize(bytes: &[u8]) {
    let cleaned = clean_bytes(bytes);
    assert!(!cleaned.contains(needs_care), "{cleaned:?}");
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let once = clean(text);
    assert!(!once.contains(needs_care), "{text:?} -> {once:?}");
    assert_eq!(clean(&once), once, "{text:?}");
    assert_eq!(*once, *cleaned);
    let lines = clean_lines(text);
    assert!(!lines.contains(|c| c != '\n' && needs_care(c)), "{lines:?}");
}

/// Metric history blocks (the first byte picks the resolution: CPU %, memory, exact): any
/// bytes decode or fail without a panic, and what decodes is written again and reads back
/// the same (timestamps and gaps exactly, values within the quantum).
pub fn gorilla(bytes: &[u8]) {
    const RESOLUTIONS: [Resolution; 3] = [
        Resolution {
            tick_ms: 1000,
            quantum: 0.01,
        },
        Resolution {
            tick_ms: 1000,
            quantum: 4096.0,
        },
        Resolution {
            tick_ms: 1,
            quantum: 0.0,
        },
    ];
    let Some((&pick, block)) = bytes.split_first() else {
        return;
    };
    let res = RESOLUTIONS[usize::from(pick) % RESOLUTIONS.len()];
    let Ok(points) = gorilla::decode(block, &res) else {
        return;
    };
    let mut enc = Encoder::new(res);
    for p in &points {
        enc.push(p.unix_ms, p.value);
    }
    let again = gorilla::decode(&enc.to_bytes(), &res).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.len(), points.len());
    for (a, b) in points.iter().zip(&again) {
        assert_eq!(a.unix_ms, b.unix_ms);
        match (a.value, b.value) {
            (None, None) => {}
            (Some(x), Some(y)) if x.is_nan() => assert!(y.is_nan(), "{x} -> {y}"),
            (Some(x), Some(y)) if res.quantum == 0.0 || x.is_infinite() => assert_eq!(x, y),
            (Some(x), Some(y)) => assert!((x - y).abs() <= res.quantum, "{x} -> {y}"),
            (x, y) => panic!("{x:?} -> {y:?}"),
        }
    }
}

/// The input as a file's text, as the binary reads files; None (after checking the error)
/// when it is not UTF-8.
fn text(bytes: &[u8]) -> Option<String> {
    match decode(Path::new("fuzz.toml"), bytes.to_vec()) {
        Ok(text) => Some(text),
        Err(err) => {
            check_error(&String::from_utf8_lossy(bytes), &err);
            None
        }
    }
}

/// The error is at a line and column of `source` and its message is bounded.
fn check_error(source: &str, err: &FileError) {
    let lines = source.split('\n').count();
    assert!(
        err.line >= 1 && err.line <= lines,
        "line {} of {lines}: {err}",
        err.line
    );
    let width = source
        .split('\n')
        .nth(err.line - 1)
        .map_or(0, |l| l.chars().count());
    assert!(
        err.col >= 1 && err.col <= width + 1,
        "col {} of {width}: {err}",
        err.col
    );
    let most = MAX_MESSAGE + '…'.len_utf8();
    assert!(
        err.message.len() <= most,
        "{} bytes of message",
        err.message.len()
    );
}

/// Runs a file parser over the input and checks its error if it fails.
fn parse_file<T>(bytes: &[u8], parse: impl FnOnce(&Path, &str) -> Result<T, FileError>) {
    if let Some(source) = text(bytes)
        && let Err(err) = parse(Path::new("fuzz.toml"), &source)
    {
        check_error(&source, &err);
    }
}

/// A valid spec passes every check, and reads back the same from its JSON (etcd) and from
/// the TOML `ctl get` writes.
fn round_trip(spec: &AppSpec) {
    if let Err(why) = spec.validate() {
        panic!("accepted but invalid: {why}: {spec:?}");
    }
    let json = spec.to_json().unwrap_or_else(|e| panic!("{e}: {spec:?}"));
    let back = AppSpec::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(&back, spec, "through JSON: {json}");
    let toml = wheelhouse::ctl::to_toml(spec);
    let back = AppSpec::from_toml_max(Path::new("get.toml"), &toml, u32::MAX)
        .unwrap_or_else(|e| panic!("{e}\n{toml}"));
    assert_eq!(&back, spec, "through ctl get:\n{toml}");
}
