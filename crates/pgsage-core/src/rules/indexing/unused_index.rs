use crate::knowledge::counters::Verdict as Window;
use crate::report::{ObjectKind, ObjectRef};
use crate::rules::drop_plan::Verdict;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Index, Snapshot, Table};
use crate::units;

use super::common::{is_protected, since_reset_seconds, table_by_oid, table_writes};
use super::index_drops;
use super::low_cardinality_index::leading_distinct;

declare_rule! {
    /// ## What it detects
    /// Valid indexes that no query has used: `idx_scan = 0` since the statistics were
    /// reset (or the server started), or — on PostgreSQL 16+ — a `last_idx_scan` older
    /// than `min_window_days`. The verdict comes with its evidence: the scans, how long the
    /// counters cover, the index size, and the writes on its table that kept it up to
    /// date. With `--interval`, a scan during the window also counts as use; the verdict
    /// itself rests on the longer since-reset counters.
    ///
    /// Never reported: unique indexes and indexes behind a primary key, unique or exclusion
    /// constraint (they enforce rules even when no query reads them), invalid indexes
    /// (IDX004), indexes of partitioned tables (their partitions' indexes carry the
    /// statistics), and indexes smaller than `min_index_bytes`.
    ///
    /// ## Why it matters
    /// An unused index is written on every insert and every non-HOT update of its table,
    /// takes disk, cache and backup space, and is vacuumed, for no benefit. Unused indexes
    /// also prevent HOT updates when they cover updated columns.
    ///
    /// ## How to fix
    /// Check it is not used elsewhere first: **scans on standbys are counted on each
    /// standby, not on the primary** (run the same check on every replica serving reads),
    /// and jobs that run monthly or yearly may need it. Then drop it with
    /// `DROP INDEX CONCURRENTLY` and keep its definition (in the evidence) to recreate it.
    ///
    /// **With the other drops.** The audit decides every index drop once (the index-drop
    /// plan shared by IDX001, IDX002, IDX003 and IDX007), and never proposes a set of drops
    /// that leaves a foreign key, or the workload's statements, without the index they
    /// had. An unused index is then reported as info, with no `DROP`, saying which index
    /// stays and why:
    /// - it is the only index serving a foreign key, or the one left once the others
    ///   serving it are dropped (of two unused indexes `(order_id)` and
    ///   `(order_id, date)` behind a foreign key, the longer one is dropped and the shorter
    ///   one stays; of two unused copies, IDX001 drops one and the other stays): without
    ///   it, deleting or updating a key on the referenced table scans the whole
    ///   referencing table (IDX005's problem);
    /// - the workload's statements rely on it: with it gone, the index advisor (IDX009)
    ///   would recommend an index on the same columns (typically an index created after
    ///   those statements ran, so not scanned yet).
    ///
    /// An unused index that IDX001 drops as a copy, or IDX002 as a prefix, is left to that
    /// finding (one drop, one finding). A drop's finding names the indexes that stay beside
    /// it (`kept_indexes`): a shorter index it made redundant, or the one kept for a
    /// foreign key.
    ///
    /// ## Thresholds
    /// - `min_index_bytes` (default 1048576, 1 MB): smaller indexes cost too little to
    ///   report.
    /// - `min_window_days` (default 7): an index unscanned for less than this gives a
    ///   low-confidence finding: weekly jobs may use the index.
    ///
    /// Statistics younger than the audit's `min_stats_age_hours` (default 24 h) cannot
    /// show that an index is unused: the finding is then "unsure" — information only, low
    /// confidence, no `DROP INDEX`, and the audit's drop plan does not count it as dropped
    /// — and says when to audit again (a sampled interval does not help: it shows use, not
    /// its absence). A stats reset or a crash restart starts the window again — the most
    /// common cause of false "unused" verdicts in other tools.
    ///
    /// A `last_idx_scan` within the last day always counts as use.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ALL-INDEXES-VIEW>
    /// - <https://www.postgresql.org/docs/current/sql-dropindex.html>
    /// - <https://www.postgresql.org/docs/current/storage-hot.html>
    pub struct UnusedIndex {
        id: "IDX003",
        name: "unused-index",
        pack: "indexing",
        title: "Unused index",
        params: {
            min_index_bytes: f64 = ("bytes", "Ignore indexes smaller than this"),
            min_window_days: f64 = ("days", "Statistics must cover at least this many days for a confident verdict"),
        },
    }
}

/// How an index was found unused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Unused {
    /// No scan since the reset, which was this many seconds ago.
    Never { window_s: f64 },
    /// Last scanned this many seconds ago (16+).
    LastScan { ago_s: f64 },
}

impl Unused {
    /// The span of time without a scan.
    pub(crate) fn idle_seconds(&self) -> f64 {
        match self {
            Unused::Never { window_s } => *window_s,
            Unused::LastScan { ago_s } => *ago_s,
        }
    }
}

/// Whether the index went unscanned: no scan since the reset (nor in the sampled window),
/// or a last scan at least `min_idle_s` (and at least a day) ago. `None` when it was used.
pub(crate) fn unused(
    snap: &Snapshot,
    i: &Index,
    scans_in_window: i64,
    min_idle_s: f64,
) -> Option<Unused> {
    if scans_in_window > 0 {
        return None;
    }
    if i.idx_scan == 0 {
        return Some(Unused::Never {
            window_s: since_reset_seconds(snap),
        });
    }
    let ago = snap.age_seconds(i.last_idx_scan?);
    (ago >= min_idle_s.max(86_400.0)).then_some(Unused::LastScan { ago_s: ago })
}

/// An index IDX003 finds unused.
pub(crate) struct UnusedCandidate<'a> {
    /// The index.
    pub index: &'a Index,
    /// Its table.
    pub table: &'a Table,
    /// Scans over the basis.
    pub scans: i64,
    /// How it went unscanned.
    pub verdict: Unused,
}

/// The indexes IDX003 finds unused with its parameters: the drops it would propose, before
/// the index-drop plan decides ([`super::index_drops`]).
pub(crate) fn candidates<'a>(ctx: &RuleContext<'a>) -> Result<Vec<UnusedCandidate<'a>>, Skip> {
    let p: Params = ctx.params()?;
    let min_window_s = p.min_window_days * 86_400.0;
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for i in snap
        .indexes
        .iter()
        .filter(|i| i.is_valid && !is_protected(i))
    {
        if (i.size_bytes as f64) < p.min_index_bytes {
            continue;
        }
        let Some(table) = table_by_oid(snap, i.table_oid) else {
            continue;
        };
        if table.kind == "p" {
            continue;
        }
        let scans = super::common::index_delta(ctx, i, |i| i.idx_scan);
        let Some(verdict) = unused(snap, i, scans, min_window_s) else {
            continue;
        };
        out.push(UnusedCandidate {
            index: i,
            table,
            scans,
            verdict,
        });
    }
    Ok(out)
}

impl SnapshotRule for UnusedIndex {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_window_s = p.min_window_days * 86_400.0;
        let snap = ctx.snapshot;
        let basis = ctx.basis();
        let plan = super::drop_plan(ctx);
        // Absence of use is judged over the lifetime counters (a scan in the sampled
        // interval is use; its absence over minutes is not disuse).
        let unsure = ctx.stats_window().unsure(Window::AbsenceOfUse);
        let mut drafts = Vec::new();
        for UnusedCandidate {
            index: i,
            table,
            scans,
            verdict,
        } in candidates(ctx)?
        {
            // One decision for every drop of the audit: another rule's finding may drop
            // it (one drop, one finding), or a foreign key or the workload keep it.
            let decision = plan.verdict(i.oid, Self::META.id);
            match decision {
                Verdict::OtherRule(_) => continue,
                // Unsure candidates are not in the plan: reported as unsure, no drop.
                Verdict::NoDrop if unsure.is_none() => continue,
                _ => {}
            }
            let writes = table_writes(ctx, table);
            let idle = verdict.idle_seconds();
            let what = match &verdict {
                Unused::Never { window_s } => format!(
                    "has not been scanned since the statistics were reset or the server started {} ago",
                    units::duration(*window_s)
                ),
                Unused::LastScan { ago_s } => format!(
                    "was last scanned {} ago ({} scans before that since the reset)",
                    units::duration(*ago_s),
                    units::count(i.idx_scan)
                ),
            };
            let mut message = format!(
                "`{}` on `{}` ({}) {what}, while its table had {} rows written",
                i.name,
                i.table,
                units::bytes(i.size_bytes),
                units::count(writes)
            );
            let mut notes = Vec::new();
            if snap.server.in_recovery {
                notes
                    .push("this server is a standby: only queries run here are counted".to_owned());
            } else {
                notes.push("scans on standbys are not counted here".to_owned());
            }
            if let Verdict::Drop(dropped) = decision {
                notes.extend(index_drops::siblings_note(snap, dropped));
            }
            message.push_str(&format!("; {}", notes.join("; ")));
            let mut draft = Draft::new(
                ObjectRef::in_schema(ObjectKind::Index, &snap.server.database, &i.schema, &i.name),
                message,
            )
            .evidence("idx_scan", i.idx_scan)
            .evidence("scans_in_window", scans)
            .evidence("basis", basis.label())
            .evidence("window_s", basis.seconds().round())
            .evidence("unused_for_s", idle.round())
            .evidence("size_bytes", i.size_bytes)
            .evidence("table_writes", writes)
            .evidence("table", table.qualified_name())
            .evidence("definition", i.definition.clone());
            if let Some(last) = i.last_idx_scan {
                draft = draft.evidence("last_idx_scan", last.to_rfc3339());
            }
            if let Some(col) = leading_distinct(snap, i) {
                draft = draft.evidence("leading_column_n_distinct", col.round());
            }
            if !snap.replication.is_empty() {
                draft = draft.evidence("standbys_connected", snap.replication.len() as i64);
            }
            match decision {
                Verdict::Drop(dropped) => {
                    draft = index_drops::with_siblings_kept(draft, snap, dropped)
                        .recommend(format!(
                            "Make sure no standby or periodic job uses `{}`, then drop it; recreate it from its definition if needed",
                            i.name
                        ))
                        .fix(
                            format!("DROP INDEX CONCURRENTLY {};", i.qualified_name()),
                            "none",
                            &format!(
                                "latency of queries on `{}`; recreate with: {};",
                                i.table, i.definition
                            ),
                        );
                }
                // A foreign key or the workload needs it: said instead of a drop.
                Verdict::Keep(kept) => draft = index_drops::keep(draft, snap, i, kept),
                Verdict::OtherRule(_) | Verdict::NoDrop => {}
            }
            if let Some(u) = &unsure {
                draft = draft.unsure(u.reason.clone(), &u.remedy);
            } else if idle < min_window_s {
                draft = draft.low_confidence(format!(
                    "no scan for {} only; at least {} is needed to rule out weekly jobs",
                    units::duration(idle),
                    units::duration(min_window_s)
                ));
            } else if !snap.replication.is_empty() && !snap.server.in_recovery {
                draft = draft.low_confidence(format!(
                    "{} standby or subscriber connection(s): queries on standbys use their own copy of the index and are not counted here",
                    snap.replication.len()
                ));
            }
            drafts.push(draft);
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet, case_findings};

    #[test]
    fn fires_on_indexes_no_query_used() {
        let f = assert_fires("IDX003", "public.stock_picking_origin_idx");
        assert!(f.iter().all(|f| f.evidence["idx_scan"] == 0));
    }

    #[test]
    fn quiet_on_used_unique_and_small_indexes() {
        assert_quiet("IDX003");
    }

    fn finding<'a>(
        findings: &'a [crate::report::Finding],
        index: &str,
    ) -> Option<&'a crate::report::Finding> {
        findings.iter().find(|f| f.object.name == index)
    }

    #[test]
    fn keeps_an_index_a_foreign_key_or_the_workload_needs() {
        let f = case_findings("indexing", "drop_conflicts", "IDX003");
        for (index, kept_for) in [
            // The shorter of two unused indexes behind a foreign key.
            ("conflict_move_order_idx", "foreign_key"),
            // The copy IDX001 keeps of a duplicated index behind a foreign key.
            ("conflict_tax_order_idx", "foreign_key"),
            // The only index of a foreign key.
            ("conflict_note_order_idx", "foreign_key"),
            // An index the workload's statements filter on, never scanned since.
            ("conflict_move_scan_product_idx", "workload"),
        ] {
            let k = finding(&f, index).unwrap_or_else(|| panic!("{index}: {f:#?}"));
            assert_eq!(k.severity, crate::report::Severity::Info, "{k:#?}");
            assert!(k.fix.is_none(), "{k:#?}");
            assert_eq!(k.evidence["kept_for"], kept_for, "{k:#?}");
            assert!(k.recommendation.starts_with("Keep "), "{k:#?}");
        }
    }

    #[test]
    fn drops_the_longer_index_and_names_the_one_that_stays() {
        let f = case_findings("indexing", "drop_conflicts", "IDX003");
        for (dropped, stays) in [
            // Used for lookups; it was redundant with the dropped one only.
            (
                "conflict_line_order_product_idx",
                "public.conflict_line_order_idx",
            ),
            // Kept for the foreign key.
            (
                "conflict_move_order_date_idx",
                "public.conflict_move_order_idx",
            ),
        ] {
            let d = finding(&f, dropped).unwrap_or_else(|| panic!("{dropped}: {f:#?}"));
            assert!(
                d.fix
                    .as_ref()
                    .is_some_and(|x| x.sql.starts_with("DROP INDEX")),
                "{d:#?}"
            );
            assert_eq!(
                d.evidence["kept_indexes"],
                serde_json::json!([stays]),
                "{d:#?}"
            );
            assert!(
                d.message.contains(stays.trim_start_matches("public.")),
                "{d:#?}"
            );
        }
        // The unused copy of a duplicated index is IDX001's drop: one drop, one finding.
        assert!(finding(&f, "conflict_tax_order_dup").is_none(), "{f:#?}");
    }
}
