#![no_main]
//! See `wheelhouse_fuzz::app_spec`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| wheelhouse_fuzz::app_spec(bytes));
