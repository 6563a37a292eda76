use crate::knowledge::counters::Verdict;
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
    ///
    /// The checkpointer's counters have their own reset: counters younger than
    /// `min_stats_age_hours` (or a sampled interval shorter than 10 minutes) give an
    /// "unsure" finding — information, low confidence citing that window, no fix. So does
    /// a since-reset window whose WAL volume cannot have requested half the checkpoints
    /// (explicit `CHECKPOINT`s, backups or bursts). The recommended value is never below
    /// the current one nor PostgreSQL's default of 1 GB.
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
        // Since a reset, the average rate may hide bursts: when the WAL written over the
        // window cannot have requested even half the checkpoints at this max_wal_size
        // (one every max_wal_size / (1 + completion target)), the verdict is unsure.
        let unexplained = match (w.basis, rate) {
            (Basis::SinceReset { seconds }, Some((r, _))) => {
                let wal = r * seconds;
                let possible = (wal / (mws / (1.0 + cct))).floor();
                (possible < 0.5 * c.checkpoints_req as f64).then_some((wal, possible))
            }
            _ => None,
        };
        // The value `pgsage tune` recommends (never below the profile's default, never
        // lower than the current value); quiet when it keeps the current one.
        let Some(advice) = ctx.advice("max_wal_size").filter(|a| {
            a.change
                && crate::host::parse_size(&a.recommended).is_ok_and(|b| {
                    b as f64 > mws && b >= crate::knowledge::wal::DEFAULT_MAX_WAL_SIZE
                })
        }) else {
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
        // The verdict is a share of the checkpointer's counters, over their own window.
        let window = ctx.stats_window().over(w.basis, "checkpointer statistics");
        if let Some(u) = window.unsure(Verdict::Share) {
            draft = draft.unsure(u.reason, &u.remedy);
        } else if let Some((wal, possible)) = unexplained {
            draft = draft.unsure(
                format!(
                    "unsure: the {} of WAL written {} fill `max_wal_size` about {} times, fewer than half the {} requested checkpoints: the others come from explicit CHECKPOINT commands, base backups or short bursts",
                    units::bytes(wal),
                    window.describe(),
                    units::count(possible),
                    units::count(c.checkpoints_req)
                ),
                "sample an interval during the busy period (two collections at least 10 min apart) to tell WAL volume from explicit checkpoints",
            );
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

    /// The demo snapshot and every captured fixture, audited with the shipped defaults
    /// (a minimum statistics age of 24 h): WAL001's findings.
    fn wal001_everywhere() -> Vec<(String, crate::report::Finding)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
        let mut paths = vec![root.join("snapshots/demo.json")];
        for dir in std::fs::read_dir(root.join("fixtures")).expect("fixtures") {
            for file in std::fs::read_dir(dir.expect("entry").path()).expect("scenario") {
                paths.push(file.expect("entry").path());
            }
        }
        let config = crate::RuleConfig::shipped().expect("shipped packs");
        let mut out = Vec::new();
        for path in paths
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
        {
            let snap = crate::Snapshot::load(path).expect("snapshot");
            for f in crate::audit(&snap, &config).findings {
                if f.rule == "WAL001" {
                    out.push((path.display().to_string(), f));
                }
            }
        }
        out
    }

    #[test]
    fn an_unsure_verdict_cites_the_checkpointer_window_it_used() {
        // The demo's database statistics are 2.2 min old, its checkpointer statistics
        // 4.6 h: the verdict rests on the latter.
        let found = wal001_everywhere();
        assert!(
            found.iter().any(|(p, _)| p.ends_with("demo.json")),
            "{found:#?}"
        );
        for (path, f) in &found {
            let window = f.evidence["window_s"].as_f64().unwrap_or(f64::NAN);
            if let Some(reason) = &f.confidence_reason {
                // `window_s` is rounded to a second: below 10 s the text has a decimal.
                assert!(
                    !reason.contains("the statistics cover")
                        && (window < 10.0 || reason.contains(&crate::units::duration(window))),
                    "{path}: the reason does not cite the {} window used: {reason}",
                    crate::units::duration(window)
                );
            }
        }
    }

    #[test]
    fn never_recommends_lowering_max_wal_size_or_going_below_the_default() {
        const DEFAULT_MAX_WAL_SIZE: f64 = 1024.0 * 1024.0 * 1024.0;
        let found = wal001_everywhere();
        assert!(!found.is_empty());
        for (path, f) in &found {
            let current = f.evidence["max_wal_size_bytes"]
                .as_f64()
                .unwrap_or(f64::NAN);
            let recommended = f.evidence["recommended_max_wal_size"]
                .as_str()
                .and_then(|v| crate::host::parse_size(v).ok())
                .map_or(f64::NAN, |b| b as f64);
            assert!(
                recommended > current && recommended >= DEFAULT_MAX_WAL_SIZE,
                "{path}: {f:#?}"
            );
        }
    }

    #[test]
    fn quiet_when_checkpoints_are_timed() {
        assert_quiet("WAL001");
    }
}
