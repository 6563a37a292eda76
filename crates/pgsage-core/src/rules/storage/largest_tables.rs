use crate::report::{ObjectKind, ObjectRef};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Table;
use crate::units;

use super::binary_data_in_tables::total_bytes;

declare_rule! {
    /// ## What it detects
    /// The largest tables of the connected database (heap, TOAST and indexes; partitions
    /// and materialized views each on their own), at most `top_n` of them and only those
    /// of at least `min_table_bytes`, with their share of the database. Informational: a
    /// small database produces nothing.
    ///
    /// ## Why it matters
    /// A few tables usually make most of an ERP database (message and tracking history,
    /// stock moves, accounting lines, logs, attachments). They drive backup and restore
    /// times, vacuum and index build durations, and the cache the server needs; knowing
    /// them is where retention, archiving and partitioning decisions start.
    ///
    /// ## How to fix
    /// Nothing is wrong as such. Check what makes each table grow: purge or archive old
    /// rows the application no longer needs (e.g. `mail_message`, `ir_logging`, old
    /// `stock_move` history), look for bloat (dead rows, `pgstattuple`), and consider
    /// partitioning by date when a table keeps growing and old rows are rarely read.
    ///
    /// ## Thresholds
    /// - `min_table_bytes` (default 10737418240, 10 GB): ignore smaller tables.
    /// - `top_n` (default 5): report at most this many tables.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-DBSIZE>
    /// - <https://www.postgresql.org/docs/current/ddl-partitioning.html>
    pub struct LargestTables {
        id: "STO002",
        name: "largest-tables",
        pack: "storage",
        title: "Largest tables",
        params: {
            min_table_bytes: f64 = ("bytes", "Ignore tables smaller than this (heap + TOAST + indexes)"),
            top_n: f64 = ("entries", "Report at most this many tables"),
        },
    }
}

/// The tables of at least `min_bytes`, largest first, at most `top_n`.
fn largest(tables: &[Table], min_bytes: f64, top_n: usize) -> Vec<&Table> {
    let mut big: Vec<&Table> = tables
        .iter()
        .filter(|t| t.kind != "p" && total_bytes(t) as f64 >= min_bytes)
        .collect();
    big.sort_by_key(|t| std::cmp::Reverse(total_bytes(t)));
    big.truncate(top_n);
    big
}

impl SnapshotRule for LargestTables {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_bytes = p.min_table_bytes;
        let top_n = p.top_n.max(0.0) as usize;
        let snap = ctx.snapshot;
        let db_bytes = snap.current_database().and_then(|d| d.size_bytes);
        let mut drafts = Vec::new();
        for (rank, t) in largest(&snap.tables, min_bytes, top_n)
            .into_iter()
            .enumerate()
        {
            let total = total_bytes(t);
            let share = db_bytes
                .filter(|d| *d > 0)
                .map(|d| 100.0 * total as f64 / d as f64);
            let mut draft = Draft::new(
                ObjectRef::in_schema(ObjectKind::Table, &snap.server.database, &t.schema, &t.name),
                format!(
                    "`{}` is the {}largest table: {} (table {}, TOAST {}, indexes {}){}",
                    t.name,
                    if rank == 0 {
                        String::new()
                    } else {
                        format!("{} ", ordinal(rank + 1))
                    },
                    units::bytes(total),
                    units::bytes(t.heap_bytes),
                    units::bytes(t.toast_bytes),
                    units::bytes(t.indexes_bytes),
                    share.map_or(String::new(), |s| format!(
                        ", {} of the database",
                        units::percent(s)
                    ))
                ),
            )
            .evidence("rank", rank + 1)
            .evidence("total_bytes", total)
            .evidence("heap_bytes", t.heap_bytes)
            .evidence("toast_bytes", t.toast_bytes)
            .evidence("indexes_bytes", t.indexes_bytes)
            .evidence("n_live_tup", t.n_live_tup)
            .evidence("n_dead_tup", t.n_dead_tup);
            if let (Some(s), Some(d)) = (share, db_bytes) {
                draft = draft
                    .evidence("database_bytes", d)
                    .evidence("share_of_database_pct", (s * 10.0).round() / 10.0);
            }
            drafts.push(draft.recommend(
                "Know what makes it grow: purge or archive rows the application no longer needs, check for bloat, and consider partitioning by date if it keeps growing while old rows are rarely read",
            ));
        }
        Ok(drafts)
    }
}

/// `1st`, `2nd`, `3rd`, `4th`… (only small ranks are used).
fn ordinal(n: usize) -> String {
    match n {
        1 => "1st".into(),
        2 => "2nd".into(),
        3 => "3rd".into(),
        n => format!("{n}th"),
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_the_largest_tables() {
        assert_fires("STO002", "public.ir_attachment");
        assert_fires("STO002", "public.mail_message");
    }

    #[test]
    fn quiet_on_a_small_database() {
        assert_quiet("STO002");
    }

    #[test]
    fn ordinals() {
        assert_eq!(super::ordinal(2), "2nd");
        assert_eq!(super::ordinal(5), "5th");
    }
}
