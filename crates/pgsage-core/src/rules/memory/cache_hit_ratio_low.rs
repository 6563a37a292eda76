use serde_json::json;

use crate::knowledge::counters::Verdict;
use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

use super::db_counter;

declare_rule! {
    /// ## What it detects
    /// Databases whose buffer cache hit ratio (`blks_hit / (blks_hit + blks_read)` in
    /// `pg_stat_database`) is below `min_hit_ratio_pct`, over the sampled interval when
    /// there is one, else since the statistics reset; only with at least
    /// `min_block_reads` blocks read.
    ///
    /// ## Why it matters
    /// An OLTP database (ERP orders, stock, accounting) should find more than 99 % of the
    /// blocks it needs in `shared_buffers`. Every miss is a read from the OS page cache at
    /// best, from disk at worst: a low ratio means the working set does not fit, or
    /// queries scan far more than they return (missing indexes, reports over whole tables).
    ///
    /// ## How to fix
    /// Find what reads most (`pg_stat_statements` ordered by `shared_blks_read`, tables
    /// with many sequential scans) and fix those queries or add indexes; if the reads are
    /// legitimate, raise `shared_buffers` (about 25 % of RAM) and, if the working set is
    /// larger than RAM, add memory. A reporting/analytics database is expected to be lower.
    ///
    /// ## Thresholds
    /// - `min_hit_ratio_pct` (default 99): ratios below this warn.
    /// - `min_block_reads` (default 100000): fewer blocks read over the basis are ignored.
    ///
    /// Counters since a reset younger than `min_stats_age_hours`, or a sampled interval
    /// shorter than 10 minutes, give an "unsure" finding (information, low confidence, no
    /// fix): right after a restart the cache is cold and the ratio means little.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-DATABASE-VIEW>
    /// - <https://wiki.postgresql.org/wiki/Performance_Analysis_Tools>
    pub struct CacheHitRatioLow {
        id: "MEM007",
        name: "cache-hit-ratio-low",
        pack: "memory",
        title: "Low buffer cache hit ratio",
        params: {
            min_hit_ratio_pct: f64 = ("%", "Hit ratio below which a database warns"),
            min_block_reads: f64 = ("blocks", "Blocks read over the basis below which a database is ignored"),
        },
    }
}

impl SnapshotRule for CacheHitRatioLow {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_ratio = p.min_hit_ratio_pct;
        let min_reads = p.min_block_reads;
        // Right after a restart the cache is cold and the ratio says little.
        let unsure = ctx.stats_window().unsure(Verdict::Share);
        let snap = ctx.snapshot;
        let basis = ctx.basis();
        let block = snap
            .setting("block_size")
            .and_then(|s| s.as_f64())
            .unwrap_or(8192.0);
        let sb = snap.setting("shared_buffers").and_then(|s| s.as_bytes());
        let ram = ctx.ram_bytes().ok().map(|r| r as f64);
        let mut drafts = Vec::new();
        for db in snap
            .databases
            .iter()
            .filter(|d| d.allow_connections && !d.is_template)
        {
            let read = db_counter(snap, db, |d| d.blks_read);
            let hit = db_counter(snap, db, |d| d.blks_hit);
            if (read as f64) < min_reads {
                continue;
            }
            let ratio = 100.0 * hit as f64 / (hit + read) as f64;
            if ratio >= min_ratio {
                continue;
            }
            let mut draft = Draft::new(
                ObjectRef::database(&db.name),
                format!(
                    "Database `{}` found {} of the blocks it needed in shared buffers ({} blocks read, {} hit, {}): the working set does not fit in `shared_buffers`{} or queries read far more than they return",
                    db.name,
                    units::percent(ratio),
                    units::count(read),
                    units::count(hit),
                    basis.label().replace('_', " "),
                    sb.map_or(String::new(), |b| format!(" ({})", units::bytes(b)))
                ),
            )
            .evidence("basis", basis.label())
            .evidence("window_s", basis.seconds().round())
            .evidence("blks_read", read)
            .evidence("blks_hit", hit)
            .evidence("hit_ratio_pct", (ratio * 100.0).round() / 100.0)
            .evidence("read_bytes", read as f64 * block);
            if let Some(size) = db.size_bytes {
                draft = draft.evidence("database_bytes", size);
            }
            if let Some(b) = sb {
                draft = draft.evidence("shared_buffers_bytes", b);
            }
            // The statements that read most, when they are of this database.
            if let Some(st) = &snap.statements {
                let mut readers: Vec<_> = st
                    .top
                    .iter()
                    .filter(|s| {
                        s.database.as_deref() == Some(db.name.as_str()) && s.shared_blks_read > 0
                    })
                    .collect();
                readers.sort_by_key(|s| std::cmp::Reverse(s.shared_blks_read));
                let list: Vec<_> = readers
                    .iter()
                    .take(3)
                    .map(|s| json!({"queryid": s.queryid, "calls": s.calls, "shared_blks_read": s.shared_blks_read,
                        "query": s.query.as_deref().map(|q| q.chars().take(200).collect::<String>())}))
                    .collect();
                if !list.is_empty() {
                    draft = draft.evidence("top_reading_statements", list);
                }
            }
            let small_buffers = match (sb, ram) {
                (Some(b), Some(r)) => b < r * 0.2,
                _ => false,
            };
            // The recommended configuration's shared_buffers (`pgsage tune`'s).
            let target = ctx.sized_value("shared_buffers").filter(|_| small_buffers);
            draft = if let Some(target) = target {
                draft
                    .recommend(format!(
                        "shared_buffers is below 20% of RAM: raise it to {target} (restart), and check the statements that read most for missing indexes"
                    ))
                    .with_fix(ctx.settings_fix(
                        &[("shared_buffers", target.clone())],
                        "",
                        "blks_hit and blks_read in pg_stat_database over a busy hour",
                    ))
            } else {
                draft
                    .recommend("Find the statements that read most (pg_stat_statements ordered by shared_blks_read) and tables with many sequential scans; fix those queries or add indexes, then consider more shared_buffers or RAM if the working set is still larger than the cache")
                    .fix(
                        "SELECT queryid, calls, shared_blks_read, left(query, 120) FROM pg_stat_statements ORDER BY shared_blks_read DESC LIMIT 10;",
                        "none",
                        "blks_hit and blks_read in pg_stat_database over a busy hour",
                    )
            };
            if let Some(u) = &unsure {
                draft = draft.unsure(u.reason.clone(), &u.remedy);
            }
            drafts.push(draft);
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_when_scans_miss_the_cache() {
        let f = assert_fires("MEM007", "scenario");
        assert!(f[0].evidence["hit_ratio_pct"].as_f64().unwrap_or(f64::NAN) < 99.0);
    }

    #[test]
    fn quiet_when_the_working_set_fits() {
        assert_quiet("MEM007");
    }
}
