//! The fuzz targets' checks (fuzz/src/lib.rs, the same code cargo-fuzz runs) over every
//! finding kept in fuzz/regressions/TARGET/ and every seed in fuzz/seeds/TARGET/, so
//! `cargo test` covers them without cargo-fuzz or a nightly feature.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../fuzz/src/lib.rs"]
mod fuzz;

use std::path::Path;

#[test]
fn every_kept_finding_and_seed_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut ran = 0;
    for (target, check) in fuzz::TARGETS {
        for folder in ["regressions", "seeds"] {
            let Ok(entries) = std::fs::read_dir(root.join(folder).join(target)) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("dir entry").path();
                let bytes = std::fs::read(&path).expect("readable");
                eprintln!("{target}: {}", path.display());
                check(&bytes);
                ran += 1;
            }
        }
    }
    assert!(ran >= 20, "only {ran} inputs under {}", root.display());
}
