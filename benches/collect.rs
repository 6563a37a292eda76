//! Collection speed on a large database: a throwaway server (from `pgsage-testkit`)
//! with 2,000 tables, 6,000 indexes (primary key, an expression index and a partial
//! index each) and 2,000 sequences, some rows and statistics.
//!
//! `cargo bench -p pgsage --bench collect` (PostgreSQL 17 by default; set
//! `PGSAGE_BENCH_MAJOR=13` … `18` for another). Needs the server binaries
//! (`scripts/fetch-postgres.sh`). Figures in docs/performance.md.
//!
//! Measured:
//! - `collect (connected)`: [`collect_from_client_with_stats`] on an open connection —
//!   the collector's own cost;
//! - `collect (connect + collect)`: [`collect_snapshot_with`], as `pgsage snapshot` does.
//!
//! It also prints the round trips and statements of one collection, for this database
//! and for one with 5 tables: they must be equal.
//!
//! A second group, `cluster`, builds 200 small tenant databases (5 tables each, made from
//! one template database) and times `--all-databases` (`DatabaseSelection::All`, 4 at
//! once, a new connection per database) and the audit of the resulting snapshot; it
//! asserts three round trips per database.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use pgsage::collect::{collect_from_client_with_stats, CollectStats};
use pgsage::connect::Target;
use pgsage::{
    collect_snapshot_with, collect_snapshot_with_stats, CollectOptions, ConnectOptions,
    DatabaseSelection, RuleConfig, Snapshot,
};
use pgsage_testkit::{require_server, TestServer};

const TABLES: usize = 2000;
/// Tenant databases of the `cluster` group.
const TENANTS: usize = 200;

fn build(server: &TestServer, db: &str, tables: usize) {
    server.create_database(db).expect("create database");
    // In chunks: one transaction for everything would exceed the lock table.
    for chunk in (0..tables).collect::<Vec<_>>().chunks(100) {
        let mut sql = String::new();
        for i in chunk {
            sql.push_str(&format!(
                "CREATE TABLE t{i} (id bigserial PRIMARY KEY, a int, b text, c timestamptz);
                 CREATE INDEX t{i}_lower_b ON t{i} (lower(b));
                 CREATE INDEX t{i}_a_recent ON t{i} (a) WHERE c IS NOT NULL;
                 INSERT INTO t{i} (a, b, c) SELECT g, 'v' || g, now() FROM generate_series(1, 10) g;\n"
            ));
        }
        if let Err(e) = server.execute(db, &sql) {
            // The error's context repeats the whole batch; its last line is the cause.
            let text = e.to_string();
            panic!(
                "building tables: {}",
                text.lines().last().unwrap_or_default()
            );
        }
    }
    server.execute(db, "ANALYZE").expect("analyze");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// One collection over an open connection, timed, with its cost.
fn collect_once(
    rt: &tokio::runtime::Runtime,
    client: &tokio_postgres::Client,
    target: &Target,
) -> (Snapshot, CollectStats, Duration) {
    rt.block_on(async {
        let t0 = Instant::now();
        let (snap, stats) =
            collect_from_client_with_stats(client, target, &CollectOptions::default())
                .await
                .expect("collect");
        (snap, stats, t0.elapsed())
    })
}

fn connect(
    rt: &tokio::runtime::Runtime,
    server: &TestServer,
    db: &str,
) -> (tokio_postgres::Client, Target) {
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(&server.dsn(db), tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        let target = Target {
            host: server.host().to_owned(),
            port: server.port(),
            database: db.to_owned(),
            user: server.superuser().to_owned(),
        };
        (client, target)
    })
}

fn bench(c: &mut Criterion) {
    let major = bench_major();
    let Some(server) = require_server(major) else {
        eprintln!("PostgreSQL {major} binaries missing: run scripts/fetch-postgres.sh {major}");
        return;
    };
    let t0 = Instant::now();
    build(&server, "small", 5);
    build(&server, "large", TABLES);
    eprintln!("built the databases in {:?}", t0.elapsed());

    let rt = runtime();
    let (small_client, small_target) = connect(&rt, &server, "small");
    let (client, target) = connect(&rt, &server, "large");
    let (small, small_cost, _) = collect_once(&rt, &small_client, &small_target);
    let (snap, cost, first) = collect_once(&rt, &client, &target);
    eprintln!(
        "PostgreSQL {}: {} tables, {} indexes, {} sequences; first collection {:?}",
        snap.server.version,
        snap.tables.len(),
        snap.indexes.len(),
        snap.sequences.len(),
        first
    );
    eprintln!(
        "cost with {} tables: {cost:?}; with {} tables: {small_cost:?}",
        snap.tables.len(),
        small.tables.len()
    );
    assert_eq!(
        cost, small_cost,
        "round trips must not depend on the number of tables"
    );
    eprintln!("snapshot JSON: {} bytes", snap.to_json().len());

    let mut group = c.benchmark_group(format!("collect 2000 tables / 6000 indexes (PG {major})"));
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(15));
    group.bench_function("collect (connected)", |b| {
        b.iter(|| collect_once(&rt, &client, &target))
    });
    let options = ConnectOptions::new(server.dsn("large"));
    group.bench_function("collect (connect + collect)", |b| {
        b.iter(|| collect_snapshot_with(&options, &CollectOptions::default()).expect("collect"))
    });
    group.finish();
}

fn bench_cluster(c: &mut Criterion) {
    let major = bench_major();
    let Some(server) = require_server(major) else {
        eprintln!("PostgreSQL {major} binaries missing: run scripts/fetch-postgres.sh {major}");
        return;
    };
    let t0 = Instant::now();
    build(&server, "tenant_template", 5);
    server.create_database("app").expect("app");
    for i in 0..TENANTS {
        server
            .execute(
                "postgres",
                &format!("CREATE DATABASE tenant_{i:03} TEMPLATE tenant_template"),
            )
            .expect("tenant");
    }
    eprintln!("built {TENANTS} tenant databases in {:?}", t0.elapsed());
    let options = ConnectOptions::new(server.dsn("app"));
    let all = CollectOptions {
        databases: DatabaseSelection::All,
        probe_local_host: false,
        ..CollectOptions::default()
    };
    let (snap, stats) = collect_snapshot_with_stats(&options, &all).expect("collect");
    let read = 1 + snap.other_databases.len() as u32;
    eprintln!(
        "--all-databases: {read} databases, {} tables; {stats:?}; snapshot JSON {} bytes",
        snap.all_database_sections()
            .iter()
            .map(|d| d.tables.len())
            .sum::<usize>(),
        snap.to_json().len()
    );
    assert_eq!(
        stats.round_trips,
        3 * read,
        "three round trips per database"
    );
    let config = RuleConfig::shipped().expect("packs");
    let report = pgsage::audit(&snap, &config);
    eprintln!(
        "audit: {} findings in {} actions",
        report.findings.len(),
        report.actions.len()
    );

    let mut group = c.benchmark_group(format!("cluster of {TENANTS} small databases (PG {major})"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("collect --all-databases (connect + collect)", |b| {
        b.iter(|| collect_snapshot_with(&options, &all).expect("collect"))
    });
    group.bench_function("audit every database", |b| {
        b.iter(|| pgsage::audit(&snap, &config))
    });
    group.finish();
}

fn bench_major() -> u32 {
    std::env::var("PGSAGE_BENCH_MAJOR")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(17)
}

criterion_group!(benches, bench, bench_cluster);
criterion_main!(benches);
