#![no_main]
//! See `wheelhouse_fuzz::duration`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| wheelhouse_fuzz::duration(bytes));
