//! The validation's parts on real servers: the session, HypoPG detection, planning per
//! version, hypothetical indexes and the greedy run with hand-built candidates (the
//! end-to-end test with generated candidates is `tests/index_advisor.rs`).

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use pgsage_testkit::{require_server, test_majors, TestServer};

use super::explain::{Planner, QueryMethod};
use super::hypo::{hypo_ddl, Hypo};
use super::scan::uses_index;
use super::session::{AdvisorSession, Failure, Hypopg};
use super::validate::{validate, Limits, Outcome};
use crate::advise::candidates::{AnalyzedQuery, Candidate, Candidates};
use crate::workload::fingerprint::fingerprint;
use crate::{ConnectOptions, Error};

/// An ERP-like table: 200k stock moves, products spread over 5000 ids, 200 locations,
/// 1 % drafts, one row a minute.
const ERP: &str = "
CREATE TABLE stock_move (
    id bigserial PRIMARY KEY,
    product_id int NOT NULL,
    location_id int NOT NULL,
    state text NOT NULL,
    date timestamptz NOT NULL,
    qty numeric NOT NULL
);
INSERT INTO stock_move (product_id, location_id, state, date, qty)
SELECT (g * 7919) % 5000, g % 200,
       CASE WHEN g % 100 = 0 THEN 'draft' ELSE 'done' END,
       timestamptz '2024-01-01' + g * interval '1 minute', g % 17
FROM generate_series(1, 200000) g;
ANALYZE stock_move;";

fn runtime() -> tokio::runtime::Runtime {
    crate::collect::blocking_runtime().expect("runtime")
}

fn erp(major: u32, hypopg: bool) -> Option<TestServer> {
    let server = require_server(major)?;
    server.create_database("erp").expect("database");
    server.execute("erp", ERP).expect("tables");
    if hypopg {
        server
            .execute("erp", "CREATE EXTENSION hypopg")
            .expect("hypopg");
    }
    Some(server)
}

fn connect(server: &TestServer) -> ConnectOptions {
    ConnectOptions::new(server.dsn("erp"))
}

fn query(text: &str, example: Option<&str>, total_ms: f64) -> AnalyzedQuery {
    AnalyzedQuery {
        fingerprint: fingerprint(text),
        query: text.into(),
        explain_text: text.into(),
        params: 0,
        example: example.map(str::to_owned),
        calls: 100,
        total_ms,
        tables: vec![],
        search_path: None,
    }
}

fn candidate(columns: &[&str], queries: &[&AnalyzedQuery]) -> Candidate {
    Candidate {
        table_oid: 0,
        schema: "public".into(),
        table: "stock_move".into(),
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        include: vec![],
        predicate: None,
        queries: queries.iter().map(|q| q.fingerprint).collect(),
        weight_ms: queries.iter().map(|q| q.total_ms).sum(),
        estimated_size_bytes: 0,
        redundant_indexes: vec![],
        write_overhead: None,
        partitioning: Default::default(),
    }
}

#[test]
fn hypopg_is_detected_and_the_session_is_read_only() {
    let Some(server) = erp(15, false) else { return };
    let rt = runtime();
    rt.block_on(async {
        let s = AdvisorSession::open(&connect(&server), Duration::from_secs(5))
            .await
            .expect("session");
        assert!(s.facts.version.starts_with("15."), "{:?}", s.facts);
        assert_eq!(s.facts.database, "erp");
        assert!(matches!(
            s.hypopg().await.expect("hypopg"),
            Hypopg::Available { .. }
        ));
        assert!(s.read_only().await.expect("read only"));
        // A write fails in the session's transactions.
        match s.simple("write", "CREATE TABLE nope (a int)").await {
            Err(Failure::Statement { message, .. }) => {
                assert!(message.contains("25006"), "{message}")
            }
            other => panic!("a write went through: {other:?}"),
        }
        s.close().await;
    });
    server
        .execute(
            "erp",
            "CREATE SCHEMA ext; CREATE EXTENSION hypopg SCHEMA ext",
        )
        .expect("hypopg");
    rt.block_on(async {
        let s = AdvisorSession::open(&connect(&server), Duration::from_secs(5))
            .await
            .expect("session");
        let Hypopg::Installed { schema, version } = s.hypopg().await.expect("hypopg") else {
            panic!("HypoPG not seen");
        };
        assert_eq!(schema, "ext");
        assert!(!version.is_empty());
        // Its functions work in a READ ONLY transaction, from a schema off the path.
        let hypo = Hypo::new(&schema);
        let index = hypo
            .create(&s, "CREATE INDEX ON public.stock_move (product_id)")
            .await
            .expect("hypothetical index");
        assert!(index.size_bytes > 100_000, "{index:?}");
        assert!(
            index.name.starts_with(&format!("<{}>", index.oid)),
            "{index:?}"
        );
        hypo.reset(&s).await.expect("reset");
        s.close().await;
    });
}

#[test]
fn statements_are_planned_per_version() {
    for major in test_majors() {
        let Some(server) = erp(major, false) else {
            continue;
        };
        server
            .execute(
                "erp",
                "CREATE SCHEMA tenant_a;
                 CREATE TABLE tenant_a.stock_move (id int PRIMARY KEY, product_id int NOT NULL);
                 INSERT INTO tenant_a.stock_move SELECT g, g FROM generate_series(1, 10) g;
                 ANALYZE tenant_a.stock_move;",
            )
            .expect("tenant schema");
        runtime().block_on(async {
            let s = AdvisorSession::open(&connect(&server), Duration::from_secs(5))
                .await
                .expect("session");
            let mut planner = Planner::new(s.facts.version_num);
            let generic = if major >= 16 {
                QueryMethod::GenericPlan
            } else {
                QueryMethod::PreparedGeneric
            };
            let range = query(
                "SELECT id, qty FROM stock_move WHERE location_id = $1 AND date >= $2 ORDER BY date LIMIT $3",
                None,
                1.0,
            );
            let (method, planned) = planner.plan_first(&s, &range).await.expect("planned");
            assert_eq!(method, generic, "PostgreSQL {major}");
            assert!(planned.cost > 1000.0, "PostgreSQL {major}: {}", planned.cost);
            // The same statement with its constants: a custom plan.
            let example = query(
                "SELECT * FROM stock_move WHERE state = $1",
                Some("SELECT * FROM stock_move WHERE state = 'draft'"),
                1.0,
            );
            let (method, _) = planner.plan_first(&s, &example).await.expect("planned");
            assert_eq!(method, QueryMethod::Example, "PostgreSQL {major}");
            // An example cut short falls back to the text.
            let cut = query(
                "SELECT * FROM stock_move WHERE product_id = $1",
                Some("SELECT * FROM stock_move WHERE product_id = 1…"),
                1.0,
            );
            let (method, _) = planner.plan_first(&s, &cut).await.expect("planned");
            assert_eq!(method, generic, "PostgreSQL {major}");
            // Writes are only planned, and nothing is left prepared.
            let delete = query("DELETE FROM stock_move WHERE product_id = $1", None, 1.0);
            planner.plan_first(&s, &delete).await.expect("planned");
            // Parameter types the server cannot infer, junk and several statements are
            // statement failures, not fatal.
            for bad in [
                "SELECT $1 + $2",
                "SELECT * FROM no_such_table WHERE a = $1",
                "SELECT 1; SELECT 2",
            ] {
                let result = planner.plan_first(&s, &query(bad, None, 1.0)).await;
                assert!(
                    matches!(result, Err(Failure::Statement { .. })),
                    "PostgreSQL {major}: `{bad}` gave {result:?}"
                );
            }
            // A tenant's statement is planned in its roles' search path: the same text
            // reads the small tenant table there, the 200k-row one in public.
            let mut tenant = query("SELECT id FROM stock_move WHERE product_id = $1", None, 1.0);
            let (_, public) = planner.plan_first(&s, &tenant).await.expect("planned");
            tenant.search_path = Some(vec!["tenant_a".into(), "public".into()]);
            let (_, own) = planner.plan_first(&s, &tenant).await.expect("planned");
            assert!(
                own.cost * 100.0 < public.cost,
                "PostgreSQL {major}: tenant {} vs public {}",
                own.cost,
                public.cost
            );
            let after = s.simple("path", "SHOW search_path").await.expect("path");
            assert!(!after[0].contains("tenant_a"), "PostgreSQL {major}: {after:?}");
            let prepared = s
                .simple("prepared", "SELECT count(*) FROM pg_prepared_statements")
                .await
                .expect("count");
            assert_eq!(prepared, vec!["0".to_owned()], "PostgreSQL {major}");
            s.close().await;
        });
        let count = server
            .query_scalar_i64("erp", "SELECT count(*) FROM stock_move")
            .expect("count");
        assert_eq!(
            count, 200_000,
            "PostgreSQL {major}: the DELETE was only planned"
        );
    }
}

fn run_validate(server: &TestServer, cands: &Candidates, limits: Limits) -> Outcome {
    runtime().block_on(async {
        let s = AdvisorSession::open(&connect(server), Duration::from_secs(5))
            .await
            .expect("session");
        let Hypopg::Installed { schema, .. } = s.hypopg().await.expect("hypopg") else {
            panic!("no HypoPG");
        };
        let hypo = Hypo::new(&schema);
        let mut planner = Planner::new(s.facts.version_num);
        let outcome = validate(&s, &hypo, &mut planner, cands, limits, None)
            .await
            .expect("validate");
        let left = s
            .simple(
                "hypopg()",
                &format!("SELECT count(*) FROM {schema}.hypopg()"),
            )
            .await
            .expect("hypopg()");
        assert_eq!(
            left,
            vec!["0".to_owned()],
            "hypothetical indexes left behind"
        );
        s.close().await;
        outcome
    })
}

fn limits() -> Limits {
    Limits {
        max_indexes: 5,
        max_size_bytes: None,
        min_cost_drop_pct: 50.0,
        min_mean_ms: 1.0,
        max_explains: 1000,
    }
}

#[test]
fn the_helpful_candidates_are_chosen_and_the_others_rejected_with_reasons() {
    let Some(server) = erp(15, true) else { return };
    let by_product = query(
        "SELECT id, qty FROM stock_move WHERE product_id = $1",
        None,
        900.0,
    );
    let by_location = query(
        "SELECT id, qty FROM stock_move WHERE location_id = $1 AND date >= $2 ORDER BY date LIMIT $3",
        None,
        600.0,
    );
    let by_state = query(
        "SELECT count(*) FROM stock_move WHERE state = $1",
        None,
        300.0,
    );
    let by_id = query("SELECT * FROM stock_move WHERE id = $1", None, 50.0);
    let cands = Candidates {
        database: Some("erp".into()),
        candidates: vec![
            candidate(&["product_id"], &[&by_product]),
            candidate(&["location_id", "date"], &[&by_location]),
            candidate(&["state"], &[&by_state]),
            candidate(&["id", "qty"], &[&by_id]),
        ],
        queries: vec![by_product.clone(), by_location.clone(), by_state, by_id],
        ..Candidates::default()
    };
    let outcome = run_validate(&server, &cands, limits());
    let keys: Vec<Vec<String>> = outcome
        .recommendations
        .iter()
        .map(|r| r.columns.clone())
        .collect();
    assert_eq!(
        keys,
        vec![
            vec!["product_id".to_owned()],
            vec!["location_id".into(), "date".into()]
        ],
        "{outcome:#?}"
    );
    for r in &outcome.recommendations {
        assert!(r.validated && r.size_source == "hypopg" && r.estimated_size_bytes > 0);
        assert!(r.benefit_ms > 0.0);
        let q = &r.queries[0];
        let (before, after) = (q.cost_before.expect("before"), q.cost_after.expect("after"));
        assert!(after < before / 2.0, "{r:#?}");
        assert!(
            q.scan_after
                .as_deref()
                .is_some_and(|s| s.contains("btree_stock_move")),
            "{r:#?}"
        );
        assert!(
            q.scan_before.as_deref().is_some_and(|s| !s.contains('<')),
            "{r:#?}"
        );
    }
    assert_eq!(outcome.rejected.len(), 2, "{outcome:#?}");
    assert!(
        outcome
            .rejected
            .iter()
            .all(|r| r.reason.contains("plan does not use it")
                || r.reason.starts_with("no cost gain")),
        "{outcome:#?}"
    );
    assert_eq!(outcome.unplannable, 0);
    assert!(outcome.notes.is_empty(), "{outcome:?}");

    // Budgets: one index at most → the other is rejected as over budget.
    let one = run_validate(
        &server,
        &cands,
        Limits {
            max_indexes: 1,
            ..limits()
        },
    );
    assert_eq!(one.recommendations.len(), 1);
    assert!(
        one.rejected
            .iter()
            .any(|r| r.reason.contains("the limit of 1 index (max_indexes)")),
        "{one:#?}"
    );
    // A work cap that cuts the run is said.
    let capped = run_validate(
        &server,
        &cands,
        Limits {
            max_explains: 5,
            ..limits()
        },
    );
    assert!(
        capped
            .notes
            .iter()
            .any(|n| n.contains("work cap of 5 EXPLAINs")),
        "{capped:#?}"
    );
    assert!(capped.explains <= 5 + 2, "{capped:#?}");
}

#[test]
fn a_narrower_index_chosen_first_is_dropped_when_a_wider_one_serves_its_statements() {
    let Some(server) = erp(15, true) else { return };
    let text = "SELECT id FROM stock_move WHERE product_id = $1 AND location_id = $2";
    // 10 ms a call: the narrower index (about 40 rows a product) makes it fast enough,
    // and the wider one, which would save a little more, is not worth another index.
    let q = query(text, None, 1000.0);
    let cands = Candidates {
        candidates: vec![
            candidate(&["product_id"], &[&q]),
            candidate(&["product_id", "location_id"], &[&q]),
        ],
        queries: vec![q],
        ..Candidates::default()
    };
    let outcome = run_validate(&server, &cands, limits());
    assert_eq!(outcome.recommendations.len(), 1, "{outcome:#?}");
    assert_eq!(
        outcome.recommendations[0].columns,
        ["product_id"],
        "{outcome:#?}"
    );
    assert_eq!(outcome.rejected.len(), 1, "{outcome:#?}");
    assert!(
        outcome.rejected[0].reason.contains("already fast"),
        "{outcome:#?}"
    );
    // 10 s a call: still 100 ms with the narrower index, so the wider one is chosen too,
    // and then serves the statement alone: the narrower one is superseded.
    let q = query(text, None, 1_000_000.0);
    let cands = Candidates {
        candidates: vec![
            candidate(&["product_id"], &[&q]),
            candidate(&["product_id", "location_id"], &[&q]),
        ],
        queries: vec![q],
        ..Candidates::default()
    };
    let outcome = run_validate(&server, &cands, limits());
    assert_eq!(outcome.recommendations.len(), 1, "{outcome:#?}");
    assert_eq!(
        outcome.recommendations[0].columns,
        ["product_id", "location_id"],
        "{outcome:#?}"
    );
    assert_eq!(outcome.rejected.len(), 1, "{outcome:#?}");
    assert!(
        outcome.rejected[0].reason.starts_with("superseded"),
        "{outcome:#?}"
    );
}

#[test]
fn a_cancelled_run_stops_and_a_silent_server_times_out() {
    let cancel = AtomicBool::new(true);
    let workload = crate::workload::Aggregator::new(Default::default()).finish(vec![]);
    let result = super::advise_live(
        &workload,
        &crate::Snapshot::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/snapshots/demo.json"
        )))
        .expect("demo snapshot"),
        &ConnectOptions::new("host=127.0.0.1 port=1"),
        &Default::default(),
        Some(&cancel),
    );
    assert!(
        matches!(
            &result,
            Err(Error::Core(pgsage_core::Error::Cancelled { .. }))
        ),
        "{result:?}"
    );
    let silent = pgsage_testkit::SilentServer::start().expect("silent server");
    let mut options = ConnectOptions::new(silent.dsn("x"));
    options.connect_timeout = Duration::from_millis(300);
    let result = runtime().block_on(AdvisorSession::open(&options, Duration::from_secs(1)));
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "{:?}",
        result.err()
    );
}

#[test]
fn a_server_that_stops_answering_mid_session_is_a_timeout() {
    let Some(server) = require_server(15) else {
        return;
    };
    runtime().block_on(async {
        let s = AdvisorSession::open(
            &ConnectOptions::new(server.dsn("postgres")),
            Duration::from_millis(500),
        )
        .await
        .expect("session");
        let pid = s
            .simple("pid", "SELECT pg_backend_pid()")
            .await
            .expect("pid")
            .remove(0);
        // Freeze the backend: it neither answers nor cancels its statement.
        let signal = |sig: &str| {
            let ok = std::process::Command::new("kill")
                .args([sig, &pid])
                .status()
                .is_ok_and(|st| st.success());
            assert!(ok, "kill {sig} {pid}");
        };
        signal("-STOP");
        let result = s.simple("probe", "SELECT 1").await;
        signal("-CONT");
        assert!(
            matches!(result, Err(Failure::Fatal(Error::Timeout { .. }))),
            "{result:?}"
        );
        s.close().await;
    });
}

#[test]
fn hypothetical_ddl_matches_what_hypopg_takes() {
    let Some(server) = erp(15, true) else { return };
    let mut c = candidate(&["product_id", "date"], &[]);
    c.include = vec!["qty".into()];
    c.predicate = Some("state = 'draft'".into());
    let ddl = hypo_ddl(&c);
    runtime().block_on(async {
        let s = AdvisorSession::open(&connect(&server), Duration::from_secs(5))
            .await
            .expect("session");
        let hypo = Hypo::new("public");
        let index = hypo.create(&s, &ddl).await.expect("partial covering index");
        let mut planner = Planner::new(s.facts.version_num);
        let draft = query(
            "SELECT qty FROM stock_move WHERE state = $1 AND product_id = $2",
            Some("SELECT qty FROM stock_move WHERE state = 'draft' AND product_id = 42"),
            1.0,
        );
        let (method, planned) = planner.plan_first(&s, &draft).await.expect("planned");
        assert_eq!(method, QueryMethod::Example);
        assert!(
            uses_index(&planned.plan, index.oid),
            "{:#?}",
            planned.plan.root
        );
        hypo.reset(&s).await.expect("reset");
        s.close().await;
    });
}

#[test]
fn hypopg_the_role_cannot_use_gives_unvalidated_advice_that_says_so() {
    let Some(server) = erp(15, true) else { return };
    server
        .execute(
            "erp",
            "REVOKE EXECUTE ON FUNCTION hypopg_reset() FROM PUBLIC;
             REVOKE EXECUTE ON FUNCTION hypopg_create_index(text) FROM PUBLIC",
        )
        .expect("revoke");
    server
        .create_role("monitor", "secret", &["pg_monitor"])
        .expect("role");
    let dsn = server.dsn_as("monitor", "secret", "erp");
    let snapshot = crate::collect_snapshot_with(
        &ConnectOptions::new(dsn.clone()),
        &crate::CollectOptions {
            probe_local_host: false,
            ..Default::default()
        },
    )
    .expect("snapshot");
    let workload = crate::workload::Aggregator::new(Default::default()).finish(vec![]);
    let advice = super::advise_live(
        &workload,
        &snapshot,
        &ConnectOptions::new(dsn),
        &Default::default(),
        None,
    )
    .expect("advice");
    let crate::advise::Validation::Unvalidated { reason } = &advice.validation else {
        panic!("{:#?}", advice.validation);
    };
    assert!(
        reason.contains("cannot use") && reason.contains("permission denied"),
        "{reason}"
    );
}

/// A statement the server cannot plan from its normalized text (`$1 + $2`: unknown +
/// unknown) still gets its index, marked unvalidated, when the unvalidated gates pass.
#[test]
fn a_statement_the_server_cannot_plan_gets_unvalidated_advice() {
    use crate::workload::{AggregateOptions, Aggregator, Sample, SampleKind};
    let Some(server) = erp(15, true) else { return };
    let snapshot = crate::collect_snapshot_with(
        &connect(&server),
        &crate::CollectOptions {
            probe_local_host: false,
            ..crate::CollectOptions::default()
        },
    )
    .expect("snapshot");
    let mut agg = Aggregator::new(AggregateOptions::default());
    for i in 0..300 {
        agg.add(&Sample {
            at: None,
            duration_ms: 20.0,
            query: format!("SELECT id, qty FROM stock_move WHERE product_id = {i} + 1"),
            parameters: vec![],
            database: Some("erp".into()),
            user: None,
            application: None,
            client: None,
            pid: None,
            session: None,
            kind: SampleKind::Simple,
            plan: None,
        });
    }
    let mut workload = agg.finish(vec![]);
    // As pg_stat_statements would give it: normalized text only, no example.
    for q in &mut workload.queries {
        q.example = None;
    }
    let opts = crate::advise::AdvisorOptions {
        database: Some("erp".into()),
        ..crate::advise::AdvisorOptions::default()
    };
    let advice =
        super::advise_live(&workload, &snapshot, &connect(&server), &opts, None).expect("advice");
    let crate::advise::Validation::Hypopg {
        unplannable, notes, ..
    } = &advice.validation
    else {
        panic!("not validated: {:?}", advice.validation);
    };
    assert_eq!(*unplannable, 1, "{notes:?}");
    assert_eq!(advice.recommendations.len(), 1, "{advice:#?}");
    let r = &advice.recommendations[0];
    assert_eq!(r.columns, vec!["product_id".to_string()]);
    assert!(!r.validated);
    assert!(notes.iter().any(|n| n.contains("unvalidated")), "{notes:?}");
    assert!(advice
        .rejected
        .iter()
        .all(|x| x.create_statement != r.create_statement));
}
