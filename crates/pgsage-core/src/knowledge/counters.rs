//! The span of PostgreSQL's cumulative statistics counters, and how long a span a verdict
//! drawn from them needs ([`StatsWindow`]).
//!
//! `pg_stat_*` counters grow from the last statistics reset (`pg_stat_reset()`, per
//! database `stats_reset`). They survive a clean restart but are discarded after a crash or
//! an immediate shutdown, so pgsage takes the later of the reset and the server's start:
//! the counters may be younger than the reset, never older than the start.
//!
//! A verdict is only as good as the window its counters cover. Two minutes after a restart
//! no index has been scanned yet, the cache is cold, and a one-off bulk load looks like a
//! sustained rate. So every verdict drawn from counters names what it judges ([`Verdict`]):
//! - **absence of use** (an unused index, a rarely used one): only a long window rules out
//!   the daily and weekly jobs, so the counters must cover the configured minimum age
//!   (`[audit] min_stats_age_hours`, [`DEFAULT_MIN_STATS_AGE_HOURS`]);
//! - **a rate** (temporary files per hour, sessions per second, sequential scans per hour)
//!   or **a share of events** (cache hit ratio, requested checkpoints, HOT updates): over a
//!   sampled interval, at least [`MIN_INTERVAL_SECONDS`] (a deliberate sample taken under
//!   the load the user chose); over counters since a reset, the configured minimum age
//!   (an accidental window that starts with a restart's cold cache or a reset's first
//!   minutes). A rate is read in the largest unit the window covers ([`RateUnit`]): two
//!   minutes of counters are never extrapolated to "per hour". How many events a share
//!   needs is each rule's own threshold (`min_checkpoints`, `min_block_reads`, …).
//!
//! Below its window a verdict is unsure ([`Unsure`]): the rules report it as information,
//! with low confidence, the window actually used, how to get a longer one, and no fix.
//!
//! Reference: <https://www.postgresql.org/docs/current/monitoring-stats.html>.

use crate::snapshot::Snapshot;
use crate::units;

/// A table counter over the snapshot's basis ([`Basis::of`]): the delta since the
/// baseline when sampled (a table missing from the baseline counts from zero), else the
/// total since the reset.
pub fn table_delta(
    snapshot: &Snapshot,
    t: &crate::snapshot::Table,
    counter: fn(&crate::snapshot::Table) -> i64,
) -> i64 {
    let now = counter(t);
    match (Basis::of(snapshot), &snapshot.baseline) {
        (Basis::Interval { .. }, Some(b)) => {
            let before = b.tables.iter().find(|o| o.oid == t.oid).map_or(0, counter);
            (now - before).max(0)
        }
        _ => now,
    }
}

/// Seconds the connected database's counters cover at collection time: since its
/// statistics reset or the server's start, whichever is later.
pub fn since_reset_seconds(snapshot: &Snapshot) -> f64 {
    let start = snapshot.server.started_at;
    let reset = snapshot
        .current_database()
        .and_then(|d| d.stats_reset)
        .map_or(start, |r| r.max(start));
    snapshot.age_seconds(reset)
}

/// Usage-based verdicts need counters at least this old, in hours, unless the
/// configuration says otherwise (`[audit] min_stats_age_hours`).
pub const DEFAULT_MIN_STATS_AGE_HOURS: f64 = 24.0;

/// The shortest sampled interval (two collections this far apart) that rates and shares
/// are judged over with confidence, unless the configured minimum age is shorter (a
/// configuration that judges counters of any age, as the test scenarios do, judges any
/// interval too).
pub const MIN_INTERVAL_SECONDS: f64 = 600.0;

/// Which counters a rule used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Basis {
    /// Deltas over a sampled window of this many seconds.
    Interval {
        /// Window length.
        seconds: f64,
    },
    /// Totals since the statistics were reset (or the server started), this many seconds ago.
    SinceReset {
        /// Age of the counters.
        seconds: f64,
    },
}

impl Basis {
    /// The counters a snapshot gives rates: the sampled window when there is one, else
    /// totals since the connected database's statistics reset (or the server's start).
    pub fn of(snapshot: &Snapshot) -> Basis {
        match snapshot.window_seconds() {
            Some(seconds) => Basis::Interval { seconds },
            None => Basis::SinceReset {
                seconds: since_reset_seconds(snapshot),
            },
        }
    }

    /// `interval` or `since_reset`, for evidence.
    pub fn label(&self) -> &'static str {
        match self {
            Basis::Interval { .. } => "interval",
            Basis::SinceReset { .. } => "since_reset",
        }
    }

    /// The window length in seconds.
    pub fn seconds(&self) -> f64 {
        match self {
            Basis::Interval { seconds } | Basis::SinceReset { seconds } => *seconds,
        }
    }
}

/// What a verdict judges from counters, which sets the window it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// That something was not used, or hardly (an unused index, a rarely scanned one): the
    /// counters must cover the configured minimum age, whatever the basis.
    AbsenceOfUse,
    /// A rate over the window (temporary files per hour, new sessions per second).
    Rate,
    /// A share of the events counted over the window (cache hits among block reads,
    /// requested checkpoints among all, HOT updates among updates).
    Share,
}

impl Verdict {
    fn judging(self) -> &'static str {
        match self {
            Verdict::AbsenceOfUse => "judging that something is not used",
            Verdict::Rate => "a rate",
            Verdict::Share => "a share of events",
        }
    }
}

/// The unit a rate is read in: the largest one the window covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RateUnit {
    /// Per second (windows shorter than a minute).
    Second,
    /// Per minute (windows from a minute to an hour).
    Minute,
    /// Per hour (windows from an hour to a day).
    Hour,
    /// Per day (windows of a day or more).
    Day,
}

impl RateUnit {
    /// The largest unit a window of `seconds` covers (at least a second).
    pub fn for_window(seconds: f64) -> RateUnit {
        if seconds >= 86_400.0 {
            RateUnit::Day
        } else if seconds >= 3600.0 {
            RateUnit::Hour
        } else if seconds >= 60.0 {
            RateUnit::Minute
        } else {
            RateUnit::Second
        }
    }

    /// Seconds in one unit.
    pub fn seconds(self) -> f64 {
        match self {
            RateUnit::Second => 1.0,
            RateUnit::Minute => 60.0,
            RateUnit::Hour => 3600.0,
            RateUnit::Day => 86_400.0,
        }
    }

    /// `s`, `min`, `h` or `day`, as in `12 MB/min`.
    pub fn symbol(self) -> &'static str {
        match self {
            RateUnit::Second => "s",
            RateUnit::Minute => "min",
            RateUnit::Hour => "h",
            RateUnit::Day => "day",
        }
    }
}

/// Why a verdict is unsure, and how to get the window it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsure {
    /// Starts with `unsure:`, cites the window used and the one needed.
    pub reason: String,
    /// How to get a long enough window (audit again later, sample an interval).
    pub remedy: String,
}

/// The window of statistics counters behind an audit's verdicts, and the minimum each kind
/// of verdict needs (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct StatsWindow {
    /// The counters rates and shares are computed over.
    pub basis: Basis,
    /// How old the lifetime counters are (since their reset or the server's start): the
    /// window over which a never-scanned index was never scanned.
    pub since_reset_seconds: f64,
    /// The configured minimum age (`[audit] min_stats_age_hours`), in seconds.
    pub min_age_seconds: f64,
    /// Whose counters: `statistics` (the connected database's), or e.g. `checkpointer
    /// statistics` for a rule that reads counters with their own reset.
    pub counters: &'static str,
}

impl StatsWindow {
    /// The window of a snapshot's database counters ([`Basis::of`]) under the configured
    /// minimum age.
    pub fn of(snapshot: &Snapshot, min_age_seconds: f64) -> StatsWindow {
        StatsWindow {
            basis: Basis::of(snapshot),
            since_reset_seconds: since_reset_seconds(snapshot),
            min_age_seconds: min_age_seconds.max(0.0),
            counters: "statistics",
        }
    }

    /// The same minimums over other counters (the checkpointer's, `pg_stat_wal`,
    /// `pg_stat_statements`), which have their own reset: `basis` is what the rule
    /// computed with, so an unsure verdict cites the window it used.
    pub fn over(&self, basis: Basis, counters: &'static str) -> StatsWindow {
        StatsWindow {
            basis,
            since_reset_seconds: match basis {
                Basis::SinceReset { seconds } => seconds,
                Basis::Interval { .. } => self.since_reset_seconds,
            },
            min_age_seconds: self.min_age_seconds,
            counters,
        }
    }

    /// The shortest basis window rates and shares are judged over: a sampled interval of
    /// [`MIN_INTERVAL_SECONDS`] (or the minimum age, if shorter), else counters of the
    /// minimum age.
    pub fn min_rate_seconds(&self) -> f64 {
        match self.basis {
            Basis::Interval { .. } => MIN_INTERVAL_SECONDS.min(self.min_age_seconds),
            Basis::SinceReset { .. } => self.min_age_seconds,
        }
    }

    /// The window a verdict is judged over, in seconds: the lifetime counters' age for
    /// absence of use (an interval shows use, not its absence), else the basis window.
    pub fn covered(&self, verdict: Verdict) -> f64 {
        match verdict {
            Verdict::AbsenceOfUse => self.since_reset_seconds,
            Verdict::Rate | Verdict::Share => self.basis.seconds(),
        }
    }

    /// The window a verdict needs, in seconds.
    pub fn required(&self, verdict: Verdict) -> f64 {
        match verdict {
            Verdict::AbsenceOfUse => self.min_age_seconds,
            Verdict::Rate | Verdict::Share => self.min_rate_seconds(),
        }
    }

    /// Whether the lifetime counters are old enough to judge that something is unused.
    pub fn long_enough_for_usage(&self) -> bool {
        self.unsure(Verdict::AbsenceOfUse).is_none()
    }

    /// Whether the basis window is long enough for rates and shares.
    pub fn long_enough_for_rates(&self) -> bool {
        self.unsure(Verdict::Rate).is_none()
    }

    /// Seconds until the lifetime counters reach the minimum age (when neither reset nor
    /// restarted meanwhile); `None` once they have.
    pub fn usage_judged_in_seconds(&self) -> Option<f64> {
        let left = self.min_age_seconds - self.since_reset_seconds;
        (left > 0.0).then_some(left)
    }

    /// `None` when the window is long enough for `verdict`; else why it is unsure and how
    /// to get the window it needs.
    pub fn unsure(&self, verdict: Verdict) -> Option<Unsure> {
        let covered = self.covered(verdict);
        let required = self.required(verdict);
        if covered >= required {
            return None;
        }
        let used = match (verdict, self.basis) {
            (Verdict::Rate | Verdict::Share, Basis::Interval { seconds }) => {
                format!("the sampled interval is only {}", units::duration(seconds))
            }
            _ => format!(
                "the {} cover only {} since their last reset or the server's restart",
                self.counters,
                units::duration(covered)
            ),
        };
        let reason = format!(
            "unsure: {used}; {} needs at least {}",
            verdict.judging(),
            units::duration(required)
        );
        let again = |left: f64| {
            format!(
                "audit again once the {} cover {} (in about {}, if they are not reset and the server does not restart)",
                self.counters,
                units::duration(self.min_age_seconds),
                units::duration(left)
            )
        };
        let interval = units::duration(MIN_INTERVAL_SECONDS.min(self.min_age_seconds));
        let remedy = match (verdict, self.basis) {
            (Verdict::AbsenceOfUse, _) => again(required - covered),
            (_, Basis::Interval { .. }) => format!(
                "sample a longer interval (two collections at least {interval} apart) during typical load"
            ),
            (_, Basis::SinceReset { .. }) => format!(
                "sample an interval (two collections at least {interval} apart) during typical load, or {}",
                again(required - covered)
            ),
        };
        Some(Unsure { reason, remedy })
    }

    /// The unit rates over this window are read in.
    pub fn rate_unit(&self) -> RateUnit {
        RateUnit::for_window(self.basis.seconds())
    }

    /// `amount` over the window, per [`Self::rate_unit`].
    pub fn per_unit(&self, amount: f64) -> f64 {
        let seconds = self.basis.seconds();
        if seconds <= 0.0 {
            return 0.0;
        }
        amount / seconds * self.rate_unit().seconds()
    }

    /// `amount` over the window per `unit_seconds` (3600 for a per-hour threshold), to
    /// compare with a threshold; [`Self::per_unit`] is what to show.
    pub fn per(&self, amount: f64, unit_seconds: f64) -> f64 {
        let seconds = self.basis.seconds().max(1.0);
        amount / seconds * unit_seconds
    }

    /// `over the last 4 s (sampled interval)` or `since the statistics reset (2.2 min)`.
    pub fn describe(&self) -> String {
        match self.basis {
            Basis::Interval { seconds } => {
                format!(
                    "over the last {} (sampled interval)",
                    units::duration(seconds)
                )
            }
            Basis::SinceReset { seconds } => format!(
                "since the {} were reset or the server started ({})",
                self.counters,
                units::duration(seconds)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(basis: Basis, since_reset: f64, min_age_h: f64) -> StatsWindow {
        StatsWindow {
            basis,
            since_reset_seconds: since_reset,
            min_age_seconds: min_age_h * 3600.0,
            counters: "statistics",
        }
    }

    #[test]
    fn two_minutes_since_a_reset_judge_nothing() {
        let w = window(Basis::SinceReset { seconds: 132.0 }, 132.0, 24.0);
        for v in [Verdict::AbsenceOfUse, Verdict::Rate, Verdict::Share] {
            let u = w.unsure(v).expect("unsure");
            assert!(u.reason.starts_with("unsure: "), "{u:?}");
            assert!(u.reason.contains("2.2 min"), "{u:?}");
            assert!(u.reason.contains("24 h"), "{u:?}");
            assert!(u.remedy.contains("audit again"), "{u:?}");
        }
        // Rates can also get a sampled interval; absence of use cannot.
        assert!(w
            .unsure(Verdict::Rate)
            .is_some_and(|u| u.remedy.contains("10 min")));
        assert!(w
            .unsure(Verdict::AbsenceOfUse)
            .is_some_and(|u| !u.remedy.contains("interval")));
        assert!(!w.long_enough_for_usage() && !w.long_enough_for_rates());
        assert_eq!(w.usage_judged_in_seconds(), Some(24.0 * 3600.0 - 132.0));
    }

    #[test]
    fn a_ten_minute_interval_judges_rates_not_absence_of_use() {
        let w = window(Basis::Interval { seconds: 600.0 }, 7200.0, 24.0);
        assert_eq!(w.unsure(Verdict::Rate), None);
        assert_eq!(w.unsure(Verdict::Share), None);
        let u = w
            .unsure(Verdict::AbsenceOfUse)
            .expect("2 h of lifetime counters");
        assert!(u.reason.contains("2 h"), "{u:?}");
        let short = window(Basis::Interval { seconds: 4.0 }, 7200.0, 24.0);
        let u = short.unsure(Verdict::Rate).expect("4 s interval");
        assert!(u.reason.contains("sampled interval is only 4 s"), "{u:?}");
        assert!(u.remedy.contains("longer interval"), "{u:?}");
    }

    #[test]
    fn old_enough_counters_judge_everything() {
        let w = window(Basis::SinceReset { seconds: 90_000.0 }, 90_000.0, 24.0);
        assert!(w.long_enough_for_usage() && w.long_enough_for_rates());
        assert_eq!(w.usage_judged_in_seconds(), None);
    }

    #[test]
    fn a_zero_minimum_age_judges_any_window() {
        // The test scenarios' configuration: their servers are seconds old.
        let w = window(Basis::Interval { seconds: 3.0 }, 3.0, 0.0);
        for v in [Verdict::AbsenceOfUse, Verdict::Rate, Verdict::Share] {
            assert_eq!(w.unsure(v), None);
        }
    }

    #[test]
    fn other_counters_cite_their_own_window() {
        let db = window(Basis::SinceReset { seconds: 132.0 }, 132.0, 24.0);
        let checkpointer = db.over(
            Basis::SinceReset {
                seconds: 3.0 * 3600.0,
            },
            "checkpointer statistics",
        );
        let u = checkpointer.unsure(Verdict::Share).expect("3 h < 24 h");
        assert!(
            u.reason.contains("checkpointer statistics cover only 3 h"),
            "{u:?}"
        );
        assert!(!u.reason.contains("2.2 min"), "{u:?}");
        let old = db.over(
            Basis::SinceReset {
                seconds: 30.0 * 3600.0,
            },
            "checkpointer statistics",
        );
        assert_eq!(old.unsure(Verdict::Share), None);
    }

    #[test]
    fn rates_are_read_in_the_unit_the_window_covers() {
        let w = window(Basis::SinceReset { seconds: 132.0 }, 132.0, 24.0);
        assert_eq!(w.rate_unit(), RateUnit::Minute);
        assert!((w.per_unit(132.0) - 60.0).abs() < 1e-9);
        assert_eq!(RateUnit::for_window(30.0), RateUnit::Second);
        assert_eq!(RateUnit::for_window(3600.0), RateUnit::Hour);
        assert_eq!(RateUnit::for_window(86_400.0 * 3.0), RateUnit::Day);
    }
}
