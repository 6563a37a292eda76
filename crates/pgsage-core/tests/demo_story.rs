//! The bundled demo tells the story of `testdata/demo/erp/README.md`: every problem planted
//! in the demo ERP database is reported by the rule that should find it, on the object it
//! was planted on, and the healthy twins planted beside them get no finding at all.
//!
//! The snapshot is rebuilt by `scripts/make-demo-snapshot.sh`; when a rebuild or a rule
//! change loses part of the story (or flags a healthy object), this test says which.

use std::path::Path;

use pgsage_core::report::ObjectKind;
use pgsage_core::{audit, Finding, RuleConfig, Snapshot};

fn demo_findings() -> Vec<Finding> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/snapshots/demo.json");
    let snapshot = Snapshot::load(path).expect("demo snapshot");
    audit(&snapshot, &RuleConfig::shipped().expect("shipped packs")).findings
}

/// Each planted problem: the rules that may report it (one is enough) and its object's
/// bare name, as in the README's story.
const PLANTED: &[(&[&str], &str)] = &[
    // Data loss and outages.
    (&["WAL008"], "fsync"),
    (&["SCH001"], "bus_bus_id_seq"),
    (&["CON004"], "erp"),
    // Performance.
    (&["VAC002"], "bus_bus"),
    (&["VAC001"], "bus_bus"),
    (&["IDX006", "IDX009"], "mail_message"),
    (&["IDX005", "IDX009"], "account_move_line"),
    (&["MEM003"], "work_mem"),
    (&["WAL001"], "max_wal_size"),
    (&["VAC005"], "account_move_line"),
    (&["VAC004"], "x_supplier_price_import"),
    (&["CON002"], "max_connections"),
    (&["CON003"], "server"),
    (&["MEM001"], "shared_buffers"),
    (&["MEM002"], "effective_cache_size"),
    (&["PLN001"], "random_page_cost"),
    (&["PLN002"], "effective_io_concurrency"),
    // Hygiene.
    (&["IDX002"], "stock_move_product_id_index"),
    (&["IDX003"], "stock_move_origin_index"),
    (&["STO001"], "ir_attachment"),
    // Odoo, in Odoo's terms.
    (&["ERP001"], "ir_attachment"),
    (&["ERP002"], "mail_mail"),
    (&["ERP003"], "mail_message"),
    (&["SCH003"], "x_legacy_customer_import"),
];

#[test]
fn every_planted_problem_is_reported_on_its_object() {
    let findings = demo_findings();
    let missing: Vec<String> = PLANTED
        .iter()
        .filter(|(rules, object)| {
            !findings
                .iter()
                .any(|f| rules.contains(&f.rule.as_str()) && f.object.name == *object)
        })
        .map(|(rules, object)| format!("{} on {object}", rules.join(" or ")))
        .collect();
    assert!(
        missing.is_empty(),
        "missing from the demo's audit: {missing:?}"
    );

    // The duplicate pair is one finding, on either index of the pair.
    assert!(
        findings.iter().any(|f| f.rule == "IDX001"
            && ["sale_order_partner_id_index", "sale_order_partner_idx"]
                .contains(&f.object.name.as_str())),
        "IDX001 on the duplicate sale_order partner index"
    );
    // The foreign key without an index is found as such, not as another lookup.
    assert!(
        findings
            .iter()
            .any(|f| ["IDX005", "IDX009"].contains(&f.rule.as_str())
                && f.object.name == "account_move_line"
                && f.message.contains("full_reconcile_id")),
        "account_move_line.full_reconcile_id"
    );
}

/// Tables planted healthy beside the problems: the same churn with autovacuum on
/// (`queue_job`), the same polymorphic lookup indexed (`mail_followers`), foreign keys
/// with their index, HOT updates with a lower fillfactor (`stock_quant`), a composite
/// primary key (`account_move_line_account_tax_rel`), and the rest of the core tables.
const HEALTHY_TABLES: &[&str] = &[
    "queue_job",
    "mail_followers",
    "mail_tracking_value",
    "stock_quant",
    "stock_move_line",
    "stock_picking",
    "sale_order_line",
    "account_move",
    "account_full_reconcile",
    "account_move_line_account_tax_rel",
    "res_partner",
    "product_product",
    "product_template",
    "ir_cron",
];

/// The only indexes and sequences with a planted problem.
const PLANTED_INDEXES: &[&str] = &[
    "sale_order_partner_id_index",
    "sale_order_partner_idx",
    "stock_move_product_id_index",
    "stock_move_origin_index",
];
const PLANTED_SEQUENCES: &[&str] = &["bus_bus_id_seq"];

#[test]
fn healthy_twins_get_no_finding() {
    let noisy: Vec<String> = demo_findings()
        .iter()
        .filter(|f| match f.object.kind {
            ObjectKind::Table => HEALTHY_TABLES.contains(&f.object.name.as_str()),
            ObjectKind::Index => !PLANTED_INDEXES.contains(&f.object.name.as_str()),
            ObjectKind::Sequence => !PLANTED_SEQUENCES.contains(&f.object.name.as_str()),
            _ => false,
        })
        .map(|f| format!("{} on {}: {}", f.rule, f.object.name, f.message))
        .collect();
    assert!(noisy.is_empty(), "findings on healthy objects: {noisy:#?}");
}

/// Odoo's healthy twins: queue tables whose cleanup runs (the bus, the job queue) and the
/// polymorphic references that keep their (model, res_id) index.
#[test]
fn erp_twins_get_no_erp_finding() {
    let noisy: Vec<String> = demo_findings()
        .iter()
        .filter(|f| match f.rule.as_str() {
            "ERP002" => ["bus_bus", "queue_job"].contains(&f.object.name.as_str()),
            "ERP003" => ["mail_followers", "ir_attachment"].contains(&f.object.name.as_str()),
            _ => false,
        })
        .map(|f| format!("{} on {}: {}", f.rule, f.object.name, f.message))
        .collect();
    assert!(
        noisy.is_empty(),
        "ERP findings on healthy twins: {noisy:#?}"
    );
}
