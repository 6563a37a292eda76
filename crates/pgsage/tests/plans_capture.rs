//! Captures the plan corpus, `testdata/plans/pg<major>/<case>.{json,txt}`, from real
//! PostgreSQL 13–18 servers: a small ERP database and one query per plan problem (and a
//! few healthy ones). Run by `scripts/capture-plans.sh`; without `PGSAGE_CAPTURE_PLANS=1`
//! these tests do nothing.
//!
//! Each case runs in a transaction that is rolled back (so the DELETE leaves the data as
//! it was), with its settings applied by `set_config(…, true)`. Each case states what
//! its plan must show; capture fails if the server chose another plan, so the corpus
//! names stay true.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use pgsage::plan::{parse_plan, Plan, PlanNode};
use pgsage_testkit::{require_server_with, ServerOptions};
use tokio_postgres::SimpleQueryMessage;

const CAPTURE_ENV: &str = "PGSAGE_CAPTURE_PLANS";

/// The ERP database: partners, products, orders with lines (FK without an index on the
/// referencing side, ON DELETE CASCADE), stock moves with correlated locations and
/// wide rows, and a quant table that is never vacuumed.
const SCHEMA: &str = r"
CREATE TABLE res_partner (
    id serial PRIMARY KEY, name text NOT NULL, country_code text, is_company boolean);
INSERT INTO res_partner (name, country_code, is_company)
SELECT 'Partner ' || g, (ARRAY['FR','BE','DE','US','NL'])[1 + g % 5], g % 10 = 0
FROM generate_series(1, 5000) g;

CREATE TABLE product (
    id serial PRIMARY KEY, default_code text, name text, list_price numeric(12,2), active boolean);
INSERT INTO product (default_code, name, list_price, active)
SELECT 'P' || lpad(g::text, 5, '0'), 'Product ' || g, (g % 500) + 0.99, g % 20 <> 0
FROM generate_series(1, 2000) g;

CREATE TABLE sale_order (
    id serial PRIMARY KEY, name text NOT NULL,
    partner_id int NOT NULL REFERENCES res_partner (id),
    state text NOT NULL, date_order timestamp NOT NULL, amount_total numeric(14,2),
    company_id int NOT NULL);
INSERT INTO sale_order (name, partner_id, state, date_order, amount_total, company_id)
SELECT 'SO' || lpad(g::text, 6, '0'), 1 + (g * 7919) % 5000,
       CASE WHEN g % 100 = 0 THEN 'cancel' WHEN g % 10 = 0 THEN 'draft' ELSE 'sale' END,
       timestamp '2024-01-01' + (g * 1753 % 730) * interval '1 day' + (g % 86400) * interval '1 second',
       ((g * 37) % 100000) / 10.0, 1 + g % 3
FROM generate_series(1, 30000) g;
CREATE INDEX sale_order_partner_id_idx ON sale_order (partner_id);
CREATE INDEX sale_order_date_order_idx ON sale_order (date_order);

CREATE TABLE sale_order_line (
    id serial PRIMARY KEY,
    order_id int NOT NULL REFERENCES sale_order (id) ON DELETE CASCADE,
    product_id int NOT NULL REFERENCES product (id),
    product_uom_qty numeric(12,3), price_unit numeric(12,2), price_subtotal numeric(14,2));
INSERT INTO sale_order_line (order_id, product_id, product_uom_qty, price_unit, price_subtotal)
SELECT 1 + (g - 1) / 3, 1 + (g::bigint * 104729) % 2000, 1 + g % 9, (g % 1000) + 0.5,
       (1 + g % 9) * ((g % 1000) + 0.5)
FROM generate_series(1, 90000) g;

CREATE TABLE stock_move (
    id serial PRIMARY KEY, product_id int NOT NULL, location_id int NOT NULL,
    location_dest_id int NOT NULL, product_qty numeric(12,3), state text NOT NULL,
    date timestamp NOT NULL, reference text, note text);
INSERT INTO stock_move (product_id, location_id, location_dest_id, product_qty, state, date,
                        reference, note)
SELECT 1 + (g * 7) % 2000, g % 100, g % 100 + 1, 1 + g % 50,
       CASE WHEN g % 20 = 0 THEN 'cancel' ELSE 'done' END,
       timestamp '2024-01-01' + (g % 730) * interval '1 day',
       'WH/MOVE/' || g, repeat('x', 200)
FROM generate_series(1, 60000) g;
CREATE INDEX stock_move_product_id_idx ON stock_move (product_id);

CREATE TABLE stock_quant (
    id serial PRIMARY KEY, product_id int NOT NULL, location_id int NOT NULL,
    quantity numeric(12,3));
CREATE INDEX stock_quant_location_product_idx ON stock_quant (location_id, product_id);

";

/// Run on its own: VACUUM cannot run in the implicit transaction of a batch.
const VACUUM: &str = "VACUUM ANALYZE res_partner, product, sale_order, sale_order_line, stock_move";

/// Filled after the VACUUM and only analyzed: its visibility map stays empty.
const QUANTS: &str = r"
INSERT INTO stock_quant (product_id, location_id, quantity)
SELECT 1 + g % 2000, g % 40, g % 100
FROM generate_series(1, 40000) g;
ANALYZE stock_quant;
";

/// The majors that get every case; the others get the `core` cases (the plan shapes
/// that differ between versions show in those too).
const FULL_MAJORS: [u32; 2] = [13, 18];

/// What a captured plan must show for its case.
type Check = fn(&Plan) -> bool;

struct Case {
    name: &'static str,
    /// `name = value` pairs applied with `set_config(name, value, true)`, skipped when
    /// the server does not know the setting.
    settings: &'static [(&'static str, &'static str)],
    sql: &'static str,
    /// First major that has what the case shows.
    min_major: u32,
    /// Captured on every major; the others only on [`FULL_MAJORS`] (corpus size).
    core: bool,
    check: Check,
}

fn any_node(plan: &Plan, f: impl Fn(&PlanNode) -> bool) -> bool {
    plan.nodes().any(|v| f(v.node))
}

const SERIAL: &[(&str, &str)] = &[("max_parallel_workers_per_gather", "0")];

fn cases() -> Vec<Case> {
    vec![
        // --- problems ---
        Case {
            name: "row_misestimate",
            core: true,
            settings: SERIAL,
            sql: "SELECT p.name, sum(m.product_qty) FROM stock_move m \
                  JOIN product p ON p.id = m.product_id \
                  WHERE m.location_id = 5 AND m.location_dest_id = 6 GROUP BY p.name",
            min_major: 13,
            check: |p| any_node(p, |n| n.rows_estimate().is_some_and(|e| e.factor >= 10.0)),
        },
        Case {
            name: "seq_scan_filter",
            core: false,
            settings: SERIAL,
            sql: "SELECT id, order_id, price_subtotal FROM sale_order_line WHERE price_unit > 990",
            min_major: 13,
            check: |p| {
                any_node(p, |n| {
                    n.node_type == "Seq Scan" && n.filter_removed_share().is_some_and(|s| s > 0.9)
                })
            },
        },
        Case {
            name: "sort_spill",
            core: true,
            settings: &[("max_parallel_workers_per_gather", "0"), ("work_mem", "64kB")],
            sql: "SELECT id, name, amount_total FROM sale_order ORDER BY amount_total DESC, id",
            min_major: 13,
            check: |p| any_node(p, |n| n.sort_space_type.as_deref() == Some("Disk")),
        },
        Case {
            name: "hash_batches",
            core: true,
            settings: &[("max_parallel_workers_per_gather", "0"), ("work_mem", "64kB")],
            sql: "SELECT o.state, count(*), sum(l.price_subtotal) FROM sale_order_line l \
                  JOIN sale_order o ON o.id = l.order_id GROUP BY o.state",
            min_major: 13,
            check: |p| any_node(p, |n| n.hash_batches.is_some_and(|b| b > 1)),
        },
        Case {
            name: "lossy_bitmap",
            core: false,
            settings: &[
                ("max_parallel_workers_per_gather", "0"),
                ("work_mem", "64kB"),
                ("enable_seqscan", "off"),
                ("enable_indexscan", "off"),
            ],
            sql: "SELECT count(*), sum(product_qty) FROM stock_move WHERE product_id <= 1200",
            min_major: 13,
            check: |p| any_node(p, |n| n.lossy_heap_blocks.is_some_and(|b| b > 0)),
        },
        Case {
            name: "nested_loop_many",
            core: false,
            settings: &[
                ("max_parallel_workers_per_gather", "0"),
                ("enable_hashjoin", "off"),
                ("enable_mergejoin", "off"),
                ("enable_memoize", "off"),
            ],
            sql: "SELECT l.id, o.name FROM sale_order_line l \
                  JOIN sale_order o ON o.id = l.order_id WHERE l.id <= 20000",
            min_major: 13,
            check: |p| {
                any_node(p, |n| {
                    n.node_type == "Nested Loop"
                        && n.children.iter().any(|c| c.actual_loops.unwrap_or(0.0) >= 1000.0)
                })
            },
        },
        Case {
            name: "index_only_heap_fetches",
            core: false,
            settings: &[
                ("max_parallel_workers_per_gather", "0"),
                ("enable_seqscan", "off"),
                ("enable_bitmapscan", "off"),
            ],
            sql: "SELECT location_id, count(product_id) FROM stock_quant \
                  WHERE location_id BETWEEN 3 AND 20 GROUP BY location_id",
            min_major: 13,
            check: |p| {
                any_node(p, |n| {
                    n.node_type == "Index Only Scan" && n.heap_fetches.is_some_and(|h| h > 1000.0)
                })
            },
        },
        Case {
            name: "parallel",
            core: true,
            settings: &[
                ("max_parallel_workers_per_gather", "2"),
                ("parallel_setup_cost", "0"),
                ("parallel_tuple_cost", "0"),
                ("min_parallel_table_scan_size", "0"),
            ],
            sql: "SELECT state, count(*), sum(amount_total) FROM sale_order GROUP BY state",
            min_major: 13,
            check: |p| any_node(p, |n| n.workers_launched.is_some_and(|w| w > 0)),
        },
        Case {
            name: "parallel_not_launched",
            core: false,
            settings: &[
                ("max_parallel_workers_per_gather", "2"),
                ("max_parallel_workers", "0"),
                ("parallel_setup_cost", "0"),
                ("parallel_tuple_cost", "0"),
                ("min_parallel_table_scan_size", "0"),
            ],
            sql: "SELECT count(*), sum(price_subtotal) FROM sale_order_line WHERE product_uom_qty > 2",
            min_major: 13,
            check: |p| {
                any_node(p, |n| {
                    n.workers_planned.is_some_and(|w| w > 0) && n.workers_launched == Some(0)
                })
            },
        },
        Case {
            name: "jit",
            core: true,
            settings: &[
                ("max_parallel_workers_per_gather", "0"),
                ("jit", "on"),
                ("jit_above_cost", "0"),
                ("jit_inline_above_cost", "0"),
                ("jit_optimize_above_cost", "0"),
            ],
            sql: "SELECT company_id, sum(amount_total * 1.2), avg(amount_total) FILTER (WHERE state = 'sale') \
                  FROM sale_order GROUP BY company_id",
            min_major: 13,
            check: |p| p.jit.as_ref().is_some_and(|j| j.functions.unwrap_or(0) > 0),
        },
        Case {
            name: "planning_over_execution",
            core: false,
            settings: SERIAL,
            sql: "SELECT p1.name FROM res_partner p1 \
                  JOIN sale_order o1 ON o1.partner_id = p1.id \
                  JOIN sale_order_line l1 ON l1.order_id = o1.id \
                  JOIN product pr1 ON pr1.id = l1.product_id \
                  WHERE p1.id = -1",
            min_major: 13,
            check: |p| match (p.planning_time_ms, p.execution_time_ms) {
                (Some(plan), Some(exec)) => plan > exec,
                _ => false,
            },
        },
        Case {
            name: "subplan_many_loops",
            core: false,
            settings: SERIAL,
            sql: "SELECT l.id, (SELECT p.name FROM product p WHERE p.id = l.product_id) \
                  FROM sale_order_line l WHERE l.id <= 5000",
            min_major: 13,
            check: |p| {
                any_node(p, |n| {
                    n.subplan_name.as_deref().is_some_and(|s| s.starts_with("SubPlan"))
                        && n.actual_loops.unwrap_or(0.0) >= 1000.0
                })
            },
        },
        Case {
            name: "cte_scan",
            core: true,
            settings: SERIAL,
            sql: "WITH totals AS MATERIALIZED ( \
                    SELECT order_id, sum(price_subtotal) AS total FROM sale_order_line GROUP BY order_id) \
                  SELECT o.name, t.total FROM sale_order o JOIN totals t ON t.order_id = o.id \
                  WHERE t.total > (SELECT avg(total) * 2 FROM totals)",
            min_major: 13,
            check: |p| any_node(p, |n| n.node_type == "CTE Scan"),
        },
        Case {
            name: "initplan",
            core: true,
            settings: SERIAL,
            sql: "SELECT id, name, amount_total FROM sale_order \
                  WHERE amount_total > (SELECT avg(amount_total) * 1.9 FROM sale_order)",
            min_major: 13,
            check: |p| {
                any_node(p, |n| {
                    n.subplan_name.as_deref().is_some_and(|s| s.starts_with("InitPlan"))
                })
            },
        },
        Case {
            name: "memoize",
            core: true,
            settings: &[
                ("max_parallel_workers_per_gather", "0"),
                ("enable_hashjoin", "off"),
                ("enable_mergejoin", "off"),
            ],
            sql: "SELECT l.id, p.default_code FROM sale_order_line l \
                  JOIN product p ON p.id = l.product_id WHERE l.id <= 20000",
            min_major: 14,
            check: |p| any_node(p, |n| n.node_type == "Memoize"),
        },
        Case {
            name: "incremental_sort",
            core: false,
            settings: SERIAL,
            sql: "SELECT id, date_order, amount_total FROM sale_order \
                  ORDER BY date_order, amount_total LIMIT 200",
            min_major: 13,
            check: |p| any_node(p, |n| n.node_type == "Incremental Sort"),
        },
        Case {
            name: "join_filter_heavy",
            core: false,
            settings: &[
                ("max_parallel_workers_per_gather", "0"),
                ("enable_hashjoin", "off"),
                ("enable_mergejoin", "off"),
            ],
            sql: "SELECT count(*) FROM product p JOIN res_partner r \
                  ON p.list_price > r.id * 2 AND (p.id + r.id) % 7 = 0 \
                  WHERE r.id <= 300 AND p.id <= 400",
            min_major: 13,
            check: |p| {
                any_node(p, |n| n.rows_removed_by_join_filter.is_some_and(|r| r > 10000.0))
            },
        },
        // --- healthy ---
        Case {
            name: "healthy_pk_lookup",
            core: false,
            settings: SERIAL,
            sql: "SELECT * FROM sale_order WHERE id = 4242",
            min_major: 13,
            check: |p| p.root.node_type == "Index Scan",
        },
        Case {
            name: "healthy_join",
            core: true,
            settings: SERIAL,
            sql: "SELECT o.name, p.name, o.amount_total FROM sale_order o \
                  JOIN res_partner p ON p.id = o.partner_id WHERE o.id BETWEEN 100 AND 140",
            min_major: 13,
            check: |p| p.root.is_join(),
        },
        Case {
            name: "healthy_index_only",
            core: false,
            settings: SERIAL,
            sql: "SELECT count(*) FROM sale_order \
                  WHERE date_order >= '2025-06-01' AND date_order < '2025-06-08'",
            min_major: 13,
            check: |p| {
                any_node(p, |n| n.node_type == "Index Only Scan" && n.heap_fetches == Some(0.0))
            },
        },
        Case {
            name: "healthy_top_n",
            core: false,
            settings: SERIAL,
            sql: "SELECT id, name, date_order FROM sale_order WHERE partner_id = 77 \
                  ORDER BY date_order DESC LIMIT 10",
            min_major: 13,
            check: |p| p.root.node_type == "Limit",
        },
        // --- last: its rolled-back DELETE clears visibility-map bits of sale_order ---
        Case {
            name: "fk_trigger_delete",
            core: true,
            settings: SERIAL,
            sql: "DELETE FROM sale_order WHERE id <= 40",
            min_major: 13,
            check: |p| !p.triggers.is_empty(),
        },
    ]
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn capture(major: u32) {
    if std::env::var(CAPTURE_ENV).as_deref() != Ok("1") {
        eprintln!("SKIP: set {CAPTURE_ENV}=1 (scripts/capture-plans.sh) to capture plans");
        return;
    }
    let opts = ServerOptions::new(major)
        .conf("autovacuum = off")
        .conf("jit = off")
        .conf("max_parallel_workers = 4");
    let Some(server) = require_server_with(opts) else {
        return;
    };
    server.create_database_without_extensions("erp").unwrap();
    for batch in [SCHEMA, VACUUM, QUANTS] {
        server.execute("erp", batch).unwrap();
    }
    let mut client = server.client("erp").unwrap();
    // pg_jit_available() is false while jit is off (as configured above).
    let jit_available = client
        .simple_query("SET jit = on; SELECT pg_jit_available()::int::text")
        .unwrap()
        .into_iter()
        .any(|m| matches!(m, SimpleQueryMessage::Row(r) if r.get(0) == Some("1")));
    client.batch_execute("RESET jit").unwrap();
    // `EXPLAIN (<options>) <sql>` in a rolled-back transaction with the case's settings;
    // EXPLAIN's output lines joined with newlines.
    let mut explain = |case: &Case, options: &str| -> String {
        client.batch_execute("BEGIN").unwrap();
        for (name, value) in case.settings {
            client
                .batch_execute(&format!(
                    "SELECT set_config(name, '{value}', true) FROM pg_settings WHERE name = '{name}'"
                ))
                .unwrap();
        }
        let messages = client
            .simple_query(&format!("EXPLAIN ({options}) {}", case.sql))
            .unwrap_or_else(|e| panic!("pg{major} {}: {e}", case.name));
        client.batch_execute("ROLLBACK").unwrap();
        let mut out = String::new();
        for m in messages {
            if let SimpleQueryMessage::Row(row) = m {
                out.push_str(row.get(0).unwrap_or_default());
                out.push('\n');
            }
        }
        out
    };
    let dir = repo_root().join(format!("testdata/plans/pg{major}"));
    std::fs::create_dir_all(&dir).unwrap();
    let json_options = "ANALYZE, BUFFERS, VERBOSE, SETTINGS, WAL, FORMAT JSON";
    for case in cases() {
        if major < case.min_major
            || (case.name == "jit" && !jit_available)
            || !(case.core || FULL_MAJORS.contains(&major))
        {
            continue;
        }
        let json = explain(&case, json_options);
        let text = explain(&case, "ANALYZE, BUFFERS");
        let plan = parse_plan(&json).unwrap_or_else(|e| panic!("pg{major} {}: {e}", case.name));
        assert!(
            (case.check)(&plan),
            "pg{major} {}: the plan does not show what the case is about:\n{text}",
            case.name
        );
        std::fs::write(dir.join(format!("{}.json", case.name)), json).unwrap();
        std::fs::write(dir.join(format!("{}.txt", case.name)), text).unwrap();
    }
}

macro_rules! capture_tests {
    ($($name:ident => $major:expr),* $(,)?) => {
        $(#[test] fn $name() { capture($major) })*
    };
}

capture_tests! {
    capture_pg13 => 13,
    capture_pg14 => 14,
    capture_pg15 => 15,
    capture_pg16 => 16,
    capture_pg17 => 17,
    capture_pg18 => 18,
}

// --- extra cases: their own server (small shared_buffers, for a cold read) ---

/// Cases captured on a server with `shared_buffers = 1MB`, so that scanning
/// `stock_move` (about 17 MB) reads from outside shared_buffers; they do not depend on
/// the cache otherwise. Written next to the main cases of [`FULL_MAJORS`].
fn extra_cases() -> Vec<Case> {
    vec![
        Case {
            name: "cold_cache",
            core: false,
            settings: SERIAL,
            sql: "SELECT sum(product_qty), max(date) FROM stock_move",
            min_major: 13,
            check: |p| any_node(p, |n| n.shared_read_blocks().is_some_and(|r| r > 1000)),
        },
        Case {
            name: "planning_heavy",
            core: false,
            settings: &[
                ("max_parallel_workers_per_gather", "0"),
                ("join_collapse_limit", "12"),
                ("from_collapse_limit", "12"),
                ("geqo_threshold", "14"),
            ],
            sql: "SELECT 1 FROM res_partner p1 \
                  JOIN sale_order o1 ON o1.partner_id = p1.id \
                  JOIN sale_order_line l1 ON l1.order_id = o1.id \
                  JOIN product pr1 ON pr1.id = l1.product_id \
                  JOIN stock_move m1 ON m1.product_id = pr1.id \
                  JOIN res_partner p2 ON p2.id = o1.partner_id \
                  JOIN sale_order o2 ON o2.partner_id = p2.id \
                  JOIN sale_order_line l2 ON l2.order_id = o2.id \
                  JOIN product pr2 ON pr2.id = l2.product_id \
                  JOIN stock_move m2 ON m2.product_id = pr2.id \
                  JOIN stock_quant q1 ON q1.product_id = pr1.id \
                  WHERE p1.id = -1",
            min_major: 13,
            check: |p| match (p.planning_time_ms, p.execution_time_ms) {
                (Some(plan), Some(exec)) => plan > 1.0 && plan > 2.0 * exec,
                _ => false,
            },
        },
    ]
}

fn capture_extra(major: u32) {
    if std::env::var(CAPTURE_ENV).as_deref() != Ok("1") {
        eprintln!("SKIP: set {CAPTURE_ENV}=1 (scripts/capture-plans.sh) to capture plans");
        return;
    }
    if !FULL_MAJORS.contains(&major) {
        return;
    }
    let opts = ServerOptions::new(major)
        .conf("autovacuum = off")
        .conf("jit = off")
        .conf("shared_buffers = 1MB");
    let Some(server) = require_server_with(opts) else {
        return;
    };
    server.create_database_without_extensions("erp").unwrap();
    for batch in [SCHEMA, VACUUM, QUANTS] {
        server.execute("erp", batch).unwrap();
    }
    let mut client = server.client("erp").unwrap();
    // `EXPLAIN (<options>) <sql>` in a rolled-back transaction with the settings, after
    // reading other tables so that stock_move's pages are not all in shared_buffers.
    let mut explain = |name: &str, settings: &[(&str, &str)], sql: &str, options: &str| {
        client
            .batch_execute("SELECT count(*) FROM sale_order_line; SELECT count(*) FROM stock_quant")
            .unwrap();
        client.batch_execute("BEGIN").unwrap();
        for (setting, value) in settings {
            client
                .batch_execute(&format!(
                    "SELECT set_config(name, '{value}', true) FROM pg_settings WHERE name = '{setting}'"
                ))
                .unwrap();
        }
        let messages = client
            .simple_query(&format!("EXPLAIN ({options}) {sql}"))
            .unwrap_or_else(|e| panic!("pg{major} {name}: {e}"));
        client.batch_execute("ROLLBACK").unwrap();
        let mut out = String::new();
        for m in messages {
            if let SimpleQueryMessage::Row(row) = m {
                out.push_str(row.get(0).unwrap_or_default());
                out.push('\n');
            }
        }
        out
    };
    let dir = repo_root().join(format!("testdata/plans/pg{major}"));
    std::fs::create_dir_all(&dir).unwrap();
    for case in extra_cases() {
        let json = explain(
            case.name,
            case.settings,
            case.sql,
            "ANALYZE, BUFFERS, VERBOSE, SETTINGS, WAL, FORMAT JSON",
        );
        let text = explain(case.name, case.settings, case.sql, "ANALYZE, BUFFERS");
        let plan = parse_plan(&json).unwrap_or_else(|e| panic!("pg{major} {}: {e}", case.name));
        let text_plan =
            parse_plan(&text).unwrap_or_else(|e| panic!("pg{major} {}: {e}", case.name));
        assert!(
            (case.check)(&plan) && (case.check)(&text_plan),
            "pg{major} {}: the plan does not show what the case is about:\n{text}",
            case.name
        );
        std::fs::write(dir.join(format!("{}.json", case.name)), json).unwrap();
        std::fs::write(dir.join(format!("{}.txt", case.name)), text).unwrap();
    }
    // Without ANALYZE: rules that need actual figures skip.
    let sql = cases()
        .into_iter()
        .find(|c| c.name == "row_misestimate")
        .map(|c| c.sql)
        .unwrap();
    let json = explain(
        "estimate_only",
        SERIAL,
        sql,
        "VERBOSE, SETTINGS, FORMAT JSON",
    );
    let text = explain("estimate_only", SERIAL, sql, "COSTS");
    assert!(!parse_plan(&json).unwrap().is_analyzed());
    // Not next to the main cases, which are all ANALYZE captures (tests/plans.rs).
    let extra = repo_root().join("testdata/plans-extra/estimate_only");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(extra.join(format!("pg{major}.json")), json).unwrap();
    std::fs::write(extra.join(format!("pg{major}.txt")), text).unwrap();

    if major != 18 {
        return;
    }
    let large = repo_root().join("testdata/plans-extra/large");
    std::fs::create_dir_all(&large).unwrap();
    // Plans of 1,000+ nodes for `benches/plans.rs`: a table with 1,000 partitions
    // scanned without pruning (text, ANALYZE and BUFFERS) and a UNION ALL of 340 joins
    // (JSON, ANALYZE without buffers and costs, compacted, to keep the file small).
    let create: Vec<String> = (1..=1000)
        .map(|g| format!("CREATE TABLE move_line_{g} PARTITION OF move_line FOR VALUES IN ({g})"))
        .collect();
    server
        .execute(
            "erp",
            "CREATE TABLE move_line (id int NOT NULL, company_id int NOT NULL, qty int) \
             PARTITION BY LIST (company_id)",
        )
        .unwrap();
    for chunk in create.chunks(100) {
        server.execute("erp", &chunk.join(";\n")).unwrap();
    }
    server
        .execute(
            "erp",
            "INSERT INTO move_line SELECT g, 1 + g % 1000, g % 50 FROM generate_series(1, 50000) g; \
             ANALYZE move_line",
        )
        .unwrap();
    let text = explain(
        "partitions_1000",
        SERIAL,
        "SELECT count(*), sum(qty) FROM move_line WHERE qty > 45",
        "ANALYZE, BUFFERS",
    );
    assert!(parse_plan(&text).unwrap().nodes().count() > 1000);
    std::fs::write(large.join("partitions_1000.txt"), text).unwrap();
    let union = (1..=340)
        .map(|k| {
            format!(
                "SELECT o.name, p.name FROM sale_order o JOIN res_partner p ON p.id = o.partner_id \
                 WHERE o.id = {}",
                k * 83
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let json = explain(
        "union_340_joins",
        SERIAL,
        &union,
        "ANALYZE, BUFFERS OFF, COSTS OFF, FORMAT JSON",
    );
    assert!(parse_plan(&json).unwrap().nodes().count() > 1000);
    // Without EXPLAIN's indentation: a third of the size, the same document.
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let compact = serde_json::to_string(&value).unwrap() + "\n";
    std::fs::write(large.join("union_340_joins.json"), compact).unwrap();
}

macro_rules! capture_extra_tests {
    ($($name:ident => $major:expr),* $(,)?) => {
        $(#[test] fn $name() { capture_extra($major) })*
    };
}

// Named `capture_pgNN_extra` so that scripts/capture-plans.sh's `capture_pgNN` filters
// run them too.
capture_extra_tests! {
    capture_pg13_extra => 13,
    capture_pg18_extra => 18,
}
