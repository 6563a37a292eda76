//! The profile of a capture: read/write mix, rates, peak window, load shares per database
//! (tenant), user and application, and a classification of the load in each window.

use crate::units;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::fingerprint::StatementKind;

/// What kind of load a window carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadClass {
    /// Many short statements: web and ERP users clicking.
    InteractiveOltp,
    /// Writes dominate, in bulk or slow statements: imports, ETL, batch jobs.
    BatchImport,
    /// Reads dominate and are slow: reports, analytics, exports.
    Reporting,
    /// None of the above clearly.
    Mixed,
}

/// Rule of thumb thresholds for [`LoadClass`] (documented in docs/workload.md).
pub mod thresholds {
    /// Writes take at least this share of the window's execution time (%) for batch/import…
    pub const BATCH_WRITE_SHARE_PCT: f64 = 50.0;
    /// …and at least this share of the write executions are bulk (`COPY`, multi-row
    /// `VALUES`)…
    pub const BATCH_BULK_SHARE_PCT: f64 = 20.0;
    /// …or the writes' mean time is at least this (ms).
    pub const BATCH_WRITE_MEAN_MS: f64 = 50.0;
    /// Reads take at least this share of the execution time (%) for reporting…
    pub const REPORTING_READ_SHARE_PCT: f64 = 50.0;
    /// …and the reads' mean time is at least this (ms).
    pub const REPORTING_READ_MEAN_MS: f64 = 100.0;
    /// Otherwise, a mean statement time at most this (ms) is interactive OLTP.
    pub const OLTP_MEAN_MS: f64 = 20.0;
}

/// Executions and time per statement kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mix {
    /// Read executions.
    pub read_calls: u64,
    /// Write executions.
    pub write_calls: u64,
    /// Everything else (DDL, transaction control, utility).
    pub other_calls: u64,
    /// Read time, ms.
    pub read_ms: f64,
    /// Write time, ms.
    pub write_ms: f64,
    /// Other time, ms.
    pub other_ms: f64,
    /// Bulk write executions (`COPY … FROM`, multi-row `VALUES`).
    pub bulk_calls: u64,
    /// Transactions ended (`COMMIT`/`ROLLBACK` statements; autocommit statements are not
    /// counted).
    pub transactions: u64,
}

impl Mix {
    /// Adds executions of one kind.
    pub fn add(&mut self, kind: StatementKind, calls: u64, ms: f64, bulk: bool, ends: bool) {
        match kind {
            StatementKind::Read => {
                self.read_calls += calls;
                self.read_ms += ms;
            }
            StatementKind::Write => {
                self.write_calls += calls;
                self.write_ms += ms;
                if bulk {
                    self.bulk_calls += calls;
                }
            }
            _ => {
                self.other_calls += calls;
                self.other_ms += ms;
            }
        }
        if ends {
            self.transactions += calls;
        }
    }

    /// Adds another mix.
    pub fn merge(&mut self, o: &Mix) {
        self.read_calls += o.read_calls;
        self.write_calls += o.write_calls;
        self.other_calls += o.other_calls;
        self.read_ms += o.read_ms;
        self.write_ms += o.write_ms;
        self.other_ms += o.other_ms;
        self.bulk_calls += o.bulk_calls;
        self.transactions += o.transactions;
    }

    fn calls(&self) -> u64 {
        self.read_calls + self.write_calls + self.other_calls
    }

    fn ms(&self) -> f64 {
        self.read_ms + self.write_ms + self.other_ms
    }

    /// The class of a window with this mix, and why.
    pub fn classify(&self) -> (LoadClass, String) {
        use thresholds::*;
        let total = self.ms();
        let pct = |x: f64| if total > 0.0 { 100.0 * x / total } else { 0.0 };
        let mean = |ms: f64, n: u64| if n > 0 { ms / n as f64 } else { 0.0 };
        let write_share = pct(self.write_ms);
        let read_share = pct(self.read_ms);
        let bulk_share = if self.write_calls > 0 {
            100.0 * self.bulk_calls as f64 / self.write_calls as f64
        } else {
            0.0
        };
        let write_mean = mean(self.write_ms, self.write_calls);
        let read_mean = mean(self.read_ms, self.read_calls);
        let all_mean = mean(total, self.calls());
        if write_share >= BATCH_WRITE_SHARE_PCT
            && (bulk_share >= BATCH_BULK_SHARE_PCT || write_mean >= BATCH_WRITE_MEAN_MS)
        {
            return (
                LoadClass::BatchImport,
                format!(
                    "writes take {} of the time; {} of them bulk, {} mean",
                    units::percent(write_share),
                    units::percent(bulk_share),
                    units::millis(write_mean)
                ),
            );
        }
        if read_share >= REPORTING_READ_SHARE_PCT && read_mean >= REPORTING_READ_MEAN_MS {
            return (
                LoadClass::Reporting,
                format!(
                    "reads take {} of the time at {} mean",
                    units::percent(read_share),
                    units::millis(read_mean)
                ),
            );
        }
        if all_mean <= OLTP_MEAN_MS {
            return (
                LoadClass::InteractiveOltp,
                format!("{} mean statement time", units::millis(all_mean)),
            );
        }
        (
            LoadClass::Mixed,
            format!(
                "{} mean; reads {}, writes {} of the time",
                units::millis(all_mean),
                units::percent(read_share),
                units::percent(write_share)
            ),
        )
    }
}

/// One window of the capture (a time bucket for logs; the sampled interval or the period
/// since the statistics reset for pg_stat_statements).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Start, when known.
    pub start: Option<DateTime<Utc>>,
    /// Length in seconds, when known.
    pub seconds: Option<f64>,
    /// Executions.
    pub calls: u64,
    /// Execution time, ms.
    pub total_ms: f64,
    /// Executions per second, when the length is known.
    pub statements_per_second: Option<f64>,
    /// Read/write mix.
    pub mix: Mix,
    /// What kind of load it carries.
    pub class: LoadClass,
    /// The numbers behind the class.
    pub why: String,
}

impl Window {
    /// A window from its mix.
    pub fn new(start: Option<DateTime<Utc>>, seconds: Option<f64>, mix: Mix) -> Window {
        let (class, why) = mix.classify();
        let calls = mix.calls();
        Window {
            start,
            seconds,
            calls,
            total_ms: mix.ms(),
            statements_per_second: seconds.filter(|s| *s > 0.0).map(|s| calls as f64 / s),
            mix,
            class,
            why,
        }
    }
}

/// A database, user or application and its share of the load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadShare {
    /// Its name (`?` when the source does not say).
    pub name: String,
    /// Executions.
    pub calls: u64,
    /// Execution time, ms.
    pub total_ms: f64,
    /// Share of the execution time, %.
    pub time_pct: f64,
    /// Share of the executions, %.
    pub calls_pct: f64,
}

/// The workload profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Read/write mix over the whole capture.
    pub mix: Mix,
    /// Executions per second over the capture, when its length is known.
    pub statements_per_second: Option<f64>,
    /// Transactions ended per second (`COMMIT`/`ROLLBACK` only), when known.
    pub transactions_per_second: Option<f64>,
    /// Length of a window in seconds (logs; 3600 by default).
    pub bucket_seconds: Option<i64>,
    /// The window with the most execution time.
    pub peak: Option<Window>,
    /// Load per database (tenant), largest first.
    pub databases: Vec<LoadShare>,
    /// Load per user, largest first.
    pub users: Vec<LoadShare>,
    /// Load per application, largest first.
    pub applications: Vec<LoadShare>,
    /// Every window, in time order.
    pub windows: Vec<Window>,
}

/// Shares from `(name, calls, ms)` totals, largest time first.
pub fn shares(items: impl IntoIterator<Item = (String, u64, f64)>) -> Vec<LoadShare> {
    let items: Vec<_> = items.into_iter().collect();
    let calls: u64 = items.iter().map(|i| i.1).sum();
    let ms: f64 = items.iter().map(|i| i.2).sum();
    let mut out: Vec<LoadShare> = items
        .into_iter()
        .map(|(name, c, t)| LoadShare {
            name,
            calls: c,
            total_ms: t,
            time_pct: if ms > 0.0 { 100.0 * t / ms } else { 0.0 },
            calls_pct: if calls > 0 {
                100.0 * c as f64 / calls as f64
            } else {
                0.0
            },
        })
        .collect();
    out.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms).then(a.name.cmp(&b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_classified_by_the_rule_of_thumb() {
        let mut oltp = Mix::default();
        oltp.add(StatementKind::Read, 10_000, 8_000.0, false, false);
        oltp.add(StatementKind::Write, 2_000, 4_000.0, false, false);
        assert_eq!(oltp.classify().0, LoadClass::InteractiveOltp);

        let mut batch = Mix::default();
        batch.add(StatementKind::Write, 500, 90_000.0, true, false);
        batch.add(StatementKind::Read, 100, 1_000.0, false, false);
        assert_eq!(batch.classify().0, LoadClass::BatchImport);

        let mut report = Mix::default();
        report.add(StatementKind::Read, 40, 60_000.0, false, false);
        report.add(StatementKind::Write, 400, 800.0, false, false);
        assert_eq!(report.classify().0, LoadClass::Reporting);

        let mut mixed = Mix::default();
        mixed.add(StatementKind::Read, 100, 3_000.0, false, false);
        mixed.add(StatementKind::Write, 100, 3_000.0, false, true);
        assert_eq!(mixed.classify().0, LoadClass::Mixed);
        assert_eq!(mixed.transactions, 100);
    }
}
