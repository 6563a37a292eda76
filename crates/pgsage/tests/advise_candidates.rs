//! The index advisor's candidates on a real server (PostgreSQL 15) with realistic data:
//! a planted workload on unindexed columns (an equality lookup, an equality + range, an
//! ORDER BY … LIMIT on a skewed state, a join on an unindexed foreign key) gets the
//! expected indexes, in the expected column order; its healthy twin (the same statements
//! with those indexes in place, plus primary key and unique lookups) gets none, each
//! candidate rejected as served by the existing index; an unselective filter (three even
//! states) and a tiny table get nothing either. The workload is the server's own
//! pg_stat_statements, read through a collected snapshot, as `pgsage indexes` reads it.

use pgsage::advise::{advise, generate, AdvisorOptions, Candidates, IndexAdvice};
use pgsage::workload::from_snapshot;
use pgsage::{CollectOptions, ConnectOptions, Snapshot};
use pgsage_testkit::{require_server_with, ServerOptions, TestServer};

const MAJOR: u32 = 15;

const SCHEMA: &str = "
CREATE TABLE res_partner (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO res_partner (name) SELECT 'Partner ' || g FROM generate_series(1, 5000) g;
CREATE TABLE stock_location (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO stock_location (name) SELECT 'WH/Stock/' || g FROM generate_series(1, 200) g;
CREATE TABLE stock_picking (id serial PRIMARY KEY, name text NOT NULL UNIQUE,
    partner_id int NOT NULL REFERENCES res_partner);
INSERT INTO stock_picking (name, partner_id)
    SELECT 'WH/OUT/' || lpad(g::text, 6, '0'), 1 + g % 5000 FROM generate_series(1, 20000) g;
CREATE TABLE stock_move (id serial PRIMARY KEY, product_id int NOT NULL,
    location_id int NOT NULL REFERENCES stock_location, picking_id int REFERENCES stock_picking,
    state text NOT NULL, date timestamptz NOT NULL, qty numeric NOT NULL, reference text);
-- 120 000 moves: 3 000 products, 200 locations, 6 moves per picking; 2% draft,
-- 8% assigned, 90% done; one move a minute from January on.
INSERT INTO stock_move (product_id, location_id, picking_id, state, date, qty, reference)
    SELECT 1 + (g * 7919) % 3000, 1 + g % 200, 1 + g % 20000,
           CASE WHEN g % 50 = 0 THEN 'draft' WHEN g % 12 = 0 THEN 'assigned' ELSE 'done' END,
           '2026-01-01'::timestamptz + g * interval '1 minute', g % 17, 'MOVE/' || g
    FROM generate_series(1, 120000) g;
CREATE TABLE mail_activity (id serial PRIMARY KEY, res_id int NOT NULL, state text NOT NULL, note text);
INSERT INTO mail_activity (res_id, state, note)
    SELECT g, (ARRAY['planned', 'today', 'overdue'])[1 + g % 3], 'call back'
    FROM generate_series(1, 120000) g;
";

/// The indexes the planted workload needs (the healthy twin has them).
const RIGHT_INDEXES: &str = "
CREATE INDEX stock_move_product_idx ON stock_move (product_id);
CREATE INDEX stock_move_location_date_idx ON stock_move (location_id, date);
CREATE INDEX stock_move_state_date_idx ON stock_move (state, date);
CREATE INDEX stock_move_picking_idx ON stock_move (picking_id);
";

fn run_workload(server: &TestServer, healthy: bool) {
    let mut c = server.client("app").expect("client");
    let mut run = |sql: String| c.batch_execute(&sql).expect("statement");
    for i in 0..60 {
        run(format!(
            "SELECT id, qty FROM stock_move WHERE product_id = {}",
            1 + i * 37 % 3000
        ));
    }
    for i in 0..40 {
        run(format!(
            "SELECT sum(qty) FROM stock_move WHERE location_id = {} AND date >= '2026-01-20' AND date < '2026-02-10'",
            1 + i * 3 % 200
        ));
    }
    for _ in 0..40 {
        run("SELECT id, reference FROM stock_move WHERE state = 'draft' ORDER BY date DESC LIMIT 20".into());
    }
    for i in 0..40 {
        run(format!(
            "SELECT m.id, m.qty FROM stock_picking p JOIN stock_move m ON m.picking_id = p.id WHERE p.name = 'WH/OUT/{:06}'",
            1 + i * 101 % 20000
        ));
    }
    for i in 0..30 {
        let state = ["planned", "today", "overdue"][i % 3];
        run(format!(
            "SELECT count(*) FROM mail_activity WHERE state = '{state}'"
        ));
    }
    for i in 0..300 {
        run(format!(
            "SELECT id FROM stock_location WHERE name = 'WH/Stock/{}'",
            1 + i % 200
        ));
    }
    if healthy {
        for i in 0..300 {
            run(format!(
                "SELECT * FROM stock_move WHERE id = {}",
                1 + i * 397
            ));
            run(format!(
                "SELECT id FROM stock_picking WHERE name = 'WH/OUT/{:06}'",
                1 + i * 61
            ));
        }
    }
}

/// A snapshot of database `app`, as `pgsage indexes --dsn` collects it.
fn collect(server: &TestServer) -> Snapshot {
    pgsage::collect_snapshot_with(
        &ConnectOptions::new(server.dsn("app")),
        &CollectOptions {
            probe_local_host: false,
            ..CollectOptions::default()
        },
    )
    .expect("collect")
}

/// Unvalidated advice after 60 lookups `lookup <partner id>` (run as `role` when given)
/// tracked by pg_stat_statements from a reset.
fn advice_on_lookups(server: &TestServer, role: Option<&str>, lookup: &str) -> IndexAdvice {
    server
        .execute("app", "SELECT pg_stat_statements_reset()")
        .expect("reset");
    let mut c = server.client("app").expect("client");
    if let Some(role) = role {
        c.batch_execute(&format!("SET ROLE {role}"))
            .expect("set role");
    }
    for i in 0..60 {
        c.batch_execute(&format!("{lookup}{}", 1 + i * 331 % 20000))
            .expect("lookup");
    }
    let snap = collect(server);
    let workload = from_snapshot(&snap).expect("workload");
    advise(&workload, &snap, &AdvisorOptions::default(), "test")
}

fn capture(healthy: bool) -> Option<(Snapshot, Candidates, IndexAdvice)> {
    let server = require_server_with(ServerOptions::new(MAJOR))?;
    server.create_database("app").expect("create database");
    server.execute("app", SCHEMA).expect("schema");
    if healthy {
        server.execute("app", RIGHT_INDEXES).expect("indexes");
    }
    // VACUUM sets the visibility map: index-only scans (and covering candidates) pay off.
    server
        .execute("app", "VACUUM ANALYZE")
        .expect("vacuum analyze");
    server
        .execute("app", "SELECT pg_stat_statements_reset()")
        .expect("reset");
    run_workload(&server, healthy);
    let snap = collect(&server);
    let workload = from_snapshot(&snap).expect("pg_stat_statements workload");
    let opts = AdvisorOptions::default();
    let candidates = generate(&workload, &snap, &opts);
    let advice = advise(&workload, &snap, &opts, "test: no validation");
    Some((snap, candidates, advice))
}

fn shape(table: &str, columns: &[&str]) -> (String, Vec<String>) {
    (
        table.to_owned(),
        columns.iter().map(|c| (*c).to_owned()).collect(),
    )
}

fn rejected_with(advice: &IndexAdvice, table: &str, reason: &str) -> bool {
    advice
        .rejected
        .iter()
        .any(|r| r.create_statement.contains(&format!(".{table} ")) && r.reason.contains(reason))
}

#[test]
fn planted_missing_indexes_are_found_in_the_right_column_order() {
    let Some((_snap, candidates, advice)) = capture(false) else {
        return;
    };
    let mut got: Vec<(String, Vec<String>)> = advice
        .recommendations
        .iter()
        .map(|r| (r.table.clone(), r.columns.clone()))
        .collect();
    got.sort();
    let mut want = vec![
        shape("stock_move", &["product_id"]),
        shape("stock_move", &["location_id", "date"]),
        shape("stock_move", &["state", "date"]),
        shape("stock_move", &["picking_id"]),
    ];
    want.sort();
    assert_eq!(got, want, "{advice:#?}");
    for r in &advice.recommendations {
        assert!(!r.validated);
        assert_eq!(r.size_source, "estimate");
        assert!(r.estimated_size_bytes > 1_000_000, "{r:#?}");
        assert!(r.benefit_ms > 0.0 && !r.queries.is_empty(), "{r:#?}");
        assert!(r.write_overhead.is_some(), "{r:#?}");
        assert!(
            r.create_statement
                .starts_with("CREATE INDEX CONCURRENTLY ON public.stock_move ("),
            "{}",
            r.create_statement
        );
    }
    // Covering: the ORDER BY … LIMIT reads id and reference, so a covering variant is
    // a candidate of its own; without a server to measure it, the plain index (smaller,
    // same statements) is the one recommended.
    let ordered = advice
        .recommendations
        .iter()
        .find(|r| r.columns == ["state", "date"])
        .expect("state, date");
    assert!(ordered.include.is_empty(), "{ordered:#?}");
    assert!(
        candidates
            .candidates
            .iter()
            .any(|c| c.columns == ["state", "date"] && c.include == ["id", "reference"]),
        "{:#?}",
        candidates.candidates
    );
    // The small and the unselective are rejected with their reasons.
    assert!(
        rejected_with(&advice, "stock_location", "min_table_rows"),
        "{:#?}",
        advice.rejected
    );
    assert!(
        rejected_with(&advice, "mail_activity", "not selective"),
        "{:#?}",
        advice.rejected
    );
    // The join's driving side is served by its unique index.
    assert!(
        rejected_with(&advice, "stock_picking", "public.stock_picking_name_key"),
        "{:#?}",
        advice.rejected
    );
    assert!(
        candidates.statements.analyzed >= 6,
        "{:?}",
        candidates.statements
    );
    assert_eq!(
        candidates.statements.unparsable, 0,
        "{:?}",
        candidates.statements
    );
}

#[test]
fn the_healthy_twin_gets_no_recommendation() {
    let Some((_snap, candidates, advice)) = capture(true) else {
        return;
    };
    assert!(advice.recommendations.is_empty(), "{advice:#?}");
    assert!(candidates.candidates.is_empty(), "{candidates:#?}");
    for index in [
        "stock_move_product_idx",
        "stock_move_location_date_idx",
        "stock_move_state_date_idx",
        "stock_move_picking_idx",
        "stock_move_pkey",
        "stock_picking_name_key",
    ] {
        assert!(
            advice
                .rejected
                .iter()
                .any(|r| r.reason.contains(&format!("index public.{index}"))),
            "{index}: {:#?}",
            advice.rejected
        );
    }
    assert!(
        rejected_with(&advice, "mail_activity", "not selective"),
        "{:#?}",
        advice.rejected
    );
}

/// A partitioned table's index cannot be built CONCURRENTLY on the parent: the advice is
/// the parent's index ON ONLY, each partition's concurrently, each attached — and run
/// statement by statement, as a DBA would, it leaves a valid index on the parent.
#[test]
fn a_partitioned_table_gets_statements_that_build_a_valid_index_without_blocking() {
    let Some(server) = require_server_with(ServerOptions::new(MAJOR)) else {
        return;
    };
    server.create_database("app").expect("create database");
    server
        .execute(
            "app",
            "CREATE TABLE account_move_line (id bigserial, partner_id int, date date NOT NULL,
                 balance numeric NOT NULL, PRIMARY KEY (id, date)) PARTITION BY RANGE (date);
             CREATE TABLE account_move_line_2025 PARTITION OF account_move_line
                 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
             CREATE TABLE account_move_line_2026 PARTITION OF account_move_line
                 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
             INSERT INTO account_move_line (partner_id, date, balance)
                 SELECT 1 + (g * 7) % 20000, date '2025-01-01' + g % 700, g % 1000
                 FROM generate_series(1, 150000) g;",
        )
        .expect("schema");
    server
        .execute("app", "VACUUM ANALYZE account_move_line")
        .expect("vacuum");
    let advice = advice_on_lookups(
        &server,
        None,
        "SELECT id, balance FROM account_move_line WHERE partner_id = ",
    );
    let mut c = server.client("app").expect("client");
    let r = advice
        .recommendations
        .iter()
        .find(|r| r.table == "account_move_line")
        .unwrap_or_else(|| panic!("{advice:#?}"));
    assert_eq!(r.columns, ["partner_id"]);
    let statements: Vec<&str> = r.create_statement.lines().collect();
    assert_eq!(statements.len(), 5, "{}", r.create_statement);
    assert!(
        statements[0].starts_with("CREATE INDEX account_move_line_partner_id_idx ON ONLY"),
        "{}",
        r.create_statement
    );
    for s in &statements {
        c.batch_execute(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    let valid: bool = c
        .query_one(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'account_move_line_partner_id_idx'::regclass",
            &[],
        )
        .expect("parent index")
        .get(0);
    assert!(
        valid,
        "the parent's index is valid once every partition's is attached"
    );
}

/// A schema per tenant: role `tenant_a`'s statements name `sale_order` unqualified and
/// the server's `"$user", public` search path takes `tenant_a.sale_order`, not the small
/// `public.sale_order` — and so does the advisor.
#[test]
fn unqualified_names_resolve_through_the_roles_search_path() {
    let Some(server) = require_server_with(ServerOptions::new(MAJOR)) else {
        return;
    };
    server.create_database("app").expect("create database");
    server
        .execute(
            "app",
            "CREATE ROLE tenant_a;
             CREATE SCHEMA tenant_a AUTHORIZATION tenant_a;
             CREATE TABLE public.sale_order (id serial PRIMARY KEY, partner_id int NOT NULL);
             INSERT INTO public.sale_order (partner_id) SELECT g FROM generate_series(1, 100) g;
             CREATE TABLE tenant_a.sale_order (id serial PRIMARY KEY, partner_id int NOT NULL,
                 amount numeric NOT NULL);
             INSERT INTO tenant_a.sale_order (partner_id, amount)
                 SELECT 1 + (g * 7) % 20000, g % 1000 FROM generate_series(1, 120000) g;
             GRANT ALL ON ALL TABLES IN SCHEMA tenant_a TO tenant_a;
             GRANT SELECT ON public.sale_order TO tenant_a;",
        )
        .expect("schema");
    server.execute("app", "ANALYZE").expect("analyze");
    let advice = advice_on_lookups(
        &server,
        Some("tenant_a"),
        "SELECT id, amount FROM sale_order WHERE partner_id = ",
    );
    let tables: Vec<(String, String)> = advice
        .recommendations
        .iter()
        .map(|r| (r.schema.clone(), r.table.clone()))
        .collect();
    assert_eq!(
        tables,
        [("tenant_a".to_string(), "sale_order".to_string())],
        "{advice:#?}"
    );
}
