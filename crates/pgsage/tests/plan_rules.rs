//! The `plans` pack over the whole captured corpus (`testdata/plans/**/*.{json,txt}`, and
//! `testdata/plans-extra/`, named `extra/…`: plans without ANALYZE, 1,000-node plans):
//! every (rule, file) pair fires if and only if `testdata/plans/expectations.toml` says
//! so, so a rule that misses its case or speaks up on any other real plan (healthy ones
//! included) fails here.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use globset::Glob;
use pgsage::engine::plan::analyze;
use pgsage::plan::parse_plans;
use pgsage::rules::{rules_for, Target};
use pgsage::RuleConfig;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectations {
    expect: Vec<Expect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// Glob over the path under `testdata/plans/` (`pg*/sort_spill.*`).
    files: String,
    /// Rules that must fire on those files.
    rules: Vec<String>,
    /// Why (documentation only).
    #[allow(dead_code)]
    why: Option<String>,
}

fn corpus_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/plans")
}

/// Every plan file of the corpus, as (path under `testdata/plans/`, or `extra/…` under
/// `testdata/plans-extra/`, and text).
pub fn corpus() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (root, prefix) in [
        (corpus_root(), ""),
        (corpus_root().join("../plans-extra"), "extra/"),
    ] {
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("json" | "txt")
                ) {
                    let rel = path
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    out.push((
                        format!("{prefix}{rel}"),
                        std::fs::read_to_string(&path).unwrap(),
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

fn expectations(root: &Path) -> Vec<(globset::GlobMatcher, BTreeSet<String>, String)> {
    let text = std::fs::read_to_string(root.join("expectations.toml")).unwrap();
    let parsed: Expectations = toml::from_str(&text).unwrap();
    parsed
        .expect
        .into_iter()
        .map(|e| {
            (
                Glob::new(&e.files).unwrap().compile_matcher(),
                e.rules.into_iter().collect(),
                e.files,
            )
        })
        .collect()
}

#[test]
fn every_rule_fires_exactly_where_expected_on_the_corpus() {
    let config = RuleConfig::shipped().unwrap();
    let expected = expectations(&corpus_root());
    let mut used_patterns = BTreeSet::new();
    let mut fired_somewhere: BTreeSet<String> = BTreeSet::new();
    let mut quiet_somewhere: BTreeSet<String> = BTreeSet::new();
    let mut failures = Vec::new();
    let mut matrix = BTreeMap::new();
    for (file, text) in corpus() {
        let plans = parse_plans(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut fired: BTreeSet<String> = BTreeSet::new();
        let mut messages = Vec::new();
        for plan in &plans {
            let report = analyze(plan, &config);
            for f in &report.findings {
                fired.insert(f.rule.clone());
                messages.push(format!("{} {}: {}", f.rule, f.object.name, f.message));
            }
        }
        let mut want: BTreeSet<String> = BTreeSet::new();
        for (glob, rules, pattern) in &expected {
            if glob.is_match(&file) {
                want.extend(rules.iter().cloned());
                used_patterns.insert(pattern.clone());
            }
        }
        for rule in rules_for(Target::Plan).map(|r| r.meta().id.to_owned()) {
            if fired.contains(&rule) {
                fired_somewhere.insert(rule.clone());
            } else {
                quiet_somewhere.insert(rule.clone());
            }
        }
        let missing: Vec<_> = want.difference(&fired).collect();
        let noisy: Vec<_> = fired.difference(&want).collect();
        if !missing.is_empty() || !noisy.is_empty() {
            failures.push(format!(
                "{file}: missing {missing:?}, noisy {noisy:?}\n    {}",
                messages.join("\n    ")
            ));
        }
        matrix.insert(file, fired);
    }
    if std::env::var_os("PGSAGE_PRINT_MATRIX").is_some() {
        for (file, fired) in &matrix {
            eprintln!("{file}: {fired:?}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} files:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for (_, _, pattern) in &expected {
        assert!(
            used_patterns.contains(pattern),
            "pattern `{pattern}` matches no corpus file"
        );
    }
    for rule in rules_for(Target::Plan) {
        let id = rule.meta().id;
        assert!(fired_somewhere.contains(id), "{id} fires on no corpus plan");
        assert!(
            quiet_somewhere.contains(id),
            "{id} is quiet on no corpus plan"
        );
    }
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(corpus_root().join(rel)).unwrap()
}

#[test]
fn without_analyze_the_rules_skip_with_the_reason() {
    let config = RuleConfig::shipped().unwrap();
    for file in [
        "../plans-extra/estimate_only/pg13.json",
        "../plans-extra/estimate_only/pg18.txt",
    ] {
        let reports = pgsage::engine::plan::analyze_text(&read(file), &config).unwrap();
        assert_eq!(reports.len(), 1);
        let report = &reports[0];
        assert!(report.findings.is_empty(), "{file}: {:?}", report.findings);
        assert_eq!(
            report.skipped.len(),
            rules_for(Target::Plan).count(),
            "{file}"
        );
        assert!(
            report.skipped.iter().all(|s| s.reason.contains("ANALYZE")),
            "{file}: {:?}",
            report.skipped
        );
    }
}

#[test]
fn findings_point_at_nodes_and_rank_by_time_share() {
    let config = RuleConfig::shipped().unwrap();
    let mut multi = 0;
    for (file, text) in corpus() {
        for plan in parse_plans(&text).unwrap() {
            let report = analyze(&plan, &config);
            assert_eq!(report.target.source, "plan");
            assert!(report.findings.iter().all(|f| f.pack == "plans"));
            let shares: Vec<f64> = report
                .findings
                .iter()
                .map(pgsage::engine::plan::time_share)
                .collect();
            assert!(
                shares.windows(2).all(|w| w[0] >= w[1]),
                "{file}: not ranked by time share: {shares:?}"
            );
            multi += usize::from(report.findings.len() > 1);
            for f in &report.findings {
                assert!(f.evidence.contains_key("time_share"), "{file} {}", f.rule);
                assert_eq!(f.object.kind, pgsage::report::ObjectKind::Query);
                if let Some(path) = f.evidence.get("node_path").and_then(|p| p.as_str()) {
                    let node = plan
                        .node_at(&path.parse().unwrap())
                        .unwrap_or_else(|| panic!("{file} {}: no node {path}", f.rule));
                    assert_eq!(
                        f.evidence.get("node_type").and_then(|t| t.as_str()),
                        Some(node.node_type.as_str())
                    );
                    assert!(f.object.name.starts_with(path), "{}", f.object.name);
                }
            }
        }
    }
    assert!(
        multi > 0,
        "no plan with several findings to check the ranking on"
    );
}

#[test]
fn thresholds_and_switches_come_from_the_configuration() {
    let text = read("pg18/seq_scan_filter.json");
    let mut config = RuleConfig::shipped().unwrap();
    let fired = |config: &RuleConfig| {
        pgsage::engine::plan::analyze_text(&text, config).unwrap()[0]
            .findings
            .iter()
            .any(|f| f.rule == "EXP002")
    };
    assert!(fired(&config));
    config
        .apply_toml("[rules.EXP002.params]\nmin_rows_read = 1000000", "test")
        .unwrap();
    assert!(!fired(&config));
    let mut config = RuleConfig::shipped().unwrap();
    config
        .apply_toml("[packs]\ndisabled = [\"plans\"]", "test")
        .unwrap();
    assert!(!fired(&config));
    let mut config = RuleConfig::shipped().unwrap();
    config
        .apply_toml(
            "[[suppress]]\nrule = \"EXP002\"\nobject = \"* Seq Scan on public.sale_order_line\"\nreason = \"batch job\"",
            "test",
        )
        .unwrap();
    let report = &pgsage::engine::plan::analyze_text(&text, &config).unwrap()[0];
    assert!(report.findings.is_empty());
    assert_eq!(report.suppressed.len(), 1);
}

#[test]
fn the_index_to_create_and_the_work_mem_to_set_come_from_the_plan() {
    let config = RuleConfig::shipped().unwrap();
    let find = |file: &str, rule: &str| {
        pgsage::engine::plan::analyze_text(&read(file), &config).unwrap()[0]
            .findings
            .iter()
            .find(|f| f.rule == rule)
            .cloned()
            .unwrap_or_else(|| panic!("{file}: no {rule}"))
    };
    let f = find("pg18/seq_scan_filter.json", "EXP002");
    assert_eq!(
        f.fix.unwrap().sql,
        "CREATE INDEX CONCURRENTLY ON public.sale_order_line (price_unit);"
    );
    let f = find("pg13/row_misestimate.txt", "EXP001");
    assert!(
        f.fix.unwrap().sql.starts_with(
            "CREATE STATISTICS stock_move_location_id_location_dest_id_stats (dependencies, ndistinct, mcv) ON location_id, location_dest_id FROM stock_move;"
        )
    );
    // 920 kB on disk, about twice that in memory: 2MB.
    let f = find("pg18/sort_spill.json", "EXP003");
    assert_eq!(f.evidence["work_mem"], "64kB");
    assert_eq!(f.evidence["suggested_work_mem"], "2MB");
    let f = find("pg18/index_only_heap_fetches.json", "EXP006");
    assert_eq!(f.fix.unwrap().sql, "VACUUM (ANALYZE) public.stock_quant;");
    let f = find("pg18/fk_trigger_delete.json", "EXP010");
    assert_eq!(f.evidence["constraint"], "sale_order_line_order_id_fkey");
}
