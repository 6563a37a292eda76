use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::units;

use super::{base_evidence, query_object, round1};

declare_rule! {
    /// ## What it detects
    /// Queries whose shared-buffer hit ratio is below `max_hit_pct` while they read at
    /// least `min_blocks_read` blocks from outside the buffer cache (the OS cache or
    /// disk) over the capture.
    ///
    /// ## Why it matters
    /// Each block not found in `shared_buffers` is a system call and, when the OS cache
    /// misses too, a disk read: such a query is I/O-bound, its time varies with what else
    /// runs, and it evicts pages other queries need. It is usually a large sequential scan
    /// (a missing index) or a working set larger than the cache.
    ///
    /// ## How to fix
    /// Make it read less: an index for its `WHERE` (see `pgsage indexes` and IDX006), a
    /// narrower select, partitioning that prunes old data. If the whole working set should
    /// fit, size `shared_buffers` (MEM001) and check the server-wide hit ratio (MEM007).
    /// With `track_io_timing = on`, pg_stat_statements shows the time spent reading.
    ///
    /// ## Thresholds
    /// - `max_hit_pct` (default 90): hit ratio below which the query is flagged, in %.
    /// - `min_blocks_read` (default 100000): blocks read outside the cache over the
    ///   capture (8 kB each; 100000 is about 780 MB).
    ///
    /// Needs block counts: pg_stat_statements has them; server logs do not (skipped).
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/pgstatstatements.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-SHARED-BUFFERS>
    pub struct LowCacheHit {
        id: "QRY006",
        name: "query-low-cache-hit",
        pack: "queries",
        title: "A query reads mostly from outside the buffer cache",
        params: {
            max_hit_pct: f64 = ("%", "Hit ratio below which a query is flagged"),
            min_blocks_read: f64 = ("blocks", "Blocks read outside the cache over the capture"),
        },
    }
}

impl WorkloadRule for LowCacheHit {
    fn meta(&self) -> &'static crate::rules::RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip> {
        let w = ctx.workload;
        let p: Params = ctx.params()?;
        let max_hit = p.max_hit_pct;
        let min_read = p.min_blocks_read;
        if !w.queries.is_empty() && w.queries.iter().all(|q| q.shared_blks_read.is_none()) {
            return Err(Skip::because(
                "the capture has no block counts (server logs do not record them; use pg_stat_statements)",
            ));
        }
        Ok(w
            .queries
            .iter()
            // Maintenance (CREATE INDEX, VACUUM, …) is not a query to tune: its memory is
            // maintenance_work_mem and its reads are the point.
            .filter(|q| super::is_dml(q))
            .filter_map(|q| {
                let read = q.shared_blks_read?;
                let hit = q.shared_blks_hit.unwrap_or(0);
                let ratio = 100.0 * hit as f64 / (hit + read).max(1) as f64;
                (read as f64 >= min_read && ratio < max_hit).then_some((q, hit, read, ratio))
            })
            .map(|(q, hit, read, ratio)| {
                let d = Draft::new(
                    query_object(q),
                    format!(
                        "`{}` found only {} of its blocks in shared buffers ({} blocks, {}, read from outside)",
                        super::short_text(&q.query),
                        units::percent(ratio),
                        units::count(read),
                        units::bytes(read as f64 * 8192.0)
                    ),
                )
                .evidence("hit_pct", round1(ratio))
                .evidence("shared_blks_hit", hit)
                .evidence("shared_blks_read", read);
                base_evidence(d, q, w).recommend(
                    "Make the query read less (an index for its WHERE, fewer columns, partition pruning); if its working set should stay cached, size shared_buffers for it",
                )
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};
    use crate::workload::fingerprint::fingerprint;

    #[test]
    fn fires_on_a_large_scan() {
        assert_fires(
            "QRY006",
            &fingerprint(super::super::tests_support::SCAN_QUERY).to_string(),
        );
    }

    #[test]
    fn quiet_on_cached_reads() {
        assert_quiet("QRY006");
    }
}
