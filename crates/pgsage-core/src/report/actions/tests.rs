use std::path::PathBuf;

use super::themes::{theme_of, THEMES};
use super::*;
use crate::config::RuleConfig;
use crate::report::Report;
use crate::rules::RULES;
use crate::snapshot::Snapshot;

fn repo() -> PathBuf {
    pgsage_testkit::scenario::repo_root()
}

fn audits() -> Vec<(PathBuf, Report)> {
    let config = RuleConfig::shipped().expect("shipped packs");
    pgsage_testkit::scenario::captured_snapshots()
        .into_iter()
        .map(|p| {
            let snap = Snapshot::load(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let report = crate::engine::audit(&snap, &config);
            (p, report)
        })
        .collect()
}

#[test]
fn every_audit_rule_has_a_theme_and_themes_name_known_rules() {
    for rule in RULES.iter().filter(|r| r.in_audit()) {
        let id = rule.meta().id;
        let themed = THEMES.iter().any(|t| t.rules.contains(&id));
        assert!(
            themed,
            "{id} has no action theme (report/actions/themes.rs)"
        );
    }
    for t in THEMES {
        for id in t.rules {
            assert!(
                crate::rules::rule(id).is_some(),
                "theme {} names unknown rule {id}",
                t.id
            );
        }
        let dupes = THEMES.iter().filter(|o| o.id == t.id).count();
        assert_eq!(dupes, 1, "theme id {} twice", t.id);
    }
}

#[test]
fn every_finding_is_in_exactly_one_action_on_every_fixture() {
    let audits = audits();
    assert!(audits.len() > 50, "fixtures not found: {}", audits.len());
    for (path, report) in &audits {
        let mut seen = vec![0usize; report.findings.len()];
        for a in &report.actions {
            assert!(
                !a.findings.is_empty(),
                "{}: empty action {}",
                path.display(),
                a.id
            );
            for &i in &a.findings {
                seen[i] += 1;
            }
        }
        for (i, n) in seen.iter().enumerate() {
            assert_eq!(
                *n,
                1,
                "{}: finding {i} ({} on {}) is in {n} actions",
                path.display(),
                report.findings[i].rule,
                report.findings[i].object.display_name()
            );
        }
        let ranks: Vec<usize> = report.actions.iter().map(|a| a.rank).collect();
        let expected: Vec<usize> = (1..=report.actions.len()).collect();
        assert_eq!(ranks, expected, "{}", path.display());
        let ids: std::collections::BTreeSet<&str> =
            report.actions.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids.len(),
            report.actions.len(),
            "{}: an action id twice",
            path.display()
        );
    }
}

#[test]
fn outages_rank_before_performance_and_hygiene_last() {
    for (path, report) in audits() {
        let classes: Vec<&str> = report.actions.iter().map(|a| a.class.as_str()).collect();
        let order = |c: &str| match c {
            "outage" => 0,
            "performance" => 1,
            _ => 2,
        };
        assert!(
            classes.windows(2).all(|w| order(w[0]) <= order(w[1])),
            "{}: {classes:?}",
            path.display()
        );
        for a in &report.actions {
            if a.class == "hygiene" {
                assert_ne!(
                    a.severity,
                    Severity::Critical,
                    "{}: {}",
                    path.display(),
                    a.id
                );
            }
        }
    }
}

#[test]
fn a_finding_explained_by_another_joins_its_action() {
    // The bundled demo has autovacuum off server-wide: dead rows, stale statistics and
    // lost HOT updates of every table are one action, not one per table.
    let report = audits()
        .into_iter()
        .find(|(p, _)| p.ends_with("demo.json"))
        .map(|(_, r)| r)
        .expect("demo");
    let off = report
        .findings
        .iter()
        .any(|f| f.rule == "VAC002" && matches!(f.object.kind, crate::report::ObjectKind::Setting));
    if !off {
        return;
    }
    let action = report
        .actions
        .iter()
        .find(|a| a.id == "autovacuum-off")
        .expect("an autovacuum-off action");
    for (i, f) in report.findings.iter().enumerate() {
        if ["VAC001", "VAC003", "VAC004", "VAC008"].contains(&f.rule.as_str()) {
            assert!(
                action.findings.contains(&i),
                "{} on {} outside the autovacuum action",
                f.rule,
                f.object.display_name()
            );
        }
    }
}

#[test]
fn one_kind_of_finding_on_many_objects_is_one_action() {
    for (path, report) in audits() {
        for a in &report.actions {
            let theme = THEMES.iter().find(|t| t.id == a.id);
            let Some(theme) = theme else { continue };
            // No other action holds a finding whose own theme is this one, unless a
            // cause took it.
            for other in report.actions.iter().filter(|o| o.id != a.id) {
                for &i in &other.findings {
                    let f = &report.findings[i];
                    if theme_of(f).is_some_and(|t| t.id == theme.id) {
                        let explained = super::themes::CAUSES
                            .iter()
                            .any(|c| c.explains.contains(&f.rule.as_str()));
                        assert!(
                            explained,
                            "{}: {} on {} in {} instead of {}",
                            path.display(),
                            f.rule,
                            f.object.display_name(),
                            other.id,
                            a.id
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn merged_fixes_set_a_setting_once_and_reload_or_restart_once_at_the_end() {
    for (path, report) in audits() {
        for a in &report.actions {
            let Some(fix) = &a.fix else { continue };
            let mut set: Vec<&str> = Vec::new();
            for line in fix.sql.lines() {
                if let Some(rest) = line.strip_prefix("ALTER SYSTEM SET ") {
                    let name = rest.split(' ').next().unwrap_or("");
                    assert!(
                        !set.contains(&name),
                        "{}: {} sets {name} twice:\n{}",
                        path.display(),
                        a.id,
                        fix.sql
                    );
                    set.push(name);
                }
            }
            let reloads = fix
                .sql
                .lines()
                .filter(|l| *l == "SELECT pg_reload_conf();")
                .count();
            let restarts = fix
                .sql
                .lines()
                .filter(|l| *l == "-- then restart PostgreSQL")
                .count();
            assert!(
                reloads + restarts <= 1,
                "{}: {}:\n{}",
                path.display(),
                a.id,
                fix.sql
            );
            if reloads + restarts == 1 {
                let last = fix.sql.lines().last().unwrap_or("");
                assert!(
                    last == "SELECT pg_reload_conf();" || last == "-- then restart PostgreSQL",
                    "{}: {}",
                    path.display(),
                    fix.sql
                );
            }
            let member_restart = a.findings.iter().any(|&i| {
                report.findings[i]
                    .fix
                    .as_ref()
                    .is_some_and(|f| f.settings.iter().any(|s| s.restart))
            });
            assert_eq!(member_restart, fix.requires == "restart", "{}", a.id);
            let requires = match (restarts, reloads) {
                (1, _) => "restart",
                (_, 1) => "reload",
                _ => "none",
            };
            assert_eq!(fix.requires, requires, "{}: {}", path.display(), a.id);
        }
    }
}

#[test]
fn small_objects_do_not_make_a_performance_action_critical() {
    for (path, report) in audits() {
        for a in report.actions.iter().filter(|a| a.class == "performance") {
            if a.severity != Severity::Critical {
                continue;
            }
            let justified = a.findings.iter().any(|&i| {
                let f = &report.findings[i];
                f.severity == Severity::Critical
                    && rank::object_bytes(f).is_none_or(|b| b >= rank::CRITICAL_OBJECT_BYTES)
            });
            assert!(
                justified,
                "{}: {} critical on small objects",
                path.display(),
                a.id
            );
        }
    }
}

#[test]
fn a_filtered_report_rebuilds_its_actions() {
    let (_, mut report) = audits()
        .into_iter()
        .find(|(p, _)| p.ends_with("demo.json"))
        .expect("demo");
    report.filter(&crate::report::ReportFilter {
        packs: vec!["schema".to_owned()],
        min_severity: None,
    });
    let total: usize = report.actions.iter().map(|a| a.findings.len()).sum();
    assert_eq!(total, report.findings.len());
    assert!(report.actions.iter().all(|a| a
        .findings
        .iter()
        .all(|&i| report.findings[i].pack == "schema")));
}

#[test]
fn titles_name_few_objects_and_count_many() {
    for (path, report) in audits() {
        for a in &report.actions {
            assert!(!a.title.contains('{'), "{}: {}", path.display(), a.title);
            assert!(!a.impact.contains('{'), "{}: {}", path.display(), a.impact);
            if a.objects.len() > 3 && a.title.contains('`') {
                // Only the primary objects are named: at most three backticked names.
                assert!(a.title.matches('`').count() <= 6, "{}", a.title);
            }
        }
    }
}

#[test]
fn generated_actions_doc_is_current() {
    let path = repo().join("docs/actions.md");
    let text = catalogue_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &text).expect("write docs/actions.md");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == text,
        "docs/actions.md is stale: run scripts/generate-docs.sh"
    );
}

#[test]
fn a_key_running_out_within_a_month_makes_its_action_critical() {
    let findings = crate::rules::testing::case_findings("schema", "problems", "SCH001");
    let mut soon: Vec<Finding> = findings
        .into_iter()
        .filter(|f| f.evidence.contains_key("exhausted_in_s"))
        .collect();
    assert!(!soon.is_empty(), "no SCH001 finding with a rate");
    for f in &mut soon {
        f.severity = Severity::Warning;
    }
    let actions = build(&soon);
    let seconds = soon[0].evidence["exhausted_in_s"]
        .as_f64()
        .unwrap_or(f64::MAX);
    let expected = if seconds < rank::URGENT_EXHAUSTION_S {
        Severity::Critical
    } else {
        Severity::Warning
    };
    assert_eq!(actions[0].severity, expected);
}
