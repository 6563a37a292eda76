//! Which ERP operations collide: Odoo's cron worker or interactive requests. Inferred,
//! never read: an application whose statements touched `ir_cron` (the cron worker
//! takes its jobs with `SELECT … FROM ir_cron … FOR NO KEY UPDATE SKIP LOCKED`) is a
//! cron worker; Odoo names each worker process's connections `odoo-<pid>`, so the
//! application tells the cron worker's other statements apart too. A statement that
//! only cron applications ran is cron work; one that only other applications ran is
//! interactive. Without `ir_cron` statements in the log, or when every application
//! ran them (Odoo without workers runs cron threads in its HTTP process), nothing is
//! inferred from applications.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{ErpOperations, IncidentGroup, Operation, StatementRuns};
use crate::workload::fingerprint::Fingerprint;

/// Tables whose names say Odoo (its core and its most common modules' models).
const ODOO_TABLES: &[&str] = &[
    "ir_cron",
    "ir_cron_trigger",
    "ir_attachment",
    "ir_model",
    "ir_sequence",
    "res_users",
    "res_partner",
    "res_company",
    "stock_quant",
    "stock_move",
    "stock_move_line",
    "stock_picking",
    "stock_location",
    "account_move",
    "account_move_line",
    "account_payment",
    "sale_order",
    "sale_order_line",
    "purchase_order",
    "purchase_order_line",
    "product_product",
    "product_template",
    "mail_message",
    "mail_mail",
    "mail_followers",
    "mail_tracking_value",
    "queue_job",
    "bus_bus",
];

/// Whether a statement touches `ir_cron` (or its trigger table).
pub(crate) fn touches_ir_cron(query: &str) -> bool {
    query.to_ascii_lowercase().contains("ir_cron")
}

/// Whether `table` is one of Odoo's.
pub fn is_odoo_table(table: &str) -> bool {
    ODOO_TABLES.contains(&table)
}

/// Fills each group's [`ErpOperations`] when the workload shows cron work (statements
/// on `ir_cron`) or the tables are Odoo's.
pub(crate) fn attribute(groups: &mut [IncidentGroup], queries: &[StatementRuns<'_>]) {
    let cron_apps: BTreeSet<String> = queries
        .iter()
        .filter(|q| touches_ir_cron(q.query))
        .flat_map(|q| q.applications.iter())
        .filter(|a| **a != "?")
        .map(|a| (*a).to_owned())
        .collect();
    // Odoo without workers (threaded mode) runs its cron threads in the HTTP process:
    // one application for everything, and nothing to tell them apart by.
    let all_cron = queries
        .iter()
        .flat_map(|q| q.applications.iter())
        .filter(|a| **a != "?")
        .all(|a| cron_apps.contains(*a));
    let cron_apps = if all_cron { BTreeSet::new() } else { cron_apps };
    let by_fp: HashMap<Fingerprint, &StatementRuns<'_>> =
        queries.iter().map(|q| (q.fingerprint, q)).collect();
    let odoo_log = !cron_apps.is_empty() || queries.iter().any(|q| touches_ir_cron(q.query));
    let writers = if groups.is_empty() || cron_apps.is_empty() {
        BTreeMap::new()
    } else {
        writers_by_table(queries, &cron_apps)
    };
    for g in groups.iter_mut() {
        let odoo = odoo_log
            || g.relation.as_deref().is_some_and(is_odoo_table)
            || g.others.iter().any(|o| {
                o.query
                    .as_deref()
                    .and_then(super::target::target_table)
                    .is_some_and(|t| is_odoo_table(&t))
            });
        if !odoo && cron_apps.is_empty() {
            continue;
        }
        let op = |fp: Option<Fingerprint>, query: Option<&str>, app: Option<&str>| {
            operation(fp, query, app, &cron_apps, &by_fp)
        };
        let mut logged_by: BTreeMap<Operation, u64> = BTreeMap::new();
        let total_apps: u64 = g.applications.iter().map(|a| a.count).sum();
        for a in &g.applications {
            *logged_by
                .entry(op(g.fingerprint, g.query.as_deref(), Some(&a.name)))
                .or_default() += a.count;
        }
        if g.count > total_apps {
            *logged_by
                .entry(op(g.fingerprint, g.query.as_deref(), None))
                .or_default() += g.count - total_apps;
        }
        let mut other_side: BTreeMap<Operation, u64> = BTreeMap::new();
        for o in g.others.iter_mut() {
            o.operation = op(o.fingerprint, o.query.as_deref(), o.application.as_deref());
            *other_side.entry(o.operation).or_default() += o.count;
        }
        g.operations = Some(ErpOperations {
            erp: odoo.then(|| "odoo".to_owned()),
            logged_by,
            other_side,
            cron_applications: cron_apps.iter().cloned().collect(),
            writers: g
                .relation
                .as_ref()
                .and_then(|r| writers.get(r))
                .cloned()
                .unwrap_or_default(),
        });
    }
}

/// Per table, the applications whose statements write it (`UPDATE`, `INSERT`,
/// `DELETE`, `SELECT … FOR UPDATE`), by operation.
fn writers_by_table(
    queries: &[StatementRuns<'_>],
    cron_apps: &BTreeSet<String>,
) -> BTreeMap<String, BTreeMap<Operation, Vec<String>>> {
    let mut out: BTreeMap<String, BTreeMap<Operation, Vec<String>>> = BTreeMap::new();
    for q in queries {
        // Also the cron worker's batches (`BEGIN; SELECT … FROM ir_cron …; UPDATE …`),
        // and `SELECT … FOR UPDATE` (its FROM table is the target).
        let upper = q.query.to_ascii_uppercase();
        let writes = q.writes
            || ["UPDATE ", "INSERT ", "DELETE "]
                .iter()
                .any(|w| upper.contains(w));
        if !writes {
            continue;
        }
        let Some(table) = super::target::target_table(q.query) else {
            continue;
        };
        let by = out.entry(table).or_default();
        for a in q.applications.iter().filter(|a| **a != "?") {
            let op = if cron_apps.contains(*a) {
                Operation::Cron
            } else {
                Operation::Interactive
            };
            let apps = by.entry(op).or_default();
            if !apps.iter().any(|x| x == a) {
                apps.push((*a).to_owned());
            }
        }
    }
    out
}

/// What a process running `fp` (`query`) from `app` was doing.
fn operation(
    fp: Option<Fingerprint>,
    query: Option<&str>,
    app: Option<&str>,
    cron_apps: &BTreeSet<String>,
    by_fp: &HashMap<Fingerprint, &StatementRuns<'_>>,
) -> Operation {
    if query.is_some_and(touches_ir_cron) {
        return Operation::Cron;
    }
    if cron_apps.is_empty() {
        return Operation::Unknown;
    }
    if let Some(a) = app {
        return if cron_apps.contains(a) {
            Operation::Cron
        } else {
            Operation::Interactive
        };
    }
    // No application: the statement's own runs in the workload say who runs it.
    let Some(q) = fp.and_then(|f| by_fp.get(&f)) else {
        return Operation::Unknown;
    };
    let known: Vec<&str> = q
        .applications
        .iter()
        .copied()
        .filter(|n| *n != "?")
        .collect();
    if known.is_empty() {
        Operation::Unknown
    } else if known.iter().all(|a| cron_apps.contains(*a)) {
        Operation::Cron
    } else if known.iter().all(|a| !cron_apps.contains(*a)) {
        Operation::Interactive
    } else {
        Operation::Unknown
    }
}
