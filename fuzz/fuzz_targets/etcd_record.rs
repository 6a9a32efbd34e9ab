#![no_main]
//! See `wheelhouse_fuzz::etcd_record`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| wheelhouse_fuzz::etcd_record(bytes));
