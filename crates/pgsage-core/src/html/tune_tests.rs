//! The tune page on the demo snapshot (captured from a real server): every setting of the
//! JSON on it with its cells, hostile values as text, the provider's commands and the
//! refused changes on a managed platform, and reviewed snapshots of its body.

use super::test_support::{assert_hostile_is_text, escaped, readable, HOSTILE};
use super::*;
use crate::snapshot::{Fact, Platform};

fn demo() -> Snapshot {
    let p =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/snapshots/demo.json");
    Snapshot::load(&p).expect("demo")
}

fn tuned(platform: Option<Platform>) -> TuneReport {
    let mut config = crate::RuleConfig::shipped().expect("packs");
    config.host.platform = platform.map(|p| Fact::new(p, "flag"));
    crate::tune_report(&demo(), &config)
}

#[test]
fn every_setting_of_the_json_is_on_the_page_with_its_cells() {
    let report = tuned(None);
    let page = tune_page(&report);
    let json = serde_json::to_value(&report).expect("JSON");
    let settings = json["settings"].as_array().expect("settings");
    assert!(!settings.is_empty());
    for s in settings {
        let name = s["name"].as_str().expect("name");
        let row_start = page
            .find(&format!("data-setting=\"{}\"", escaped(name)))
            .unwrap_or_else(|| panic!("{name} is not on the page"));
        let row = &page[row_start..row_start + page[row_start..].find("</tr>").expect("row")];
        let advice = report
            .settings
            .iter()
            .find(|a| a.name == name)
            .expect("advice");
        let recommended = crate::tune::render::status(advice);
        assert!(row.contains(&escaped(&recommended)), "{name}: {row}");
        assert!(row.contains(&escaped(&advice.why)), "{name}: {row}");
        for e in &advice.evidence {
            assert!(row.contains(&escaped(e)), "{name}: {e} not in {row}");
        }
        let apply = crate::tune::render::apply_text(&report, advice);
        assert!(row.contains(&escaped(&apply)), "{name}: {row}");
    }
    for t in &report.tables {
        assert!(page.contains(&escaped(&t.sql)), "{}", t.table);
    }
    for n in &report.notes {
        assert!(page.contains(&escaped(n)), "{n}");
    }
    for f in &report.facts {
        assert!(page.contains(&escaped(&f.source)), "{}", f.name);
    }
    assert!(page.contains(&escaped(&report.script())));
}

#[test]
fn on_a_managed_platform_the_page_has_the_providers_commands_and_refusals() {
    let report = tuned(Some(Platform::AzureFlexibleServer));
    let fix = report.platform.as_ref().expect("a platform fix on Azure");
    assert!(!fix.commands.is_empty() && !fix.not_allowed.is_empty());
    let page = tune_page(&report);
    assert!(page.contains(&escaped(&fix.heading())));
    for c in &fix.commands {
        assert!(c.starts_with("az postgres flexible-server"), "{c}");
        assert!(page.contains(&escaped(c)), "{c}");
    }
    for (n, line) in fix.not_allowed.iter().zip(fix.refusal_lines()) {
        assert!(page.contains(&escaped(&line)), "{line}");
        // Its row says so in the apply column.
        let row_start = page
            .find(&format!("data-setting=\"{}\"", n.name))
            .expect("the refused setting's row");
        let row = &page[row_start..row_start + page[row_start..].find("</tr>").expect("row")];
        assert!(row.contains(">not allowed<"), "{row}");
    }
    // Self-managed: no provider block.
    let plain = tune_page(&tuned(None));
    assert!(!plain.contains("az postgres"));
    assert!(!plain.contains("id=\"platform-commands\""));
}

#[test]
fn hostile_values_are_text() {
    let mut report = tuned(Some(Platform::AzureFlexibleServer));
    let evil = HOSTILE;
    report.server_version = evil.into();
    report.managed_service = Some(evil.into());
    report.facts[0].source = evil.into();
    report.settings[0].current = Some(evil.into());
    report.settings[0].why = evil.into();
    report.settings[0].evidence.push(evil.into());
    report.notes.push(evil.into());
    report.tables[0].table = evil.into();
    report.tables[0].settings[0].1 = evil.into();
    report.tables[0].why = evil.into();
    report.tables[0].sql = evil.into();
    if let Some(p) = report.platform.as_mut() {
        p.commands.push(evil.into());
        p.notes.push(evil.into());
        p.not_allowed[0].why = evil.into();
    }
    for page in [tune_page(&report), tune_fragment(&report)] {
        assert_hostile_is_text(&page);
    }
}

#[test]
fn the_body_as_reviewed() {
    insta::assert_snapshot!(
        "tune_page_self_managed",
        readable(&tune::body(&tuned(None)))
    );
    insta::assert_snapshot!(
        "tune_page_azure",
        readable(&tune::body(&tuned(Some(Platform::AzureFlexibleServer))))
    );
}
