//! Fixture tests for rules. The fixtures are snapshots captured from real servers by the
//! live scenarios (`scripts/capture-fixtures.sh`), never written by hand: a rule's test
//! finds the scenario cases that expect it to fire (or to stay quiet) and audits their
//! fixtures.

use pgsage_testkit::scenario::{fixture_path, Case, Scenario};

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use crate::report::{Finding, Report};
use crate::{audit, RuleConfig, Snapshot};

/// Every scenario file, parsed once per test binary.
static SCENARIOS: LazyLock<Vec<Scenario>> =
    LazyLock::new(|| Scenario::all().expect("scenario files"));

/// Audit reports of the captured fixtures, each computed once per test binary (many rule
/// tests look at the same case).
static REPORTS: LazyLock<Mutex<ReportCache>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Reports by (scenario, case).
type ReportCache = HashMap<(String, String), Arc<Report>>;

/// The audit of a case's fixture with its scenario's configuration.
fn report(scenario: &Scenario, case: &Case) -> Arc<Report> {
    let key = (scenario.name.clone(), case.name.clone());
    if let Some(r) = REPORTS.lock().expect("report cache").get(&key) {
        return Arc::clone(r);
    }
    let path = fixture_path(&scenario.name, &case.name);
    let snapshot = Snapshot::load(&path)
        .unwrap_or_else(|e| panic!("{e}\n(capture the fixtures with scripts/capture-fixtures.sh)"));
    let mut config = RuleConfig::shipped().expect("shipped packs are valid");
    config
        .apply_toml(&scenario.config, &format!("scenario {}", scenario.name))
        .expect("scenario config is valid");
    let report = Arc::new(audit(&snapshot, &config));
    REPORTS
        .lock()
        .expect("report cache")
        .insert(key, Arc::clone(&report));
    report
}

/// A rule's findings on a case's fixture, or `Err(reason)` when the rule was skipped.
fn run_fixture(scenario: &Scenario, case: &Case, rule: &str) -> Result<Vec<Finding>, String> {
    let report = report(scenario, case);
    if let Some(skip) = report.skipped.iter().find(|s| s.rule == rule) {
        return Err(skip.reason.clone());
    }
    Ok(report
        .findings
        .iter()
        .filter(|f| f.rule == rule)
        .cloned()
        .collect())
}

/// A rule's findings on one captured case, audited with its scenario's configuration.
pub(crate) fn case_findings(scenario: &str, case: &str, rule: &str) -> Vec<Finding> {
    let s = scenarios()
        .iter()
        .find(|s| s.name == scenario)
        .unwrap_or_else(|| panic!("no scenario {scenario}"));
    let c = s
        .cases
        .iter()
        .find(|c| c.name == case)
        .unwrap_or_else(|| panic!("no case {scenario}/{case}"));
    run_fixture(s, c, rule)
        .unwrap_or_else(|reason| panic!("{rule} was skipped on {scenario}/{case}: {reason}"))
}

fn scenarios() -> &'static [Scenario] {
    &SCENARIOS
}

/// The rule flags `object` (`schema.name` or a bare name) in every captured case that
/// expects it to. Returns those findings.
pub(crate) fn assert_fires(rule: &str, object: &str) -> Vec<Finding> {
    let mut all = Vec::new();
    for s in scenarios() {
        for case in s
            .cases_expecting(rule, object)
            .filter(|c| Scenario::has_fixture(c))
        {
            let findings = run_fixture(s, case, rule).unwrap_or_else(|reason| {
                panic!("{rule} was skipped on {}/{}: {reason}", s.name, case.name)
            });
            assert!(
                findings.iter().any(|f| f.object.display_name() == object),
                "{rule} did not flag `{object}` in {}/{}; findings: {findings:#?}",
                s.name,
                case.name
            );
            for f in &findings {
                assert!(
                    !f.message.is_empty() && !f.recommendation.is_empty(),
                    "{f:#?}"
                );
                assert!(!f.evidence.is_empty(), "{rule} gave no evidence: {f:#?}");
            }
            all.extend(findings);
        }
    }
    assert!(
        !all.is_empty(),
        "no scenario case expects {rule} to flag `{object}`"
    );
    all
}

/// The rule ran and flagged nothing in every captured case where it must stay quiet
/// (a skip is not quiet); there must be at least one such case.
pub(crate) fn assert_quiet(rule: &str) {
    let mut checked = 0;
    for s in scenarios() {
        for case in s.quiet_cases_for(rule).filter(|c| Scenario::has_fixture(c)) {
            match run_fixture(s, case, rule) {
                Ok(findings) => assert!(
                    findings.is_empty(),
                    "{rule} is noisy on {}/{}: {findings:#?}",
                    s.name,
                    case.name
                ),
                Err(reason) => panic!("{rule} was skipped on {}/{}: {reason}", s.name, case.name),
            }
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "no scenario case checks that {rule} stays quiet"
    );
}
