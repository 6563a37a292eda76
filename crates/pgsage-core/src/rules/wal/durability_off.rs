use crate::report::{ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};

declare_rule! {
    /// ## What it detects
    /// Settings that trade durability for speed: `fsync = off` and `full_page_writes = off`
    /// (critical: a crash or power loss can corrupt the whole cluster), and
    /// `synchronous_commit = off` (warning: a crash loses the last transactions reported
    /// as committed, without corruption — a choice some make knowingly).
    ///
    /// ## Why it matters
    /// With `fsync` off PostgreSQL never forces data to disk: after an OS crash or power
    /// cut, tables and indexes can be silently inconsistent. Without full-page writes a
    /// page torn by a crash cannot be repaired from WAL. `synchronous_commit = off` can
    /// lose up to about three times `wal_writer_delay` of committed work: confirmed ERP
    /// orders or payments that vanish.
    ///
    /// ## How to fix
    /// `ALTER SYSTEM SET fsync = on;` / `full_page_writes = on` and reload. Keep
    /// `synchronous_commit = off` only for data you can recreate; otherwise set it
    /// back to `on` (or per transaction with `SET LOCAL synchronous_commit = off` for bulk
    /// jobs). `full_page_writes = off` is safe only on storage that cannot tear pages
    /// (e.g. ZFS with an 8 kB record size).
    ///
    /// ## Thresholds
    /// None: the settings are judged as they are.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-wal.html#GUC-FSYNC>
    /// - <https://www.postgresql.org/docs/current/runtime-config-wal.html#GUC-FULL-PAGE-WRITES>
    /// - <https://www.postgresql.org/docs/current/wal-async-commit.html>
    pub struct DurabilityOff {
        id: "WAL008",
        name: "durability-off",
        pack: "wal",
        title: "Durability settings switched off",
        params: {},
    }
}

impl SnapshotRule for DurabilityOff {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let snap = ctx.snapshot;
        let mut drafts = Vec::new();
        let off = |n: &str| snap.setting(n).filter(|s| s.as_bool() == Some(false));
        if let Some(s) = off("fsync") {
            drafts.push(
                Draft::new(
                    ObjectRef::setting("fsync"),
                    "`fsync` is off: data is never forced to disk, and an OS crash or power loss can corrupt the whole cluster",
                )
                .severity(Severity::Critical)
                .evidence("fsync", s.setting.clone())
                .evidence("source", s.source.clone())
                .recommend("Turn fsync on now (reload); it is only safe to disable for throw-away data such as an initial load you can repeat")
                .with_fix(ctx.settings_fix(&[("fsync", "on".into())], "", "commit latency and the storage's write cache settings")),
            );
        }
        if let Some(s) = off("full_page_writes") {
            drafts.push(
                Draft::new(
                    ObjectRef::setting("full_page_writes"),
                    "`full_page_writes` is off: a page torn by a crash cannot be repaired from WAL (safe only on storage that cannot tear pages, such as ZFS)",
                )
                .severity(Severity::Critical)
                .evidence("full_page_writes", s.setting.clone())
                .evidence("source", s.source.clone())
                .recommend("Turn full_page_writes on (reload) unless the storage guarantees atomic 8 kB writes; enable wal_compression to limit the extra WAL")
                .with_fix(ctx.settings_fix(&[("full_page_writes", "on".into())], "", "WAL volume (pg_stat_wal.wal_fpi)")),
            );
        }
        if let Some(s) = snap
            .setting("synchronous_commit")
            .filter(|s| s.setting == "off")
        {
            drafts.push(
                Draft::new(
                    ObjectRef::setting("synchronous_commit"),
                    "`synchronous_commit` is off for every transaction: a crash loses the last commits already confirmed to the application (no corruption); some choose this knowingly for speed",
                )
                .severity(Severity::Warning)
                .evidence("synchronous_commit", s.setting.clone())
                .evidence("source", s.source.clone())
                .recommend("If losing confirmed transactions (orders, payments) on a crash is not acceptable, set synchronous_commit back to on and disable it only per transaction for bulk jobs (SET LOCAL synchronous_commit = off)")
                .with_fix(ctx.settings_fix(&[("synchronous_commit", "on".into())], "", "commit latency")),
            );
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_each_durability_setting() {
        assert_fires("WAL008", "fsync");
        assert_fires("WAL008", "full_page_writes");
        assert_fires("WAL008", "synchronous_commit");
    }

    #[test]
    fn quiet_when_durable() {
        assert_quiet("WAL008");
    }
}
