//! Bloat estimates from planner statistics, shared by VAC009 (tables) and IDX008 (btree
//! indexes). Pure functions, no snapshot access.
//!
//! # Method
//!
//! The size a relation would have right after a rewrite (`VACUUM FULL`, `REINDEX`) is
//! computed from the number of rows PostgreSQL recorded (`pg_class.reltuples`) and the
//! average stored row, built column by column from `pg_stats` the way PostgreSQL lays a
//! tuple out (`heap_fill_tuple`, `index_form_tuple`):
//!
//! - **Columns**: a column is present with probability `1 − null_frac` and then takes
//!   `avg_width` bytes (`pg_stats` measures the stored width of non-null values: short
//!   varlenas with their 1-byte header, compressed or TOAST-pointer width for toasted
//!   ones). `avg_width` is truncated to an integer, so varlenas get +0.5 byte. Statistics
//!   of index expressions measure freshly computed values, with a 4-byte header that the
//!   index stores as 1 byte when short: −3 bytes.
//! - **Alignment**: the offset within the tuple is tracked as a probability distribution
//!   over its residue modulo 8. A fixed-width value is aligned to its type's `attalign`;
//!   a varlena longer than 126 bytes (4-byte header) too; a short varlena is not aligned.
//!   A varlena's exact length is unknown, so the layout is computed twice — lengths
//!   spread (any end offset) and lengths constant (the rounded average, as for codes and
//!   hashes) — and the larger row is kept: padding is never underestimated, since a row
//!   estimated too small reads as bloat.
//! - **Heap tuple**: 23-byte header plus a null bitmap of one bit per attribute (dropped
//!   ones included) when the row has a null (probability `1 − Π(1 − null_frac)`), rounded
//!   up to 8 (`MAXALIGN`); the data; the whole tuple rounded up to 8; a 4-byte line
//!   pointer.
//! - **Heap page**: block size minus the 24-byte page header, minus the space the table's
//!   `fillfactor` keeps free for inserts, at most `MaxHeapTuplesPerPage` rows. Rows of
//!   constant size fill `floor(space / row)`; variable ones leave half a row free at the
//!   end of a page on average.
//! - **Btree tuple**: 8-byte `IndexTupleData` header (16 with a null bitmap), key and
//!   `INCLUDE` values with their alignment, rounded up to 8, plus a 4-byte line pointer.
//! - **Btree pages**: leaf pages hold the block minus the page header and the 16-byte
//!   btree special space, minus what the index's `fillfactor` (default 90) keeps free, as
//!   a fresh `CREATE INDEX`/`REINDEX` fills them; internal levels are filled to 70 %;
//!   plus the metapage.
//!
//! Bloat is the actual size (`pg_class.relpages`, from the same VACUUM/ANALYZE as
//! `reltuples`) minus the expected size, as a share of the actual size.
//!
//! # Limits
//!
//! - It needs fresh statistics: rows modified since the last ANALYZE change the widths
//!   and `reltuples`; the rules only judge relations with few such modifications.
//! - Dropped columns still occupy space in rows written before the drop, with a width
//!   nobody records any more: the rules do not judge those tables.
//! - Btree deduplication (PostgreSQL 13+) stores duplicates as one key and a list of
//!   6-byte heap pointers, so an index with many duplicates is *smaller* than this
//!   estimate: its bloat is underestimated (never overestimated).
//! - A btree grown by random inserts settles around 70 % leaf density (page splits share
//!   a full page in two) while the estimate assumes the 90 % of a fresh build: such an
//!   index shows about 20–25 % "bloat" that a REINDEX only removes temporarily. The index
//!   rule's threshold sits above that.

/// PostgreSQL's page header (`SizeOfPageHeaderData`).
const PAGE_HEADER: f64 = 24.0;
/// Btree special space (`MAXALIGN(sizeof(BTPageOpaqueData))`).
const BTREE_SPECIAL: f64 = 16.0;
/// A line pointer (`ItemIdData`).
const LINE_POINTER: f64 = 4.0;
/// Heap tuple header without the null bitmap (`offsetof(HeapTupleHeaderData, t_bits)`).
const HEAP_HEADER: f64 = 23.0;
/// Index tuple header (`IndexTupleData`).
const INDEX_HEADER: f64 = 8.0;
/// Index null bitmap (`IndexAttributeBitMapData`).
const INDEX_NULL_BITMAP: f64 = 4.0;
/// Fill factor of internal btree pages (`BTREE_NONLEAF_FILLFACTOR`).
const BTREE_NONLEAF_FILLFACTOR: f64 = 70.0;
/// `MAXALIGN`.
const MAXALIGN: usize = 8;

/// What the estimate needs to know about one stored column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColumnShape {
    /// `pg_stats.null_frac`.
    pub null_frac: f64,
    /// `pg_stats.avg_width` (bytes of a non-null value).
    pub avg_width: f64,
    /// `attlen`: > 0 fixed width, −1 varlena, −2 C string.
    pub type_len: i16,
    /// Alignment in bytes (1, 2, 4 or 8), from `attalign`.
    pub align: usize,
    /// The statistics measure computed values (an index expression): their varlena header
    /// is 4 bytes, stored as 1 when short.
    pub computed: bool,
}

impl ColumnShape {
    /// `attalign` (`c`, `s`, `i`, `d`) in bytes; `None` when unknown.
    pub fn align_of(attalign: &str) -> Option<usize> {
        match attalign {
            "c" => Some(1),
            "s" => Some(2),
            "i" => Some(4),
            "d" => Some(8),
            _ => None,
        }
    }

    fn present(&self) -> f64 {
        (1.0 - self.null_frac).clamp(0.0, 1.0)
    }

    /// The stored width of a non-null value, and whether it is aligned. `avg_width` is
    /// truncated to an integer: with `spread` lengths that loses 0.5 byte on average,
    /// with constant lengths nothing.
    fn stored(&self, spread: bool) -> (f64, bool) {
        if self.type_len > 0 {
            return (f64::from(self.type_len), true);
        }
        let mut w = self.avg_width + if spread { 0.5 } else { 0.0 };
        if self.computed && w - 4.0 <= 126.0 {
            w = (w - 3.0).max(1.0);
        }
        // A varlena with a 1-byte header (data up to 126 bytes) is not aligned.
        (w, w > 127.0)
    }

    /// Whether values of this column vary in stored size (or presence).
    fn variable(&self) -> bool {
        self.type_len <= 0 || (self.null_frac > 0.0 && self.null_frac < 1.0)
    }
}

/// The expected data part of a tuple: bytes (alignment padding included) and the residue
/// distribution of the end offset modulo 8, from offset 0. A varlena's exact length is
/// unknown: with `spread` its end offset may be anything, else its length is taken as its
/// rounded average (values of one length, such as codes and hashes).
fn lay_out(columns: &[ColumnShape], spread: bool) -> (f64, [f64; MAXALIGN]) {
    let mut dist = [0.0; MAXALIGN];
    dist[0] = 1.0;
    let mut bytes = 0.0;
    for c in columns {
        let p = c.present();
        if p <= 0.0 {
            continue;
        }
        let (width, aligned) = c.stored(spread);
        let fixed = c.type_len > 0;
        let align = if aligned {
            c.align.clamp(1, MAXALIGN)
        } else {
            1
        };
        let mut next = [0.0; MAXALIGN];
        for (r, &d) in dist.iter().enumerate() {
            if d == 0.0 {
                continue;
            }
            next[r] += d * (1.0 - p);
            let start = r.div_ceil(align) * align;
            bytes += d * p * ((start - r) as f64 + width);
            if fixed {
                next[(start + c.type_len as usize) % MAXALIGN] += d * p;
            } else if !spread {
                next[(start + width.round() as usize) % MAXALIGN] += d * p;
            } else {
                // Unknown exact length: any residue.
                for n in next.iter_mut() {
                    *n += d * p / MAXALIGN as f64;
                }
            }
        }
        dist = next;
    }
    (bytes, dist)
}

/// Expected padding to the next multiple of 8 for a residue distribution.
fn final_padding(dist: &[f64; MAXALIGN]) -> f64 {
    dist.iter()
        .enumerate()
        .map(|(r, d)| d * ((MAXALIGN - r) % MAXALIGN) as f64)
        .sum()
}

fn maxalign(n: f64) -> f64 {
    (n / MAXALIGN as f64).ceil() * MAXALIGN as f64
}

/// The average space a heap row takes in its page, line pointer excluded: header, null
/// bitmap (`natts` attributes, dropped ones included), data and padding.
pub(crate) fn heap_tuple_bytes(columns: &[ColumnShape], natts: usize) -> f64 {
    let p_no_null: f64 = columns.iter().map(ColumnShape::present).product();
    let bitmap = natts.max(columns.len()).div_ceil(8) as f64;
    let header =
        p_no_null * maxalign(HEAP_HEADER) + (1.0 - p_no_null) * maxalign(HEAP_HEADER + bitmap);
    header + data_bytes(columns)
}

/// The data part with its final alignment: the larger of the two layouts (varlena lengths
/// spread or constant), so that padding is never underestimated — a smaller row would
/// read as bloat.
fn data_bytes(columns: &[ColumnShape]) -> f64 {
    [true, false]
        .into_iter()
        .map(|spread| {
            let (data, dist) = lay_out(columns, spread);
            data + final_padding(&dist)
        })
        .fold(0.0, f64::max)
}

/// The average space a btree leaf entry takes, line pointer excluded.
pub(crate) fn index_tuple_bytes(columns: &[ColumnShape]) -> f64 {
    let p_no_null: f64 = columns.iter().map(ColumnShape::present).product();
    let header = p_no_null * maxalign(INDEX_HEADER)
        + (1.0 - p_no_null) * maxalign(INDEX_HEADER + INDEX_NULL_BITMAP);
    header + data_bytes(columns)
}

/// Whether stored sizes vary from row to row.
pub(crate) fn variable(columns: &[ColumnShape]) -> bool {
    columns.iter().any(ColumnShape::variable)
}

/// Bytes a page keeps free for a fill factor (`BLCKSZ × (100 − ff) / 100`).
fn reserved(block_size: f64, fillfactor: f64) -> f64 {
    (block_size * (100.0 - fillfactor.clamp(10.0, 100.0)) / 100.0).floor()
}

/// Rows per page for a usable space and an average row (line pointer included).
fn per_page(space: f64, slot: f64, variable: bool) -> f64 {
    let n = if variable {
        space / slot - 0.5
    } else {
        (space / slot).floor()
    };
    n.max(1.0)
}

/// The pages a freshly written heap of `rows` rows of `tuple_bytes` would take.
pub(crate) fn heap_pages(
    rows: f64,
    tuple_bytes: f64,
    variable: bool,
    fillfactor: f64,
    block_size: f64,
) -> f64 {
    let space = block_size - PAGE_HEADER - reserved(block_size, fillfactor);
    let max_tuples = ((block_size - PAGE_HEADER) / (maxalign(HEAP_HEADER) + LINE_POINTER)).floor();
    let n = per_page(space, tuple_bytes + LINE_POINTER, variable).min(max_tuples);
    (rows.max(0.0) / n).ceil()
}

/// The pages a freshly built btree of `entries` leaf entries of `tuple_bytes` would take
/// (leaf fill factor `fillfactor`, internal pages at 70 %, the metapage).
pub(crate) fn btree_pages(
    entries: f64,
    tuple_bytes: f64,
    variable: bool,
    fillfactor: f64,
    block_size: f64,
) -> f64 {
    let slot = tuple_bytes + LINE_POINTER;
    let page = block_size - PAGE_HEADER - BTREE_SPECIAL;
    let leaf_n = per_page(page - reserved(block_size, fillfactor), slot, variable);
    let upper_n = per_page(
        page - reserved(block_size, BTREE_NONLEAF_FILLFACTOR),
        slot,
        variable,
    )
    .max(2.0);
    let leaves = (entries.max(0.0) / leaf_n).ceil().max(1.0);
    let mut pages = 1.0 + leaves;
    let mut level = leaves;
    while level > 1.0 {
        level = (level / upper_n).ceil();
        pages += level;
    }
    pages
}

/// An estimate against the actual size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bloat {
    /// Pages the relation would take right after a rewrite.
    pub expected_pages: f64,
    /// Pages it takes (`relpages`).
    pub actual_pages: f64,
}

impl Bloat {
    /// Pages beyond the expected size (0 when smaller).
    pub fn wasted_pages(&self) -> f64 {
        (self.actual_pages - self.expected_pages).max(0.0)
    }

    /// Wasted share of the actual size, in %.
    pub fn wasted_pct(&self) -> f64 {
        if self.actual_pages <= 0.0 {
            0.0
        } else {
            100.0 * self.wasted_pages() / self.actual_pages
        }
    }
}

/// A column's shape from the snapshot, or `None` when its statistics or type facts are
/// missing.
pub(crate) fn shape_of(column: &crate::snapshot::Column) -> Option<ColumnShape> {
    Some(ColumnShape {
        null_frac: column.null_frac?,
        avg_width: f64::from(column.avg_width?),
        type_len: (column.type_len != 0).then_some(column.type_len)?,
        align: ColumnShape::align_of(&column.type_align)?,
        computed: column.of_index,
    })
}

/// The server's block size (`block_size`, 8192 unless compiled otherwise).
pub(crate) fn block_size(snapshot: &crate::snapshot::Snapshot) -> f64 {
    snapshot
        .setting("block_size")
        .and_then(|s| s.as_f64())
        .filter(|b| *b >= 1024.0)
        .unwrap_or(8192.0)
}

/// The parameters both bloat rules share (`rules/vacuum.toml` for VAC009,
/// `rules/indexing.toml` for IDX008): which relations are judged, and when wasted space
/// is worth a warning or is critical.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct Gates {
    /// Relations smaller than this many pages are not judged.
    pub min_pages: f64,
    /// Rows modified since the last ANALYZE above this share of the rows, in %, make the
    /// statistics too stale to judge.
    #[serde(rename = "max_modified_since_analyze_pct")]
    pub max_modified_pct: f64,
    #[serde(rename = "warning_bloat_pct")]
    warning_pct: f64,
    #[serde(rename = "warning_wasted_bytes")]
    warning_bytes: f64,
    #[serde(rename = "critical_bloat_pct")]
    critical_pct: f64,
    #[serde(rename = "critical_wasted_bytes")]
    critical_bytes: f64,
}

impl Gates {
    /// Reads the gates from the rule's parameters (the rule's `Params` declares the same
    /// keys).
    pub fn read(ctx: &crate::rules::RuleContext<'_>) -> Result<Self, crate::rules::Skip> {
        ctx.params()
    }

    /// `None` below the warning gates (share *and* bytes), else whether it is critical.
    pub fn verdict(&self, bloat: &Bloat, block_size: f64) -> Option<bool> {
        let pct = bloat.wasted_pct();
        let wasted = bloat.wasted_pages() * block_size;
        if pct < self.warning_pct || wasted < self.warning_bytes {
            return None;
        }
        Some(pct >= self.critical_pct && wasted >= self.critical_bytes)
    }
}

/// Skips when the snapshot cannot hold the column statistics the estimates need: the
/// `columns` section was not collected, or (`has_storage` relations but no columns at
/// all) the snapshot predates it.
pub(crate) fn require_column_stats(
    snapshot: &crate::snapshot::Snapshot,
    has_storage: bool,
) -> Result<(), crate::rules::Skip> {
    if let Some(gap) = snapshot.gap("columns") {
        return Err(crate::rules::Skip::because(format!(
            "columns and their statistics were not collected: {}",
            gap.why
        )));
    }
    if snapshot.columns.is_empty() && has_storage {
        return Err(crate::rules::Skip::because(
            "the snapshot has no column statistics (collected by an older pgsage)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(len: i16, align: usize) -> ColumnShape {
        ColumnShape {
            null_frac: 0.0,
            avg_width: f64::from(len),
            type_len: len,
            align,
            computed: false,
        }
    }

    fn text(width: f64, null_frac: f64) -> ColumnShape {
        ColumnShape {
            null_frac,
            avg_width: width,
            type_len: -1,
            align: 4,
            computed: false,
        }
    }

    #[test]
    fn a_row_of_fixed_columns_is_laid_out_exactly() {
        // int4, int8: 24-byte header, 4 + 4 padding + 8 = 16 → 40 bytes.
        let cols = [fixed(4, 4), fixed(8, 8)];
        assert_eq!(heap_tuple_bytes(&cols, 2), 40.0);
        // int8, int4: 8 + 4 = 12 → padded to 16 → 40 as well.
        let cols = [fixed(8, 8), fixed(4, 4)];
        assert_eq!(heap_tuple_bytes(&cols, 2), 40.0);
        // int4 alone: 24 + 4 → 32.
        assert_eq!(heap_tuple_bytes(&[fixed(4, 4)], 1), 32.0);
        assert!(!variable(&cols));
    }

    #[test]
    fn nulls_add_a_bitmap_and_drop_the_value() {
        // 9 attributes: a 2-byte bitmap, 23 + 2 = 25 → 32-byte header when a null is present.
        let mut cols: Vec<ColumnShape> = (0..9).map(|_| fixed(4, 4)).collect();
        cols[8].null_frac = 1.0;
        // always a null: 32 + 8 × 4 = 64.
        assert_eq!(heap_tuple_bytes(&cols, 9), 64.0);
        cols[8].null_frac = 0.0;
        // never: 24 + 36 = 60 → 64.
        assert_eq!(heap_tuple_bytes(&cols, 9), 64.0);
        // a dropped tenth attribute does not change the bitmap size (2 bytes for 10).
        assert_eq!(heap_tuple_bytes(&cols, 10), 64.0);
    }

    #[test]
    fn short_varlenas_are_not_aligned() {
        // int4, text of 10 stored bytes (avg_width 10 → 10.5): 24 + 4 + 10.5, then
        // padding to 8 with the residue spread uniformly (3.5 on average).
        let t = heap_tuple_bytes(&[fixed(4, 4), text(10.0, 0.0)], 2);
        assert!((t - (24.0 + 4.0 + 10.5 + 3.5)).abs() < 1e-9, "{t}");
        // a long text (4-byte header) after an int2 is aligned to 4: 2 bytes of padding;
        // of constant length 300 it would end at offset 304 (no final padding), spread it
        // takes 300.5 and 3.5 of padding on average: the larger is kept.
        let t = heap_tuple_bytes(&[fixed(2, 2), text(300.0, 0.0)], 2);
        assert!((t - (24.0 + 2.0 + 2.0 + 300.5 + 3.5)).abs() < 1e-9, "{t}");
        // an md5 hash (33 stored bytes) in an index entry: 8 + 33 → 48, not 8 + 33.5 + 3.5.
        let t = index_tuple_bytes(&[text(33.0, 0.0)]);
        assert!((t - (8.0 + 33.0 + 7.0)).abs() < 1e-9, "{t}");
    }

    #[test]
    fn fixed_heap_pages_follow_postgres_arithmetic() {
        // int4 rows take 32 + 4 bytes: 8168 / 36 = 226 rows per page.
        let t = heap_tuple_bytes(&[fixed(4, 4)], 1);
        assert_eq!(heap_pages(226.0, t, false, 100.0, 8192.0), 1.0);
        assert_eq!(heap_pages(227.0, t, false, 100.0, 8192.0), 2.0);
        // fillfactor 50 keeps 4096 bytes free: (8168 − 4096) / 36 = 113 rows per page.
        assert_eq!(heap_pages(113.0, t, false, 50.0, 8192.0), 1.0);
        assert_eq!(heap_pages(114.0, t, false, 50.0, 8192.0), 2.0);
    }

    #[test]
    fn tiny_rows_are_capped_per_page() {
        // A row with no data is 24 + 4 bytes: 291 per 8 kB page at most.
        assert_eq!(heap_pages(291.0, 24.0, false, 100.0, 8192.0), 1.0);
        assert_eq!(heap_pages(292.0, 24.0, false, 100.0, 8192.0), 2.0);
    }

    #[test]
    fn btree_of_integers() {
        // int4 key: 8 + 4 → 16 bytes + 4: (8152 − 819) / 20 = 366 per leaf.
        let t = index_tuple_bytes(&[fixed(4, 4)]);
        assert_eq!(t, 16.0);
        // 100 000 entries: 274 leaves, 1 root (internal pages hold 284), 1 metapage.
        assert_eq!(btree_pages(100_000.0, t, false, 90.0, 8192.0), 276.0);
        // A nullable key: entries with a null carry a 16-byte header and no value.
        let mut k = fixed(4, 4);
        k.null_frac = 0.5;
        assert_eq!(index_tuple_bytes(&[k]), 0.5 * 16.0 + 0.5 * 16.0);
    }

    #[test]
    fn computed_short_varlenas_lose_three_header_bytes() {
        let mut c = text(9.0, 0.0);
        c.computed = true;
        // 8 + (9.5 − 3) + 3.5 average padding
        let t = index_tuple_bytes(&[c]);
        assert!((t - 18.0).abs() < 1e-9, "{t}");
    }

    #[test]
    fn bloat_share() {
        let b = Bloat {
            expected_pages: 300.0,
            actual_pages: 1000.0,
        };
        assert_eq!(b.wasted_pages(), 700.0);
        assert_eq!(b.wasted_pct(), 70.0);
        let b = Bloat {
            expected_pages: 1100.0,
            actual_pages: 1000.0,
        };
        assert_eq!(b.wasted_pct(), 0.0);
    }
}
