//! Helpers shared by the schema rules: integer type limits and sequence owners.

use crate::knowledge::counters::Verdict;
use crate::rules::{Draft, RuleContext};
use crate::snapshot::{Column, Sequence, Snapshot};
use crate::units;

/// The largest value of an integer type as `format_type` prints it; `None` for other
/// types (numeric, text, …), which a sequence cannot overflow.
pub(crate) fn integer_type_max(data_type: &str) -> Option<i64> {
    match data_type {
        "smallint" => Some(i16::MAX as i64),
        "integer" => Some(i32::MAX as i64),
        "bigint" => Some(i64::MAX),
        _ => None,
    }
}

/// The column that owns a sequence (`owned_by` is `table.column`, without schema): the
/// one in the sequence's schema when several tables share the name.
pub(crate) fn owner_column<'a>(snap: &'a Snapshot, seq: &Sequence) -> Option<&'a Column> {
    let owned = seq.owned_by.as_deref()?;
    let candidates: Vec<&Column> = owned
        .match_indices('.')
        .flat_map(|(dot, _)| {
            let (table, column) = (&owned[..dot], &owned[dot + 1..]);
            snap.columns
                .iter()
                .filter(move |c| c.table == table && c.name == column)
        })
        .collect();
    candidates
        .iter()
        .find(|c| c.schema == seq.schema)
        .or_else(|| candidates.first())
        .copied()
}

/// `value / max` in %, one decimal.
/// When the collector could not read some sequences' last values (the role lacks `SELECT`
/// or `USAGE` on them, as `pg_monitor` does on other owners' sequences, or another session
/// locked them): a skip naming how many of the sequences that matter (`relevant`) have no
/// last value, for a rule that found nothing. `None` when every relevant value was read.
/// A sequence never used has no last value either, so the count is an upper bound.
pub(crate) fn hidden_last_values(
    snap: &Snapshot,
    relevant: impl Fn(&Sequence) -> bool,
) -> Option<crate::rules::Skip> {
    let gap = snap.gap("sequence last values")?;
    let hidden = snap
        .sequences
        .iter()
        .filter(|s| s.last_value.is_none() && relevant(s))
        .count();
    (hidden > 0).then(|| {
        crate::rules::Skip::because(format!(
            "the last values of up to {hidden} sequence(s) could not be read, so how close they are to their maximum is unknown ({}); grant the collecting role USAGE on them (or SELECT on the tables' sequences) to judge",
            gap.why
        ))
    })
}

pub(crate) fn used_pct(value: i64, max: i64) -> f64 {
    if max <= 0 {
        return 0.0;
    }
    (1000.0 * value.max(0) as f64 / max as f64).round() / 10.0
}

/// How fast the values of a key run out: the rows inserted into the table the sequence
/// feeds (one value per row), per second over the audit's window — only when the window
/// is long enough for a rate (else the time left would be extrapolated from minutes).
pub(crate) struct Exhaustion {
    /// Rows inserted per second.
    pub inserts_per_s: f64,
    /// Seconds until `left` values are used at that rate.
    pub seconds_left: f64,
    /// The window the rate was measured over, in seconds.
    pub window_s: f64,
}

/// The [`Exhaustion`] of `left` values of a key on `schema.table`.
pub(crate) fn exhaustion(
    ctx: &RuleContext<'_>,
    schema: &str,
    table: &str,
    left: i64,
) -> Option<Exhaustion> {
    if ctx.stats_window().unsure(Verdict::Rate).is_some() {
        return None;
    }
    let t = ctx
        .snapshot
        .tables
        .iter()
        .find(|t| t.schema == schema && t.name == table)?;
    let inserted = crate::rules::indexing::table_delta(ctx, t, |t| t.n_tup_ins);
    let window_s = ctx.basis().seconds();
    if inserted <= 0 || window_s <= 0.0 {
        return None;
    }
    let inserts_per_s = inserted as f64 / window_s;
    Some(Exhaustion {
        inserts_per_s,
        seconds_left: left.max(0) as f64 / inserts_per_s,
        window_s,
    })
}

impl Exhaustion {
    /// `; at the 1,200 inserts per hour measured over 3 d, they last about 45 d`.
    pub(crate) fn sentence(&self, noun: &str) -> String {
        format!(
            "; at the {} inserts per hour measured over {}, the {noun} last about {}",
            units::count(self.inserts_per_s * 3600.0),
            units::duration(self.window_s),
            units::duration(self.seconds_left)
        )
    }

    /// The rate and the time left as evidence.
    pub(crate) fn evidence(&self, draft: Draft) -> Draft {
        draft
            .evidence("inserts_per_hour", (self.inserts_per_s * 3600.0).round())
            .evidence("exhausted_in_s", self.seconds_left.round())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_limits() {
        assert_eq!(integer_type_max("integer"), Some(2_147_483_647));
        assert_eq!(integer_type_max("smallint"), Some(32_767));
        assert_eq!(integer_type_max("numeric"), None);
        assert_eq!(used_pct(2_000_000_000, 2_147_483_647), 93.1);
    }
}
