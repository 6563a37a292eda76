//! The "Tenants" section as users read it, pinned on the captured fixtures of the tenants
//! scenario (`testdata/scenarios/tenants.toml`): text at a fixed width and Markdown, and
//! the JSON report's `tenants` with every database. A cluster with a single tenant has no
//! section.

use pgsage_core::report::render::{render, Format, TableStyle};
use pgsage_core::{audit, RuleConfig, Snapshot};
use pgsage_testkit::scenario::fixture_path;

fn report(case: &str) -> pgsage_core::Report {
    let snapshot = Snapshot::load(fixture_path("tenants", case)).expect("captured fixture");
    audit(&snapshot, &RuleConfig::shipped().expect("shipped packs"))
}

/// From the section's heading to the next blank line.
fn section(text: &str, heading: &str) -> String {
    let start = text.find(heading).expect("tenants section");
    let rest = &text[start..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    rest[..end].to_owned()
}

fn rendered(report: &pgsage_core::Report, format: Format) -> String {
    let mut out = Vec::new();
    let style = TableStyle {
        width: Some(100),
        color: false,
    };
    render(report, format, &style, &mut out).expect("render");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn the_tenants_table_in_text_and_markdown() {
    let r = report("noisy-tenant");
    insta::assert_snapshot!(
        "tenants_table",
        section(&rendered(&r, Format::Table), "Tenants (")
    );
    let md = rendered(&r, Format::Markdown);
    let start = md.find("## Tenants").expect("markdown section");
    insta::assert_snapshot!(
        "tenants_markdown",
        &md[start..]
            .split("\n## ")
            .next()
            .unwrap_or_default()
            .to_owned()
    );
}

#[test]
fn the_json_report_holds_every_tenant_busiest_first() {
    let r = report("noisy-tenant");
    let t = r.tenants.as_ref().expect("tenants table");
    let names: Vec<&str> = t.databases.iter().map(|d| d.database.as_str()).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert_eq!(names[0], "acme");
    assert!(!names.contains(&"postgres") && !names.contains(&"template1"));
    let shares: f64 = t.databases.iter().filter_map(|d| d.time_share_pct).sum();
    assert!((shares - 100.0).abs() < 0.5, "{shares}");
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).expect("json");
    assert_eq!(json["tenants"]["databases"][0]["database"], "acme");
}

#[test]
fn one_database_has_no_tenants_section() {
    let snapshot = Snapshot::load(fixture_path("queries", "dominant-query")).expect("fixture");
    let r = audit(&snapshot, &RuleConfig::shipped().expect("shipped packs"));
    assert!(r.tenants.is_none());
    assert!(!rendered(&r, Format::Table).contains("Tenants ("));
}
