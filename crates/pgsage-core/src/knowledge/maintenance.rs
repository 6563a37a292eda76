//! How long a fix's maintenance work may take: one rate for every statement that reads or
//! writes a whole table (an index build, a vacuum, a validation, a rewrite), applied to
//! the size of what it reads or writes.
//!
//! The rate is deliberately slow, so the estimate errs long: the work shares the disk and
//! CPUs with production, writes WAL for what it writes, and sorts for each index it
//! builds. On a quiet server with fast storage the work often takes a fraction of the
//! estimate; on a busy one with slow storage it can take longer. pgsage says "about", and
//! rounds up to whole minutes.

use crate::units;

/// Bytes of table (and index) processed per second: 4 MiB/s, about 14 GiB an hour. A
/// rewrite reads the table, writes a copy, rebuilds every index and logs it all: several
/// times the table's size in I/O.
pub const WORK_BYTES_PER_SECOND: u64 = 4 << 20;

/// Seconds to read or write `bytes` at [`WORK_BYTES_PER_SECOND`], at least one.
pub fn work_seconds(bytes: u64) -> u64 {
    bytes.div_ceil(WORK_BYTES_PER_SECOND).max(1)
}

/// `under 1 min for 120 MB`, `about 2 min for 429 MB`, `about 3.6 h for 100 GB`: the
/// estimate rounded up to whole minutes.
pub fn work_text(bytes: u64) -> String {
    let seconds = work_seconds(bytes);
    let size = units::bytes(bytes);
    if seconds < 60 {
        format!("under 1 min for {size}")
    } else {
        format!(
            "about {} for {size}",
            units::duration(seconds.div_ceil(60) * 60)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_err_long_and_read_in_minutes() {
        assert_eq!(work_seconds(0), 1);
        assert_eq!(work_text(120 << 20), "under 1 min for 120 MB");
        // 429 MB at 4 MiB/s: 108 s, rounded up to 2 min; 1 GiB: 256 s, 5 min.
        assert_eq!(work_text(429 << 20), "about 2 min for 429 MB");
        assert_eq!(work_text(1 << 30), "about 5 min for 1 GB");
        assert_eq!(work_text(100 << 30), "about 7.1 h for 100 GB");
    }
}
