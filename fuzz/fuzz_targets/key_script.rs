#![no_main]
//! See `wheelhouse_fuzz::key_script`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| wheelhouse_fuzz::key_script(bytes));
