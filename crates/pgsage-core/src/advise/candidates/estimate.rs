//! Estimates without a server: selectivity from pg_stats (PostgreSQL's defaults where
//! unknown), index size from the columns' widths, and the write overhead from the table's
//! counters.

use crate::advise::model::WriteOverhead;
use crate::snapshot::{Column, Snapshot, Table};

/// `DEFAULT_EQ_SEL` in PostgreSQL's `src/include/utils/selfuncs.h`: `col = const` without
/// statistics.
pub(crate) const DEFAULT_EQ_SEL: f64 = 0.005;
/// `DEFAULT_INEQ_SEL` (selfuncs.h): `col < const` without statistics.
pub(crate) const DEFAULT_INEQ_SEL: f64 = 0.333_333_333_333_333_3;
/// `DEFAULT_RANGE_INEQ_SEL` (selfuncs.h): `col > a AND col < b` without statistics.
pub(crate) const DEFAULT_RANGE_INEQ_SEL: f64 = 0.005;

/// Bytes per page (`BLCKSZ`).
const PAGE_BYTES: f64 = 8192.0;
/// Usable bytes of a B-tree page: page header (24) and B-tree special space (16) off.
const BTREE_PAGE_USABLE: f64 = 8192.0 - 24.0 - 16.0;
/// `BTREE_DEFAULT_FILLFACTOR` (90%): leaf pages are filled to this on build.
const BTREE_FILLFACTOR: f64 = 0.9;
/// `IndexTupleData` header: the heap TID (6 bytes) and `t_info` (2 bytes).
const INDEX_TUPLE_HEADER: f64 = 8.0;
/// `ItemIdData`: the line pointer of each tuple.
const LINE_POINTER: f64 = 4.0;
/// Width assumed for a column without statistics or a fixed length.
const UNKNOWN_WIDTH: f64 = 32.0;

/// Distinct values of a column: `n_distinct`, negative meaning a fraction of the rows.
pub(crate) fn n_distinct(col: Option<&Column>, rows: f64) -> Option<f64> {
    let d = col?.n_distinct?;
    if d > 0.0 {
        Some(d)
    } else if d < 0.0 {
        Some((-d * rows).max(1.0))
    } else {
        None
    }
}

/// Selectivity of `col = const` (or a join lookup per outer row): the non-null rows over
/// the distinct values (no MCV list in the snapshot: a rare value is more selective, a
/// common one less), else `DEFAULT_EQ_SEL`.
pub(crate) fn eq_selectivity(col: Option<&Column>, rows: f64) -> f64 {
    match n_distinct(col, rows) {
        Some(d) => {
            let nulls = col.and_then(|c| c.null_frac).unwrap_or(0.0);
            ((1.0 - nulls) / d).clamp(0.0, 1.0)
        }
        None => DEFAULT_EQ_SEL,
    }
}

/// Selectivity of `col IS NULL`: `null_frac`, else PostgreSQL's default (0.005).
pub(crate) fn is_null_selectivity(col: Option<&Column>) -> f64 {
    col.and_then(|c| c.null_frac).unwrap_or(DEFAULT_EQ_SEL)
}

/// Selectivity of a range: the planner's defaults (no histogram in the snapshot).
pub(crate) fn range_selectivity(two_sided: bool) -> f64 {
    if two_sided {
        DEFAULT_RANGE_INEQ_SEL
    } else {
        DEFAULT_INEQ_SEL
    }
}

/// Bytes a column's value takes in an index tuple.
fn width(col: Option<&Column>) -> f64 {
    match col {
        Some(c) => match (c.avg_width, c.type_len) {
            (Some(w), _) if w > 0 => f64::from(w),
            (_, l) if l > 0 => f64::from(l),
            _ => UNKNOWN_WIDTH,
        },
        None => UNKNOWN_WIDTH,
    }
}

/// Estimated size of a B-tree over `rows` entries of `columns` (keys and INCLUDE): each
/// tuple is the 8-byte header plus the values, MAXALIGNed (8), plus its line pointer;
/// leaf pages filled to the default fillfactor; about one internal page per 200 leaves
/// and the metapage. Deduplication (13+) makes low-cardinality indexes smaller than this.
pub(crate) fn index_size_bytes(rows: f64, columns: &[Option<&Column>]) -> i64 {
    let data: f64 = columns.iter().map(|c| width(*c)).sum();
    let tuple = ((INDEX_TUPLE_HEADER + data) / 8.0).ceil() * 8.0 + LINE_POINTER;
    let per_page = (BTREE_PAGE_USABLE * BTREE_FILLFACTOR / tuple)
        .floor()
        .max(1.0);
    let leaves = (rows.max(0.0) / per_page).ceil().max(1.0);
    let pages = leaves + (leaves / 200.0).ceil() + 1.0;
    (pages * PAGE_BYTES) as i64
}

/// Seconds the table counters cover and the counters' deltas over them: the sampled
/// window when the snapshot has a baseline (as `RuleContext::basis`), else since the
/// database's statistics reset or the server's start, whichever is later.
fn write_counters(snap: &Snapshot, table: &Table) -> Option<(f64, f64, f64, &'static str)> {
    let ins_upd_del = |t: &Table| {
        (
            (t.n_tup_ins + t.n_tup_del) as f64,
            t.n_tup_upd as f64,
            t.n_tup_hot_upd as f64,
        )
    };
    let (ins_del, upd, hot) = ins_upd_del(table);
    if let Some(seconds) = snap.window_seconds() {
        let before = snap
            .baseline
            .as_ref()?
            .tables
            .iter()
            .find(|t| t.oid == table.oid)?;
        let (b_ins_del, b_upd, b_hot) = ins_upd_del(before);
        return Some((
            seconds,
            (ins_del - b_ins_del).max(0.0) + (upd - b_upd - (hot - b_hot)).max(0.0),
            (hot - b_hot).max(0.0),
            "over the sampled interval",
        ));
    }
    let start = snap.server.started_at;
    let reset = snap
        .current_database()
        .and_then(|d| d.stats_reset)
        .map_or(start, |r| r.max(start));
    let seconds = snap.age_seconds(reset);
    (seconds > 0.0).then_some((
        seconds,
        ins_del + (upd - hot).max(0.0),
        hot,
        "since the statistics reset",
    ))
}

/// The cost of one more index on `table`: index entries per hour from its inserts,
/// non-HOT updates and deletes; `hot_share_at_risk` is the share of the workload's
/// UPDATE executions on the table that set a column of the index (those updates cannot
/// be HOT any more), when there are such updates.
pub(crate) fn write_overhead(
    snap: &Snapshot,
    table: &Table,
    existing_indexes: usize,
    hot_share_at_risk: Option<f64>,
) -> Option<WriteOverhead> {
    let (seconds, index_writes, hot, basis) = write_counters(snap, table)?;
    let per_hour = 3600.0 / seconds;
    let index_writes_per_hour = index_writes * per_hour;
    let hot_at_risk = hot_share_at_risk.map(|s| hot * per_hour * s.clamp(0.0, 1.0));
    let existing = format!(
        "next to {} existing index{}",
        crate::units::count(existing_indexes),
        if existing_indexes == 1 { "" } else { "es" }
    );
    // Counters a few minutes old (a fresh server, a reset, a bulk load just done) make an
    // hourly rate of a one-off: say what was counted instead.
    let mut note = if seconds < MIN_RATE_SECONDS && snap.window_seconds().is_none() {
        format!(
            "{} index entries would have been added in the {} {basis} (inserts, non-HOT updates, deletes; too short a basis for an hourly rate), {existing}",
            crate::units::number(index_writes),
            crate::units::duration(seconds),
        )
    } else {
        format!(
            "about {} index entries per hour to add (inserts, non-HOT updates, deletes {basis}, {}), {existing}",
            crate::units::number(index_writes_per_hour),
            crate::units::duration(seconds),
        )
    };
    if let Some(h) = hot_at_risk.filter(|h| *h > 0.0) {
        note.push_str(&format!(
            "; about {} HOT updates per hour would stop being HOT (they set an indexed column)",
            crate::units::number(h)
        ));
    }
    Some(WriteOverhead {
        index_writes_per_hour,
        existing_indexes,
        hot_updates_at_risk_per_hour: hot_at_risk,
        note,
    })
}

/// Counters since a reset younger than this give counts, not an hourly rate.
const MIN_RATE_SECONDS: f64 = 3600.0;

#[cfg(test)]
mod tests {
    use super::*;
    use pgsage_testkit::scenario::fixture_path;

    fn usage() -> Snapshot {
        Snapshot::load(fixture_path("indexing", "usage")).unwrap_or_else(|e| {
            panic!("{e} (capture the fixtures with scripts/capture-fixtures.sh)")
        })
    }

    fn column<'a>(s: &'a Snapshot, table: &str, name: &str) -> &'a Column {
        s.columns
            .iter()
            .find(|c| c.table == table && c.name == name && !c.of_index)
            .expect("column in the fixture")
    }

    #[test]
    fn selectivity_from_pg_stats() {
        let s = usage();
        // 20 000 rows, order_id = 1 + g % 1990.
        let order = column(&s, "sale_order_line", "order_id");
        let sel = eq_selectivity(Some(order), 20_000.0);
        assert!((sel - 1.0 / 1990.0).abs() < 1e-4, "{sel}");
        // A unique column (n_distinct = -1): one row.
        let id = column(&s, "sale_order_line", "id");
        let sel = eq_selectivity(Some(id), 20_000.0);
        assert!((sel - 1.0 / 20_000.0).abs() < 1e-9, "{sel}");
        // One value for every row (state = 'done'): returns everything.
        let state = column(&s, "stock_picking", "state");
        assert!(eq_selectivity(Some(state), 40_000.0) > 0.99);
        // Without statistics: PostgreSQL's defaults.
        assert_eq!(eq_selectivity(None, 1e6), DEFAULT_EQ_SEL);
        assert_eq!(range_selectivity(false), DEFAULT_INEQ_SEL);
        assert_eq!(range_selectivity(true), DEFAULT_RANGE_INEQ_SEL);
    }

    #[test]
    fn size_is_close_to_a_real_index() {
        let s = usage();
        // stock_picking_partner_idx: a real int4 index on 40 000 rows (500 values).
        let real = s
            .indexes
            .iter()
            .find(|i| i.name == "stock_picking_partner_idx")
            .expect("index");
        let partner = column(&s, "stock_picking", "partner_id");
        let est = index_size_bytes(40_000.0, &[Some(partner)]);
        // Deduplication makes the real one smaller; the estimate is an upper bound of
        // the right order (no deduplication: 40 000 × 16 bytes / 90% ≈ 88 pages).
        assert!(est >= real.size_bytes, "{est} vs {}", real.size_bytes);
        assert!((700_000..=1_000_000).contains(&est), "{est}");
        // The primary key (unique, no deduplication) is close to the estimate.
        let pkey = s
            .indexes
            .iter()
            .find(|i| i.name == "stock_picking_pkey")
            .expect("pkey");
        let id = column(&s, "stock_picking", "id");
        let est = index_size_bytes(40_000.0, &[Some(id)]) as f64;
        let ratio = est / pkey.size_bytes as f64;
        assert!((0.8..1.25).contains(&ratio), "{est} vs {}", pkey.size_bytes);
    }

    #[test]
    fn write_overhead_counts_table_writes() {
        let s = usage();
        let t = s
            .tables
            .iter()
            .find(|t| t.name == "mail_message")
            .expect("table");
        let w = write_overhead(&s, t, 4, Some(0.5)).expect("counters");
        assert!(w.index_writes_per_hour > 0.0, "{w:?}");
        assert!(w.note.contains("4 existing indexes"), "{}", w.note);
    }
}
