//! Candidate generation on a captured fixture (`indexing/usage`: real tables, statistics
//! and indexes) with workloads built from logged statements.

use super::*;
use crate::advise::advise;
use crate::workload::{AggregateOptions, Aggregator, Sample, SampleKind};
use pgsage_testkit::scenario::fixture_path;

fn usage() -> Snapshot {
    Snapshot::load(fixture_path("indexing", "usage"))
        .unwrap_or_else(|e| panic!("{e} (capture the fixtures with scripts/capture-fixtures.sh)"))
}

/// A log workload: each statement `calls` times at `ms` each, in `database`.
fn workload(statements: &[(&str, u64, f64, &str)]) -> Workload {
    let mut agg = Aggregator::new(AggregateOptions::default());
    for (sql, calls, ms, db) in statements {
        for _ in 0..*calls {
            agg.add(&Sample {
                at: None,
                duration_ms: *ms,
                query: (*sql).to_owned(),
                parameters: Vec::new(),
                database: Some((*db).to_owned()),
                user: Some("odoo".to_owned()),
                application: None,
                client: None,
                pid: None,
                session: None,
                kind: SampleKind::Simple,
                plan: None,
            });
        }
    }
    agg.finish(Vec::new())
}

fn rejected_for<'a>(c: &'a Candidates, table: &str, reason: &str) -> Option<&'a Rejected> {
    c.rejected
        .iter()
        .find(|r| r.create_statement.contains(&format!(".{table} ")) && r.reason.contains(reason))
}

const DB: &str = "scenario";

#[test]
fn planted_problems_and_healthy_look_alikes() {
    let w = workload(&[
        // Unindexed lookups on a 20 000-row table.
        ("SELECT sum(qty) FROM sale_order_line WHERE product_id = 7", 200, 4.0, DB),
        // The look-alike has the index.
        ("SELECT count(*) FROM mail_message WHERE author_id = 7", 200, 4.0, DB),
        // A join on an unindexed foreign key; the small side is not worth an index.
        (
            "SELECT l.qty FROM sale_order_head h JOIN sale_order_line l ON l.order_id = h.id WHERE h.name = 'SO42'",
            100,
            5.0,
            DB,
        ),
        // Every row has the same body: not selective.
        ("SELECT id FROM mail_message WHERE body = 'hello'", 100, 3.0, DB),
        // Tiny table.
        ("SELECT id FROM stock_location WHERE code = 'LOC5'", 100, 2.0, DB),
        // Served by (order_id, created) read backward.
        (
            "SELECT body FROM sale_order_note WHERE order_id = 5 ORDER BY created DESC LIMIT 5",
            100,
            2.0,
            DB,
        ),
        // partner_id's index already finds ~80 rows.
        ("SELECT id FROM stock_picking WHERE partner_id = 5 AND state = 'done'", 100, 2.0, DB),
        // The primary key gives the order, and every row matches.
        ("SELECT id, name FROM stock_picking WHERE state = 'done' ORDER BY id DESC LIMIT 10", 100, 2.0, DB),
        // Fast already.
        ("SELECT id FROM sale_order_line WHERE product_id = 3 AND order_id = 5", 10, 0.1, DB),
        ("SELEC garbage ((", 1, 1.0, DB),
        ("SELECT * FROM nowhere WHERE x = 1", 1, 1.0, DB),
        ("SELECT count(*) FROM mail_message", 1, 1.0, DB),
        ("SELECT sum(qty) FROM sale_order_line WHERE product_id = 7", 1, 1.0, "other"),
    ]);
    let snap = usage();
    let opts = AdvisorOptions::default();
    let c = generate(&w, &snap, &opts);
    assert_eq!(c.database.as_deref(), Some(DB));
    let s = &c.statements;
    assert_eq!(s.total, 12, "{s:?}");
    assert_eq!(s.unparsable, 1, "{s:?}");
    assert_eq!(s.unknown_tables, 1, "{s:?}");
    assert_eq!(s.not_indexable, 1, "{s:?}");
    assert_eq!(s.other_databases, 0, "one fingerprint ran in both: {s:?}");
    assert_eq!(s.analyzed, 9, "{s:?}");

    let shapes: Vec<(String, Vec<String>)> = c
        .candidates
        .iter()
        .map(|c| (c.table.clone(), c.columns.clone()))
        .collect();
    assert_eq!(
        shapes,
        vec![
            ("sale_order_line".to_owned(), vec!["product_id".to_owned()]),
            ("sale_order_line".to_owned(), vec!["order_id".to_owned()]),
        ],
        "rejected: {:#?}",
        c.rejected
    );
    assert!(
        rejected_for(
            &c,
            "mail_message",
            "served by index public.mail_message_author_idx"
        )
        .is_some(),
        "{:#?}",
        c.rejected
    );
    assert!(
        rejected_for(&c, "sale_order_head", "rows (fewer than min_table_rows").is_some(),
        "{:#?}",
        c.rejected
    );
    assert!(
        rejected_for(&c, "mail_message", "not selective").is_some(),
        "{:#?}",
        c.rejected
    );
    assert!(
        rejected_for(&c, "stock_location", "min_table_rows").is_some(),
        "{:#?}",
        c.rejected
    );
    assert!(
        rejected_for(
            &c,
            "sale_order_note",
            "served by index public.sale_order_note_order_idx"
        )
        .is_some(),
        "{:#?}",
        c.rejected
    );
    assert!(
        rejected_for(
            &c,
            "stock_picking",
            "stock_picking_partner_idx: (partner_id) already narrows"
        )
        .is_some(),
        "{:#?}",
        c.rejected
    );
    assert!(
        rejected_for(&c, "stock_picking", "gives the ORDER BY").is_some(),
        "{:#?}",
        c.rejected
    );
    assert!(
        rejected_for(&c, "sale_order_line", "already run fast").is_some(),
        "{:#?}",
        c.rejected
    );

    let line = &c.candidates[1];
    assert_eq!(line.weight_ms, 500.0);
    assert!(line.estimated_size_bytes > 100_000, "{line:?}");
    assert!(line.write_overhead.is_some());
    let q = c
        .queries
        .iter()
        .find(|q| line.queries.contains(&q.fingerprint))
        .expect("analyzed query");
    assert_eq!(q.params, 1, "{q:?}");

    let advice = advise(&w, &snap, &opts, "no server");
    assert_eq!(advice.recommendations.len(), 2);
    let r = &advice.recommendations[1];
    assert_eq!(
        r.create_statement,
        "CREATE INDEX CONCURRENTLY ON public.sale_order_line (order_id);"
    );
    assert!(!r.validated);
    assert_eq!(r.size_source, "estimate");
    assert_eq!(r.benefit_ms, 500.0);
    assert_eq!(r.queries.len(), 1);
}

#[test]
fn equality_columns_most_selective_first_then_the_range() {
    let w = workload(&[(
        "SELECT id FROM sale_order_line WHERE product_id = 3 AND order_id = 7 AND qty > 10",
        100,
        5.0,
        DB,
    )]);
    let c = generate(&w, &usage(), &AdvisorOptions::default());
    assert_eq!(
        c.candidates.first().map(|c| c.columns.clone()),
        Some(vec![
            "order_id".to_owned(),
            "product_id".to_owned(),
            "qty".to_owned()
        ]),
        "{c:#?}"
    );
    let opts = AdvisorOptions {
        max_key_columns: 2,
        ..AdvisorOptions::default()
    };
    let c = generate(&w, &usage(), &opts);
    assert_eq!(
        c.candidates.first().map(|c| c.columns.clone()),
        Some(vec!["order_id".to_owned(), "product_id".to_owned()])
    );
}

#[test]
fn a_logged_constant_on_a_low_cardinality_column_gives_a_partial_variant() {
    let w = workload(&[(
        "SELECT id FROM sale_order_line WHERE qty = 1 AND product_id = 5",
        100,
        5.0,
        DB,
    )]);
    let snap = usage();
    let c = generate(&w, &snap, &AdvisorOptions::default());
    let partial = c
        .candidates
        .iter()
        .find(|c| c.predicate.is_some())
        .expect("partial candidate");
    assert_eq!(partial.columns, vec!["product_id"]);
    assert_eq!(partial.predicate.as_deref(), Some("qty = 1"));
    // Unvalidated advice takes the full index (it serves every constant), not both.
    let advice = advise(&w, &snap, &AdvisorOptions::default(), "no server");
    assert_eq!(advice.recommendations.len(), 1);
    assert!(advice.recommendations[0].predicate.is_none());
    assert!(advice
        .rejected
        .iter()
        .any(|r| r.create_statement.contains("WHERE qty = 1")
            && r.reason.contains("served by a recommended index")));
}

#[test]
fn a_narrower_candidate_folds_into_a_heavier_wider_one() {
    let w = workload(&[
        (
            "SELECT id FROM sale_order_line WHERE product_id = 7 AND qty > 3",
            300,
            5.0,
            DB,
        ),
        (
            "SELECT id FROM sale_order_line WHERE product_id = 7",
            100,
            5.0,
            DB,
        ),
    ]);
    let c = generate(&w, &usage(), &AdvisorOptions::default());
    assert_eq!(c.candidates.len(), 1, "{c:#?}");
    assert_eq!(c.candidates[0].columns, vec!["product_id", "qty"]);
    assert_eq!(c.candidates[0].queries.len(), 2);
    assert_eq!(c.candidates[0].weight_ms, 2000.0);
    // The other way round, both stay: the narrower heavy one first.
    let w = workload(&[
        (
            "SELECT id FROM sale_order_line WHERE product_id = 7 AND qty > 3",
            100,
            5.0,
            DB,
        ),
        (
            "SELECT id FROM sale_order_line WHERE product_id = 7",
            300,
            5.0,
            DB,
        ),
    ]);
    let c = generate(&w, &usage(), &AdvisorOptions::default());
    let shapes: Vec<Vec<String>> = c.candidates.iter().map(|c| c.columns.clone()).collect();
    assert_eq!(
        shapes,
        vec![
            vec!["product_id".to_owned()],
            vec!["product_id".to_owned(), "qty".to_owned()]
        ]
    );
}

#[test]
fn create_statement_quotes_only_where_needed() {
    let c = Candidate {
        table_oid: 1,
        schema: "Sales".into(),
        table: "order".into(),
        columns: vec!["partner_id".into(), "date DESC".into(), "Ref".into()],
        include: vec!["amount".into()],
        predicate: Some("state = 'draft'".into()),
        queries: Vec::new(),
        weight_ms: 0.0,
        estimated_size_bytes: 0,
        redundant_indexes: Vec::new(),
        write_overhead: None,
        partitioning: Default::default(),
    };
    assert_eq!(
        c.create_statement(),
        r#"CREATE INDEX CONCURRENTLY ON "Sales"."order" (partner_id, date DESC, "Ref") INCLUDE (amount) WHERE state = 'draft';"#
    );
}

#[test]
fn pg_stat_statements_workloads_are_read_too() {
    // The fixture's own pg_stat_statements: the foreign key checks of a DELETE look up
    // sale_order_line by order_id (`$1 OPERATOR(pg_catalog.=) "order_id"`), unindexed.
    let snap = usage();
    let w = crate::workload::from_snapshot(&snap).expect("pg_stat_statements");
    let opts = AdvisorOptions {
        min_workload_share_pct: 0.0,
        min_mean_ms: 0.0,
        ..AdvisorOptions::default()
    };
    let c = generate(&w, &snap, &opts);
    assert!(
        c.candidates
            .iter()
            .any(|c| c.table == "sale_order_line" && c.columns == ["order_id"]),
        "{:#?}",
        c
    );
    assert!(c.candidates.iter().all(|c| c.predicate.is_none()));
    assert!(c.statements.not_indexable > 0);
    // `message_type = $1` has its index.
    assert!(
        rejected_for(
            &c,
            "mail_message",
            "served by index public.mail_message_type_idx"
        )
        .is_some(),
        "{:#?}",
        c.rejected
    );
}

#[test]
fn ctes_correlated_subqueries_and_updates_resolve_to_tables() {
    let w = workload(&[
        (
            "WITH x AS (SELECT id, qty FROM sale_order_line WHERE product_id = 3) SELECT * FROM x",
            100,
            5.0,
            DB,
        ),
        (
            "SELECT h.id FROM sale_order_head h WHERE NOT EXISTS (SELECT 1 FROM sale_order_line l WHERE l.order_id = h.id)",
            50,
            20.0,
            DB,
        ),
        ("UPDATE sale_order_line SET product_id = 7 WHERE order_id = 5", 100, 5.0, DB),
    ]);
    let c = generate(&w, &usage(), &AdvisorOptions::default());
    assert_eq!(c.statements.unknown_tables, 0, "{:?}", c.statements);
    assert_eq!(c.statements.analyzed, 3, "{:?}", c.statements);
    let order = c
        .candidates
        .iter()
        .find(|c| c.columns == ["order_id"])
        .expect("order_id: the anti-join's inner side and the UPDATE's search");
    assert_eq!(order.queries.len(), 2, "{order:#?}");
    let product = c
        .candidates
        .iter()
        .find(|c| c.columns == ["product_id"])
        .expect("product_id, inside the CTE");
    // The UPDATE sets product_id: its updates could no longer be HOT.
    let overhead = product.write_overhead.as_ref().expect("overhead");
    assert!(
        overhead.hot_updates_at_risk_per_hour.is_some(),
        "{overhead:?}"
    );
    assert!(order
        .write_overhead
        .as_ref()
        .is_some_and(|w| w.hot_updates_at_risk_per_hour.is_none()));
}

#[test]
fn unqualified_columns_resolve_to_the_one_table_that_has_them() {
    let snap = usage();
    let catalog = catalog::Catalog::new(&snap);
    let parsed = parse::parse(
        "SELECT l.id FROM sale_order_line l JOIN sale_order_note n ON n.order_id = l.order_id \
         WHERE product_id = 3 AND created > now() - interval '1 day' AND order_id = 5",
    )
    .expect("parses");
    let r = resolve::resolve(&parsed, &catalog, None, false);
    assert_eq!(r.unknown, 0);
    let of = |table: &str| {
        let oid = snap
            .tables
            .iter()
            .find(|t| t.name == table)
            .expect("table")
            .oid;
        r.uses.iter().find(|u| u.table_oid == oid).expect("use")
    };
    let line = of("sale_order_line");
    let eq: Vec<(&str, bool)> = line
        .equalities
        .iter()
        .map(|e| (e.column.as_str(), e.join))
        .collect();
    // `order_id = 5` is ambiguous (both tables have it): skipped, not guessed.
    assert_eq!(eq, vec![("order_id", true), ("product_id", false)]);
    let note = of("sale_order_note");
    assert_eq!(note.ranges.len(), 1);
    assert_eq!(note.ranges[0].column, "created");
    // A CTE's name is not a table, and a table not in the schema is counted.
    let parsed = parse::parse(
        "WITH sale_order_line AS (SELECT 1 AS id) SELECT * FROM sale_order_line, nowhere",
    )
    .expect("parses");
    let r = resolve::resolve(&parsed, &catalog, None, false);
    assert!(r.uses.is_empty(), "{r:?}");
    assert_eq!(r.unknown, 1);
}

#[test]
fn a_long_in_list_matches_as_many_values() {
    let long: Vec<String> = (1..=200).map(|i| i.to_string()).collect();
    let long = format!(
        "SELECT id FROM sale_order_line WHERE order_id IN ({})",
        long.join(", ")
    );
    // 200 of 1 990 orders: a tenth of the table.
    let c = generate(
        &workload(&[(long.as_str(), 100, 5.0, DB)]),
        &usage(),
        &AdvisorOptions::default(),
    );
    assert!(c.candidates.is_empty(), "{c:#?}");
    assert!(
        rejected_for(&c, "sale_order_line", "not selective").is_some(),
        "{c:#?}"
    );
    let short = "SELECT id FROM sale_order_line WHERE order_id IN (1, 2, 3)";
    let c = generate(
        &workload(&[(short, 100, 5.0, DB)]),
        &usage(),
        &AdvisorOptions::default(),
    );
    assert_eq!(c.candidates.len(), 1, "{c:#?}");
}

#[test]
fn order_by_limit_keeps_mixed_directions_and_reads_backward_otherwise() {
    let w = workload(&[
        (
            "SELECT id FROM sale_order_line WHERE product_id = 5 ORDER BY order_id DESC, qty DESC LIMIT 10",
            100,
            5.0,
            DB,
        ),
        (
            "SELECT id FROM sale_order_note ORDER BY created, id DESC LIMIT 10",
            100,
            5.0,
            DB,
        ),
    ]);
    let c = generate(&w, &usage(), &AdvisorOptions::default());
    let statements: Vec<String> = c.candidates.iter().map(|c| c.create_statement()).collect();
    assert!(
        statements.contains(
            &"CREATE INDEX CONCURRENTLY ON public.sale_order_line (product_id, order_id, qty);"
                .to_owned()
        ),
        "{statements:#?}"
    );
    assert!(
        statements.contains(
            &"CREATE INDEX CONCURRENTLY ON public.sale_order_note (created, id DESC);".to_owned()
        ),
        "{statements:#?}"
    );
}
