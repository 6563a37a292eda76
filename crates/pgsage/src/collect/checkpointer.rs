//! Checkpointer and background writer: `pg_stat_bgwriter` before 17,
//! `pg_stat_checkpointer` + `pg_stat_bgwriter` from 17.

use tokio_postgres::{Error as PgError, Row};

use crate::snapshot::CheckpointerStats;

pub(super) fn sql(major: i32) -> &'static str {
    if major >= 17 {
        "\
SELECT c.num_timed AS checkpoints_timed, c.num_requested AS checkpoints_req,
       c.write_time AS checkpoint_write_time, c.sync_time AS checkpoint_sync_time,
       c.buffers_written AS buffers_checkpoint, b.buffers_clean, b.maxwritten_clean,
       NULL::int8 AS buffers_backend, b.buffers_alloc, c.stats_reset
FROM pg_catalog.pg_stat_checkpointer c, pg_catalog.pg_stat_bgwriter b"
    } else {
        "\
SELECT checkpoints_timed, checkpoints_req, checkpoint_write_time, checkpoint_sync_time,
       buffers_checkpoint, buffers_clean, maxwritten_clean, buffers_backend,
       buffers_alloc, stats_reset
FROM pg_catalog.pg_stat_bgwriter"
    }
}

pub(super) fn decode(rows: &[Row]) -> Result<Option<CheckpointerStats>, PgError> {
    rows.first()
        .map(|r| {
            Ok(CheckpointerStats {
                checkpoints_timed: r.try_get("checkpoints_timed")?,
                checkpoints_req: r.try_get("checkpoints_req")?,
                checkpoint_write_time_ms: r.try_get("checkpoint_write_time")?,
                checkpoint_sync_time_ms: r.try_get("checkpoint_sync_time")?,
                buffers_checkpoint: r.try_get("buffers_checkpoint")?,
                buffers_clean: r.try_get("buffers_clean")?,
                maxwritten_clean: r.try_get("maxwritten_clean")?,
                buffers_backend: r.try_get("buffers_backend")?,
                buffers_alloc: r.try_get("buffers_alloc")?,
                stats_reset: r.try_get("stats_reset")?,
            })
        })
        .transpose()
}
