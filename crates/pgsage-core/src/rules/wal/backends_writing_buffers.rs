use crate::knowledge::counters::{Basis, Verdict};
use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Snapshot;
use crate::units;

use super::checkpointer_window;

declare_rule! {
    /// ## What it detects
    /// Client backends writing dirty buffers out themselves instead of the checkpointer
    /// and the background writer: from PostgreSQL 16 the writes of `client backend` in
    /// `pg_stat_io` (normal context, relations; bulk reads/writes and vacuum use their
    /// own rings and are not counted) against those of the checkpointer and the
    /// background writer; before 16 `buffers_backend` against `buffers_checkpoint` and
    /// `buffers_clean` of `pg_stat_bgwriter`, less the blocks the connected database's
    /// relations grew by (before 16 every block a backend adds to a relation counts as a
    /// backend write; taking the whole size away when counting since the reset errs on
    /// the quiet side).
    ///
    /// ## Why it matters
    /// A backend that needs a free buffer and finds only dirty ones must write one (and
    /// flush WAL up to it) before it can read its page: queries wait on writes. It means
    /// `shared_buffers` is too small for the write load or the background writer is too
    /// timid to keep clean buffers ahead of demand.
    ///
    /// ## How to fix
    /// Make the background writer do more (`bgwriter_lru_maxpages` 400–1000,
    /// `bgwriter_lru_multiplier` 3–4, `bgwriter_delay` 50–100 ms, reload) and check
    /// `shared_buffers` against RAM; if checkpoints are requested too, raise
    /// `max_wal_size`. On managed services: the server parameters in the portal.
    ///
    /// ## Thresholds
    /// - `min_buffers_written` (default 10000): fewer buffers written in total over the
    ///   basis are too few to judge.
    /// - `max_backend_pct` (default 25): share of writes done by client backends that warns.
    ///
    /// `pg_stat_io` counters are totals since their reset (the interval baseline does not
    /// hold them); before 16 the interval is used when sampled.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#RUNTIME-CONFIG-RESOURCE-BACKGROUND-WRITER>
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-IO-VIEW>
    pub struct BackendsWritingBuffers {
        id: "WAL004",
        name: "backends-writing-buffers",
        pack: "wal",
        title: "Client backends write dirty buffers themselves",
        params: {
            min_buffers_written: f64 = ("buffers", "Buffers written in total below which the rule is quiet"),
            max_backend_pct: f64 = ("%", "Share of buffer writes by client backends that warns"),
        },
    }
}

/// Buffer writes: (backends, checkpointer, background writer, source, the counters' basis).
fn writes(snap: &Snapshot) -> Option<(i64, i64, i64, &'static str, Basis)> {
    if snap.server.major() >= 16 && !snap.io.is_empty() {
        let sum = |backend: &str, normal_only: bool| {
            snap.io
                .iter()
                .filter(|r| {
                    r.backend_type == backend
                        && r.object == "relation"
                        && (!normal_only || r.context == "normal")
                })
                .filter_map(|r| r.writes)
                .sum::<i64>()
        };
        return Some((
            sum("client backend", true),
            sum("checkpointer", false),
            sum("background writer", false),
            "pg_stat_io",
            // Its reset time is not collected: the server's start bounds its age.
            Basis::SinceReset {
                seconds: snap.uptime_seconds(),
            },
        ));
    }
    let w = checkpointer_window(snap)?;
    let c = &w.counters;
    // Before 16 `buffers_backend` also counts every block a backend added to a relation
    // (each extension is a sync request): take away what the relations' growth explains.
    let block = snap
        .setting("block_size")
        .and_then(|s| s.as_f64())
        .unwrap_or(8192.0);
    let size = |tables: &[crate::snapshot::Table]| {
        tables
            .iter()
            .map(|t| t.heap_bytes + t.toast_bytes + t.indexes_bytes)
            .sum::<i64>() as f64
    };
    let grown = match (&w.basis, &snap.baseline) {
        (Basis::Interval { .. }, Some(b)) => size(&snap.tables) - size(&b.tables),
        _ => size(&snap.tables),
    };
    let extends = (grown.max(0.0) / block).round() as i64;
    Some((
        (c.buffers_backend? - extends).max(0),
        c.buffers_checkpoint,
        c.buffers_clean,
        "pg_stat_bgwriter",
        w.basis,
    ))
}

impl SnapshotRule for BackendsWritingBuffers {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min = p.min_buffers_written;
        let max_pct = p.max_backend_pct;
        let snap = ctx.snapshot;
        let (backend, checkpointer, bgwriter, source, basis) = writes(snap).ok_or_else(|| {
            Skip::because("buffer write statistics not collected (pg_stat_io / pg_stat_bgwriter)")
        })?;
        let total = backend + checkpointer + bgwriter;
        if (total as f64) < min || total == 0 {
            return Ok(vec![]);
        }
        let pct = 100.0 * backend as f64 / total as f64;
        if pct < max_pct {
            return Ok(vec![]);
        }
        let setting = |n: &str| {
            snap.setting(n)
                .map(|s| s.setting.clone())
                .unwrap_or_default()
        };
        let maxpages = setting("bgwriter_lru_maxpages");
        let maxwritten = checkpointer_window(snap).map_or(0, |w| w.counters.maxwritten_clean);
        let mut draft = Draft::new(
            ObjectRef::named(crate::report::ObjectKind::Server, "bgwriter"),
            format!(
                "Client backends wrote {} of {} buffers ({}) themselves ({source}): sessions wait on writes because no clean buffer is ready{}",
                units::count(backend),
                units::count(total),
                units::percent(pct),
                if maxpages == "0" { "; the background writer is disabled (`bgwriter_lru_maxpages` = 0)".to_owned() } else { String::new() }
            ),
        )
        .evidence("basis", basis.label())
        .evidence("window_s", basis.seconds().round())
        .evidence("source", source)
        .evidence("buffers_backend_writes", backend)
        .evidence("buffers_checkpoint", checkpointer)
        .evidence("buffers_clean", bgwriter)
        .evidence("backend_pct", (pct * 10.0).round() / 10.0)
        .evidence("maxwritten_clean", maxwritten)
        .evidence("bgwriter_lru_maxpages", maxpages)
        .evidence("bgwriter_lru_multiplier", setting("bgwriter_lru_multiplier"))
        .evidence("bgwriter_delay", setting("bgwriter_delay"))
        .evidence("shared_buffers", setting("shared_buffers"))
        .recommend("Let the background writer keep clean buffers ahead of demand (bgwriter_lru_maxpages 1000, bgwriter_lru_multiplier 4, bgwriter_delay 50ms, reload) and check shared_buffers against RAM; on managed services change them in the portal")
        .with_fix(ctx.settings_fix(
            &[
                ("bgwriter_lru_maxpages", "1000".into()),
                ("bgwriter_lru_multiplier", "4".into()),
                ("bgwriter_delay", "50ms".into()),
            ],
            "",
            "the share of buffers written by client backends (pg_stat_io on 16+, buffers_backend before) and maxwritten_clean",
        ));
        // A share of the buffer writes, over those counters' own window.
        let counters = if source == "pg_stat_io" {
            "pg_stat_io counters"
        } else {
            "checkpointer statistics"
        };
        if let Some(u) = ctx
            .stats_window()
            .over(basis, counters)
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
    fn fires_when_backends_write_their_own_buffers() {
        assert_fires("WAL004", "bgwriter");
    }

    #[test]
    fn quiet_when_the_checkpointer_writes() {
        assert_quiet("WAL004");
    }
}
