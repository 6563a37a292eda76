//! Audit speed on a large snapshot: the bundled demo snapshot (captured from a real
//! server) scaled to 2,000 tables and 6,000 indexes by copying its real tables and indexes
//! under new names and oids. Also times loading that snapshot from JSON, and writing its
//! HTML page (printing the page's size).
//!
//! `cargo bench -p pgsage --bench audit`; figures in docs/performance.md.

use criterion::{criterion_group, criterion_main, Criterion};
use pgsage::{audit, RuleConfig, Snapshot};

const TABLES: usize = 2000;
const INDEXES: usize = 6000;

fn scaled_demo() -> Snapshot {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/snapshots/demo.json"
    );
    let mut snap = Snapshot::load(path).expect("demo snapshot");
    let tables = snap.tables.clone();
    let indexes = snap.indexes.clone();
    assert!(!tables.is_empty() && !indexes.is_empty());
    let mut next_oid = 1_000_000u32;
    snap.tables.clear();
    snap.indexes.clear();
    for n in 0..TABLES {
        let mut t = tables[n % tables.len()].clone();
        let old_oid = t.oid;
        t.oid = next_oid;
        t.name = format!("{}_{n}", t.name);
        next_oid += 1;
        // The copies of this table's indexes, until the index budget is spread evenly.
        let mut own: Vec<_> = indexes.iter().filter(|i| i.table_oid == old_oid).collect();
        if own.is_empty() {
            own = indexes.iter().collect();
        }
        let per_table = INDEXES / TABLES;
        for k in 0..per_table {
            let mut i = own[k % own.len()].clone();
            i.oid = next_oid;
            next_oid += 1;
            i.table_oid = t.oid;
            i.table = t.name.clone();
            i.name = format!("{}_{n}_{k}", i.name);
            snap.indexes.push(i);
        }
        snap.tables.push(t);
    }
    snap
}

fn bench(c: &mut Criterion) {
    let snap = scaled_demo();
    let config = RuleConfig::shipped().expect("packs");
    eprintln!(
        "scaled snapshot: {} tables, {} indexes, {} findings",
        snap.tables.len(),
        snap.indexes.len(),
        audit(&snap, &config).findings.len()
    );
    c.bench_function("audit 2000 tables / 6000 indexes", |b| {
        b.iter(|| audit(&snap, &config))
    });
    // The shareable page: how long it takes to write, and how big it is.
    let report = audit(&snap, &config);
    let page = pgsage::html::audit_page(&report, Some(&snap));
    eprintln!(
        "HTML page: {} bytes ({} findings in {} actions)",
        page.len(),
        report.findings.len(),
        report.actions.len()
    );
    c.bench_function("HTML page 2000 tables / 6000 indexes", |b| {
        b.iter(|| pgsage::html::audit_page(&report, Some(&snap)))
    });
    let json = snap.to_json();
    c.bench_function("parse snapshot JSON (2000 tables)", |b| {
        b.iter(|| Snapshot::from_json(&json).expect("parse"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
