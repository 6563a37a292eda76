//! A throwaway multi-tenant cluster to try `--all-databases` and the tenant rules on:
//! one database per customer, as ERP hosting runs them, with a workload running until
//! stdin closes.
//!
//! ```sh
//! cargo run -q -p pgsage-testkit --example estate -- [TENANTS] [MAJOR]
//! # in another shell, with the DSN it prints:
//! pgsage audit --dsn "$DSN" --all-databases --interval 10s
//! ```
//!
//! TENANTS (default 50) databases `tenant_01` … are made from one template holding an
//! ERP-like schema (`res_partner`, `sale_order`, `sale_order_line`, `bus_bus`). Planted:
//! - `tenant_07` and `tenant_23` have autovacuum switched off on `bus_bus`, which churns;
//! - `tenant_13` runs reports all the time (whole-table sorts beyond `work_mem`, scans);
//! - ten other tenants look orders up by key, paced like people clicking.
//!
//! One JSON line on stdout: `{"major": 17, "dsn": "...", "monitor_dsn": "..."}`
//! (`monitor` has `pg_monitor` and may connect to every database).

// A demo's failure is a panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pgsage_testkit::{available_majors, ServerOptions, TestServer};

const SCHEMA: &str = "
CREATE TABLE res_partner (id serial PRIMARY KEY, name text NOT NULL, email text);
CREATE TABLE sale_order (id serial PRIMARY KEY, partner_id int NOT NULL REFERENCES res_partner,
                         state text NOT NULL, amount numeric(12,2), created timestamptz DEFAULT now());
CREATE INDEX ON sale_order (partner_id);
CREATE TABLE sale_order_line (id serial PRIMARY KEY, order_id int NOT NULL REFERENCES sale_order,
                              product text, qty int, price numeric(12,2));
CREATE INDEX ON sale_order_line (order_id);
CREATE TABLE bus_bus (id bigserial PRIMARY KEY, channel text, message text,
                      create_date timestamptz DEFAULT now());
INSERT INTO res_partner (name, email) SELECT 'partner ' || g, 'p' || g || '@example.com'
  FROM generate_series(1, 2000) g;
INSERT INTO sale_order (partner_id, state, amount)
  SELECT 1 + g % 2000, CASE WHEN g % 7 = 0 THEN 'draft' ELSE 'sale' END, g % 997
  FROM generate_series(1, 20000) g;
INSERT INTO sale_order_line (order_id, product, qty, price)
  SELECT 1 + g % 20000, md5(g::text), 1 + g % 5, g % 89 FROM generate_series(1, 60000) g;
ANALYZE;";

const REPORT: &str = "SELECT count(*) FROM (SELECT product FROM sale_order_line ORDER BY product OFFSET 1) s;
SELECT o.state, sum(l.qty * l.price) FROM sale_order o JOIN sale_order_line l ON l.order_id = o.id GROUP BY 1";
const LOOKUP: &str = "SELECT * FROM sale_order WHERE id = 4242";
const CHURN: &str = "INSERT INTO bus_bus (channel, message) SELECT 'c', repeat('x', 200) FROM generate_series(1, 200);
DELETE FROM bus_bus WHERE id IN (SELECT id FROM bus_bus ORDER BY id LIMIT 150)";

fn main() {
    let mut args = std::env::args().skip(1);
    let tenants: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let major = args
        .next()
        .and_then(|a| a.parse().ok())
        .or_else(|| available_majors().last().copied())
        .expect("no PostgreSQL binaries (scripts/fetch-postgres.sh)");
    let server =
        TestServer::start(ServerOptions::new(major).conf("work_mem = '256kB'")).expect("server");
    server
        .execute("postgres", "CREATE EXTENSION pg_stat_statements")
        .expect("pg_stat_statements");
    server.create_database("tenant_template").expect("template");
    server.execute("tenant_template", SCHEMA).expect("schema");
    let names: Vec<String> = (1..=tenants).map(|i| format!("tenant_{i:02}")).collect();
    for name in &names {
        server
            .execute(
                "postgres",
                &format!("CREATE DATABASE {name} TEMPLATE tenant_template"),
            )
            .expect("tenant");
    }
    server
        .execute("postgres", "DROP DATABASE tenant_template")
        .expect("drop template");
    for name in names
        .iter()
        .filter(|n| ["tenant_07", "tenant_23"].contains(&n.as_str()))
    {
        server
            .execute(name, "ALTER TABLE bus_bus SET (autovacuum_enabled = off)")
            .expect("plant");
    }
    server
        .create_role("monitor", "monitor", &["pg_monitor"])
        .expect("monitor");

    let stop = Arc::new(AtomicBool::new(false));
    let mut load: Vec<(&str, &'static str, u64)> = vec![("tenant_13", REPORT, 0)];
    for name in names
        .iter()
        .filter(|n| ["tenant_07", "tenant_23"].contains(&n.as_str()))
    {
        load.push((name, CHURN, 50));
    }
    for name in names.iter().skip(20).take(10) {
        load.push((name, LOOKUP, 20));
    }
    let workers: Vec<_> = load
        .into_iter()
        .filter(|(db, _, _)| names.iter().any(|n| n == db))
        .map(|(db, sql, pause_ms)| {
            let mut client = server.client(db).expect("client");
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = client.batch_execute(sql);
                    std::thread::sleep(Duration::from_millis(pause_ms));
                }
            })
        })
        .collect();
    println!(
        "{{\"major\": {major}, \"dsn\": \"{}\", \"monitor_dsn\": \"{}\"}}",
        server.dsn("postgres"),
        server.dsn_as("monitor", "monitor", "postgres")
    );
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
}
