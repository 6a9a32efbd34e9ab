#![no_main]
//! See `wheelhouse_fuzz::theme`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| wheelhouse_fuzz::theme(bytes));
