//! scripts/setup names every Debian package the build, the lab and the tests need. A package
//! missing there breaks a fresh machine while CI's (with the package left over) stays green,
//! so this reads the code and the lock file and compares them with setup's table.
//! `scripts/check-fresh-root` proves the same on a clean Debian root, too slowly for the suite.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

/// Programs of Debian's essential set, on every Debian system without being named.
const ESSENTIAL: &[&str] = &["sleep", "tar", "id", "chmod"];

/// Crates in Cargo.lock whose build needs a package: (crate, package, probe).
const BUILD_NEEDS: &[(&str, &str, &str)] = &[
    ("prost-build", "protobuf-compiler", "cmd:protoc"),
    (
        "prost-build",
        "libprotobuf-dev",
        "file:/usr/include/google/protobuf/descriptor.proto",
    ),
    ("cc", "gcc", "cmd:cc"),
    ("cc", "libc6-dev", "file:/usr/include/stdio.h"),
];

/// (package, probe) pairs of SETUP_PACKAGES in scripts/setup.
fn setup_table() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string("scripts/setup").expect("scripts/setup");
    let start = text
        .find("SETUP_PACKAGES=\"")
        .expect("SETUP_PACKAGES in setup")
        + 16;
    let end = start + text[start..].find('"').expect("closing quote");
    text[start..end]
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literal arguments after `marker` in `text`: `find_binary("dockerd", "docker.io")`
/// gives ["dockerd", "docker.io"].
fn literal_args<'a>(text: &'a str, marker: &str) -> Vec<Vec<&'a str>> {
    text.match_indices(marker)
        .map(|(at, _)| {
            let rest = &text[at + marker.len()..];
            let call = &rest[..rest.find(')').unwrap_or(rest.len())];
            call.split(',')
                .filter_map(|arg| arg.trim().strip_prefix('"')?.strip_suffix('"'))
                .collect()
        })
        .collect()
}

/// Every program the code and the tests run, with the package the code says provides it
/// (None for a bare `Command::new("x")`), and where it was found.
fn programs() -> Vec<(String, Option<String>, String)> {
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches"] {
        rust_files(Path::new(dir), &mut files);
    }
    let mut found = Vec::new();
    // This file's own comments name the patterns it looks for.
    files.retain(|f| !f.ends_with("tests/setup.rs"));
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        let at = file.display().to_string();
        for args in literal_args(&text, "find_binary(") {
            if let [program, package] = args[..] {
                found.push((program.to_owned(), Some(package.to_owned()), at.clone()));
            }
        }
        for args in literal_args(&text, "Command::new(") {
            if let [program] = args[..] {
                found.push((program.to_owned(), None, at.clone()));
            }
        }
    }
    found
}

#[test]
fn every_program_the_code_runs_is_installed_by_setup() {
    let table = setup_table();
    let programs = programs();
    assert!(
        programs.iter().any(|(p, _, _)| p == "dockerd"),
        "the scan finds the lab's dockerd: {programs:?}"
    );
    for (program, package, at) in programs {
        if ESSENTIAL.contains(&program.as_str()) {
            continue;
        }
        // A program named by its path is proven by that file.
        let probe = if program.starts_with('/') {
            format!("file:{program}")
        } else {
            format!("cmd:{program}")
        };
        let named = table
            .iter()
            .any(|(pkg, p)| *p == probe && package.as_ref().is_none_or(|want| want == pkg));
        assert!(
            named,
            "{at} runs `{program}` (package {package:?}), but scripts/setup has no line \
             `{} {probe}`",
            package.as_deref().unwrap_or("<package>")
        );
    }
}

#[test]
fn every_package_the_build_needs_is_installed_by_setup() {
    let lock = std::fs::read_to_string("Cargo.lock").expect("Cargo.lock");
    let table = setup_table();
    let mut checked = 0;
    for (krate, package, probe) in BUILD_NEEDS {
        if !lock.contains(&format!("name = \"{krate}\"\n")) {
            continue;
        }
        checked += 1;
        assert!(
            table.contains(&(package.to_string(), probe.to_string())),
            "Cargo.lock builds {krate}, which needs {package}: scripts/setup has no line \
             `{package} {probe}`"
        );
    }
    assert!(checked >= 2, "the lock file still has prost-build and cc");
}

#[test]
fn the_table_reader_sees_what_a_missing_line_would_break() {
    // The check above can fail: drop libprotobuf-dev from a copy of the table and it is missed.
    let mut table = setup_table();
    assert!(table.remove(&(
        "libprotobuf-dev".to_owned(),
        "file:/usr/include/google/protobuf/descriptor.proto".to_owned()
    )));
    let (_, package, probe) = BUILD_NEEDS[1];
    assert!(!table.contains(&(package.to_owned(), probe.to_owned())));
}
