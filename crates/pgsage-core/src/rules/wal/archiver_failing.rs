use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// WAL archiving that is failing now: `archive_mode` on, and in `pg_stat_archiver` a
    /// failure (`failed_count` > 0) more recent than the last success; or `archive_mode`
    /// on with neither `archive_command` nor (15+) `archive_library` set, so no segment is
    /// ever archived.
    ///
    /// ## Why it matters
    /// A segment that cannot be archived stays in `pg_wal`, and so does every later one:
    /// the disk fills and the server stops. Meanwhile point-in-time recovery has a hole
    /// from the first failure on — the backups the business relies on are not restorable
    /// past it.
    ///
    /// ## How to fix
    /// Read the server log for the archive command's error (permissions, full or
    /// unreachable target, expired credentials), fix it, and check that
    /// `last_archived_wal` moves again. Never delete files from `pg_wal` by hand. If
    /// archiving is not needed, set `archive_mode = off` (restart).
    ///
    /// ## Thresholds
    /// - `min_failures` (default 1): failures counted in `pg_stat_archiver` needed.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/continuous-archiving.html>
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ARCHIVER-VIEW>
    pub struct ArchiverFailing {
        id: "WAL007",
        name: "archiver-failing",
        pack: "wal",
        title: "WAL archiving failing",
        params: {
            min_failures: f64 = ("failures", "Failed archive attempts needed to report"),
        },
    }
}

impl SnapshotRule for ArchiverFailing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_failures = p.min_failures;
        let snap = ctx.snapshot;
        let mode = ctx.setting("archive_mode")?.setting.clone();
        if mode == "off" {
            return Ok(vec![]);
        }
        let set = |n: &str| {
            snap.setting(n)
                .is_some_and(|s| !s.setting.trim().is_empty())
        };
        if !set("archive_command") && !set("archive_library") {
            return Ok(vec![Draft::new(
                ObjectRef::setting("archive_command"),
                format!("`archive_mode` is {mode} but neither `archive_command` nor `archive_library` is set: WAL segments are kept in `pg_wal` waiting to be archived, and the disk fills"),
            )
            .evidence("archive_mode", mode)
            .evidence("archive_command_set", false)
            .recommend("Set archive_command (or archive_library) to your archiving tool, or set archive_mode = off if no archive is wanted (restart)")
            .fix(
                // Only one of two fixes, and the less likely one: commented out, and not
                // part of the recommended configuration.
                "-- set archive_command (or archive_library) to the archiving tool; only if no WAL archive is wanted:\n-- ALTER SYSTEM SET archive_mode = off;  -- then restart PostgreSQL",
                "restart",
                "the size of pg_wal and last_archived_wal in pg_stat_archiver",
            )]);
        }
        let a = snap
            .archiver
            .as_ref()
            .ok_or_else(|| Skip::because("pg_stat_archiver not collected"))?;
        let failing = (a.failed_count as f64) >= min_failures
            && match (a.last_failed_time, a.last_archived_time) {
                (Some(f), Some(ok)) => f > ok,
                (Some(_), None) => true,
                _ => false,
            };
        if !failing {
            return Ok(vec![]);
        }
        let since = a.last_archived_time.map_or(
            "no segment archived since the statistics reset".to_owned(),
            |t| format!("last success {}", t.format("%Y-%m-%d %H:%M:%S UTC")),
        );
        Ok(vec![Draft::new(
            ObjectRef::setting("archive_command"),
            format!(
                "WAL archiving is failing: {} failed attempts, the last on `{}` at {} ({since}); unarchived segments pile up in `pg_wal` and point-in-time recovery has a gap",
                units::count(a.failed_count),
                a.last_failed_wal.as_deref().unwrap_or("?"),
                a.last_failed_time.map_or("?".to_owned(), |t| t
                    .format("%Y-%m-%d %H:%M:%S UTC")
                    .to_string()),
            ),
        )
        .evidence("failed_count", a.failed_count)
        .evidence("archived_count", a.archived_count)
        .evidence("last_failed_wal", a.last_failed_wal.clone())
        .evidence("last_failed_time", a.last_failed_time.map(|t| t.to_rfc3339()))
        .evidence("last_archived_time", a.last_archived_time.map(|t| t.to_rfc3339()))
        .evidence("archive_mode", mode)
        .recommend("Find the archive command's error in the server log (permissions, full or unreachable target, credentials) and fix it now; never delete WAL files by hand; take a fresh base backup once archiving works again")
        .fix(
            "SELECT failed_count, last_failed_wal, last_failed_time, last_archived_wal, last_archived_time FROM pg_stat_archiver;",
            "none",
            "last_archived_time moving forward in pg_stat_archiver and the size of pg_wal",
        )])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_when_the_archive_command_fails() {
        assert_fires("WAL007", "archive_command");
    }

    #[test]
    fn quiet_when_archiving_works() {
        assert_quiet("WAL007");
    }
}
