use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Basis, Draft, Rule, RuleContext, RuleMeta, Skip};

use super::{checkpointer_window, wal_rate};
use crate::rules::memory::{pg_size, round_up_size};

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
    /// Raise `max_wal_size` so that a `checkpoint_timeout` worth of WAL fits with room to
    /// spare: WAL per `checkpoint_timeout` × `headroom_factor` (at least double the current
    /// value), and reload. `max_wal_size` is a soft limit on the disk space `pg_wal` uses:
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
        params: [
            ("min_checkpoints", "Checkpoints over the basis below which the rule is quiet"),
            ("max_requested_pct", "Share of requested checkpoints that warns, in %"),
            ("headroom_factor", "max_wal_size as a multiple of the WAL written per checkpoint_timeout"),
            ("max_recommended_gb", "Cap of the recommended max_wal_size, in GB"),
        ],
    }
}

/// The recommended `max_wal_size`: the WAL of one `checkpoint_timeout` times the factor,
/// at least twice the current value, rounded up.
fn recommended(rate: Option<f64>, timeout_s: f64, factor: f64, current: f64, cap: f64) -> f64 {
    let from_rate = rate.map_or(0.0, |r| r * timeout_s * factor);
    round_up_size(from_rate.max(2.0 * current)).min(cap.max(2.0 * current))
}

impl Rule for CheckpointsRequested {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let min = ctx.number("min_checkpoints")?;
        let max_pct = ctx.number("max_requested_pct")?;
        let factor = ctx.number("headroom_factor")?;
        let cap = ctx.number("max_recommended_gb")? * 1024.0 * 1024.0 * 1024.0;
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
        let rec = recommended(rate.map(|r| r.0), timeout_s, factor, mws, cap);
        let capped = per_timeout.is_some_and(|wal| wal * factor > rec);
        let window = match w.basis {
            Basis::Interval { seconds } => format!("over the last {seconds:.0} s"),
            Basis::SinceReset { seconds } => format!(
                "since the checkpointer statistics were reset ({})",
                crate::rules::context::human_duration(seconds)
            ),
        };
        let mut message = format!(
            "{} of {total} checkpoints ({pct:.0} %) {window} were requested rather than timed: `max_wal_size` ({}) fills before `checkpoint_timeout` ({:.0} s) elapses",
            c.checkpoints_req,
            pg_size(mws),
            timeout_s
        );
        if let Some(wal) = per_timeout {
            message.push_str(&format!(
                "; the server writes about {} of WAL per checkpoint_timeout",
                pg_size(wal)
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
            .evidence("recommended_max_wal_size_bytes", rec)
            .recommend(format!(
                "Raise max_wal_size to {} ({}) and reload; pg_wal may grow to about that size, so check the free space of its volume (on managed services: the server parameter in the portal)",
                pg_size(rec),
                match per_timeout {
                    Some(wal) if capped => format!("the cap: {} of WAL per checkpoint_timeout × {factor} is more than pg_wal should hold, so shorten checkpoint_timeout too", pg_size(wal)),
                    Some(wal) => format!("{} of WAL per checkpoint_timeout × {factor}, at least twice the current value", pg_size(wal)),
                    None => "twice the current value: the WAL rate is unknown, sample with --interval to size it from the measured rate".to_owned(),
                }
            ))
            .fix(
                format!(
                    "ALTER SYSTEM SET max_wal_size = '{}';\nSELECT pg_reload_conf();",
                    pg_size(rec)
                ),
                "reload",
                "checkpoints_req against checkpoints_timed (pg_stat_checkpointer on 17+, pg_stat_bgwriter before) and the size of pg_wal",
            );
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
            assert!(
                x.evidence["recommended_max_wal_size_bytes"]
                    .as_f64()
                    .unwrap_or(f64::NAN)
                    > x.evidence["max_wal_size_bytes"]
                        .as_f64()
                        .unwrap_or(f64::NAN)
            );
        }
    }

    #[test]
    fn quiet_when_checkpoints_are_timed() {
        assert_quiet("WAL001");
    }

    #[test]
    fn recommendation_follows_the_wal_rate() {
        const MB: f64 = 1024.0 * 1024.0;
        // 1 MB/s over 300 s × 3 = 900 MB → 1 GB.
        let cap = 64.0 * 1024.0 * MB;
        assert_eq!(
            super::recommended(Some(MB), 300.0, 3.0, 32.0 * MB, cap),
            1024.0 * MB
        );
        // Unknown rate: twice the current value.
        assert_eq!(
            super::recommended(None, 300.0, 3.0, 32.0 * MB, cap),
            64.0 * MB
        );
        // Capped.
        assert_eq!(
            super::recommended(Some(100.0 * MB), 3600.0, 3.0, 32.0 * MB, cap),
            cap
        );
    }
}
