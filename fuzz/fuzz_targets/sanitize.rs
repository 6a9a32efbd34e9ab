#![no_main]
//! See `wheelhouse_fuzz::sanitize`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| wheelhouse_fuzz::sanitize(bytes));
