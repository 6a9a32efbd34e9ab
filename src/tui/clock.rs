//! The local time zone for the wallboard's clock, from the C library (TZ and
//! /etc/localtime), asked again on each tick so a daylight-saving change shows.

use crate::model::wallboard::Zone;
use std::ffi::CStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// The zone in force at `at`; UTC when the C library cannot say.
pub fn local_zone(at: SystemTime) -> Zone {
    let Some(secs) = at
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| libc::time_t::try_from(d.as_secs()).ok())
    else {
        return Zone::utc();
    };
    // SAFETY: `tm` is plain data that localtime_r fills in; a null result means it did not.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&secs, &mut tm) }.is_null() {
        return Zone::utc();
    }
    let name = if tm.tm_zone.is_null() {
        String::new()
    } else {
        // SAFETY: a non-null tm_zone points at a NUL-terminated name the library keeps.
        unsafe { CStr::from_ptr(tm.tm_zone) }
            .to_string_lossy()
            .into_owned()
    };
    // A C long: i64 on the 64-bit targets we build for.
    let offset = tm.tm_gmtoff;
    Zone {
        offset,
        name: if name.is_empty() {
            format!("{:+03}{:02}", offset / 3600, offset.abs() / 60 % 60)
        } else {
            name
        },
    }
}
