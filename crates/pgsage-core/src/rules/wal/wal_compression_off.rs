use crate::knowledge::counters::Verdict;
use crate::report::{ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

use super::wal_window;

declare_rule! {
    /// ## What it detects
    /// `wal_compression` off while full-page images are a large share of the WAL records
    /// (`wal_fpi / wal_records` in `pg_stat_wal`, 14+, over the sampled interval or since
    /// the reset). An image is up to a whole block while most records are a few hundred
    /// bytes, so even a modest share of records is most of the WAL volume. Before 14 the
    /// share cannot be measured: the finding is then informational, with low confidence.
    ///
    /// ## Why it matters
    /// After each checkpoint the first change to every page writes the whole 8 kB page to
    /// WAL. On update-heavy ERP tables these images are most of the WAL volume: more
    /// disk writes, bigger backups and archives, more to ship to replicas.
    /// `wal_compression` compresses them for a little CPU.
    ///
    /// ## How to fix
    /// `ALTER SYSTEM SET wal_compression = on;` (`lz4` or `zstd` on 15+ when the server is
    /// built with them) and reload. Fewer checkpoints (larger `max_wal_size`, longer
    /// `checkpoint_timeout`) also mean fewer images. On managed services: the server
    /// parameter in the portal.
    ///
    /// ## Thresholds
    /// - `min_fpi_pct` (default 5): share of WAL records that are full-page images
    ///   that warns (at 5 %, images are already most of the bytes).
    /// - `min_wal_records` (default 100000): fewer WAL records over the basis are too few
    ///   to judge.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-wal.html#GUC-WAL-COMPRESSION>
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-WAL-VIEW>
    pub struct WalCompressionOff {
        id: "WAL005",
        name: "wal-compression-off",
        pack: "wal",
        title: "Full-page images written uncompressed",
        params: {
            min_fpi_pct: f64 = ("%", "Share of WAL records that are full-page images that warns"),
            min_wal_records: f64 = ("records", "WAL records over the basis below which the rule is quiet"),
        },
    }
}

impl SnapshotRule for WalCompressionOff {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_pct = p.min_fpi_pct;
        let min_records = p.min_wal_records;
        let snap = ctx.snapshot;
        if ctx.setting("wal_compression")?.setting != "off" {
            return Ok(vec![]);
        }
        if snap.setting("full_page_writes").and_then(|s| s.as_bool()) == Some(false) {
            return Ok(vec![]);
        }
        let fix = |d: Draft| {
            d.recommend("Turn wal_compression on (lz4 or zstd on 15+ when available) and reload; on managed services change it in the portal")
                .with_fix(ctx.settings_fix(
                    &[("wal_compression", "on".into())],
                    "",
                    "WAL volume per hour (pg_stat_wal.wal_bytes) and CPU",
                ))
        };
        let Some(w) = wal_window(snap) else {
            if snap.server.major() >= 14 {
                return Err(Skip::because("pg_stat_wal not collected"));
            }
            return Ok(vec![fix(Draft::new(
                ObjectRef::setting("wal_compression"),
                "`wal_compression` is off; before PostgreSQL 14 the share of full-page images cannot be measured from SQL (pg_waldump --stats shows it)",
            ))
            .evidence("wal_compression", "off")
            .evidence("server_major", snap.server.major())
            .severity(Severity::Info)
            .low_confidence("pg_stat_wal (full-page image counts) requires PostgreSQL 14")]);
        };
        let c = &w.counters;
        if (c.wal_records as f64) < min_records || c.wal_records == 0 {
            return Ok(vec![]);
        }
        let pct = 100.0 * c.wal_fpi as f64 / c.wal_records as f64;
        if pct < min_pct {
            return Ok(vec![]);
        }
        let mut draft = fix(Draft::new(
            ObjectRef::setting("wal_compression"),
            format!(
                "`wal_compression` is off and {} of WAL records ({} of {}) are full-page images, written uncompressed ({} of WAL {})",
                units::percent(pct),
                units::count(c.wal_fpi),
                units::count(c.wal_records),
                units::bytes(c.wal_bytes),
                w.basis.label().replace('_', " ")
            ),
        ))
        .evidence("basis", w.basis.label())
        .evidence("window_s", w.basis.seconds().round())
        .evidence("wal_fpi", c.wal_fpi)
        .evidence("wal_records", c.wal_records)
        .evidence("wal_bytes", c.wal_bytes)
        .evidence("fpi_pct", (pct * 10.0).round() / 10.0);
        // A share of pg_stat_wal's counters, over their own window.
        if let Some(u) = ctx
            .stats_window()
            .over(w.basis, "pg_stat_wal counters")
            .unsure(Verdict::Share)
        {
            draft = draft.unsure(u.reason, &u.remedy);
        }
        Ok(vec![draft])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_with_many_full_page_images() {
        assert_fires("WAL005", "wal_compression");
    }

    #[test]
    fn quiet_when_compressed_or_few_images() {
        assert_quiet("WAL005");
    }
}
