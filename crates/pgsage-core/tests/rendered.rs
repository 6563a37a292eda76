//! What users read, pinned: every renderer on the bundled demo snapshot (the audit as a
//! table at a fixed width without colour, as Markdown, as JSON and as a fix script;
//! `pgsage tune` likewise)
//! and every rule's message, recommendation and fix on the captured fixtures where it
//! fires. A change to any of them shows as a reviewable snapshot diff (`cargo insta
//! review`, or `INSTA_UPDATE=always` then `git diff`).

use std::fmt::Write as _;
use std::path::Path;

use pgsage_core::report::render::{render, Format, TableStyle};
use pgsage_core::snapshot::{Fact, HostFacts, StorageKind};
use pgsage_core::tune::render::{render as render_tune, TuneFormat};
use pgsage_core::{audit_and_tune, RuleConfig, Snapshot, Source};
use pgsage_testkit::scenario::{fixture_path, Scenario};

fn demo() -> Snapshot {
    Snapshot::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/snapshots/demo.json"))
        .expect("demo snapshot")
}

/// The host of the README's tune example: 16 GiB, 4 CPUs, SSD.
fn config() -> RuleConfig {
    let mut config = RuleConfig::shipped().expect("shipped packs");
    config.host = HostFacts {
        ram_bytes: Some(Fact {
            value: 16 << 30,
            source: "flag".into(),
        }),
        cpus: Some(Fact {
            value: 4.0,
            source: "flag".into(),
        }),
        storage: Some(Fact {
            value: StorageKind::Ssd,
            source: "flag".into(),
        }),
        platform: None,
        tier: None,
    };
    config
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("UTF-8 output")
}

#[test]
fn demo_audit_in_every_format() {
    let (report, _) = audit_and_tune(&demo(), &config(), Source::SnapshotFile);
    let style = TableStyle {
        width: Some(100),
        color: false,
    };
    for (name, format) in [
        ("demo_audit_table", Format::Table),
        ("demo_audit_markdown", Format::Markdown),
        ("demo_audit_json", Format::Json),
    ] {
        let mut out = Vec::new();
        render(&report, format, &style, &mut out).expect("render");
        insta::assert_snapshot!(name, text(out));
    }
    insta::assert_snapshot!(
        "demo_audit_script",
        pgsage_core::report::render::script(&report)
    );
}

/// The demo's HTML page (`pgsage audit --format html`), one element a line so that a
/// change reads as a diff. The tool's version is normalised; the style and the script,
/// constants reviewed in `html/layout.rs`, are left out.
#[test]
fn demo_audit_html_page() {
    let snapshot = demo();
    let (report, _) = audit_and_tune(&snapshot, &config(), Source::SnapshotFile);
    let mut out = Vec::new();
    out.extend_from_slice(pgsage_core::html::audit_page(&report, Some(&snapshot)).as_bytes());
    let page = text(out).replace(
        &format!("pgsage {}", report.tool.version),
        "pgsage [version]",
    );
    let page = between_tags_elided(&page, "style");
    let page = between_tags_elided(&page, "script");
    insta::assert_snapshot!("demo_audit_html", page.replace("><", ">\n<"));
}

/// `page` with the content of every `<tag>` element replaced by `[tag]`.
fn between_tags_elided(page: &str, tag: &str) -> String {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = String::new();
    let mut rest = page;
    while let Some(start) = rest.find(&open) {
        let after = start + open.len();
        let Some(end) = rest[after..].find(&close) else {
            break;
        };
        out.push_str(&rest[..after]);
        out.push_str(&format!("[{tag}]"));
        rest = &rest[after + end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn demo_tune_in_every_format() {
    let (_, tuning) = audit_and_tune(&demo(), &config(), Source::SnapshotFile);
    for (name, format) in [
        ("demo_tune_table", TuneFormat::Table),
        ("demo_tune_markdown", TuneFormat::Markdown),
        ("demo_tune_json", TuneFormat::Json),
    ] {
        let mut out = Vec::new();
        render_tune(&tuning, format, Some(100), &mut out).expect("render");
        insta::assert_snapshot!(name, text(out));
    }
    insta::assert_snapshot!("demo_tune_script", tuning.script());
}

#[test]
fn rule_messages_on_their_firing_fixtures() {
    let mut out = String::new();
    for scenario in Scenario::all().expect("scenario files") {
        let mut config = RuleConfig::shipped().expect("shipped packs");
        config
            .apply_toml(&scenario.config, &scenario.name)
            .expect("scenario config");
        for case in scenario.cases.iter().filter(|c| Scenario::has_fixture(c)) {
            let snapshot =
                Snapshot::load(fixture_path(&scenario.name, &case.name)).expect("fixture");
            let (report, _) = audit_and_tune(&snapshot, &config, Source::SnapshotFile);
            let mut findings: Vec<_> = report
                .findings
                .iter()
                .filter(|f| case.expect.iter().any(|e| e.rule == f.rule))
                .collect();
            findings.sort_by(|a, b| {
                (&a.rule, a.object.display_name()).cmp(&(&b.rule, b.object.display_name()))
            });
            for f in findings {
                let _ = writeln!(
                    out,
                    "## {}/{} {} {} [{}]\n{}\n→ {}",
                    scenario.name,
                    case.name,
                    f.rule,
                    f.object.display_name(),
                    f.severity,
                    f.message,
                    f.recommendation
                );
                if let Some(fix) = &f.fix {
                    let _ = writeln!(out, "```sql\n{}\n```", fix.sql);
                }
                out.push('\n');
            }
        }
    }
    insta::assert_snapshot!("rule_messages", out);
}
