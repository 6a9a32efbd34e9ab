//! The crate's layers (DESIGN.md, "Architecture: a headless core, thin edges"), checked
//! the way ArchUnit does it: read every file under `src/`, collect its `crate::X` imports,
//! and fail naming file:line when a module reaches a layer above its own, reaches sideways
//! where that is not allowed, or when top-level modules import each other in a circle.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Every top-level module and its layer; a module imports only from lower layers.
const LAYERS: &[(&str, u8)] = &[
    // Plain types, parsing, errors, durations: imports nothing of ours.
    ("domain", 0),
    // Pure: formulas, placement, reconcile and rollout machines, the cluster picture.
    ("metrics", 1),
    ("sched", 1),
    ("plan", 1),
    ("cluster", 1),
    ("logs", 1),
    ("config", 2),
    // IO: engines, etcd and the host agent. They produce cluster events and never touch a screen.
    ("docker", 3),
    ("store", 3),
    ("agent", 3),
    ("feed", 4),
    // The agent process: its engine, its registration and the agent itself.
    ("agentd", 4),
    ("ops", 4),
    // The leader's loop follows the process's feed, as screens do.
    ("controller", 5),
    // The edges: the terminal UI, ctl verbs, the local lab.
    ("tui", 6),
    ("ctl", 6),
    ("lab", 6),
];

/// The one layer whose modules may use each other (a circle among them still fails):
/// pure code builds on pure code (plan on sched, the cluster picture on plan).
const SIDEWAYS_OK: u8 = 1;

/// Imports that break the layers today and are known, as (from, to): each is a debt with
/// the reason it is still here. Empty when the crate keeps its layers.
const KNOWN: &[(&str, &str)] = &[];

/// The binary's own files: `crate::` there is the binary, which sits above everything.
const BINARY: &[&str] = &["main.rs", "cli.rs"];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Import {
    file: String,
    line: usize,
    from: String,
    to: String,
}

#[test]
fn modules_import_only_from_layers_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let imports = crate_imports(&src);
    assert!(
        imports.iter().any(|i| i.to == "config"),
        "the scan found no imports at all: is src/ where it was?"
    );
    let report = violations(&imports);
    assert!(report.is_empty(), "layer violations:\n{report}");
}

/// A deliberate import from a layer above is caught, with its file and line.
#[test]
fn an_import_from_above_is_named() {
    let code = "use crate::config::Config;\nfn f() {\n    let _ = crate::tui::run();\n}\n";
    let imports = scan("src/domain/x.rs", "domain", code);
    let report = violations(&imports);
    assert!(report.contains("src/domain/x.rs:1: domain (layer 0) imports config (layer 2)"));
    assert!(report.contains("src/domain/x.rs:3: domain (layer 0) imports tui (layer 6)"));
}

#[test]
fn grouped_and_multiline_imports_are_read_and_comments_and_strings_are_not() {
    let code = "// crate::tui in a comment\nuse crate::{\n    plan::{self, X},\n    sched,\n};\nconst S: &str = \"crate::lab\";\nfn f<'a>(c: char) -> bool { c == '{' }\n/* crate::ctl */ use crate::metrics;\n";
    let found: Vec<(usize, String)> = scan("src/cluster/x.rs", "cluster", code)
        .into_iter()
        .map(|i| (i.line, i.to))
        .collect();
    let want = [(3, "plan"), (4, "sched"), (8, "metrics")].map(|(l, m)| (l, m.to_owned()));
    assert_eq!(found, want);
}

#[test]
fn a_circle_is_reported() {
    let mut imports = scan("src/plan/a.rs", "plan", "use crate::sched::X;");
    imports.extend(scan("src/sched/b.rs", "sched", "use crate::plan::Y;"));
    let report = violations(&imports);
    assert!(
        report.contains("import circle: plan -> sched -> plan"),
        "{report}"
    );
}

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|&(_, l)| l)
}

/// Every layer violation and circle, one per line; empty when there are none.
fn violations(imports: &[Import]) -> String {
    let mut report = String::new();
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for i in imports.iter().filter(|i| i.from != i.to) {
        if KNOWN.contains(&(i.from.as_str(), i.to.as_str())) {
            continue;
        }
        edges.entry(&i.from).or_default().insert(&i.to);
        let (from, to) = (layer(&i.from), layer(&i.to));
        let (Some(from), Some(to)) = (from, to) else {
            let unknown = if from.is_none() { &i.from } else { &i.to };
            let _ = writeln!(
                report,
                "{}:{}: {} imports {}, and {unknown} has no layer",
                i.file, i.line, i.from, i.to
            );
            continue;
        };
        if to > from || (to == from && from != SIDEWAYS_OK) {
            let _ = writeln!(
                report,
                "{}:{}: {} (layer {from}) imports {} (layer {to})",
                i.file, i.line, i.from, i.to
            );
        }
    }
    for (from, to) in KNOWN {
        if !imports
            .iter()
            .any(|i| (i.from.as_str(), i.to.as_str()) == (*from, *to))
        {
            let _ = writeln!(report, "{from} no longer imports {to}: take it off KNOWN");
        }
    }
    for (circle, group) in circles(&edges) {
        let (circle, group) = (circle.join(" -> "), group.join(", "));
        let _ = writeln!(report, "import circle: {circle} (all of: {group})");
    }
    report
}

/// One circle through each group of modules that reach each other, as a path that
/// starts and ends at the group's first module by name, with the whole group.
fn circles<'a>(edges: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<(Vec<&'a str>, Vec<&'a str>)> {
    let reach = |from: &'a str| -> BTreeMap<&'a str, &'a str> {
        // Breadth-first, remembering each module's predecessor for the path back.
        let mut seen = BTreeMap::new();
        let mut queue = vec![from];
        while let Some(m) = (!queue.is_empty()).then(|| queue.remove(0)) {
            for &next in edges.get(m).into_iter().flatten() {
                if !seen.contains_key(next) {
                    seen.insert(next, m);
                    queue.push(next);
                }
            }
        }
        seen
    };
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut found = Vec::new();
    for &start in edges.keys() {
        if done.contains(start) {
            continue;
        }
        let from_start = reach(start);
        let Some(&last) = from_start.get(start) else {
            continue;
        };
        // Walk back from the module that leads into `start` to `start` itself.
        let mut path = vec![start];
        let mut at = last;
        while at != start {
            path.push(at);
            at = from_start[at];
        }
        path.push(start);
        let last = path.len() - 1;
        path[1..last].reverse();
        // Everything on a circle with `start` is reported with it, after the path.
        let group: Vec<&str> = (from_start.keys().copied())
            .filter(|m| reach(m).contains_key(start))
            .collect();
        done.extend(group.iter().copied());
        found.push((path, group));
    }
    found
}

fn crate_imports(src: &Path) -> Vec<Import> {
    let mut files = Vec::new();
    collect_rs(src, &mut files);
    files.sort();
    let mut imports = Vec::new();
    for path in files {
        let rel = path.strip_prefix(src).unwrap_or(&path);
        let Some(first) = rel.iter().next().and_then(|s| s.to_str()) else {
            continue;
        };
        if rel.components().count() == 1 && (BINARY.contains(&first) || first == "lib.rs") {
            continue;
        }
        let module = first.trim_end_matches(".rs");
        let code =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let shown = Path::new("src").join(rel).display().to_string();
        imports.extend(scan(&shown, module, &code));
    }
    imports
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules `code` names through `crate::`, with their lines.
fn scan(file: &str, module: &str, code: &str) -> Vec<Import> {
    let code = blank_comments_and_literals(code);
    let b = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let line_at = |at: usize| 1 + b[..at].iter().filter(|&&c| c == b'\n').count();
    let import = |at: usize, to: &str| Import {
        file: file.to_owned(),
        line: line_at(at),
        from: module.to_owned(),
        to: to.to_owned(),
    };
    // The identifier starting at `at` (after blanks), and where it starts.
    let word = |mut at: usize| {
        while at < b.len() && b[at].is_ascii_whitespace() {
            at += 1;
        }
        let end = (at..b.len()).find(|&e| !ident(b[e])).unwrap_or(b.len());
        (at, &code[at..end])
    };
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        if at > 0 && ident(b[at - 1]) {
            continue;
        }
        let (start, name) = word(at + "crate::".len());
        if !name.is_empty() {
            found.push(import(start, name));
            continue;
        }
        if b.get(start) != Some(&b'{') {
            continue;
        }
        // `crate::{a::X, b, c::{..}}`: the first word of each top-level item.
        let mut depth = 0;
        let mut item_starts = true;
        for (at, &c) in b.iter().enumerate().skip(start) {
            match c {
                b'{' => {
                    depth += 1;
                    item_starts = depth == 1;
                    if depth == 1 {
                        continue;
                    }
                }
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                b',' if depth == 1 => item_starts = true,
                _ if item_starts && depth == 1 && ident(c) => {
                    let (s, name) = word(at);
                    if name != "self" {
                        found.push(import(s, name));
                    }
                    item_starts = false;
                }
                _ => {}
            }
        }
    }
    found
}

/// `code` with comments, strings and char literals blanked out, lines kept in place.
fn blank_comments_and_literals(code: &str) -> String {
    let b = code.as_bytes();
    let mut out = b.to_vec();
    let blank = |from: usize, to: usize, out: &mut Vec<u8>| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        let end = if rest.starts_with(b"//") {
            i + rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len())
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            let mut j = i;
            while j < b.len() {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            j
        } else if rest[0] == b'r' && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) && {
            let hashes = rest[1..].iter().take_while(|&&c| c == b'#').count();
            rest.get(1 + hashes) == Some(&b'"')
        } {
            let hashes = rest[1..].iter().take_while(|&&c| c == b'#').count();
            let close: Vec<u8> = std::iter::once(b'"').chain(vec![b'#'; hashes]).collect();
            let body = i + 2 + hashes;
            b[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(b.len(), |p| body + p + close.len())
        } else if rest[0] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            j + 1
        } else if rest[0] == b'\'' && rest.get(1) == Some(&b'\\') {
            i + 2
                + rest[2..]
                    .iter()
                    .position(|&c| c == b'\'')
                    .map_or(0, |p| p + 1)
        } else if rest[0] == b'\'' && rest.get(2) == Some(&b'\'') {
            i + 3
        } else {
            i += 1;
            continue;
        };
        blank(i, end, &mut out);
        i = end;
    }
    String::from_utf8_lossy(&out).into_owned()
}
