use chrono::{DateTime, Utc};

use super::{AggregateOptions, Aggregator};
use crate::workload::fingerprint::{fingerprint, StatementKind};
use crate::workload::profile::LoadClass;
use crate::workload::{Sample, SampleKind};

fn sample(at_s: i64, ms: f64, query: &str, db: &str, app: &str) -> Sample {
    Sample {
        at: DateTime::<Utc>::from_timestamp(1_700_000_000 + at_s, 0),
        duration_ms: ms,
        query: query.to_owned(),
        parameters: Vec::new(),
        database: Some(db.to_owned()),
        user: Some("odoo".to_owned()),
        application: Some(app.to_owned()),
        client: None,
        pid: Some(42),
        session: None,
        kind: SampleKind::Simple,
        plan: None,
    }
}

fn samples() -> Vec<Sample> {
    let mut v = Vec::new();
    for i in 0..10_000i64 {
        v.push(sample(
            i,
            0.1 + (i % 10) as f64 * 0.1,
            &format!("SELECT * FROM res_partner WHERE id = {i}"),
            if i % 4 == 0 { "tenant_b" } else { "tenant_a" },
            "web",
        ));
        if i % 100 == 0 {
            v.push(sample(
                i,
                250.0,
                &format!(
                    "select sum(amount) from account_move_line where date > '2024-0{}-01'",
                    1 + i % 9
                ),
                "tenant_a",
                "report",
            ));
        }
    }
    v.push(sample(5, 1.0, "   ", "tenant_a", "web"));
    v
}

#[test]
fn same_query_with_other_constants_is_one_entry() {
    let mut agg = Aggregator::new(AggregateOptions::default());
    for s in samples() {
        agg.add(&s);
    }
    let w = agg.finish(vec!["a.log".into()]);
    assert_eq!(w.totals.fingerprints, 2);
    assert_eq!(w.totals.calls, 10_100);
    assert_eq!(w.totals.skipped_samples, 1);
    let lookup = w
        .query(fingerprint("SELECT * FROM res_partner WHERE id = $1"))
        .expect("lookup entry");
    assert_eq!(lookup.calls, 10_000);
    assert_eq!(lookup.query, "SELECT * FROM res_partner WHERE id = $1");
    assert_eq!(lookup.kind, StatementKind::Read);
    assert!((lookup.mean_ms - 0.55).abs() < 1e-9);
    assert!((lookup.min_ms - 0.1).abs() < 1e-9 && (lookup.max_ms - 1.0).abs() < 1e-9);
    let p95 = lookup.p95_ms.expect("p95");
    assert!((p95 - 1.0).abs() <= 0.01, "{p95}");
    assert_eq!(lookup.databases[0].name, "tenant_a");
    assert_eq!(lookup.databases[0].calls, 7_500);
    assert_eq!(lookup.databases[1].calls, 2_500);
    // The report query takes most of the time.
    assert_eq!(w.queries[0].calls, 100);
    assert_eq!(w.queries[0].applications[0].name, "report");
    // 10 000 s of log in hour buckets.
    assert_eq!(w.profile.bucket_seconds, Some(3600));
    assert_eq!(w.profile.windows.len(), 3);
    assert_eq!(w.profile.mix.read_calls, 10_100);
    assert!(w
        .profile
        .statements_per_second
        .is_some_and(|r| (r - 1.01).abs() < 0.01));
    assert_eq!(w.profile.databases[0].name, "tenant_a");
    assert!(w.profile.peak.is_some());
    assert!(w
        .profile
        .windows
        .iter()
        .all(|x| x.class == LoadClass::Reporting || x.class == LoadClass::InteractiveOltp));
}

#[test]
fn parallel_batches_and_merges_give_the_same_workload() {
    let all = samples();
    let mut one = Aggregator::new(AggregateOptions::default());
    all.iter().for_each(|s| one.add(s));
    let mut batched = Aggregator::new(AggregateOptions::default());
    batched.add_batch(&all);
    let mut merged = Aggregator::new(AggregateOptions::default());
    let (a, b) = all.split_at(3333);
    let mut first = Aggregator::new(AggregateOptions::default());
    a.iter().for_each(|s| first.add(s));
    let mut second = Aggregator::new(AggregateOptions::default());
    b.iter().for_each(|s| second.add(s));
    merged.merge(first);
    merged.merge(second);
    let want = one.finish(vec![]);
    for other in [batched.finish(vec![]), merged.finish(vec![])] {
        assert_eq!(other.queries.len(), want.queries.len());
        for (x, y) in other.queries.iter().zip(&want.queries) {
            assert_eq!(
                (x.fingerprint, x.calls, x.p95_ms),
                (y.fingerprint, y.calls, y.p95_ms)
            );
            assert!((x.total_ms - y.total_ms).abs() < 1e-6);
            assert_eq!(x.databases.len(), y.databases.len());
        }
        assert_eq!(other.profile.windows.len(), want.profile.windows.len());
    }
}

#[test]
fn parse_bind_steps_count_as_planning_and_auto_explain_does_not_double_count() {
    let mut agg = Aggregator::new(AggregateOptions::default());
    let mut s = sample(0, 2.0, "SELECT * FROM t WHERE a = $1", "db", "app");
    s.kind = SampleKind::ParseOrBind;
    agg.add(&s);
    s.kind = SampleKind::Execute;
    s.duration_ms = 3.0;
    agg.add(&s);
    s.kind = SampleKind::AutoExplain;
    agg.add(&s);
    // Only auto_explain timed this one.
    let mut e = sample(0, 9.0, "SELECT * FROM u", "db", "app");
    e.kind = SampleKind::AutoExplain;
    agg.add(&e);
    let w = agg.finish(vec![]);
    let q = w
        .query(fingerprint("SELECT * FROM t WHERE a = 1"))
        .expect("t");
    assert_eq!((q.calls, q.plan_ms, q.plans), (1, Some(2.0), Some(1)));
    assert_eq!(
        w.query(fingerprint("SELECT * FROM u")).map(|q| q.calls),
        Some(1)
    );
    assert_eq!(w.totals.calls, 2);
}

#[test]
fn a_workload_round_trips_through_json() {
    let mut agg = Aggregator::new(AggregateOptions::default());
    samples().iter().take(500).for_each(|s| agg.add(s));
    let w = agg.finish(vec!["x.log".into()]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("workload.json");
    w.save(&path).expect("save");
    let back = crate::workload::Workload::load(&path).expect("load");
    assert_eq!(back, w);
    let json: serde_json::Value = serde_json::from_str(&w.to_json()).expect("json");
    let q = &json["queries"][0];
    for key in [
        "fingerprint",
        "query",
        "calls",
        "total_ms",
        "mean_ms",
        "p95_ms",
        "rows",
        "databases",
        "users",
        "applications",
    ] {
        assert!(q.get(key).is_some(), "{key} missing: {q}");
    }
    assert_eq!(q["fingerprint"].as_str().map(str::len), Some(16));
}

/// The workload shows a logged statement as the log has it, constants replaced: the
/// report's `m.DATE >= DATE $1 … ORDER BY $2 DESC` for a statement with `m.date` and
/// `ORDER BY 2` was sqlparser re-printing it.
#[test]
fn queries_are_shown_as_logged_with_constants_replaced() {
    let mut agg = Aggregator::new(AggregateOptions::default());
    for (i, day) in ["2026-01-01", "2026-02-01"].iter().enumerate() {
        agg.add(&sample(
            i as i64,
            12.0,
            &format!(
                "SELECT m.date, sum(m.amount) FROM account_move m WHERE m.date >= DATE '{day}' GROUP BY m.date ORDER BY 2 DESC"
            ),
            "erp",
            "report",
        ));
    }
    let w = agg.finish(vec!["a.log".into()]);
    assert_eq!(w.queries.len(), 1);
    assert_eq!(
        w.queries[0].query,
        "SELECT m.date, sum(m.amount) FROM account_move m WHERE m.date >= DATE $1 GROUP BY m.date ORDER BY 2 DESC"
    );
}
