//! Rendering the advice of a real run: the indexing scenario's `missing_index` fixture
//! (a snapshot captured from a server with the planted workload) through the advisor.

use super::*;
use crate::advise::{advise, AdvisorOptions};
use crate::report::Confidence;
use crate::Snapshot;

fn advice_of(case: &str) -> IndexAdvice {
    let path = pgsage_testkit::scenario::fixture_path("indexing", case);
    let snap = Snapshot::load(&path)
        .unwrap_or_else(|e| panic!("{e}\n(capture with scripts/capture-fixtures.sh)"));
    let w = crate::workload::from_snapshot(&snap).expect("pg_stat_statements");
    advise(&w, &snap, &AdvisorOptions::default(), "no server given")
}

fn text(a: &IndexAdvice, format: Format, verbose: bool) -> String {
    let mut buf = Vec::new();
    render(
        a,
        format,
        &RenderOptions {
            width: Some(120),
            verbose,
        },
        &mut buf,
    )
    .expect("render");
    String::from_utf8(buf).expect("utf-8")
}

#[test]
fn the_table_shows_the_statement_header_and_helped_queries() {
    let a = advice_of("missing_index");
    assert!(!a.recommendations.is_empty(), "{a:#?}");
    let t = text(&a, Format::Table, false);
    let r = &a.recommendations[0];
    assert!(t.contains(&r.create_statement), "{t}");
    assert!(
        t.contains("NOT validated") && t.contains("no server given"),
        "{t}"
    );
    assert!(
        t.contains("budget: at most 5 new indexes, no size limit"),
        "{t}"
    );
    assert!(t.contains(&r.queries[0].fingerprint.to_string()), "{t}");
    assert!(t.contains("stock_move_scan"), "{t}");
    if !a.rejected.is_empty() {
        assert!(
            t.contains("rejected (the verbose rendering lists them"),
            "{t}"
        );
        let v = text(&a, Format::Table, true);
        // The table wraps long reasons: look for their first words.
        let start: String = a.rejected[0].reason.chars().take(20).collect();
        assert!(
            v.contains("Rejected candidates") && v.contains(&start),
            "{v}"
        );
    }
}

#[test]
fn markdown_lists_recommendations_and_rejected_candidates() {
    let a = advice_of("missing_index");
    let md = text(&a, Format::Markdown, false);
    assert!(md.starts_with("# Index advice"), "{md}");
    assert!(md.contains("```sql\nCREATE INDEX CONCURRENTLY"), "{md}");
    assert!(
        md.contains(&format!("## Rejected candidates ({})", a.rejected.len())),
        "{md}"
    );
    for r in &a.rejected {
        assert!(md.contains(&r.reason.replace('|', "\\|")), "{md}");
    }
}

#[test]
fn json_is_the_advice_with_its_findings() {
    let a = advice_of("missing_index");
    let json = to_json(&a);
    let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let back: IndexAdvice = serde_json::from_value(value.clone()).expect("an IndexAdvice");
    assert_eq!(back, a);
    let findings = value["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), a.recommendations.len());
    assert_eq!(findings[0]["rule"], "IDX009");
    assert_eq!(findings[0]["pack"], "indexing");
}

#[test]
fn one_low_confidence_finding_per_unvalidated_recommendation() {
    let a = advice_of("missing_index");
    let f = findings(&a);
    assert_eq!(f.len(), a.recommendations.len());
    for (finding, r) in f.iter().zip(&a.recommendations) {
        assert_eq!(
            finding.object.display_name(),
            format!("{}.{}", r.schema, r.table)
        );
        assert_eq!(
            finding.fix.as_ref().map(|x| x.sql.as_str()),
            Some(r.create_statement.as_str())
        );
        assert_eq!(finding.confidence, Confidence::Low);
        assert!(!finding.evidence.is_empty() && !finding.recommendation.is_empty());
    }
}

#[test]
fn no_recommendation_renders_as_such() {
    let a = advice_of("missing_index_healthy");
    assert!(a.recommendations.is_empty(), "{a:#?}");
    assert!(text(&a, Format::Table, false).contains("No index to recommend"));
    assert!(findings(&a).is_empty());
}
