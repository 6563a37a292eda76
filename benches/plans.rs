//! Plans analysed per second on large real plans (1,000+ nodes, captured from
//! PostgreSQL 18 by `crates/pgsage/tests/plans_capture.rs` into `testdata/plans-extra/large/`):
//! a table with 1,000 partitions scanned without pruning (text EXPLAIN with BUFFERS) and
//! a UNION ALL of 340 joins (JSON). Each is timed parsed, analysed (profile + every
//! `plans` rule) and both, plus the tree `pgsage plan --tree` draws.
//!
//! `cargo bench -p pgsage --bench plans`; figures in docs/performance.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pgsage::engine::plan::{analyze, render_tree};
use pgsage::plan::parse_plan;
use pgsage::RuleConfig;

const LARGE: [&str; 2] = ["partitions_1000.txt", "union_340_joins.json"];

fn read(name: &str) -> String {
    let path = format!(
        "{}/../../testdata/plans-extra/large/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bench(c: &mut Criterion) {
    let config = RuleConfig::shipped().expect("shipped packs");
    let mut group = c.benchmark_group("plans");
    group.throughput(Throughput::Elements(1));
    for name in LARGE {
        let text = read(name);
        let plan = parse_plan(&text).expect("a plan");
        let nodes = plan.nodes().count();
        assert!(nodes > 1000, "{name}: {nodes} nodes");
        let report = analyze(&plan, &config);
        group.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| parse_plan(&text).expect("a plan"))
        });
        group.bench_function(format!("analyze/{name}"), |b| {
            b.iter(|| analyze(&plan, &config))
        });
        group.bench_function(format!("parse+analyze/{name}"), |b| {
            b.iter(|| analyze(&parse_plan(&text).expect("a plan"), &config))
        });
        group.bench_function(format!("tree/{name}"), |b| {
            b.iter(|| render_tree(&plan, &report, 100))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
