//! Every fix the rules write, on every captured fixture and the demo, gets its cost from
//! the classifier: each statement is one pgsage knows (no "does not know what this
//! locks"), the fix's phase and `requires` agree, a table rewrite is a maintenance
//! window, and the script renders each fix whole. `PGSAGE_PRINT_FIX_COSTS=1` prints
//! every distinct (rule, phase, lock, destructive) for review.

use std::collections::BTreeSet;
use std::path::PathBuf;

use pgsage_core::report::Phase;
use pgsage_core::snapshot::{Fact, HostFacts, StorageKind};
use pgsage_core::sql::impact::{statements, Kind};
use pgsage_core::{audit, RuleConfig, Snapshot};

fn snapshots() -> Vec<PathBuf> {
    pgsage_testkit::scenario::captured_snapshots()
}

fn host() -> HostFacts {
    HostFacts {
        ram_bytes: Some(Fact::new(16u64 << 30, "test")),
        cpus: Some(Fact::new(4.0, "test")),
        storage: Some(Fact::new(StorageKind::Ssd, "test")),
        platform: None,
        tier: None,
    }
}

#[test]
fn every_fix_statement_is_classified_and_costs_agree() {
    let mut config = RuleConfig::shipped().expect("shipped packs");
    config.host = host();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut fixes = 0;
    let mut rewrites = 0;
    for path in snapshots() {
        let snapshot = Snapshot::load(&path).expect("fixture loads");
        let report = audit(&snapshot, &config);
        let name = path.display();
        for f in &report.findings {
            let Some(fix) = &f.fix else { continue };
            fixes += 1;
            let stmts = statements(&fix.sql);
            for s in &stmts {
                if s.impact.kind == Kind::Unknown && s.impact.destructive.is_none() {
                    let why = s.impact.skip.as_deref().unwrap_or("");
                    if why.starts_with("pgsage does not know")
                        || why.starts_with("pgsage could not")
                    {
                        problems.push(format!("{name}: {} writes `{}`: {why}", f.rule, s.sql));
                    }
                }
            }
            let requires = fix.requires.as_deref().unwrap_or("none");
            if let Some(p) = Phase::from_requires(requires) {
                if fix.phase < p {
                    problems.push(format!(
                        "{name}: {} requires {requires} but its phase is {}",
                        f.rule, fix.phase
                    ));
                }
            }
            let sets = |restart: bool| fix.settings.iter().any(|c| c.restart == restart);
            if sets(true) && requires != "restart" {
                problems.push(format!(
                    "{name}: {} changes a restart setting but requires {requires}",
                    f.rule
                ));
            }
            if sets(false) && requires == "none" {
                problems.push(format!(
                    "{name}: {} changes a setting but requires none",
                    f.rule
                ));
            }
            if fix.rewrites_table {
                rewrites += 1;
                if fix.phase != Phase::Maintenance {
                    problems.push(format!(
                        "{name}: {} rewrites a table in phase {}",
                        f.rule, fix.phase
                    ));
                }
            }
            seen.insert(format!(
                "{} {} | {} | {} | {}",
                f.rule,
                fix.phase,
                fix.lock
                    .as_ref()
                    .map_or("-".to_owned(), |l| format!("{} on {}", l.mode, l.relation)),
                fix.duration.as_ref().map_or("-", |d| d.text.as_str()),
                fix.destructive.as_deref().unwrap_or("-"),
            ));
        }
    }
    if std::env::var_os("PGSAGE_PRINT_FIX_COSTS").is_some() {
        for line in &seen {
            println!("{line}");
        }
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(fixes > 100, "only {fixes} fixes checked");
    assert!(
        rewrites > 0,
        "no fixture plants a fix that rewrites a table"
    );
}
