//! The index-drop plan ([`DropPlan`]), computed once per audit from the drops IDX001
//! (duplicate), IDX002 (redundant prefix), IDX003 (unused) and IDX007 (low cardinality)
//! would propose with their parameters, and asked by those rules before they propose one.
//!
//! Each rule alone is right; together they can contradict each other: IDX002 drops
//! `(order_id)` because `(order_id, product_id)` covers it while IDX003 drops
//! `(order_id, product_id)` as unused, and the foreign key on `order_id` is left without an
//! index. The plan decides once:
//!
//! 1. Usage drops: every index IDX003 finds unused, then every index IDX007 flags.
//! 2. Duplicates: IDX001 drops every copy but the one its group keeps (it owns the drop
//!    of a copy that is also unused).
//! 3. Prefixes, longest first: IDX002 drops an index only while an index covering it
//!    stays (the smallest one); when every covering index is dropped, it is not redundant.
//! 4. Foreign keys: a foreign key that had an index must keep one. When every index
//!    serving it is dropped, the plan keeps one — a usage drop rather than a duplicate or
//!    prefix drop, then the fewest key columns, the smallest, the most scanned.
//! 5. The workload: with the indexes dropped, the index advisor (IDX009) must not
//!    recommend an index it does not recommend now. When it would, the plan keeps the
//!    dropped index on that table that leads with one of its columns (same preference).
//!
//! Steps 1–5 repeat with the kept indexes until nothing changes. A kept index's finding
//! says why it stays (info, no `DROP`); a drop's finding names what stays beside it.

use std::collections::{BTreeMap, BTreeSet};

use crate::report::{Draft, ObjectKind, ObjectRef, Severity};
use crate::rules::drop_plan::{Decision, DropPlan, DropReason, Dropped, KeepReason, Kept};
use crate::rules::RuleContext;
use crate::snapshot::{Index, Snapshot};
use crate::units;

use super::common::index_covers_fk;

/// The rules whose drops the plan decides, in the order they own a drop.
pub(super) const DUPLICATE: &str = "IDX001";
pub(super) const PREFIX: &str = "IDX002";
pub(super) const UNUSED: &str = "IDX003";
pub(super) const LOW_CARDINALITY: &str = "IDX007";

/// The drops each rule would propose, gathered by the `indexing` module (which knows the
/// rules) for [`compute`].
#[derive(Default)]
pub(super) struct Candidates {
    /// IDX001: (copy, kept copy).
    pub duplicates: Vec<(u32, u32)>,
    /// IDX002, longest first: (index, the indexes covering it).
    pub prefixes: Vec<(u32, Vec<u32>)>,
    /// IDX003.
    pub unused: Vec<u32>,
    /// IDX007.
    pub low_cardinality: Vec<u32>,
}

/// Drops by index oid: the owning rule and the reason.
type Drops = BTreeMap<u32, (&'static str, DropReason)>;

/// Steps 1–3: the drops the rules would propose, without the vetoed indexes.
fn assign(snap: &Snapshot, c: &Candidates, vetoed: &BTreeMap<u32, KeepReason>) -> Drops {
    let mut drops = Drops::new();
    let free = |oid: &u32| !vetoed.contains_key(oid);
    for oid in c.unused.iter().filter(|o| free(o)) {
        drops.insert(*oid, (UNUSED, DropReason::Unused));
    }
    for oid in c.low_cardinality.iter().filter(|o| free(o)) {
        drops
            .entry(*oid)
            .or_insert((LOW_CARDINALITY, DropReason::LowCardinality));
    }
    for (dup, keep) in c.duplicates.iter().filter(|(d, _)| free(d)) {
        drops.insert(*dup, (DUPLICATE, DropReason::Duplicate { keep: *keep }));
    }
    for (short, covers) in c.prefixes.iter().filter(|(s, _)| free(s)) {
        if matches!(drops.get(short), Some((DUPLICATE, _))) {
            continue;
        }
        // The smallest covering index that stays: the one queries move to.
        let cover = covers
            .iter()
            .filter(|l| !drops.contains_key(l))
            .filter_map(|l| index(snap, *l))
            .min_by_key(|l| (l.key_columns.len(), l.size_bytes, l.oid));
        if let Some(cover) = cover {
            drops.insert(*short, (PREFIX, DropReason::Prefix { cover: cover.oid }));
        }
    }
    drops
}

fn index(snap: &Snapshot, oid: u32) -> Option<&Index> {
    snap.indexes.iter().find(|i| i.oid == oid)
}

/// Which dropped index to keep first: a usage drop before a duplicate or prefix drop
/// (those are redundant whatever the statistics say), then the fewest key columns, the
/// smallest, the most scanned, the oldest.
fn keep_rank(i: &Index, drops: &Drops) -> (bool, usize, i64, std::cmp::Reverse<i64>, u32) {
    let structural = matches!(drops.get(&i.oid), Some((DUPLICATE | PREFIX, _)));
    (
        structural,
        i.key_attnums.len(),
        i.size_bytes,
        std::cmp::Reverse(i.idx_scan),
        i.oid,
    )
}

/// Step 4: for each foreign key whose every serving index is dropped, the index to keep.
fn foreign_key_vetoes(snap: &Snapshot, drops: &Drops) -> BTreeMap<u32, KeepReason> {
    let mut vetoes: BTreeMap<u32, KeepReason> = BTreeMap::new();
    for fk in &snap.foreign_keys {
        let serving: Vec<&Index> = snap
            .indexes
            .iter()
            .filter(|i| index_covers_fk(i, fk))
            .collect();
        if serving.is_empty() || serving.iter().any(|i| !drops.contains_key(&i.oid)) {
            continue;
        }
        let Some(best) = serving.iter().min_by_key(|i| keep_rank(i, drops)) else {
            continue;
        };
        let beside: Vec<u32> = serving
            .iter()
            .filter(|i| i.oid != best.oid)
            .map(|i| i.oid)
            .collect();
        match vetoes.get_mut(&best.oid) {
            Some(KeepReason::ForeignKey {
                constraints,
                dropped_beside,
                ..
            }) => {
                constraints.push(fk.name.clone());
                dropped_beside.extend(beside);
            }
            _ => {
                vetoes.insert(
                    best.oid,
                    KeepReason::ForeignKey {
                        constraints: vec![fk.name.clone()],
                        referenced: crate::sql::qualified(&fk.ref_schema, &fk.ref_table),
                        dropped_beside: beside,
                    },
                );
            }
        }
    }
    vetoes
}

/// Step 5: for each index the advisor would recommend without the dropped indexes, the
/// dropped index to keep.
fn workload_vetoes(
    ctx: &RuleContext<'_>,
    drops: &Drops,
    known: &BTreeMap<u32, KeepReason>,
) -> BTreeMap<u32, KeepReason> {
    let snap = ctx.snapshot;
    let dropped: BTreeSet<u32> = drops.keys().copied().collect();
    let mut vetoes = BTreeMap::new();
    for r in super::missing_index::advised_without(ctx, &dropped) {
        let columns: Vec<String> = r
            .columns
            .iter()
            .map(|c| c.strip_suffix(" DESC").unwrap_or(c).to_owned())
            .collect();
        let on_table: Vec<&Index> = snap
            .indexes
            .iter()
            .filter(|i| dropped.contains(&i.oid) && i.schema == r.schema && i.table == r.table)
            .collect();
        let leading: Vec<&Index> = on_table
            .iter()
            .copied()
            .filter(|i| i.key_columns.first().is_some_and(|c| columns.contains(c)))
            .collect();
        let pool = if leading.is_empty() {
            on_table
        } else {
            leading
        };
        let Some(best) = pool.iter().min_by_key(|i| keep_rank(i, drops)) else {
            continue;
        };
        if known.contains_key(&best.oid) || vetoes.contains_key(&best.oid) {
            continue;
        }
        let top = r.queries.iter().max_by_key(|q| q.calls);
        vetoes.insert(
            best.oid,
            KeepReason::Workload {
                columns,
                calls: r.queries.iter().map(|q| q.calls).sum(),
                query: top.map(|q| q.query.clone()).unwrap_or_default(),
            },
        );
    }
    vetoes
}

/// Decides the plan from the rules' candidate drops (steps 1–5, repeated).
pub(super) fn compute(ctx: &RuleContext<'_>, c: Candidates) -> DropPlan {
    let snap = ctx.snapshot;
    let mut vetoed: BTreeMap<u32, KeepReason> = BTreeMap::new();
    // Each round keeps at least one more index, or ends.
    let rounds =
        c.duplicates.len() + c.prefixes.len() + c.unused.len() + c.low_cardinality.len() + 1;
    let mut drops = assign(snap, &c, &vetoed);
    for _ in 0..rounds {
        let mut new = foreign_key_vetoes(snap, &drops);
        if new.is_empty() {
            new = workload_vetoes(ctx, &drops, &vetoed);
        }
        new.retain(|oid, _| !vetoed.contains_key(oid));
        if new.is_empty() {
            break;
        }
        vetoed.extend(new);
        drops = assign(snap, &c, &vetoed);
    }
    finish(&c, drops, vetoed)
}

/// The plan: each drop with what stays beside it, each kept index with why.
fn finish(c: &Candidates, drops: Drops, vetoed: BTreeMap<u32, KeepReason>) -> DropPlan {
    let mut siblings: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    for (kept, reason) in &vetoed {
        if let KeepReason::ForeignKey {
            constraints,
            dropped_beside,
            ..
        } = reason
        {
            for d in dropped_beside.iter().filter(|d| drops.contains_key(d)) {
                siblings.entry(*d).or_default().push((
                    *kept,
                    format!(
                        "stays for foreign key {}",
                        constraints
                            .iter()
                            .map(|c| format!("`{c}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
    }
    // A shorter index that was redundant with a dropped one only: it stays.
    for (short, covers) in &c.prefixes {
        if drops.contains_key(short) || vetoed.contains_key(short) {
            continue;
        }
        for cover in covers.iter().filter(|l| drops.contains_key(l)) {
            siblings.entry(*cover).or_default().push((
                *short,
                "was redundant with this one only, and stays".to_owned(),
            ));
        }
    }
    // The rule that would drop a kept index without the veto says why it stays.
    let owner =
        |oid: u32| -> &'static str {
            if c.duplicates.iter().any(|(d, _)| *d == oid) {
                DUPLICATE
            } else if c.prefixes.iter().any(|(short, covers)| {
                *short == oid && covers.iter().any(|l| !drops.contains_key(l))
            }) {
                PREFIX
            } else if c.unused.contains(&oid) {
                UNUSED
            } else {
                LOW_CARDINALITY
            }
        };
    let kept: Vec<(u32, Decision)> = vetoed
        .into_iter()
        .map(|(oid, reason)| {
            (
                oid,
                Decision::Keep(Kept {
                    rule: owner(oid),
                    reason,
                }),
            )
        })
        .collect();
    let mut decisions: BTreeMap<u32, Decision> = drops
        .into_iter()
        .map(|(oid, (rule, reason))| {
            (
                oid,
                Decision::Drop(Dropped {
                    rule,
                    reason,
                    siblings_kept: siblings.remove(&oid).unwrap_or_default(),
                }),
            )
        })
        .collect();
    decisions.extend(kept);
    DropPlan { decisions }
}

/// `name (columns)` of an index, for messages.
fn describe(i: &Index) -> String {
    format!("`{}` ({})", i.name, i.key_columns.join(", "))
}

/// The indexes that stay beside a drop, in words: "`a` (order_id) stays for foreign key
/// `fk`". `None` when none.
pub(crate) fn siblings_note(snap: &Snapshot, dropped: &Dropped) -> Option<String> {
    let parts: Vec<String> = dropped
        .siblings_kept
        .iter()
        .filter_map(|(oid, why)| Some(format!("{} {why}", describe(index(snap, *oid)?))))
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// A drop's draft with the indexes that stay beside it in `kept_indexes`.
pub(crate) fn with_siblings_kept(draft: Draft, snap: &Snapshot, dropped: &Dropped) -> Draft {
    let kept: Vec<String> = dropped
        .siblings_kept
        .iter()
        .filter_map(|(oid, _)| index(snap, *oid).map(Index::qualified_name))
        .collect();
    if kept.is_empty() {
        draft
    } else {
        draft.evidence("kept_indexes", kept)
    }
}

/// Why an index stays, in words, for a message.
fn keep_why(snap: &Snapshot, i: &Index, kept: &Kept) -> String {
    match &kept.reason {
        KeepReason::ForeignKey {
            constraints,
            referenced,
            dropped_beside,
        } => {
            let names = constraints
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let beside: Vec<String> = dropped_beside
                .iter()
                .filter_map(|o| index(snap, *o).map(describe))
                .collect();
            let left = if beside.is_empty() {
                "it is the only index".to_owned()
            } else {
                format!(
                    "once {} {} dropped, it is the only index",
                    beside.join(", "),
                    if beside.len() == 1 { "is" } else { "are" }
                )
            };
            format!(
                "{left} serving foreign key {names}: without it, each delete or key update on `{referenced}` scans `{}`",
                i.table
            )
        }
        KeepReason::Workload {
            columns,
            calls,
            query,
        } => format!(
            "the workload's statements on `{}` rely on it: without it the index advisor (IDX009) would recommend an index on ({}) for {} (`{}`)",
            i.table,
            columns.join(", "),
            units::counted(*calls, "call", "calls"),
            truncate(query, 120)
        ),
    }
}

fn truncate(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// A rule's draft on an index the plan keeps: info, no fix, why it stays in the message
/// and the recommendation, the index in `kept_indexes`.
pub(crate) fn keep(mut draft: Draft, snap: &Snapshot, i: &Index, kept: &Kept) -> Draft {
    let why = keep_why(snap, i, kept);
    draft.message.push_str(&format!("; {why}"));
    draft.fix = None;
    let draft = draft
        .severity(Severity::Info)
        .evidence("kept_indexes", vec![i.qualified_name()])
        .recommend(format!("Keep `{}`: {why}", i.name));
    match &kept.reason {
        KeepReason::ForeignKey { constraints, .. } => draft
            .evidence("kept_for", "foreign_key")
            .evidence("foreign_keys", constraints.clone()),
        KeepReason::Workload { columns, calls, .. } => draft
            .evidence("kept_for", "workload")
            .evidence("advised_columns", columns.clone())
            .evidence("statement_calls", *calls),
    }
}

/// The finding of a structural rule (IDX001, IDX002) on an index the plan keeps.
pub(crate) fn kept_draft(snap: &Snapshot, i: &Index, kept: &Kept, what: &str) -> Draft {
    let draft = Draft::new(
        ObjectRef::in_schema(ObjectKind::Index, &snap.server.database, &i.schema, &i.name),
        format!(
            "`{}` on `{}` ({}) {what}",
            i.name,
            i.table,
            i.key_columns.join(", ")
        ),
    )
    .evidence("size_bytes", i.size_bytes)
    .evidence("idx_scan", i.idx_scan)
    .evidence("definition", i.definition.clone());
    keep(draft, snap, i, kept)
}
