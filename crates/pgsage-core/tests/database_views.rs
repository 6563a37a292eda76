//! The engine over several databases, offline: the demo snapshot (captured from a real
//! server) given a second database whose sections are a copy of the connected one's, as
//! `--all-databases` collects them from a cluster of identical tenants.
//!
//! - every finding about an object inside a database appears once per database, with
//!   its database, and nothing server-wide is repeated;
//! - each action groups both databases' findings, says how many databases, and its fix
//!   runs in each (`-- in database …`, `\connect` in the script);
//! - objects are named `database.schema.name` once several databases are audited.

use std::collections::BTreeMap;
use std::path::Path;

use pgsage_core::report::ObjectKind;
use pgsage_core::snapshot::Snapshot;
use pgsage_core::{audit, RuleConfig};

const COPY: &str = "tenant_copy";

fn demo() -> Snapshot {
    Snapshot::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/snapshots/demo.json"))
        .expect("demo")
}

fn in_a_database(kind: ObjectKind) -> bool {
    matches!(
        kind,
        ObjectKind::Table
            | ObjectKind::Index
            | ObjectKind::Column
            | ObjectKind::Sequence
            | ObjectKind::Constraint
    )
}

#[test]
fn a_copied_database_doubles_its_findings_and_nothing_else() {
    let config = RuleConfig::shipped().expect("packs");
    let single = demo();
    let mut estate = demo();
    let mut copy = estate.connected_sections();
    copy.name = COPY.to_owned();
    estate.other_databases.push(copy);

    let one = audit(&single, &config);
    let both = audit(&estate, &config);
    let connected = single.server.database.clone();

    // Every finding inside the connected database has its twin in the copy, except the
    // index advisor's (IDX009), which reads the statements that ran in the connected
    // database only (the copy's statements are none), and ERP003's, which follows it.
    for f in &one.findings {
        if !in_a_database(f.object.kind) || f.object.database.is_none() {
            continue;
        }
        let twin = both.findings.iter().any(|g| {
            g.rule == f.rule
                && g.object.database.as_deref() == Some(COPY)
                && g.object.schema == f.object.schema
                && g.object.name == f.object.name
        });
        let from_statements = ["IDX009", "ERP003"].contains(&f.rule.as_str());
        assert_eq!(twin, !from_statements, "{} {:?}", f.rule, f.object);
    }
    // What is server-wide is judged once.
    let server_wide = |r: &pgsage_core::report::Report| {
        let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
        for f in r.findings.iter().filter(|f| !in_a_database(f.object.kind)) {
            *by_rule.entry(f.rule.clone()).or_default() += 1;
        }
        by_rule
    };
    assert_eq!(server_wide(&one), server_wide(&both));
    let copies = both
        .findings
        .iter()
        .filter(|f| f.object.database.as_deref() == Some(COPY))
        .count();
    assert!(copies > 10, "the copy's findings: {copies}");
    assert_eq!(
        both.target.databases,
        vec![connected.clone(), COPY.to_owned()]
    );

    // One action per cause, across both databases (the copy's foreign key without the
    // advisor's index is an action of its own).
    for a in &one.actions {
        assert_eq!(
            both.actions.iter().filter(|b| b.id == a.id).count(),
            1,
            "{}",
            a.id
        );
    }
    let mut per_database = 0;
    for a in &both.actions {
        let dbs: std::collections::BTreeSet<&str> = a
            .findings
            .iter()
            .filter_map(|&i| both.findings[i].object.database.as_deref())
            .collect();
        if dbs.len() < 2 {
            continue;
        }
        per_database += 1;
        // A title that names objects says in how many databases they are.
        if a.title.contains('`') || a.title.chars().any(|c| c.is_ascii_digit()) {
            assert!(a.title.contains("2 databases"), "{}", a.title);
        }
        if let Some(fix) = &a.fix {
            if fix.sql.contains("ALTER TABLE") || fix.sql.contains("INDEX") {
                for db in [connected.as_str(), COPY] {
                    assert!(
                        fix.sql.contains(&format!("-- in database {db}:")),
                        "{}: {}",
                        a.title,
                        fix.sql
                    );
                }
            }
        }
    }
    assert!(per_database > 0);

    let script = pgsage_core::report::render::script::script(&both);
    assert!(script.contains(&format!("\\connect {COPY}")));
    let mut text = Vec::new();
    pgsage_core::report::render::render(
        &both,
        pgsage_core::report::render::Format::Table,
        &Default::default(),
        &mut text,
    )
    .expect("render");
    let text = String::from_utf8(text).expect("utf-8");
    assert!(
        text.contains(&format!("`{COPY}.public.")),
        "qualified names"
    );
    assert!(
        text.contains("Databases: 2 databases"),
        "the databases line"
    );
}

/// Twelve tenants with the same problems: the text report shows ten findings of an
/// action in full and names the others on one line; the JSON keeps every one.
#[test]
fn a_cause_repeated_in_many_databases_is_shown_once_then_named() {
    let config = RuleConfig::shipped().expect("packs");
    let mut estate = demo();
    for n in 1..=12 {
        let mut copy = estate.connected_sections();
        copy.name = format!("tenant_{n:02}");
        estate.other_databases.push(copy);
    }
    let report = audit(&estate, &config);
    let big = report
        .actions
        .iter()
        .find(|a| a.findings.len() > 10)
        .expect("an action with more than ten findings");
    let mut text = Vec::new();
    pgsage_core::report::render::render(
        &report,
        pgsage_core::report::render::Format::Table,
        &Default::default(),
        &mut text,
    )
    .expect("render");
    let text = String::from_utf8(text).expect("utf-8");
    let more = format!("and {} more findings like these", big.findings.len() - 10);
    assert!(text.contains(&more), "{more}");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("json");
    assert_eq!(
        json["findings"].as_array().map(Vec::len),
        Some(report.findings.len())
    );
}

/// Connected to a database that is not Odoo's (`postgres` on an Odoo hosting cluster), with
/// an Odoo tenant beside it: the `erp` rules judge the tenant, and the report does not list
/// them as "did not run" because the connected database is not Odoo's.
#[test]
fn a_pack_that_judged_another_database_is_not_reported_as_skipped() {
    let config = RuleConfig::shipped().expect("packs");
    let odoo = demo();
    let mut estate = demo();
    let mut tenant = odoo.connected_sections();
    tenant.name = COPY.to_owned();
    estate.other_databases.push(tenant);
    // The connected database keeps no table: nothing in it is Odoo's.
    estate.tables.clear();
    estate.indexes.clear();
    estate.columns.clear();
    estate.erp = None;

    let report = audit(&estate, &config);
    assert!(
        report.findings.iter().any(|f| f.rule == "ERP001"
            && f.object.database.as_deref() == Some(COPY)
            && f.object.name == "ir_attachment"),
        "ERP001 on the tenant"
    );
    let erp_skips: Vec<_> = report
        .skipped
        .iter()
        .filter(|s| s.rule.starts_with("ERP"))
        .collect();
    assert!(erp_skips.is_empty(), "{erp_skips:?}");

    // Alone, the same connected database has the erp rules about its objects skipped
    // with the reason; ERP004 (the pools, a server's concern) judges Odoo's sessions.
    estate.other_databases.clear();
    let alone = audit(&estate, &config);
    let skipped: Vec<&str> = alone
        .skipped
        .iter()
        .filter(|s| s.rule.starts_with("ERP") && s.reason.contains("not an Odoo database"))
        .map(|s| s.rule.as_str())
        .collect();
    assert_eq!(skipped, ["ERP001", "ERP002", "ERP003", "ERP005"]);
}
