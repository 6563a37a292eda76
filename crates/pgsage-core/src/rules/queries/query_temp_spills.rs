use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::sql::quote_literal;
use crate::units;

use super::{base_evidence, query_object, round1};

const MIB: f64 = 1024.0 * 1024.0;

declare_rule! {
    /// ## What it detects
    /// Queries that wrote at least `min_temp_mb` of temporary files over the capture
    /// (sorts, hashes and materializations that did not fit in `work_mem`), at least
    /// `min_temp_mb_per_call` per execution on average.
    ///
    /// ## Why it matters
    /// A spill turns an in-memory sort or hash into disk writes and reads: the query gets
    /// several times slower, and many spilling queries at once saturate the disks. The
    /// server-wide fix (raising `work_mem` for everyone, MEM005) multiplies memory by every
    /// connection; per query, the memory can be given where it is needed.
    ///
    /// ## How to fix
    /// Give the query the memory it needs, only where it runs: `SET LOCAL work_mem` in its
    /// transaction, or `ALTER ROLE … SET work_mem` for the reporting role that runs it
    /// (the suggested value is twice the temp data per execution, rounded up). Or make it
    /// need less: an index that delivers the rows in order (no sort), fewer columns, a
    /// narrower `WHERE`. Watch `temp_blks_written` in pg_stat_statements afterwards.
    ///
    /// ## Thresholds
    /// - `min_temp_mb` (default 1024): temporary data written over the capture, in MB.
    /// - `min_temp_mb_per_call` (default 8): per execution, in MB.
    ///
    /// pg_stat_statements counts temp blocks; in a log capture, the `temporary file` lines
    /// (`log_temp_files`) with their statement are attributed to it. Skipped when the
    /// capture has neither.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-WORK-MEM>
    /// - <https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-TEMP-FILES>
    pub struct TempSpills {
        id: "QRY005",
        name: "query-temp-spills",
        pack: "queries",
        title: "A query spills to temporary files",
        params: {
            min_temp_mb: f64 = ("MB", "Temporary data written over the capture"),
            min_temp_mb_per_call: f64 = ("MB", "Temporary data per execution"),
        },
    }
}

/// `work_mem` that would hold twice the temp data per execution, as a setting value.
fn suggested_work_mem(per_call_bytes: f64) -> String {
    let mb = (2.0 * per_call_bytes / MIB).ceil().max(4.0) as u64;
    units::setting_bytes(mb.next_power_of_two() << 20)
}

impl WorkloadRule for TempSpills {
    fn meta(&self) -> &'static crate::rules::RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip> {
        let w = ctx.workload;
        let p: Params = ctx.params()?;
        let min_total = p.min_temp_mb * MIB;
        let min_per_call = p.min_temp_mb_per_call * MIB;
        if !w.queries.is_empty() && w.queries.iter().all(|q| q.temp_bytes.is_none()) {
            return Err(Skip::because(
                "the capture has no temporary file sizes per query (set log_temp_files = 0 for logs, or use pg_stat_statements)",
            ));
        }
        Ok(w
            .queries
            .iter()
            // Maintenance (CREATE INDEX, VACUUM, …) is not a query to tune: its memory is
            // maintenance_work_mem and its reads are the point.
            .filter(|q| super::is_dml(q))
            .filter_map(|q| {
                let bytes = q.temp_bytes? as f64;
                let per_call = bytes / q.calls.max(1) as f64;
                (bytes >= min_total && per_call >= min_per_call).then_some((q, bytes, per_call))
            })
            .map(|(q, bytes, per_call)| {
                let value = suggested_work_mem(per_call);
                let d = Draft::new(
                    query_object(q),
                    format!(
                        "`{}` wrote {} of temporary files ({} per call)",
                        super::short_text(&q.query),
                        units::bytes(bytes),
                        units::bytes(per_call)
                    ),
                )
                .evidence("temp_written_mb", round1(bytes / MIB))
                .evidence("temp_per_call_mb", round1(per_call / MIB))
                .evidence("suggested_work_mem", value.as_str());
                let role = q.users.first().map(|u| u.name.clone()).filter(|u| u != "?");
                let sql = match &role {
                    Some(r) => format!(
                        "-- in the transaction that runs it:\nSET LOCAL work_mem = {};\n-- or for the role that runs it:\nALTER ROLE {} SET work_mem = {};",
                        quote_literal(&value),
                        crate::sql::quote_ident(r),
                        quote_literal(&value)
                    ),
                    None => format!(
                        "-- in the transaction that runs it:\nSET LOCAL work_mem = {};",
                        quote_literal(&value)
                    ),
                };
                base_evidence(d, q, w)
                    .recommend(format!(
                        "Give this query about {value} of work_mem where it runs (SET LOCAL in its transaction, or for its role) rather than raising work_mem for every connection; or avoid the sort/hash with an index that returns rows in order"
                    ))
                    .fix(sql, "none", "temp_blks_written of the query in pg_stat_statements, and memory use")
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::suggested_work_mem;
    use crate::rules::testing::{assert_fires, assert_quiet};
    use crate::workload::fingerprint::fingerprint;

    #[test]
    fn fires_on_a_spilling_sort() {
        assert_fires(
            "QRY005",
            &fingerprint(super::super::tests_support::SPILL_QUERY).to_string(),
        );
    }

    #[test]
    fn quiet_when_sorts_fit() {
        assert_quiet("QRY005");
    }

    #[test]
    fn work_mem_suggestion_holds_twice_the_spill() {
        assert_eq!(suggested_work_mem(1_000_000.0), "4MB");
        assert_eq!(suggested_work_mem(20.0 * 1024.0 * 1024.0), "64MB");
        assert_eq!(suggested_work_mem(700.0 * 1024.0 * 1024.0), "2GB");
    }
}
