use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Basis, Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

use super::{checkpointer_window, wal_rate};

declare_rule! {
    /// ## What it detects
    /// Checkpoints forced by WAL volume rather than by time: a large share of requested
    /// checkpoints (`checkpoints_req`, `num_requested` on 17+) among all checkpoints over
    /// the sampled interval or since the checkpointer's statistics reset. The
    /// recommended `max_wal_size` comes from the measured WAL rate (the WAL position's
    /// advance over the interval, or `pg_stat_wal.wal_bytes` on 14+).
    ///
    /// ## Why it matters
    /// Each checkpoint flushes every dirty buffer and makes the next change of each page
    /// write a full-page image to WAL. When `max_wal_size` is too small for the write load
    /// (nightly imports, stock recomputations), checkpoints come every few seconds or
    /// minutes instead of every `checkpoint_timeout`: I/O spikes, WAL volume multiplies,
    /// and replicas and backups get more WAL to ship.
    ///
    /// ## How to fix
    /// Raise `max_wal_size` to the recommended configuration's value (the one `pgsage tune`
    /// gives: the workload profile's default, or the WAL of one `checkpoint_timeout` × 1.9
    /// for the completion target × 1.5 headroom when the measured rate needs more, capped
    /// at 64 GB), and reload. `max_wal_size` is a soft limit on the disk space `pg_wal` uses:
    /// make sure the volume has that room. On managed services set it in the portal. With
    /// an interval sample, requested checkpoints that the WAL volume does not explain come
    /// from explicit `CHECKPOINT` commands or backups, and are not reported.
    ///
    /// ## Thresholds
    /// - `min_checkpoints` (default 10): fewer checkpoints over the basis are too few to judge.
    /// - `max_requested_pct` (default 20): share of requested checkpoints that warns.
    /// - `headroom_factor` (default 3): `max_wal_size` recommended as this many times the
    ///   WAL written per `checkpoint_timeout` (a checkpoint starts at about
    ///   `max_wal_size / (1 + checkpoint_completion_target)`, plus room for bursts).
    /// - `max_recommended_gb` (default 64): cap of the recommendation, in GB; above it a
    ///   shorter `checkpoint_timeout` is the better lever.
    ///
    /// Low confidence when the counters since reset are younger than `min_stats_age_hours`.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/wal-configuration.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-wal.html#GUC-MAX-WAL-SIZE>
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-CHECKPOINTER-VIEW>
    pub struct CheckpointsRequested {
        id: "WAL001",
        name: "checkpoints-requested",
        pack: "wal",
        title: "Checkpoints forced by WAL volume (max_wal_size too small)",
        params: {
            min_checkpoints: f64 = ("checkpoints", "Checkpoints over the basis below which the rule is quiet"),
            max_requested_pct: f64 = ("%", "Share of requested checkpoints that warns"),
        },
    }
}

impl SnapshotRule for CheckpointsRequested {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min = p.min_checkpoints;
        let max_pct = p.max_requested_pct;
        let snap = ctx.snapshot;
        let w = checkpointer_window(snap)
            .ok_or_else(|| Skip::because("checkpointer statistics not collected"))?;
        let c = &w.counters;
        let total = c.checkpoints_timed + c.checkpoints_req;
        if (total as f64) < min {
            return Ok(vec![]);
        }
        let pct = 100.0 * c.checkpoints_req as f64 / total as f64;
        if pct < max_pct {
            return Ok(vec![]);
        }
        let mws = ctx
            .setting("max_wal_size")?
            .as_bytes()
            .ok_or_else(|| Skip::because("max_wal_size is not a size"))?;
        let timeout_s = ctx
            .setting("checkpoint_timeout")?
            .as_millis()
            .ok_or_else(|| Skip::because("checkpoint_timeout is not a duration"))?
            / 1000.0;
        let cct = snap
            .setting("checkpoint_completion_target")
            .and_then(|s| s.as_f64())
            .unwrap_or(0.9);
        let rate = wal_rate(snap);
        let per_timeout = rate.map(|(r, _)| r * timeout_s);
        // With a measured interval, requested checkpoints that the WAL volume cannot
        // explain are explicit CHECKPOINTs or backups: not a sizing problem.
        if let (Basis::Interval { .. }, Some(wal)) = (w.basis, per_timeout) {
            if wal * (1.0 + cct) <= mws {
                return Ok(vec![]);
            }
        }
        // The value `pgsage tune` recommends; quiet when it keeps the current one.
        let Some(advice) = ctx.advice("max_wal_size").filter(|a| a.change) else {
            return Ok(vec![]);
        };
        let rec_text = advice.recommended.clone();
        let window = match w.basis {
            Basis::Interval { seconds } => format!("over the last {}", units::duration(seconds)),
            Basis::SinceReset { seconds } => format!(
                "since the checkpointer statistics were reset ({})",
                units::duration(seconds)
            ),
        };
        let mut message = format!(
            "{} of {} checkpoints ({}) {window} were requested rather than timed: `max_wal_size` ({}) fills before `checkpoint_timeout` ({}) elapses",
            units::count(c.checkpoints_req),
            units::count(total),
            units::percent(pct),
            units::bytes(mws),
            units::duration(timeout_s)
        );
        if let Some(wal) = per_timeout {
            message.push_str(&format!(
                "; the server writes about {} of WAL per checkpoint_timeout",
                units::bytes(wal)
            ));
        }
        let mut draft = Draft::new(ObjectRef::setting("max_wal_size"), message)
            .evidence("basis", w.basis.label())
            .evidence("window_s", w.basis.seconds().round())
            .evidence("checkpoints_timed", c.checkpoints_timed)
            .evidence("checkpoints_req", c.checkpoints_req)
            .evidence("requested_pct", (pct * 10.0).round() / 10.0)
            .evidence("max_wal_size_bytes", mws)
            .evidence("checkpoint_timeout_s", timeout_s)
            .evidence("checkpoint_completion_target", cct)
            .evidence("recommended_max_wal_size", rec_text.clone())
            .recommend(format!(
                "Raise max_wal_size to {rec_text} ({}) and reload; pg_wal may grow to about that size, so check the free space of its volume (on managed services: the server parameter in the portal)",
                advice.why
            ))
            .with_fix(ctx.settings_fix(
                &[("max_wal_size", rec_text.clone())],
                "",
                "checkpoints_req against checkpoints_timed (pg_stat_checkpointer on 17+, pg_stat_bgwriter before) and the size of pg_wal",
            ));
        if let (Some((r, source)), Some(wal)) = (rate, per_timeout) {
            draft = draft
                .evidence("wal_bytes_per_s", r.round())
                .evidence("wal_rate_source", source)
                .evidence("wal_per_checkpoint_timeout_bytes", wal.round());
        }
        if let Some(reason) = ctx.stats_too_young() {
            if matches!(w.basis, Basis::SinceReset { .. }) {
                draft = draft.low_confidence(reason);
            }
        }
        Ok(vec![draft])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_when_checkpoints_are_requested() {
        let f = assert_fires("WAL001", "max_wal_size");
        for x in &f {
            let recommended = x.evidence["recommended_max_wal_size"]
                .as_str()
                .and_then(|v| crate::host::parse_size(v).ok())
                .map_or(f64::NAN, |b| b as f64);
            assert!(
                recommended
                    > x.evidence["max_wal_size_bytes"]
                        .as_f64()
                        .unwrap_or(f64::NAN),
                "{x:#?}"
            );
        }
    }

    #[test]
    fn quiet_when_checkpoints_are_timed() {
        assert_quiet("WAL001");
    }
}
