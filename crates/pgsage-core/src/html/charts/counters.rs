//! Charts of the cumulative counters: temporary bytes, requested against timed
//! checkpoints, and the rates over a sampled interval. Counters are read over the basis
//! the rules use (deltas since the baseline with `--interval`, else totals since their
//! reset) through the rules' own helpers ([`db_counter`], [`checkpointer_window`],
//! [`wal_rate`]).

use super::svg::{Bar, Part};
use super::{Figure, Panel, TOP};
use crate::knowledge::counters::{Basis, StatsWindow};
use crate::rules::memory::db_counter;
use crate::rules::vacuum::bloat_estimate::block_size;
use crate::rules::wal::{checkpointer_window, wal_rate};
use crate::snapshot::{DatabaseStats, Snapshot};
use crate::units;
use crate::workload::Workload;

/// The databases that take connections (template0 does not), by name.
fn databases(snapshot: &Snapshot) -> Vec<&DatabaseStats> {
    let mut dbs: Vec<&DatabaseStats> = snapshot
        .databases
        .iter()
        .filter(|d| d.allow_connections)
        .collect();
    dbs.sort_by(|a, b| a.name.cmp(&b.name));
    dbs
}

/// Bytes written to temporary files, per database (`pg_stat_database`) and per
/// statement (`pg_stat_statements` temp blocks).
pub(super) fn temp_bytes(
    snapshot: &Snapshot,
    window: &StatsWindow,
    workload: Option<&Workload>,
) -> Option<Figure> {
    let mut per_db: Vec<(&DatabaseStats, i64, i64)> = databases(snapshot)
        .into_iter()
        .map(|d| {
            (
                d,
                db_counter(snapshot, d, |x| x.temp_bytes),
                db_counter(snapshot, d, |x| x.temp_files),
            )
        })
        .filter(|(_, bytes, _)| *bytes > 0)
        .collect();
    per_db.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.name.cmp(&b.0.name)));
    let db_bars: Vec<Bar> = per_db
        .into_iter()
        .take(TOP)
        .map(|(d, bytes, files)| Bar {
            label: d.name.clone(),
            parts: vec![Part {
                name: "temporary bytes",
                class: "bar2",
                value: bytes as f64,
                text: units::bytes(bytes),
            }],
            value: units::bytes(bytes),
            detail: units::counted(files, "temporary file", "temporary files"),
        })
        .collect();
    let mut panels = Vec::new();
    let mut windows = Vec::new();
    if !db_bars.is_empty() {
        windows.push(format!("by database {}", window.describe()));
        panels.push(Panel {
            heading: Some("By database (pg_stat_database)".into()),
            bars: db_bars,
        });
    }
    if let Some(w) = workload {
        let mut spilling: Vec<_> = w
            .queries
            .iter()
            .filter(|q| q.temp_bytes.is_some_and(|b| b > 0))
            .collect();
        spilling.sort_by(|a, b| {
            b.temp_bytes
                .cmp(&a.temp_bytes)
                .then(a.fingerprint.cmp(&b.fingerprint))
        });
        let bars: Vec<Bar> = spilling
            .into_iter()
            .take(TOP)
            .map(|q| {
                let bytes = q.temp_bytes.unwrap_or(0);
                Bar {
                    label: q.query.clone(),
                    parts: vec![Part {
                        name: "temporary bytes",
                        class: "bar2",
                        value: bytes as f64,
                        text: units::bytes(bytes),
                    }],
                    value: units::bytes(bytes),
                    detail: format!(
                        "{}, {} per call",
                        units::counted(q.calls, "call", "calls"),
                        units::bytes(bytes as f64 / q.calls.max(1) as f64)
                    ),
                }
            })
            .collect();
        if !bars.is_empty() {
            windows.push(format!(
                "by statement {}",
                super::statements::window(snapshot, w).describe()
            ));
            panels.push(Panel {
                heading: Some("By statement (pg_stat_statements temporary blocks)".into()),
                bars,
            });
        }
    }
    if panels.is_empty() {
        return None;
    }
    Some(Figure {
        id: "chart-temp",
        title: "Temporary bytes".into(),
        caption: format!(
            "Bytes written to temporary files by sorts, hashes and other operations that did not fit in work_mem: {}.",
            windows.join("; ")
        ),
        facts: Vec::new(),
        panels,
    })
}

/// Checkpoints started by `checkpoint_timeout` against those requested.
pub(super) fn checkpoints(snapshot: &Snapshot, window: &StatsWindow) -> Option<Figure> {
    let w = checkpointer_window(snapshot)?;
    let c = &w.counters;
    let total = c.checkpoints_timed + c.checkpoints_req;
    if total <= 0 {
        return None;
    }
    let bar = |label: &str, class: &'static str, n: i64, why: &str| Bar {
        label: label.to_owned(),
        parts: vec![Part {
            name: "checkpoints",
            class,
            value: n as f64,
            text: units::count(n),
        }],
        value: format!(
            "{} · {}",
            units::count(n),
            units::share(n as f64 / total as f64)
        ),
        detail: format!("{}, {why}", units::counted(n, "checkpoint", "checkpoints")),
    };
    Some(Figure {
        id: "chart-checkpoints",
        title: "Requested and timed checkpoints".into(),
        caption: format!(
            "Checkpoints {}, from pg_stat_checkpointer (PostgreSQL 17+) or pg_stat_bgwriter. Requested ones mostly mean that WAL reached max_wal_size before checkpoint_timeout.",
            window.over(w.basis, "checkpointer statistics").describe()
        ),
        facts: Vec::new(),
        panels: vec![Panel {
            heading: None,
            bars: vec![
                bar("timed", "bar", c.checkpoints_timed, "started by checkpoint_timeout"),
                bar(
                    "requested",
                    "bar2",
                    c.checkpoints_req,
                    "started by WAL volume (max_wal_size) or an explicit CHECKPOINT",
                ),
            ],
        }],
    })
}

/// The rates over a sampled interval: transactions per database, and the server's
/// transactions, statements, WAL, temporary bytes and reads.
pub(super) fn rates(
    snapshot: &Snapshot,
    window: &StatsWindow,
    workload: Option<&Workload>,
) -> Option<Figure> {
    let Basis::Interval { seconds } = window.basis else {
        return None;
    };
    let unit = window.rate_unit();
    let per = |amount: f64| window.per_unit(amount);
    let of_unit = |text: String| format!("{text}/{}", unit.symbol());
    let dbs = databases(snapshot);
    let counter = |f: fn(&DatabaseStats) -> i64| -> i64 {
        dbs.iter().map(|d| db_counter(snapshot, d, f)).sum()
    };

    let mut tx: Vec<(&DatabaseStats, i64, i64)> = dbs
        .iter()
        .map(|d| {
            (
                *d,
                db_counter(snapshot, d, |x| x.xact_commit),
                db_counter(snapshot, d, |x| x.xact_rollback),
            )
        })
        .filter(|(_, c, r)| c + r > 0)
        .collect();
    tx.sort_by(|a, b| (b.1 + b.2).cmp(&(a.1 + a.2)).then(a.0.name.cmp(&b.0.name)));
    let bars: Vec<Bar> = tx
        .into_iter()
        .take(TOP)
        .map(|(d, commits, rollbacks)| Bar {
            label: d.name.clone(),
            parts: vec![
                Part {
                    name: "commits",
                    class: "bar",
                    value: per(commits as f64),
                    text: of_unit(units::number(per(commits as f64))),
                },
                Part {
                    name: "rollbacks",
                    class: "bar2",
                    value: per(rollbacks as f64),
                    text: of_unit(units::number(per(rollbacks as f64))),
                },
            ],
            value: of_unit(units::number(per((commits + rollbacks) as f64))),
            detail: format!(
                "{} and {} in the interval",
                units::counted(commits, "commit", "commits"),
                units::counted(rollbacks, "rollback", "rollbacks")
            ),
        })
        .collect();

    let mut facts = Vec::new();
    let transactions = counter(|d| d.xact_commit) + counter(|d| d.xact_rollback);
    facts.push(format!(
        "{} transactions",
        of_unit(units::number(per(transactions as f64)))
    ));
    if let Some(w) = workload.filter(|w| w.source.basis.as_deref() == Some("interval")) {
        if let Some(r) = w.profile.statements_per_second {
            facts.push(format!(
                "{} statements",
                of_unit(units::number(r * unit.seconds()))
            ));
        }
    }
    if let Some((r, source)) = wal_rate(snapshot) {
        if source.ends_with("_interval") {
            facts.push(format!("{} WAL", of_unit(units::bytes(r * unit.seconds()))));
        }
    }
    facts.push(format!(
        "{} temporary files",
        of_unit(units::bytes(per(counter(|d| d.temp_bytes) as f64)))
    ));
    facts.push(format!(
        "{} read outside shared buffers",
        of_unit(units::bytes(
            per(counter(|d| d.blks_read) as f64) * block_size(snapshot)
        ))
    ));
    Some(Figure {
        id: "chart-rates",
        title: "Rates over the sampled interval".into(),
        caption: format!(
            "What the server did per {} between the two samples ({} apart): all databases, then transactions per database.",
            unit_name(unit.symbol()),
            units::duration(seconds)
        ),
        facts,
        panels: vec![Panel {
            heading: Some(format!("Transactions per {} by database", unit_name(unit.symbol()))),
            bars,
        }],
    })
}

/// `second` for `s`, as a caption reads.
fn unit_name(symbol: &str) -> &str {
    match symbol {
        "s" => "second",
        "min" => "minute",
        "h" => "hour",
        other => other,
    }
}
