//! Fixture tests for rules: each rule has a `fires` and a `quiet` snapshot captured from a
//! real server by the scenario tests (`scripts/capture-fixtures.sh`), never hand-written.

use pgsage_testkit::scenario::{fixture_path, Scenario};

use crate::report::Finding;
use crate::{audit, RuleConfig, Snapshot};

/// Audits a rule's fixture with the scenario's configuration.
/// Returns the rule's findings, or `Err(reason)` when the rule was skipped.
pub(crate) fn run_fixture(rule: &str, case: &str) -> Result<Vec<Finding>, String> {
    let scenario = Scenario::load(rule).unwrap_or_else(|e| panic!("scenario for {rule}: {e}"));
    let path = fixture_path(rule, case);
    let snapshot = Snapshot::load(&path)
        .unwrap_or_else(|e| panic!("{e}\n(capture the fixtures with scripts/capture-fixtures.sh)"));
    let mut config = RuleConfig::shipped().expect("shipped packs are valid");
    config
        .apply_toml(&scenario.config, &format!("scenario {rule}"))
        .expect("scenario config is valid");
    let report = audit(&snapshot, &config);
    if let Some(skip) = report.skipped.iter().find(|s| s.rule == rule) {
        return Err(skip.reason.clone());
    }
    Ok(report
        .findings
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect())
}

/// The rule flags `object` (a `schema.name` or bare name) in its `fires` fixture.
pub(crate) fn assert_fires(rule: &str, object: &str) -> Vec<Finding> {
    let findings = run_fixture(rule, "fires")
        .unwrap_or_else(|reason| panic!("{rule} was skipped on its fires fixture: {reason}"));
    assert!(
        findings
            .iter()
            .any(|f| f.object.display_name() == object || f.object.name == object),
        "{rule} did not flag `{object}`; findings: {findings:#?}"
    );
    for f in &findings {
        assert!(
            !f.message.is_empty() && !f.recommendation.is_empty(),
            "{f:#?}"
        );
        assert!(!f.evidence.is_empty(), "{rule} gave no evidence: {f:#?}");
    }
    findings
}

/// The rule ran on its `quiet` fixture and flagged nothing (a skip is not quiet).
pub(crate) fn assert_quiet(rule: &str) {
    match run_fixture(rule, "quiet") {
        Ok(findings) => assert!(findings.is_empty(), "{rule} is noisy: {findings:#?}"),
        Err(reason) => panic!("{rule} was skipped on its quiet fixture: {reason}"),
    }
}
