//! The `indexing` pack: duplicate, redundant, unused and invalid indexes, unindexed
//! foreign keys and missing indexes.

mod common;

pub(crate) use common::table_delta;
pub(crate) use missing_index::index_advice;
mod duplicate_index;
pub(crate) mod index_bloat;
mod index_drops;
mod invalid_index;
mod low_cardinality_index;
mod missing_index;
mod redundant_prefix_index;
mod seq_scan_heavy_table;
mod unindexed_foreign_key;
mod unused_index;

pub use duplicate_index::DuplicateIndex;
pub use index_bloat::IndexBloat;
pub use invalid_index::InvalidIndex;
pub use low_cardinality_index::LowCardinalityIndex;
pub use missing_index::MissingIndex;
pub use redundant_prefix_index::RedundantPrefixIndex;
pub use seq_scan_heavy_table::SeqScanHeavyTable;
pub use unindexed_foreign_key::UnindexedForeignKey;
pub use unused_index::UnusedIndex;

/// This pack's rules.
pub(crate) static RULES: &[super::Rule] = &[
    super::Rule::Snapshot(&DuplicateIndex),
    super::Rule::Snapshot(&RedundantPrefixIndex),
    super::Rule::Snapshot(&UnusedIndex),
    super::Rule::Snapshot(&InvalidIndex),
    super::Rule::Snapshot(&UnindexedForeignKey),
    super::Rule::Snapshot(&SeqScanHeavyTable),
    super::Rule::Snapshot(&LowCardinalityIndex),
    super::Rule::Snapshot(&IndexBloat),
    super::Rule::Snapshot(&MissingIndex),
];

/// The audit's index-drop plan ([`crate::rules::drop_plan`]), computed on first use from
/// the drops IDX001, IDX002, IDX003 and IDX007 would propose with their parameters (see
/// [`index_drops`]). Here, above the rules and the plan, so that neither depends on the
/// other's module.
pub(crate) fn drop_plan<'a>(ctx: &super::RuleContext<'a>) -> &'a super::drop_plan::DropPlan {
    ctx.views
        .index_drops
        .get_or_init(|| index_drops::compute(ctx, drop_candidates(ctx)))
}

/// A rule's context with its own parameters, when it runs in this audit.
fn rule_context<'a>(ctx: &super::RuleContext<'a>, id: &str) -> Option<super::RuleContext<'a>> {
    if !ctx.config.is_enabled(id) {
        return None;
    }
    let settings = ctx.config.rules.get(id)?;
    Some(super::RuleContext {
        snapshot: ctx.snapshot,
        host: ctx.host,
        params: &settings.params,
        min_stats_age_seconds: ctx.min_stats_age_seconds,
        config: ctx.config,
        views: ctx.views,
    })
}

/// The drops each enabled rule would propose.
fn drop_candidates(ctx: &super::RuleContext<'_>) -> index_drops::Candidates {
    let snap = ctx.snapshot;
    let mut c = index_drops::Candidates::default();
    if ctx.config.is_enabled(index_drops::DUPLICATE) {
        c.duplicates = duplicate_index::duplicate_copies(&snap.indexes)
            .into_iter()
            .map(|(dup, keep)| (dup.oid, keep.oid))
            .collect();
    }
    if ctx.config.is_enabled(index_drops::PREFIX) {
        let mut prefixes = redundant_prefix_index::prefix_candidates(&snap.indexes);
        // Longest first: a covering index's own fate is decided before its prefixes'.
        prefixes.sort_by_key(|(short, _)| {
            std::cmp::Reverse((short.key_columns.len(), short.include_columns.len()))
        });
        c.prefixes = prefixes
            .into_iter()
            .map(|(short, covers)| (short.oid, covers.iter().map(|l| l.oid).collect()))
            .collect();
    }
    if let Some(rc) = rule_context(ctx, index_drops::UNUSED) {
        // Unsure verdicts (a window too short) propose no drop: not in the plan.
        let unsure = rc
            .stats_window()
            .unsure(crate::knowledge::counters::Verdict::AbsenceOfUse)
            .is_some();
        if let Ok(found) =
            unused_index::candidates(&rc).map(|f| if unsure { Vec::new() } else { f })
        {
            c.unused = found.iter().map(|f| f.index.oid).collect();
        }
    }
    if let Some(rc) = rule_context(ctx, index_drops::LOW_CARDINALITY) {
        let unsure = low_cardinality_index::unsure_window(&rc).is_some();
        if let Ok((found, _)) = low_cardinality_index::candidates(&rc).map(|(f, h)| {
            if unsure {
                (Vec::new(), h)
            } else {
                (f, h)
            }
        }) {
            c.low_cardinality = found.iter().map(|f| f.index.oid).collect();
        }
    }
    c
}
