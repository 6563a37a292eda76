//! Helpers shared by the schema rules: integer type limits and sequence owners.

use crate::snapshot::{Column, Sequence, Snapshot};

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
