//! The index drops of one audit never contradict each other. On every captured fixture
//! and the demo snapshot, audited with the shipped packs and with the fixture's scenario
//! configuration, applying every `DROP INDEX` (and `DROP CONSTRAINT`) the findings propose:
//!
//! - leaves every foreign key that had a usable index (valid, leading with the key's
//!   columns in any order) with one;
//! - drops no index the index advisor (IDX009) proposes, and makes it propose nothing it
//!   did not (an index the workload's statements rely on stays);
//! - drops each index once (one drop, one finding), and never an index another finding
//!   keeps (`kept_indexes` in its evidence).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pgsage_core::snapshot::{ForeignKey, Index};
use pgsage_core::{audit, Report, RuleConfig, Snapshot};

fn snapshots() -> Vec<PathBuf> {
    pgsage_testkit::scenario::captured_snapshots()
}

/// The configurations a snapshot is audited with: the shipped packs, and for a fixture
/// its scenario's (whose lowered thresholds make the planted problems count).
fn configs(path: &Path) -> Vec<(String, RuleConfig)> {
    let shipped = RuleConfig::shipped().expect("shipped packs");
    let mut out = vec![("shipped".to_owned(), shipped.clone())];
    let scenario = path
        .parent()
        .and_then(|d| d.file_name())
        .and_then(|n| n.to_str())
        .and_then(|n| pgsage_testkit::scenario::Scenario::load(n).ok());
    if let Some(s) = scenario {
        let mut config = shipped;
        config
            .apply_toml(&s.config, &format!("scenario {}", s.name))
            .expect("scenario config");
        out.push((format!("scenario {}", s.name), config));
    }
    out
}

/// The index a `DROP INDEX` line names (`[CONCURRENTLY] [IF EXISTS] name;`), as written.
fn dropped_index_name(line: &str) -> Option<String> {
    let line = line.trim_start().trim_start_matches("--").trim_start();
    let rest = line.strip_prefix("DROP INDEX ")?;
    let rest = rest.strip_prefix("CONCURRENTLY ").unwrap_or(rest);
    let rest = rest.strip_prefix("IF EXISTS ").unwrap_or(rest);
    Some(rest.trim_end().trim_end_matches(';').trim().to_owned())
}

/// The constraint an `ALTER TABLE t DROP CONSTRAINT c;` line drops: (table, constraint).
fn dropped_constraint(line: &str) -> Option<(String, String)> {
    let line = line.trim_start().trim_start_matches("--").trim_start();
    let rest = line.strip_prefix("ALTER TABLE ")?;
    let (table, constraint) = rest.split_once(" DROP CONSTRAINT ")?;
    Some((
        table.trim().to_owned(),
        constraint
            .trim_end()
            .trim_end_matches(';')
            .trim()
            .trim_matches('"')
            .to_owned(),
    ))
}

/// Every index the findings drop (qualified name → the rules dropping it).
fn drops(report: &Report, snapshot: &Snapshot) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &report.findings {
        let Some(fix) = &f.fix else { continue };
        for line in fix.sql.lines() {
            let name = dropped_index_name(line).or_else(|| {
                let (table, constraint) = dropped_constraint(line)?;
                snapshot
                    .indexes
                    .iter()
                    .find(|i| {
                        i.constraint_name.as_deref() == Some(constraint.as_str())
                            && pgsage_core::sql::qualified(&i.schema, &i.table) == table
                    })
                    .map(Index::qualified_name)
            });
            if let Some(name) = name {
                out.entry(name).or_default().push(f.rule.clone());
            }
        }
    }
    out
}

/// Whether a valid index serves a foreign key's lookups: its leading key columns are the
/// key's columns in any order (btree), or its single column (hash), and its predicate at
/// most excludes NULLs.
fn serves(i: &Index, fk: &ForeignKey) -> bool {
    let n = fk.attnums.len();
    if !i.is_valid || i.table_oid != fk.table_oid || n == 0 {
        return false;
    }
    let shape = match i.access_method.as_str() {
        "btree" => i.key_attnums.len() >= n,
        "hash" => n == 1 && i.key_attnums.len() == 1,
        _ => false,
    };
    if !shape {
        return false;
    }
    let lead: BTreeSet<i16> = i.key_attnums[..n].iter().copied().collect();
    let want: BTreeSet<i16> = fk.attnums.iter().copied().collect();
    lead == want
        && !lead.contains(&0)
        && i.predicate.as_deref().is_none_or(|p| {
            p.split(" AND ").all(|part| {
                part.trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace())
                    .ends_with(" IS NOT NULL")
            })
        })
}

/// The indexes IDX009 proposes: (schema.table, key columns).
fn advised(report: &Report) -> BTreeSet<(String, Vec<String>)> {
    report
        .findings
        .iter()
        .filter(|f| f.rule == "IDX009")
        .filter_map(|f| {
            let columns: Vec<String> = f
                .evidence
                .get("columns")?
                .as_array()?
                .iter()
                .filter_map(|c| c.as_str())
                .map(|c| c.strip_suffix(" DESC").unwrap_or(c).to_owned())
                .collect();
            Some((f.object.display_name(), columns))
        })
        .collect()
}

#[test]
fn applying_every_proposed_drop_contradicts_nothing() {
    let mut problems = Vec::new();
    let mut dropped_total = 0;
    let mut kept_total = 0;
    let mut foreign_keys_checked = 0;
    for path in snapshots() {
        let snapshot = Snapshot::load(&path).expect("snapshot loads");
        for (label, config) in configs(&path) {
            let at = format!("{} ({label})", path.display());
            let report = audit(&snapshot, &config);
            let dropped = drops(&report, &snapshot);
            dropped_total += dropped.len();
            for (name, rules) in &dropped {
                if rules.len() > 1 {
                    problems.push(format!("{at}: `{name}` is dropped by {}", rules.join(", ")));
                }
            }
            // No finding keeps an index another drops.
            for f in &report.findings {
                let kept = f
                    .evidence
                    .get("kept_indexes")
                    .and_then(|k| k.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|k| k.as_str());
                for name in kept {
                    kept_total += 1;
                    if let Some(rules) = dropped.get(name) {
                        problems.push(format!(
                            "{at}: {} on `{}` keeps `{name}`, which {} drops",
                            f.rule,
                            f.object.display_name(),
                            rules.join(", ")
                        ));
                    }
                }
            }
            let remaining: Vec<&Index> = snapshot
                .indexes
                .iter()
                .filter(|i| !dropped.contains_key(&i.qualified_name()))
                .collect();
            // Every foreign key that had an index keeps one.
            for fk in &snapshot.foreign_keys {
                if !snapshot.indexes.iter().any(|i| serves(i, fk)) {
                    continue;
                }
                foreign_keys_checked += 1;
                if !remaining.iter().any(|i| serves(i, fk)) {
                    problems.push(format!(
                        "{at}: foreign key `{}` on `{}` ({}) loses every index that served it",
                        fk.name,
                        fk.table,
                        fk.columns.join(", ")
                    ));
                }
            }
            if dropped.is_empty() {
                continue;
            }
            // No index IDX009 proposes is dropped.
            let proposed = advised(&report);
            for i in snapshot
                .indexes
                .iter()
                .filter(|i| dropped.contains_key(&i.qualified_name()))
            {
                let table = pgsage_core::sql::qualified(&i.schema, &i.table);
                if proposed.contains(&(table.clone(), i.key_columns.clone())) {
                    problems.push(format!(
                        "{at}: `{}` is dropped while IDX009 proposes an index on {table} ({})",
                        i.name,
                        i.key_columns.join(", ")
                    ));
                }
            }
            // Without the dropped indexes, IDX009 proposes nothing new: the workload relied
            // on none of them.
            let mut after = snapshot.clone();
            after
                .indexes
                .retain(|i| !dropped.contains_key(&i.qualified_name()));
            let readvised = advised(&audit(&after, &config));
            for (table, columns) in readvised.difference(&proposed) {
                problems.push(format!(
                    "{at}: once the proposed drops are applied, IDX009 proposes an index on {table} ({})",
                    columns.join(", ")
                ));
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} contradictions:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The fixtures plant drops, kept indexes and foreign keys: the test checks something.
    assert!(dropped_total > 10, "only {dropped_total} drops");
    assert!(kept_total > 5, "only {kept_total} kept indexes");
    assert!(
        foreign_keys_checked > 10,
        "only {foreign_keys_checked} foreign keys"
    );
}
