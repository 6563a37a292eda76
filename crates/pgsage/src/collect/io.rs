//! `pg_stat_io` (16+).

use tokio_postgres::{Error as PgError, Row};

use crate::snapshot::IoStats;

/// Only columns 16, 17 and 18 share (18 replaced `op_bytes` with `read_bytes`,
/// `write_bytes` and `extend_bytes`). Times are in milliseconds.
pub(super) const SQL: &str = "\
SELECT backend_type::text AS backend_type, object::text AS object, context::text AS context,
       reads, writes, extends, hits, evictions, fsyncs, read_time, write_time
FROM pg_catalog.pg_stat_io
ORDER BY 1, 2, 3";

pub(super) fn decode(rows: &[Row]) -> Result<Vec<IoStats>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(IoStats {
                backend_type: r.try_get("backend_type")?,
                object: r.try_get("object")?,
                context: r.try_get("context")?,
                reads: r.try_get("reads")?,
                writes: r.try_get("writes")?,
                extends: r.try_get("extends")?,
                hits: r.try_get("hits")?,
                evictions: r.try_get("evictions")?,
                fsyncs: r.try_get("fsyncs")?,
                read_time_ms: r.try_get("read_time")?,
                write_time_ms: r.try_get("write_time")?,
            })
        })
        .collect()
}
