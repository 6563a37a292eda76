//! How far the bloat estimates of VAC009 (tables) and IDX008 (btree indexes) are from the
//! truth, on real servers (PostgreSQL 13–18, every version whose binaries ship the
//! `pgstattuple` contrib module).
//!
//! Tables and indexes of several shapes are planted, bloated or fresh; the snapshot is
//! audited with the rules' thresholds at zero so that every relation they judge gets a
//! finding carrying its estimate; then the truth is measured: each index is rebuilt
//! (`REINDEX`) and each table rewritten (`VACUUM FULL`), and the true wasted share is
//! `1 − size after / size before`. `pgstattuple` / `pgstatindex` figures are printed
//! beside them. The estimate must be within [`TOLERANCE_POINTS`] of the truth; the
//! figures are in `docs/bloat-estimates.md`.

use std::collections::BTreeMap;
use std::time::Duration;

use pgsage::{audit, CollectOptions, ConnectOptions, RuleConfig};
use pgsage_testkit::{require_server_with, test_majors, ServerOptions, TestServer};

/// Allowed distance between the estimated and the true wasted share, in points of %.
const TOLERANCE_POINTS: f64 = 10.0;

const DB: &str = "accuracy";

/// The planted relations: tables, then their indexes (built after the load, or grown by
/// inserts, as noted).
const SETUP: &[&str] = &[
    // Narrow ERP lines, 70 % deleted across all pages.
    "CREATE TABLE acc_line (id int PRIMARY KEY, product_id int NOT NULL, qty numeric(12,2) NOT NULL, state varchar(16) NOT NULL, done_at timestamptz)",
    "INSERT INTO acc_line SELECT g, g % 997, (g % 1000) / 7.0, CASE WHEN g % 5 = 0 THEN 'cancel' ELSE 'done' END, CASE WHEN g % 3 = 0 THEN NULL ELSE now() - g * interval '1 min' END FROM generate_series(1, 60000) g",
    "CREATE INDEX acc_line_product_state_idx ON acc_line (product_id, state)",
    "CREATE INDEX acc_line_done_partial_idx ON acc_line (done_at) WHERE state = 'done'",
    "CREATE INDEX acc_line_lower_state_idx ON acc_line (lower(state), id)",
    "DELETE FROM acc_line WHERE (id * 7919) % 10 < 7",
    // Its fresh twin.
    "CREATE TABLE acc_line_fresh (id int PRIMARY KEY, product_id int NOT NULL, qty numeric(12,2) NOT NULL, state varchar(16) NOT NULL, done_at timestamptz)",
    "INSERT INTO acc_line_fresh SELECT g, g % 997, (g % 1000) / 7.0, CASE WHEN g % 5 = 0 THEN 'cancel' ELSE 'done' END, CASE WHEN g % 3 = 0 THEN NULL ELSE now() - g * interval '1 min' END FROM generate_series(1, 60000) g",
    "CREATE INDEX acc_line_fresh_product_state_idx ON acc_line_fresh (product_id, state)",
    "CREATE INDEX acc_line_fresh_done_partial_idx ON acc_line_fresh (done_at) WHERE state = 'done'",
    "CREATE INDEX acc_line_fresh_lower_state_idx ON acc_line_fresh (lower(state), id)",
    // Wide text (descriptions of 100–1500 incompressible bytes), half deleted.
    "CREATE TABLE acc_note (id bigint PRIMARY KEY, title text NOT NULL, body text)",
    "INSERT INTO acc_note SELECT g, 'Note ' || md5(g::text), (SELECT string_agg(md5((g * 100 + i)::text), '') FROM generate_series(1, 3 + g % 45) i) FROM generate_series(1, 15000) g",
    "CREATE INDEX acc_note_title_idx ON acc_note (title)",
    "DELETE FROM acc_note WHERE id % 2 = 0",
    "CREATE TABLE acc_note_fresh (id bigint PRIMARY KEY, title text NOT NULL, body text)",
    "INSERT INTO acc_note_fresh SELECT g, 'Note ' || md5(g::text), (SELECT string_agg(md5((g * 100 + i)::text), '') FROM generate_series(1, 3 + g % 45) i) FROM generate_series(1, 15000) g",
    // Many nullable columns of mixed types, 40 % deleted.
    "CREATE TABLE acc_partner (id int PRIMARY KEY, ref bigint, name text, active boolean, credit numeric, birth date, score float8, code char(6), city varchar(40), zip int2, vat text, parent_id int, lang text)",
    "INSERT INTO acc_partner SELECT g, CASE WHEN g % 2 = 0 THEN g END, 'Partner ' || g, g % 7 <> 0, CASE WHEN g % 4 = 0 THEN g * 1.5 END, CASE WHEN g % 3 = 0 THEN date '2000-01-01' + g % 9000 END, CASE WHEN g % 5 <> 0 THEN g / 3.0 END, CASE WHEN g % 10 < 8 THEN lpad((g % 999999)::text, 6, '0') END, CASE WHEN g % 6 <> 0 THEN 'City ' || (g % 300) END, CASE WHEN g % 9 <> 0 THEN (g % 30000)::int2 END, CASE WHEN g % 8 = 0 THEN 'BE0' || g END, CASE WHEN g % 11 = 0 THEN g / 11 END, CASE WHEN g % 2 = 1 THEN 'en_US' END FROM generate_series(1, 40000) g",
    "CREATE INDEX acc_partner_city_idx ON acc_partner (city) INCLUDE (zip)",
    "DELETE FROM acc_partner WHERE (id * 31) % 10 < 4",
    // Fillfactor 70: fresh, and every row updated twice (the old versions vacuumed away).
    "CREATE TABLE acc_quant (id int PRIMARY KEY, location_id int NOT NULL, qty numeric NOT NULL, note text) WITH (fillfactor = 70)",
    "INSERT INTO acc_quant SELECT g, g % 50, g, 'lot ' || g FROM generate_series(1, 40000) g",
    "CREATE TABLE acc_quant_churn (id int PRIMARY KEY, location_id int NOT NULL, qty numeric NOT NULL, note text) WITH (fillfactor = 70)",
    "INSERT INTO acc_quant_churn SELECT g, g % 50, g, 'lot ' || g FROM generate_series(1, 40000) g",
    "UPDATE acc_quant_churn SET qty = qty + 1, location_id = location_id + 1",
    "UPDATE acc_quant_churn SET qty = qty + 1, location_id = location_id + 1",
    "CREATE INDEX acc_quant_churn_location_idx ON acc_quant_churn (location_id)",
    // An index grown by random inserts (page splits), never deleted from.
    "CREATE TABLE acc_token (id int NOT NULL, token text NOT NULL)",
    "CREATE INDEX acc_token_token_idx ON acc_token (token)",
    "INSERT INTO acc_token SELECT g, md5(g::text) FROM generate_series(1, 50000) g",
];

/// Indexes with many duplicate keys: btree deduplication (13+) makes them smaller than the
/// estimate, which can only underestimate their bloat. For them the test checks that
/// side only (never above the truth by more than the tolerance).
const DEDUPLICATED: &[&str] = &[
    "acc_line_product_state_idx",
    "acc_line_fresh_product_state_idx",
    "acc_line_done_partial_idx",
    "acc_line_fresh_done_partial_idx",
    "acc_quant_churn_location_idx",
];

/// One relation's estimate and truth.
#[derive(Debug)]
struct Row {
    estimate_pct: f64,
    true_pct: f64,
    expected_pages: f64,
    pages: i64,
    after_pages: i64,
    pgstat: String,
}

fn plant(server: &TestServer) {
    server.create_database(DB).expect("create database");
    server
        .execute(DB, "CREATE EXTENSION pgstattuple")
        .expect("pgstattuple");
    {
        let mut c = server.client(DB).expect("client");
        for sql in SETUP {
            c.batch_execute(sql)
                .unwrap_or_else(|e| panic!("`{sql}`: {e}"));
        }
        // Ending the session flushes its statistics (the collector on 13/14).
    }
    // Wait until the statistics have seen every change, so that ANALYZE comes after.
    server
        .wait_for(
            DB,
            "SELECT n_tup_upd >= 80000 FROM pg_stat_user_tables WHERE relname = 'acc_quant_churn'",
            Duration::from_secs(30),
        )
        .expect("statistics");
    server
        .wait_for(
            DB,
            "SELECT n_tup_del >= 16000 FROM pg_stat_user_tables WHERE relname = 'acc_partner'",
            Duration::from_secs(30),
        )
        .expect("statistics");
    server.execute(DB, "VACUUM (ANALYZE)").expect("vacuum");
    server
        .wait_for(
            DB,
            "SELECT bool_and(n_mod_since_analyze = 0) FROM pg_stat_user_tables WHERE relname LIKE 'acc%'",
            Duration::from_secs(30),
        )
        .expect("analyzed");
}

fn pages(server: &TestServer, rel: &str) -> i64 {
    server
        .query_scalar_i64(
            DB,
            &format!("SELECT pg_relation_size('{rel}') / current_setting('block_size')::int8"),
        )
        .expect("size")
}

fn text(server: &TestServer, sql: &str) -> String {
    let row = server
        .client(DB)
        .expect("client")
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("`{sql}`: {e}"));
    row.get(0)
}

fn measure(major: u32) -> Option<BTreeMap<String, Row>> {
    let server = require_server_with(ServerOptions::new(major).conf("autovacuum = off"))?;
    plant(&server);
    let snapshot = pgsage::collect_snapshot_with(
        &ConnectOptions::new(server.dsn(DB)),
        &CollectOptions {
            probe_local_host: false,
            ..CollectOptions::default()
        },
    )
    .expect("collect");
    let mut config = RuleConfig::shipped().expect("packs");
    config
        .apply_toml(
            "[audit]\nmin_stats_age_hours = 0\n\
             [rules.VAC009.params]\nmin_pages = 8\nwarning_bloat_pct = 0\nwarning_wasted_bytes = 0\n\
             [rules.IDX008.params]\nmin_pages = 8\nwarning_bloat_pct = 0\nwarning_wasted_bytes = 0\n",
            "accuracy",
        )
        .expect("config");
    let report = audit(&snapshot, &config);
    for rule in ["VAC009", "IDX008"] {
        if let Some(s) = report.skipped.iter().find(|s| s.rule == rule) {
            panic!("PostgreSQL {major}: {rule} skipped: {}", s.reason);
        }
    }
    let mut rows = BTreeMap::new();
    // Indexes first: VACUUM FULL rebuilds them too.
    let mut findings: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "VAC009" || f.rule == "IDX008")
        .collect();
    findings.sort_by_key(|f| (f.rule != "IDX008", f.object.name.clone()));
    for f in findings {
        let name = f.object.name.clone();
        let num = |k: &str| {
            f.evidence
                .get(k)
                .and_then(|v| v.as_f64())
                .unwrap_or(f64::NAN)
        };
        let before = pages(&server, &name);
        let (rewrite, pgstat) = if f.rule == "IDX008" {
            let stat = text(
                &server,
                &format!(
                    "SELECT format('leaf density %s %%, %s leaf, %s empty, %s deleted pages', avg_leaf_density, leaf_pages, empty_pages, deleted_pages) FROM pgstatindex('{name}')"
                ),
            );
            (format!("REINDEX INDEX {name}"), stat)
        } else {
            let stat = text(
                &server,
                &format!(
                    "SELECT format('tuples %s %%, dead %s %%, free %s %%, avg row %s B', tuple_percent, dead_tuple_percent, free_percent, round(tuple_len::numeric / greatest(tuple_count, 1), 1)) FROM pgstattuple('{name}')"
                ),
            );
            (format!("VACUUM FULL {name}"), stat)
        };
        server.execute(DB, &rewrite).expect("rewrite");
        let after = pages(&server, &name);
        let expected = num("expected_pages");
        let actual = num("actual_pages");
        rows.insert(
            name,
            Row {
                // Signed: an estimate below the actual size reads as negative bloat.
                estimate_pct: 100.0 * (actual - expected) / actual,
                true_pct: 100.0 * (before - after) as f64 / before as f64,
                expected_pages: expected,
                pages: before,
                after_pages: after,
                pgstat,
            },
        );
    }
    Some(rows)
}

#[test]
fn bloat_estimates_are_within_tolerance_of_the_truth() {
    for major in test_majors() {
        let Some(rows) = measure(major) else { continue };
        let mut failures = Vec::new();
        eprintln!("PostgreSQL {major}: relation: estimate vs truth (pages: expected / actual / after rewrite) [pgstattuple]");
        for (name, r) in &rows {
            let diff = r.estimate_pct.max(0.0) - r.true_pct.max(0.0);
            eprintln!(
                "  {name}: {:+.1} % vs {:+.1} % (diff {diff:+.1}; {:.0} / {} / {}) [{}]",
                r.estimate_pct, r.true_pct, r.expected_pages, r.pages, r.after_pages, r.pgstat
            );
            let off = if DEDUPLICATED.contains(&name.as_str()) {
                diff > TOLERANCE_POINTS
            } else {
                diff.abs() > TOLERANCE_POINTS
            };
            if off {
                failures.push(format!(
                    "{name}: estimated {:.1} %, true {:.1} %",
                    r.estimate_pct, r.true_pct
                ));
            }
        }
        for must in [
            "acc_line",
            "acc_line_fresh",
            "acc_note",
            "acc_note_fresh",
            "acc_partner",
            "acc_quant",
            "acc_quant_churn",
            "acc_line_pkey",
            "acc_line_product_state_idx",
            "acc_line_done_partial_idx",
            "acc_line_lower_state_idx",
            "acc_line_fresh_product_state_idx",
            "acc_line_fresh_lower_state_idx",
            "acc_note_title_idx",
            "acc_partner_city_idx",
            "acc_quant_churn_location_idx",
            "acc_token_token_idx",
        ] {
            if !rows.contains_key(must) {
                failures.push(format!("{must} was not judged"));
            }
        }
        assert!(
            failures.is_empty(),
            "PostgreSQL {major}: estimates off by more than {TOLERANCE_POINTS} points:\n{}",
            failures.join("\n")
        );
    }
}
