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

#[test]
fn the_audit_page_has_a_tenants_section_only_with_tenants() {
    let r = report("noisy-tenant");
    let page = pgsage_core::html::audit_fragment(&r, None);
    let start = page
        .find("<section id=\"tenants\">")
        .expect("tenants section");
    let section = &page[start..start + page[start..].find("</section>").expect("end")];
    for db in ["acme", "beta", "gamma", "delta", "scenario"] {
        assert!(
            section.contains(&format!("data-tenant=\"{db}\"")),
            "{db}: {section}"
        );
    }
    // The busiest tenant's share, as the JSON holds it, spelled for reading.
    let acme = &r.tenants.as_ref().expect("tenants").databases[0];
    let share = pgsage_core::units::percent(acme.time_share_pct.expect("share"));
    assert!(section.contains(&share), "{share}: {section}");
    let single = Snapshot::load(fixture_path("queries", "dominant-query")).expect("fixture");
    let r = audit(&single, &RuleConfig::shipped().expect("shipped packs"));
    assert!(!pgsage_core::html::audit_fragment(&r, None).contains("id=\"tenants\""));
}
