//! [`audit`]: runs the enabled rules over a snapshot, in parallel and deterministically;
//! [`tune_report`]: the recommended configuration that agrees with it.

use globset::Glob;
use rayon::prelude::*;

use crate::config::RuleConfig;
use crate::report::Draft;
use crate::report::{Counters, Finding, Report, SkippedRule, Summary, SuppressedFinding, Target};
use std::collections::BTreeMap;

use crate::knowledge::counters::Verdict;
use crate::rules::queries::workload_window;
use crate::rules::{ParamValue, Rule, RuleContext, Skip, Views, WorkloadContext, RULES};
use crate::snapshot::{Snapshot, ToolInfo};
use crate::tune::{Advice, Apply, Basis as TuneBasis, TuneReport};

/// Where the audited snapshot came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Collected just now.
    Live,
    /// Loaded from a file.
    SnapshotFile,
}

/// Audits a snapshot loaded from a file.
pub fn audit(snapshot: &Snapshot, config: &RuleConfig) -> Report {
    audit_from(snapshot, config, Source::SnapshotFile)
}

/// Audits a snapshot, recording where it came from.
pub fn audit_from(snapshot: &Snapshot, config: &RuleConfig, source: Source) -> Report {
    audit_with_views(snapshot, config, source, &Views::default())
}

/// The recommended configuration (`pgsage tune`): [`crate::tune::recommend`] for the
/// configured profile and host facts (`config.host`, then the snapshot's), completed with
/// every setting an audit finding changes that the formulas do not size. The audit's
/// findings take their values from the same recommendation, so `tune` and `audit` give
/// one value per setting by construction.
pub fn tune_report(snapshot: &Snapshot, config: &RuleConfig) -> TuneReport {
    audit_and_tune(snapshot, config, Source::SnapshotFile).1
}

/// The audit and the recommended configuration of [`tune_report`], computed together
/// (the audit's rules and the recommendation share one computation of each derived view).
pub fn audit_and_tune(
    snapshot: &Snapshot,
    config: &RuleConfig,
    source: Source,
) -> (Report, TuneReport) {
    let views = Views::default();
    let report = audit_with_views(snapshot, config, source, &views);
    let host = config.host.clone().or(&snapshot.host);
    let ctx = RuleContext {
        snapshot,
        host: &host,
        params: &Default::default(),
        min_stats_age_seconds: config.min_stats_age_seconds,
        config,
        views: &views,
    };
    let mut tuning = ctx.tuning().clone();
    for finding in &report.findings {
        let Some(fix) = &finding.fix else { continue };
        for change in &fix.settings {
            if tuning.settings.iter().any(|a| a.name == change.name) {
                continue;
            }
            tuning.settings.push(Advice {
                name: change.name.clone(),
                current: snapshot
                    .setting(&change.name)
                    .map(crate::tune::current_text),
                recommended: change.value.clone(),
                change: true,
                apply: if change.restart {
                    Apply::Restart
                } else {
                    Apply::Reload
                },
                basis: TuneBasis::Audit,
                why: format!(
                    "{} ({}): {}",
                    finding.title, finding.rule, finding.recommendation
                ),
                evidence: vec![finding.message.clone()],
            });
        }
    }
    let platform = crate::knowledge::platform::of(snapshot, &host).value;
    tuning.render_for_platform(platform, snapshot);
    (report, tuning)
}

fn audit_with_views(
    snapshot: &Snapshot,
    config: &RuleConfig,
    source: Source,
    views: &Views,
) -> Report {
    // Flags and the config file win over what the snapshot recorded at collection time.
    let host = config.host.clone().or(&snapshot.host);
    let audit_rules: Vec<Rule> = RULES.iter().copied().filter(Rule::in_audit).collect();
    let Outcome {
        mut findings,
        mut skipped,
        mut suppressed,
    } = run_on_database(
        snapshot,
        &audit_rules,
        config,
        &host,
        views,
        Databases::Connected,
    );
    // The other databases' views: the same rules on each one's tables and indexes; what
    // is server-wide (settings, statements, sessions) was judged once above and is not
    // repeated (same rule and object).
    let others: Vec<Outcome> = snapshot
        .other_databases
        .par_iter()
        .map(|sections| {
            let view = snapshot.view_of(sections);
            run_on_database(
                &view,
                &audit_rules,
                config,
                &host,
                &Views::default(),
                Databases::Other,
            )
        })
        .collect();
    let mut seen: std::collections::BTreeSet<(String, crate::report::ObjectRef)> = findings
        .iter()
        .map(|f| (f.rule.clone(), f.object.clone()))
        .collect();
    // Rules that ran on at least one other database (e.g. the `erp` pack on the tenants'
    // Odoo databases when the connected one is `postgres`): not "did not run".
    let mut ran_elsewhere: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for other in &others {
        for r in &audit_rules {
            let id = r.meta().id;
            if !other.skipped.iter().any(|s| s.rule == id) {
                ran_elsewhere.insert(id);
            }
        }
    }
    skipped.retain(|s| !ran_elsewhere.contains(s.rule.as_str()));
    for other in others {
        // From another database's view only what lives in that database counts: its
        // tables, indexes, columns, sequences and constraints. The rest (settings,
        // sessions, statements, the databases' own statistics, the extensions pgsage
        // reads through its connection) is server-wide or about the connected database,
        // and was judged above.
        for f in other.findings.into_iter().filter(in_the_database) {
            if seen.insert((f.rule.clone(), f.object.clone())) {
                findings.push(f);
            }
        }
        for s in other.suppressed {
            if !suppressed.contains(&s) {
                suppressed.push(s);
            }
        }
    }
    // A rule skipped on the connected database that judged another one did run.
    skipped.retain(|s| !findings.iter().any(|f| f.rule == s.rule));
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.pack.cmp(&b.pack))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.object.cmp(&b.object))
            .then_with(|| a.message.cmp(&b.message))
    });
    // The platform is reported once, in the target; fixes are rendered for it.
    let platform = crate::knowledge::platform::of(snapshot, &host);
    super::platform_fix::adapt(&mut findings, platform.value, Some(snapshot));
    skipped.sort_by(|a, b| a.rule.cmp(&b.rule));
    suppressed.sort_by(|a, b| (&a.rule, &a.object).cmp(&(&b.rule, &b.object)));

    let ctx = RuleContext {
        snapshot,
        host: &host,
        params: &Default::default(),
        min_stats_age_seconds: config.min_stats_age_seconds,
        config,
        views,
    };
    let window = ctx.stats_window();
    // The workload questions on the snapshot's pg_stat_statements (built once, with the
    // rules' workload), with the `workload` rules' thresholds.
    let workload_questions = ctx.workload().ok().map(|w| {
        let facts = super::question_facts(Some(snapshot), &host, config.odoo.as_ref());
        crate::questions::answer(w, &facts, &super::question_thresholds(config))
    });
    let mut gaps = snapshot.gaps.clone();
    gaps.sort();
    let host = crate::snapshot::HostFacts {
        platform: None,
        ..host
    };
    Report {
        schema_version: crate::report::REPORT_SCHEMA_VERSION,
        tool: ToolInfo::current(),
        target: Target {
            server_version: snapshot.server.version.clone(),
            server_version_num: snapshot.server.version_num,
            database: snapshot.server.database.clone(),
            collected_at: snapshot.collected_at,
            source: match source {
                Source::Live => "live",
                Source::SnapshotFile => "snapshot",
            }
            .to_owned(),
            platform: Some(platform),
            databases: if snapshot.has_other_databases() {
                snapshot.database_names().map(str::to_owned).collect()
            } else {
                Vec::new()
            },
        },
        summary: Summary::of(&findings),
        host,
        counters: Counters::of(&window),
        gaps,
        skipped,
        suppressed,
        actions: crate::report::actions::build(&findings),
        findings,
        tenants: crate::report::tenants::of(snapshot),
        workload_questions,
    }
}

/// Whether a finding is about an object that lives inside one database.
fn in_the_database(f: &crate::report::Finding) -> bool {
    use crate::report::ObjectKind as K;
    matches!(
        f.object.kind,
        K::Table | K::Index | K::Column | K::Sequence | K::Constraint
    ) && f.object.database.is_some()
}

/// Which database's view [`run_on_database`] judges.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Databases {
    /// The connected database: every rule.
    Connected,
    /// Another database of the cluster: the snapshot rules (the workload rules read
    /// `pg_stat_statements`, which is server-wide and judged once, on the connected view).
    Other,
}

/// Runs `rules` on one database's view of the snapshot; each finding's fix is costed
/// with that database's sizes.
fn run_on_database(
    snapshot: &Snapshot,
    rules: &[Rule],
    config: &RuleConfig,
    host: &crate::snapshot::HostFacts,
    views: &Views,
    which: Databases,
) -> Outcome {
    let version_major = snapshot.server.major();
    let mut outcome = run_rules(rules, config, Some(version_major), |rule, params| {
        let ctx = RuleContext {
            snapshot,
            host,
            params,
            min_stats_age_seconds: config.min_stats_age_seconds,
            config,
            views,
        };
        match rule {
            Rule::Snapshot(r) => r.check(&ctx),
            Rule::Workload(_) if which == Databases::Other => Err(Skip::because(
                "judged once, on the connected database (pg_stat_statements is server-wide)",
            )),
            Rule::Workload(r) => {
                // The snapshot's pg_stat_statements, built once per audit.
                let workload = ctx.workload()?;
                // The same facts as the report's section (one voice).
                let facts = super::question_facts(Some(snapshot), host, config.odoo.as_ref());
                let drafts = r.check(&WorkloadContext {
                    workload,
                    facts: &facts,
                    params,
                })?;
                // Every workload verdict is a share or a rate of pg_stat_statements
                // counters over the workload's own window.
                Ok(
                    match workload_window(&ctx, workload).unsure(Verdict::Share) {
                        Some(u) => drafts
                            .into_iter()
                            .map(|d| d.unsure(u.reason.clone(), &u.remedy))
                            .collect(),
                        None => drafts,
                    },
                )
            }
            Rule::Plan(_) => Err(Skip::because(
                "a plan rule: it judges EXPLAIN plans (`pgsage plan`)",
            )),
        }
    });
    super::fix_cost::annotate(&mut outcome.findings, Some(snapshot));
    outcome
}

/// What running a set of rules gave: findings in rule order, skipped rules and suppressed
/// findings.
pub(crate) struct Outcome {
    pub(crate) findings: Vec<Finding>,
    pub(crate) skipped: Vec<SkippedRule>,
    pub(crate) suppressed: Vec<SuppressedFinding>,
}

/// Runs the enabled `rules` in parallel, each with its configured parameter values, and
/// turns their drafts into findings: the one place for "not configured", the minimum
/// server version, severities and suppressions, whatever the rules judge (the audit,
/// `pgsage plan` and `pgsage workload` all run their rules through it).
pub(crate) fn run_rules<F>(
    rules: &[Rule],
    config: &RuleConfig,
    server_major: Option<i32>,
    check: F,
) -> Outcome
where
    F: Fn(Rule, &BTreeMap<String, ParamValue>) -> Result<Vec<Draft>, Skip> + Sync,
{
    let outcomes: Vec<(Rule, Result<Vec<Draft>, String>)> = rules
        .par_iter()
        .filter(|r| config.is_enabled(r.meta().id))
        .map(|&rule| {
            let id = rule.meta().id;
            let Some(settings) = config.rules.get(id) else {
                return (rule, Err("not configured".to_owned()));
            };
            if let (Some(min), Some(major)) = (settings.min_server_version, server_major) {
                if major < min {
                    return (rule, Err(format!("needs PostgreSQL {min} or later")));
                }
            }
            (rule, check(rule, &settings.params).map_err(|skip| skip.0))
        })
        .collect();

    let suppressions: Vec<_> = config
        .suppressions
        .iter()
        .filter_map(|s| Some((s, Glob::new(&s.object).ok()?.compile_matcher())))
        .collect();
    let mut out = Outcome {
        findings: Vec::new(),
        skipped: Vec::new(),
        suppressed: Vec::new(),
    };
    for (rule, outcome) in outcomes {
        let id = rule.meta().id;
        let drafts = match outcome {
            Ok(d) => d,
            Err(reason) => {
                out.skipped.push(SkippedRule::new(id, reason));
                continue;
            }
        };
        for draft in drafts {
            let finding = finish(rule, config, draft);
            let name = finding.object.display_name();
            if let Some((s, _)) = suppressions.iter().find(|(s, m)| {
                s.rule == id && (m.is_match(&name) || m.is_match(&finding.object.name))
            }) {
                out.suppressed.push(SuppressedFinding {
                    rule: id.to_owned(),
                    object: name,
                    reason: s.reason.clone(),
                });
                continue;
            }
            out.findings.push(finding);
        }
    }
    out
}

fn finish(rule: Rule, config: &RuleConfig, draft: Draft) -> Finding {
    let meta = rule.meta();
    let settings = config.rules.get(meta.id);
    let severity = settings
        .and_then(|s| s.severity_override)
        .or(draft.severity)
        .or(settings.map(|s| s.severity))
        .unwrap_or(crate::report::Severity::Warning);
    Finding {
        rule: meta.id.to_owned(),
        pack: meta.pack.to_owned(),
        severity,
        title: meta.title.to_owned(),
        object: draft.object,
        message: draft.message,
        evidence: draft.evidence,
        recommendation: draft.recommendation,
        fix: draft.fix,
        confidence: draft.confidence,
        confidence_reason: draft.confidence_reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MissingFact;

    #[test]
    fn skips_name_the_missing_host_facts_not_flags() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/snapshots/demo.json");
        let mut snap = Snapshot::load(&path).expect("demo snapshot");
        snap.host = crate::snapshot::HostFacts::default();
        let config = RuleConfig::shipped().expect("shipped packs");
        let report = audit(&snap, &config);
        for fact in [MissingFact::Ram, MissingFact::Cpus, MissingFact::Storage] {
            let skip = report
                .skipped
                .iter()
                .find(|s| s.missing_fact == Some(fact))
                .unwrap_or_else(|| panic!("no skip for {fact}: {:#?}", report.skipped));
            assert_eq!(skip.reason, fact.reason());
        }
        assert!(
            report.skipped.iter().all(|s| !s.reason.contains("--")),
            "{:#?}",
            report.skipped
        );
        assert!(report.to_json().contains("\"missing_fact\": \"ram\""));
    }
}
