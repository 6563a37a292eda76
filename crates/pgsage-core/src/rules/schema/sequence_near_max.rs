use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Sequence;
use crate::units;

use super::common::{exhaustion, hidden_last_values, integer_type_max, owner_column, used_pct};

declare_rule! {
    /// ## What it detects
    /// Ascending, non-cycling sequences whose last value has used at least `warning_pct` %
    /// (critical from `critical_pct` %) of their maximum: the type's limit
    /// (`smallint` 32 767, `integer` 2 147 483 647) or a lower explicit `MAXVALUE`.
    /// Integer columns fed by a wider sequence, which overflow before the sequence does,
    /// are SCH002.
    ///
    /// ## Why it matters
    /// When the sequence reaches its maximum, `nextval` fails and so does every insert
    /// into the table it feeds: an outage of the application's main write path, usually
    /// on a busy day since that is when ids are consumed fastest.
    ///
    /// ## How to fix
    /// Widen the sequence: `ALTER SEQUENCE … AS bigint` (its maximum follows the type when
    /// it was the old type's limit; otherwise add `NO MAXVALUE`). It is a catalog change,
    /// instant. If the owning column is `integer` or `smallint`, widen it first with
    /// `ALTER TABLE … ALTER COLUMN … TYPE bigint`, which **rewrites the table and its
    /// indexes under an ACCESS EXCLUSIVE lock** (plan a maintenance window, or add a
    /// `bigint` column, backfill it in batches and swap), together with the columns of
    /// foreign keys that reference it.
    ///
    /// ## Thresholds
    /// - `warning_pct` (default 85): share of the maximum used that warns.
    /// - `critical_pct` (default 95): share that is critical.
    ///
    /// Sequences whose last value the role cannot read (`pg_monitor` has no `USAGE` on
    /// other owners' sequences) are listed as a gap by the collector; when none of the
    /// readable ones is flagged, the rule is skipped with that reason rather than reported
    /// as healthy.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/sql-altersequence.html>
    /// - <https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-INT>
    /// - <https://www.postgresql.org/docs/current/sql-altertable.html>
    pub struct SequenceNearMax {
        id: "SCH001",
        name: "sequence-near-max",
        pack: "schema",
        title: "Sequence close to its maximum",
        params: {
            warning_pct: f64 = ("%", "Share of the maximum used that warns"),
            critical_pct: f64 = ("%", "Share of the maximum used that is critical"),
        },
    }
}

/// How much of its own maximum an ascending, non-cycling sequence has used, in %.
pub(crate) fn sequence_used_pct(seq: &Sequence) -> Option<f64> {
    if seq.cycle || seq.increment <= 0 {
        return None;
    }
    Some(used_pct(seq.last_value?, seq.max_value))
}

impl SnapshotRule for SequenceNearMax {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let warning = p.warning_pct;
        let critical = p.critical_pct;
        let snap = ctx.snapshot;
        let mut drafts = Vec::new();
        for seq in &snap.sequences {
            let Some(pct) = sequence_used_pct(seq) else {
                continue;
            };
            if pct < warning {
                continue;
            }
            let last = seq.last_value.unwrap_or_default();
            let left = seq.max_value - last;
            let seq_name = crate::sql::qualified(&seq.schema, &seq.name);
            let type_max = integer_type_max(&seq.data_type);
            let explicit_max = type_max.is_some_and(|m| seq.max_value < m);
            let owner = owner_column(snap, seq);
            let narrow_column =
                owner.filter(|c| matches!(c.data_type.as_str(), "integer" | "smallint"));
            let mut steps = Vec::new();
            if let Some(col) = narrow_column {
                let table = crate::sql::qualified(&col.schema, &col.table);
                steps.push(format!(
                    "-- rewrites {table} and its indexes under an ACCESS EXCLUSIVE lock; widen referencing foreign key columns too\nALTER TABLE {table} ALTER COLUMN {} TYPE bigint;",
                    crate::sql::quote_ident(&col.name)
                ));
            }
            if seq.data_type != "bigint" {
                steps.push(format!("ALTER SEQUENCE {seq_name} AS bigint;"));
            }
            if explicit_max || seq.data_type == "bigint" {
                steps.push(format!("ALTER SEQUENCE {seq_name} NO MAXVALUE;"));
            }
            let owned = seq
                .owned_by
                .as_deref()
                .map(|o| {
                    format!(
                        ", feeding `{o}` ({})",
                        seq.owned_by_type.as_deref().unwrap_or("?")
                    )
                })
                .unwrap_or_default();
            // Values are used by the inserts into the table the sequence feeds.
            let rate = owner.and_then(|c| exhaustion(ctx, &c.schema, &c.table, left));
            let mut draft = Draft::new(
                ObjectRef::in_schema(ObjectKind::Sequence, &snap.server.database, &seq.schema, &seq.name),
                format!(
                    "Sequence `{}` ({}{owned}) is at {}, {} of its maximum {}{}: {} values left before inserts fail",
                    seq.name,
                    seq.data_type,
                    units::count(last),
                    units::percent(pct),
                    units::count(seq.max_value),
                    if explicit_max { " (an explicit MAXVALUE)" } else { "" },
                    units::count(left)
                ) + &rate.as_ref().map_or(String::new(), |r| r.sentence("values")),
            )
            .severity(if pct >= critical { Severity::Critical } else { Severity::Warning })
            .evidence("last_value", last)
            .evidence("max_value", seq.max_value)
            .evidence("used_pct", pct)
            .evidence("values_left", left)
            .evidence("data_type", seq.data_type.clone())
            .evidence("owned_by", seq.owned_by.clone().unwrap_or_default())
            .evidence("owned_by_type", seq.owned_by_type.clone().unwrap_or_default())
            .recommend(if narrow_column.is_some() {
                format!(
                    "Widen `{}` to bigint (a table rewrite: plan a window or an online column swap), then the sequence",
                    seq.owned_by.as_deref().unwrap_or_default()
                )
            } else {
                format!("Widen `{}` to bigint (instant, catalog only)", seq.name)
            })
            .fix(steps.join("\n"), "none", "last_value in pg_sequences and insert errors");
            if let Some(r) = &rate {
                draft = r.evidence(draft);
            }
            drafts.push(draft);
        }
        // Nothing flagged, but some values were not readable: not a healthy verdict.
        if drafts.is_empty() {
            if let Some(skip) = hidden_last_values(snap, |s| !s.cycle && s.increment > 0) {
                return Err(skip);
            }
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::report::Severity;
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_nearly_exhausted_sequence() {
        let f = assert_fires("SCH001", "public.invoice_number_seq");
        let of = |name: &str| {
            f.iter()
                .find(|f| f.object.name == name)
                .expect("present")
                .severity
        };
        assert_eq!(of("invoice_number_seq"), Severity::Warning);
        assert_fires("SCH001", "public.stock_lot_id_seq");
        assert_eq!(of("stock_lot_id_seq"), Severity::Critical);
    }

    #[test]
    fn quiet_on_sequences_with_room() {
        assert_quiet("SCH001");
    }
}

#[cfg(test)]
mod exhaustion_tests {
    use crate::rules::testing::case_findings;

    #[test]
    fn the_time_left_comes_from_the_measured_insert_rate() {
        let findings = case_findings("schema", "problems", "SCH001");
        let lot = findings
            .iter()
            .find(|f| f.object.name == "stock_lot_id_seq")
            .expect("stock_lot_id_seq flagged");
        let number = |k: &str| {
            lot.evidence
                .get(k)
                .and_then(serde_json::Value::as_f64)
                .unwrap_or_else(|| panic!("no {k} in {:#?}", lot.evidence))
        };
        let per_hour = number("inserts_per_hour");
        let left = number("values_left");
        let seconds = number("exhausted_in_s");
        assert!(per_hour > 0.0);
        let expected = left / (per_hour / 3600.0);
        assert!(
            (seconds - expected).abs() <= expected * 0.01 + 1.0,
            "{seconds} s left, expected {expected}"
        );
        assert!(lot.message.contains("inserts per hour"), "{}", lot.message);
        // A sequence no table owns has no insert rate to measure.
        let invoice = findings
            .iter()
            .find(|f| f.object.name == "invoice_number_seq")
            .expect("invoice_number_seq flagged");
        assert!(!invoice.evidence.contains_key("exhausted_in_s"));
    }

    #[test]
    fn no_time_left_is_extrapolated_from_a_short_window() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/fixtures/schema/problems.json");
        let snap = crate::snapshot::Snapshot::load(&path).expect("fixture");
        let shipped = crate::config::RuleConfig::shipped().expect("packs");
        let report = crate::engine::audit(&snap, &shipped);
        let lot = report
            .findings
            .iter()
            .find(|f| f.rule == "SCH001" && f.object.name == "stock_lot_id_seq")
            .expect("stock_lot_id_seq flagged");
        assert!(!lot.evidence.contains_key("exhausted_in_s"), "{lot:#?}");
        assert!(!lot.message.contains("per hour"), "{}", lot.message);
    }
}
