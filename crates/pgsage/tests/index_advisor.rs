//! The index advisor end to end on a real PostgreSQL 15 with HypoPG (the Debian package
//! `postgresql-15-hypopg`): an ERP-like database with realistic volumes and a planted
//! workload — lookups on unindexed columns (equality, equality + range with ORDER BY …
//! LIMIT, a join on an unindexed foreign key) next to healthy primary-key lookups — is
//! captured via pg_stat_statements and via the server log. Then:
//!
//! - both captures agree on calls per fingerprint;
//! - `advise_live` proposes the planted indexes, validated with HypoPG, with lower
//!   costs, and nothing on the healthy tables — from either capture;
//! - the advisor wrote nothing: catalog counts unchanged, every statement its session
//!   sent (read back from the server log) is a read, a plan or a session setting;
//! - created for real, the recommended indexes make the planted queries measurably
//!   faster; the same workload then gets no recommendation (the healthy twin);
//! - a database without HypoPG gets unvalidated advice whose reason names HypoPG, with
//!   the planted indexes still proposed.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use pgsage::advise::live::advise_live;
use pgsage::advise::{AdvisorOptions, IndexAdvice, PlanMethod, Validation};
use pgsage::workload::fingerprint::fingerprint;
use pgsage::workload::log::{read_paths, LogOptions};
use pgsage::workload::{from_snapshot, AggregateOptions, Aggregator, Workload};
use pgsage::{CollectOptions, ConnectOptions, Snapshot};
use pgsage_testkit::{require_server_with, ServerOptions, TestServer};

const PREFIX: &str = "%m [%p] %q[user=%u,db=%d,app=%a] ";

/// The advisor's `application_name`, to find its statements in the log.
const ADVISOR_APP: &str = "pgsage-advisor-test";

const SCHEMA: &str = "
SELECT setseed(0.42);
CREATE TABLE res_partner (
    id serial PRIMARY KEY, name text NOT NULL, country_id int, active bool NOT NULL);
INSERT INTO res_partner (name, country_id, active)
SELECT 'partner ' || g, g % 60, g % 20 <> 0 FROM generate_series(1, 20000) g;
CREATE TABLE product_product (
    id serial PRIMARY KEY, default_code text NOT NULL, name text NOT NULL);
INSERT INTO product_product (default_code, name)
SELECT 'P' || g, 'product ' || g FROM generate_series(1, 5000) g;
CREATE TABLE stock_move (
    id bigserial PRIMARY KEY,
    product_id int NOT NULL REFERENCES product_product,
    location_id int NOT NULL,
    state text NOT NULL,
    date timestamptz NOT NULL,
    product_qty numeric NOT NULL,
    origin text);
-- Skewed: a tenth of the moves are on 50 hot products; 1 % are drafts.
INSERT INTO stock_move (product_id, location_id, state, date, product_qty, origin)
SELECT CASE WHEN g % 10 = 0 THEN 1 + g % 50 ELSE 1 + (g * 7919) % 5000 END,
       1 + (g * 31) % 200,
       CASE WHEN g % 100 = 0 THEN 'draft' ELSE 'done' END,
       timestamptz '2024-01-01' + g * interval '2 minutes',
       1 + g % 17, 'SO' || (g / 3)
FROM generate_series(1, 240000) g;
CREATE TABLE sale_order (
    id serial PRIMARY KEY,
    partner_id int NOT NULL REFERENCES res_partner,
    state text NOT NULL,
    date_order timestamptz NOT NULL,
    amount_total numeric NOT NULL);
INSERT INTO sale_order (partner_id, state, date_order, amount_total)
SELECT 1 + (g * 13) % 20000, CASE WHEN g % 7 = 0 THEN 'draft' ELSE 'sale' END,
       timestamptz '2024-01-01' + g * interval '5 minutes', (g % 1000) + 0.5
FROM generate_series(1, 120000) g;
ANALYZE;";

/// The planted statements as the fingerprint sees them, and what each should get.
const BY_PRODUCT: &str = "SELECT id, product_qty, state FROM stock_move WHERE product_id = $1";
const BY_LOCATION: &str = "SELECT id, date, product_qty FROM stock_move WHERE location_id = $1 AND date >= $2 ORDER BY date DESC LIMIT $3";
const PARTNER_ORDERS: &str = "SELECT o.id, o.amount_total FROM res_partner p JOIN sale_order o ON o.partner_id = p.id WHERE p.id = $1";
const PARTNER: &str = "SELECT name, active FROM res_partner WHERE id = $1";
const PRODUCT: &str = "SELECT default_code, name FROM product_product WHERE id = $1";

/// (table, key columns) the planted statements need.
fn planted_indexes() -> BTreeSet<(String, Vec<String>)> {
    [
        ("stock_move", vec!["product_id"]),
        ("stock_move", vec!["location_id", "date"]),
        ("sale_order", vec!["partner_id"]),
    ]
    .into_iter()
    .map(|(t, cols)| (t.to_owned(), cols.into_iter().map(str::to_owned).collect()))
    .collect()
}

/// Runs the workload `rounds` times: each round one execution of each planted query
/// and a few healthy ones. The range query goes with constants in its text (simple
/// protocol: the log keeps an example with constants), the others with parameters.
fn run_workload(client: &mut postgres::Client, rounds: i32) {
    for i in 0..rounds {
        let product = 1 + (i * 37) % 5000;
        client.query(BY_PRODUCT, &[&product]).unwrap();
        client
            .batch_execute(&format!(
                "SELECT id, date, product_qty FROM stock_move WHERE location_id = {} \
                 AND date >= '2024-03-{:02}' ORDER BY date DESC LIMIT 20",
                1 + (i * 11) % 200,
                1 + i % 28
            ))
            .unwrap();
        let partner = 1 + (i * 101) % 20000;
        client.query(PARTNER_ORDERS, &[&partner]).unwrap();
        for k in 0..3 {
            client.query(PARTNER, &[&(partner + k)]).unwrap();
            client.query(PRODUCT, &[&(product + k)]).unwrap();
        }
    }
}

fn server() -> Option<TestServer> {
    let opts = ServerOptions::new(15)
        .conf("log_min_duration_statement = 0")
        .conf(&format!("log_line_prefix = '{PREFIX}'"))
        .conf("lc_messages = 'C'")
        .conf("log_timezone = 'UTC'");
    let server = require_server_with(opts)?;
    if !std::path::Path::new("/usr/share/postgresql/15/extension/hypopg.control").exists() {
        // CI installs it (.ci/run); elsewhere say why nothing ran.
        if pgsage_testkit::require_all_versions() {
            panic!("HypoPG for PostgreSQL 15 is required: apt-get install postgresql-15-hypopg");
        }
        eprintln!("SKIP: HypoPG is not installed for PostgreSQL 15 (postgresql-15-hypopg)");
        return None;
    }
    Some(server)
}

fn snapshot(server: &TestServer, database: &str) -> Snapshot {
    pgsage::collect_snapshot_with(
        &ConnectOptions::new(server.dsn(database)),
        &CollectOptions {
            probe_local_host: false,
            ..CollectOptions::default()
        },
    )
    .unwrap()
}

fn advisor_connection(server: &TestServer, database: &str) -> ConnectOptions {
    let mut c = ConnectOptions::new(server.dsn(database));
    c.application_name = ADVISOR_APP.into();
    c
}

fn log_workload(server: &TestServer) -> Workload {
    let mut agg = Aggregator::new(AggregateOptions::default());
    let opts = LogOptions {
        prefix: Some(PREFIX.to_owned()),
        ..LogOptions::default()
    };
    let stats = read_paths(&[server.log_path()], &opts, |s| agg.add(&s)).unwrap();
    assert_eq!(stats.unparsed_lines, 0, "{stats:#?}");
    agg.finish(vec![server.log_path().display().to_string()])
}

fn calls(w: &Workload, text: &str) -> u64 {
    w.query(fingerprint(text)).map_or(0, |q| q.calls)
}

fn mean_ms(w: &Workload, text: &str) -> f64 {
    w.query(fingerprint(text)).map_or(f64::NAN, |q| q.mean_ms)
}

fn proposed(advice: &IndexAdvice) -> BTreeSet<(String, Vec<String>)> {
    advice
        .recommendations
        .iter()
        .map(|r| (r.table.clone(), r.columns.clone()))
        .collect()
}

fn catalog_counts(server: &TestServer, database: &str) -> Vec<i64> {
    [
        "SELECT count(*) FROM pg_class",
        "SELECT count(*) FROM pg_index",
        "SELECT count(*) FROM pg_extension",
        "SELECT count(*) FROM pg_statistic",
    ]
    .iter()
    .map(|sql| server.query_scalar_i64(database, sql).unwrap())
    .collect()
}

/// The statements the advisor's session sent, from the log written since `from` bytes.
fn advisor_statements(server: &TestServer, from: usize) -> Vec<String> {
    let log = std::fs::read(server.log_path()).unwrap();
    let text = String::from_utf8_lossy(&log[from.min(log.len())..]).into_owned();
    let app = format!("app={ADVISOR_APP}]");
    text.lines()
        .filter(|l| l.contains(&app))
        .filter_map(|l| {
            // `LOG:  duration: 0.1 ms  statement: …` / `… execute <unnamed>: …`.
            let rest = l.split_once("LOG:  duration: ")?.1;
            let rest = rest.split_once(" ms  ")?.1;
            Some(rest.split_once(": ")?.1.trim().to_owned())
        })
        .collect()
}

fn assert_wrote_nothing(statements: &[String]) {
    assert!(statements.len() > 10, "{statements:#?}");
    for s in statements {
        let first = s
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        assert!(
            ["SELECT", "EXPLAIN", "PREPARE", "DEALLOCATE", "SET"].contains(&first.as_str()),
            "the advisor sent `{s}`"
        );
        // SET only for the session's own settings.
        if first == "SET" {
            assert!(
                [
                    "application_name",
                    "statement_timeout",
                    "lock_timeout",
                    "idle_in_transaction_session_timeout",
                    "default_transaction_read_only",
                    "client_min_messages",
                    "plan_cache_mode",
                    // SET LOCAL, for the planned statement's roles' search path.
                    "search_path"
                ]
                .iter()
                .any(|name| s.contains(name)),
                "{s}"
            );
            assert!(!s.contains("default_transaction_read_only = off"), "{s}");
        }
    }
}

#[test]
fn planted_indexes_are_found_validated_and_make_the_queries_faster() {
    let Some(server) = server() else { return };
    server.create_database("erp").unwrap();
    server.execute("erp", SCHEMA).unwrap();
    // Its twin without HypoPG (same tables and statistics), then HypoPG in `erp` only
    // (test setup: the advisor itself never installs anything).
    server
        .execute("postgres", "CREATE DATABASE erp_plain TEMPLATE erp")
        .unwrap();
    server.execute("erp", "CREATE EXTENSION hypopg").unwrap();
    server
        .execute("erp", "SELECT pg_stat_statements_reset()")
        .unwrap();

    let rounds = 60;
    let mut client = server.client("erp").unwrap();
    run_workload(&mut client, rounds);
    drop(client);

    // Both captures agree on calls per fingerprint.
    let erp = snapshot(&server, "erp");
    let pgss = from_snapshot(&erp).unwrap();
    let log = log_workload(&server);
    for (text, expected) in [
        (BY_PRODUCT, rounds as u64),
        (BY_LOCATION, rounds as u64),
        (PARTNER_ORDERS, rounds as u64),
        (PARTNER, 3 * rounds as u64),
        (PRODUCT, 3 * rounds as u64),
    ] {
        assert_eq!(calls(&pgss, text), expected, "pg_stat_statements: `{text}`");
        assert_eq!(calls(&log, text), expected, "log: `{text}`");
    }

    // The advisor, from pg_stat_statements: validated, the planted indexes, lower costs,
    // nothing on the healthy tables, nothing written.
    let before = catalog_counts(&server, "erp");
    let log_size = std::fs::metadata(server.log_path()).unwrap().len() as usize;
    let opts = AdvisorOptions::default();
    let advice = advise_live(
        &pgss,
        &erp,
        &advisor_connection(&server, "erp"),
        &opts,
        None,
    )
    .unwrap();
    // PostgreSQL 15 has no GENERIC_PLAN: prepared statements' generic plans.
    assert!(
        matches!(
            advice.validation,
            Validation::Hypopg {
                method: PlanMethod::PreparedGeneric,
                unplannable: 0,
                ..
            }
        ),
        "{:#?}",
        advice.validation
    );
    assert_eq!(proposed(&advice), planted_indexes(), "{advice:#?}");
    for r in &advice.recommendations {
        assert!(r.validated && r.size_source == "hypopg", "{r:#?}");
        assert!(r.create_statement.contains("CONCURRENTLY"), "{r:#?}");
        assert!(!r.queries.is_empty(), "{r:#?}");
        for q in &r.queries {
            let (b, a) = (q.cost_before.unwrap(), q.cost_after.unwrap());
            assert!(a < b, "{r:#?}");
        }
        assert!(!["res_partner", "product_product"].contains(&r.table.as_str()));
    }
    assert_eq!(
        catalog_counts(&server, "erp"),
        before,
        "the catalog changed"
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_wrote_nothing(&advisor_statements(&server, log_size));

    // From the log capture (examples with constants where logged): the same indexes.
    let from_log =
        advise_live(&log, &erp, &advisor_connection(&server, "erp"), &opts, None).unwrap();
    assert_eq!(proposed(&from_log), planted_indexes(), "{from_log:#?}");
    // The range query was logged with its constants: planned from that example.
    assert!(
        matches!(
            from_log.validation,
            Validation::Hypopg {
                method: PlanMethod::Examples,
                ..
            }
        ),
        "{:#?}",
        from_log.validation
    );

    // Created for real, they make the planted queries clearly faster.
    for r in &advice.recommendations {
        server.execute("erp", &r.create_statement).unwrap();
    }
    server.execute("erp", "ANALYZE").unwrap();
    server
        .execute("erp", "SELECT pg_stat_statements_reset()")
        .unwrap();
    let mut client = server.client("erp").unwrap();
    run_workload(&mut client, rounds);
    drop(client);
    let erp_after = snapshot(&server, "erp");
    let pgss_after = from_snapshot(&erp_after).unwrap();
    for text in [BY_PRODUCT, BY_LOCATION, PARTNER_ORDERS] {
        let (b, a) = (mean_ms(&pgss, text), mean_ms(&pgss_after, text));
        assert!(
            a * 5.0 < b,
            "`{text}`: mean {b:.3} ms before, {a:.3} ms after"
        );
    }

    // The healthy twin: the same workload with the indexes in place gets nothing.
    let healthy = advise_live(
        &pgss_after,
        &erp_after,
        &advisor_connection(&server, "erp"),
        &opts,
        None,
    )
    .unwrap();
    assert!(
        healthy.recommendations.is_empty(),
        "{:#?}",
        healthy.recommendations
    );

    // Without HypoPG in the database: unvalidated, saying why, the planted indexes still
    // proposed, and the extension still not installed.
    server
        .execute("erp_plain", "SELECT pg_stat_statements_reset()")
        .unwrap();
    let mut client = server.client("erp_plain").unwrap();
    run_workload(&mut client, 30);
    drop(client);
    let plain = snapshot(&server, "erp_plain");
    let plain_workload = from_snapshot(&plain).unwrap();
    let unvalidated = advise_live(
        &plain_workload,
        &plain,
        &advisor_connection(&server, "erp_plain"),
        &opts,
        None,
    )
    .unwrap();
    let Validation::Unvalidated { reason } = &unvalidated.validation else {
        panic!("{:#?}", unvalidated.validation);
    };
    assert!(
        reason.contains("HypoPG") && reason.contains("CREATE EXTENSION hypopg"),
        "{reason}"
    );
    assert_eq!(
        proposed(&unvalidated),
        planted_indexes(),
        "{unvalidated:#?}"
    );
    assert!(unvalidated.recommendations.iter().all(|r| !r.validated));
    assert_eq!(
        server
            .query_scalar_i64(
                "erp_plain",
                "SELECT count(*) FROM pg_extension WHERE extname = 'hypopg'"
            )
            .unwrap(),
        0
    );
}
