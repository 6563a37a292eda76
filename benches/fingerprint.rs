//! Fingerprinting speed per core: the statement corpus of the tests
//! (`testdata/workload/statements.sql`: pgbench, ORM, reporting and maintenance shapes with
//! every PostgreSQL literal syntax), with its constants varied so no two inputs are equal.
//!
//! - `fingerprint`: the hot path (byte lexer + normalizer + hash), per statement;
//! - `analyze`: the same plus the statement kind (what aggregation calls);
//! - `normalize`: the display text through sqlparser's tokenizer (once per distinct
//!   fingerprint, not per statement);
//! - `aggregate`: a log sample into an [`Aggregator`] (fingerprint, sketch, breakdowns).
//!
//! `cargo bench -p pgsage --bench fingerprint`; compare with libpg_query through pglast:
//! `python3 scripts/pglast-fingerprint.py`. Figures in docs/performance.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use pgsage::workload::fingerprint::{analyze, fingerprint, normalize};
use pgsage::workload::{AggregateOptions, Aggregator, Sample, SampleKind};

fn corpus() -> Vec<String> {
    let text = include_str!("../testdata/workload/statements.sql");
    let base: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("--"))
        .collect();
    // 20 variants of each statement: the digits shifted, so constants differ.
    (0..20)
        .flat_map(|k| {
            base.iter().map(move |s| {
                s.chars()
                    .map(|c| match c.to_digit(10) {
                        Some(d) => char::from_digit((d + k) % 10, 10).unwrap_or(c),
                        None => c,
                    })
                    .collect::<String>()
            })
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let stmts = corpus();
    let bytes: usize = stmts.iter().map(String::len).sum();
    let mut g = c.benchmark_group("fingerprint");
    g.throughput(Throughput::Elements(stmts.len() as u64));
    g.bench_function("fingerprint", |b| {
        b.iter(|| {
            for s in &stmts {
                black_box(fingerprint(black_box(s)));
            }
        })
    });
    g.bench_function("analyze", |b| {
        b.iter(|| {
            for s in &stmts {
                black_box(analyze(black_box(s)));
            }
        })
    });
    g.bench_function("normalize", |b| {
        b.iter(|| {
            for s in &stmts {
                black_box(normalize(black_box(s)));
            }
        })
    });
    let samples: Vec<Sample> = stmts
        .iter()
        .enumerate()
        .map(|(i, s)| Sample {
            at: chrono::DateTime::from_timestamp(1_700_000_000 + i as i64, 0),
            duration_ms: 0.1 + (i % 100) as f64,
            query: s.clone(),
            parameters: Vec::new(),
            database: Some("erp".into()),
            user: Some("odoo".into()),
            application: Some(if i % 3 == 0 { "web" } else { "cron" }.into()),
            client: None,
            pid: Some(4242),
            session: None,
            kind: SampleKind::Simple,
            plan: None,
        })
        .collect();
    g.bench_function("aggregate", |b| {
        b.iter(|| {
            let mut agg = Aggregator::new(AggregateOptions::default());
            for s in &samples {
                agg.add(s);
            }
            black_box(agg.fingerprints())
        })
    });
    g.finish();
    eprintln!(
        "corpus: {} statements, {} bytes ({:.0} bytes each)",
        stmts.len(),
        bytes,
        bytes as f64 / stmts.len() as f64
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
