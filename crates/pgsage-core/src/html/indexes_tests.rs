//! The index advice page on the advisor's real output for the demo snapshot (captured
//! from a real server): every recommendation of the JSON with its numbers, the statements
//! it helps, the rejected candidates, the unvalidated reason, and hostile values as text.

use super::test_support::{assert_hostile_is_text, escaped, readable, HOSTILE};
use super::*;
use crate::advise::render::format::{cost_text, summary_line};
use crate::advise::{advise, AdvisorOptions, Validation};

fn demo_advice() -> IndexAdvice {
    let p =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/snapshots/demo.json");
    let snap = Snapshot::load(&p).expect("demo");
    let w = crate::workload::from_snapshot(&snap).expect("pg_stat_statements");
    advise(&w, &snap, &AdvisorOptions::default(), "no server given")
}

#[test]
fn every_recommendation_of_the_json_is_on_the_page_with_its_numbers() {
    let advice = demo_advice();
    assert!(!advice.recommendations.is_empty(), "the demo has advice");
    let page = indexes_page(&advice);
    let json: serde_json::Value =
        serde_json::from_str(&crate::advise::render::to_json(&advice)).expect("JSON");
    let recs = json["recommendations"].as_array().expect("recommendations");
    for (i, (r, rj)) in advice.recommendations.iter().zip(recs).enumerate() {
        let n = i + 1;
        let start = page
            .find(&format!("id=\"recommendation-{n}\""))
            .unwrap_or_else(|| panic!("recommendation {n} is not on the page"));
        let block = &page[start..start + page[start..].find("</article>").expect("end")];
        let create = rj["create_statement"].as_str().expect("create");
        assert!(block.contains(&escaped(create)), "{create}");
        // Size and benefit, as the other renderings give them.
        assert!(block.contains(&escaped(&summary_line(r))), "{block}");
        assert!(block.contains(&crate::units::bytes(r.estimated_size_bytes)));
        assert!(block.contains(&crate::units::millis(r.benefit_ms)));
        for q in rj["queries"].as_array().expect("queries") {
            let fp = q["fingerprint"].as_str().expect("fingerprint");
            assert!(
                block.contains(&format!("data-fingerprint=\"{fp}\"")),
                "{fp}"
            );
        }
        for q in &r.queries {
            assert!(block.contains(&crate::units::count(q.calls)));
            assert!(block.contains(&crate::units::millis(q.total_ms)));
        }
        for idx in &r.redundant_indexes {
            assert!(block.contains(&escaped(idx)), "{idx}");
        }
    }
    for rej in &advice.rejected {
        assert!(page.contains(&escaped(&rej.create_statement)));
        assert!(page.contains(&escaped(&rej.reason)));
    }
    // Unvalidated: the reason is in the banner.
    let Validation::Unvalidated { reason } = &advice.validation else {
        panic!("a snapshot gives unvalidated advice");
    };
    let banner = page
        .find("data-validation=\"unvalidated\"")
        .expect("the banner");
    assert!(page[banner..].contains(&escaped(reason)));
}

#[test]
fn validated_advice_shows_the_costs_before_and_after() {
    let mut advice = demo_advice();
    // The validation's shape as the live advisor fills it (its real run is the CLI's
    // HypoPG test); here only its rendering is checked.
    advice.validation = Validation::Hypopg {
        server_version: "17.2".into(),
        hypopg_version: "1.4.1".into(),
        method: crate::advise::PlanMethod::GenericPlan,
        explains: 12,
        unplannable: 1,
        notes: vec!["one note".into()],
    };
    let r = &mut advice.recommendations[0];
    r.validated = true;
    r.queries[0].cost_before = Some(12_345.0);
    r.queries[0].cost_after = Some(12.5);
    r.queries[0].scan_before = Some("Seq Scan on t".into());
    r.queries[0].scan_after = Some("Index Scan using <hypothetical> on t".into());
    let page = indexes_page(&advice);
    assert!(page.contains("data-validation=\"hypopg\""));
    assert!(page.contains(&escaped(&cost_text(&advice.recommendations[0].queries[0]))));
    assert!(page.contains("Index Scan using &lt;hypothetical&gt; on t"));
    assert!(page.contains("one note"));
}

#[test]
fn no_recommendation_says_so() {
    let mut advice = demo_advice();
    advice.recommendations.clear();
    let page = indexes_page(&advice);
    assert!(page.contains("No index to recommend"));
    assert!(!page.contains("id=\"recommendation-"));
}

#[test]
fn hostile_values_are_text() {
    let mut advice = demo_advice();
    let evil = HOSTILE;
    advice.database = Some(evil.into());
    let r = &mut advice.recommendations[0];
    r.schema = evil.into();
    r.table = evil.into();
    r.columns.push(evil.into());
    r.create_statement = evil.into();
    r.queries[0].query = evil.into();
    r.redundant_indexes.push(evil.into());
    advice.rejected[0].create_statement = evil.into();
    advice.rejected[0].reason = evil.into();
    for page in [indexes_page(&advice), indexes_fragment(&advice)] {
        assert_hostile_is_text(&page);
    }
}

#[test]
fn the_body_as_reviewed() {
    insta::assert_snapshot!(
        "indexes_page_demo",
        readable(&indexes::body(&demo_advice()))
    );
}
