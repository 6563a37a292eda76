use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Snapshot;

declare_rule! {
    /// ## What it detects
    /// Settings that leave a DBA blind when something goes wrong, one finding each:
    /// - `track_io_timing` off: no read/write times in `pg_stat_database`,
    ///   `pg_stat_statements`, `EXPLAIN (ANALYZE, BUFFERS)`;
    /// - `pg_stat_statements` not loaded (`shared_preload_libraries` lacks it) or not
    ///   created in the database: no per-statement history;
    /// - `log_min_duration_statement = -1`: slow statements are not logged;
    /// - `log_temp_files = -1`: spills of sorts and hashes to disk are not logged;
    /// - `log_autovacuum_min_duration = -1` (the default before PostgreSQL 15): long
    ///   autovacuum runs are not logged;
    /// - `log_lock_waits` off: waits longer than `deadlock_timeout` are not logged;
    /// - `log_checkpoints` off (the default before PostgreSQL 15): checkpoint frequency and
    ///   duration are not logged.
    ///
    /// ## Why it matters
    /// Tuning and incident analysis rely on this history: which statements were slow
    /// yesterday, whether they waited on I/O or locks, whether they spilled to disk,
    /// whether vacuum or checkpoints ran at the time. None of it can be recovered after
    /// the fact, and each setting costs little (`track_io_timing` needs a fast clock
    /// source: check with `pg_test_timing`).
    ///
    /// ## How to fix
    /// `ALTER SYSTEM SET …` with the value in the finding, then `SELECT pg_reload_conf();`
    /// (`shared_preload_libraries` needs a restart, then `CREATE EXTENSION
    /// pg_stat_statements;` in each database). On managed services change them in the
    /// server parameters of the portal (most preload `pg_stat_statements` already).
    ///
    /// ## Thresholds
    /// None: each setting is reported when it is at its "off" value. Severity is info.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-statistics.html#GUC-TRACK-IO-TIMING>
    /// - <https://www.postgresql.org/docs/current/runtime-config-logging.html>
    /// - <https://www.postgresql.org/docs/current/pgstatstatements.html>
    pub struct ObservabilityGap {
        id: "PLN006",
        name: "observability-gap",
        pack: "planner",
        title: "Monitoring or logging setting off",
        params: {},
    }
}

/// A setting that is off, its recommended value (SQL literal) and what is lost.
struct Off {
    name: &'static str,
    value: String,
    recommended: &'static str,
    lost: &'static str,
}

/// The settings at their "off" value.
fn settings_off(snap: &Snapshot) -> Vec<Off> {
    let checks: [(&str, &str, &str, &str); 6] = [
        // (name, off value, recommended, what is lost)
        ("track_io_timing", "off", "on", "read and write times are not measured (pg_stat_statements, pg_stat_database, EXPLAIN BUFFERS)"),
        ("log_min_duration_statement", "-1", "'1s'", "slow statements are not logged"),
        ("log_temp_files", "-1", "'10MB'", "sorts and hashes spilling to temporary files are not logged"),
        ("log_autovacuum_min_duration", "-1", "'10min'", "long autovacuum and autoanalyze runs are not logged"),
        ("log_lock_waits", "off", "on", "lock waits longer than deadlock_timeout are not logged"),
        ("log_checkpoints", "off", "on", "checkpoints, their cause and duration are not logged"),
    ];
    checks
        .iter()
        .filter_map(|&(name, off, recommended, lost)| {
            let s = snap.setting(name)?;
            (s.setting.trim() == off).then(|| Off {
                name,
                value: s.setting.clone(),
                recommended,
                lost,
            })
        })
        .collect()
}

/// The `shared_preload_libraries` entries, when visible.
fn preload_libraries(snap: &Snapshot) -> Option<Vec<String>> {
    let s = snap.setting("shared_preload_libraries")?;
    Some(
        s.setting
            .split(',')
            .map(|l| l.trim().trim_matches('"').to_owned())
            .filter(|l| !l.is_empty())
            .collect(),
    )
}

impl SnapshotRule for ObservabilityGap {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let snap = ctx.snapshot;
        let mut drafts = Vec::new();
        for off in settings_off(snap) {
            drafts.push(
                Draft::new(
                    ObjectRef::setting(off.name),
                    format!("`{}` is {}: {}", off.name, off.value, off.lost),
                )
                .evidence("setting", off.name)
                .evidence("value", off.value.as_str())
                .evidence("recommended", off.recommended.trim_matches('\''))
                .recommend(format!("Set {} = {}", off.name, off.recommended))
                .with_fix(ctx.settings_fix(
                    &[(off.name, off.recommended.trim_matches('\'').to_owned())],
                    "",
                    "the server log volume",
                )),
            );
        }
        let preload = preload_libraries(snap);
        let preloaded = preload
            .as_ref()
            .map(|l| l.iter().any(|x| x == "pg_stat_statements"));
        if let (Some(libs), Some(false)) = (&preload, preloaded) {
            let mut new = libs.clone();
            new.push("pg_stat_statements".into());
            drafts.push(
                Draft::new(
                    ObjectRef::setting("shared_preload_libraries"),
                    "`pg_stat_statements` is not in `shared_preload_libraries`: no per-statement history (calls, time, I/O) is kept",
                )
                .evidence("shared_preload_libraries", libs.join(","))
                .evidence("extension_installed", snap.has_extension("pg_stat_statements"))
                .recommend("Preload pg_stat_statements (restart), then create the extension in each database")
                .with_fix({
                    let mut fix = ctx.settings_fix(
                        &[("shared_preload_libraries", new.join(","))],
                        "",
                        "pg_stat_statements_info.dealloc (raise pg_stat_statements.max when entries are evicted)",
                    );
                    fix.sql.push_str(
                        "\n-- then in each database:\nCREATE EXTENSION IF NOT EXISTS pg_stat_statements;",
                    );
                    fix
                }),
            );
        } else if !snap.has_extension("pg_stat_statements") {
            let db = &snap.server.database;
            let mut draft = Draft::new(
                ObjectRef::database(db),
                format!("`pg_stat_statements` is not created in `{db}`: no per-statement history is visible"),
            )
            .evidence("extension_installed", false)
            .evidence(
                "shared_preload_libraries",
                preload.map_or("not visible".to_owned(), |l| l.join(",")),
            );
            if let Some(g) = snap.gap("pg_stat_statements") {
                draft = draft.evidence("gap", g.why.as_str());
            }
            drafts.push(
                draft
                    .recommend("Create the extension (it must also be in shared_preload_libraries)")
                    .fix(
                        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;",
                        "none",
                        "pg_stat_statements_info.dealloc",
                    ),
            );
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_each_setting_off() {
        for s in [
            "track_io_timing",
            "log_min_duration_statement",
            "log_temp_files",
            "log_autovacuum_min_duration",
            "log_lock_waits",
            "log_checkpoints",
            "shared_preload_libraries",
        ] {
            assert_fires("PLN006", s);
        }
    }

    #[test]
    fn quiet_when_everything_is_on() {
        assert_quiet("PLN006");
    }
}
