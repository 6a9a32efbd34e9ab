//! The local time zone for the wallboard's clock, from the C library (TZ and
//! /etc/localtime), asked again on each tick so a daylight-saving change shows.

use crate::tui::screen::wallboard::Zone;
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
    let name = if name.is_empty() {
        numeric_name(offset)
    } else {
        name
    };
    Zone { offset, name }
}

/// "+0530", "-0030": what a zone without a name is called.
fn numeric_name(offset: i64) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let minutes = offset.abs() / 60;
    format!("{sign}{:02}{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_without_a_name_are_named_by_their_offset() {
        assert_eq!(numeric_name(5 * 3600 + 30 * 60), "+0530");
        assert_eq!(numeric_name(-30 * 60), "-0030");
        assert_eq!(numeric_name(-(9 * 3600)), "-0900");
        assert_eq!(numeric_name(0), "+0000");
    }
}
