//! [`Draft`]: a finding as a rule (or the index advisor) produces it, before the engine
//! names the rule, its pack and title and applies the configured severity.

use super::{Confidence, Evidence, Fix, ObjectRef, Severity};

/// A finding as a rule produces it; the engine adds rule id, pack, title and the
/// configured severity.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// The object.
    pub object: ObjectRef,
    /// What is wrong.
    pub message: String,
    /// The numbers used.
    pub evidence: Evidence,
    /// What to do.
    pub recommendation: String,
    /// The exact change.
    pub fix: Option<Fix>,
    /// A severity the rule chose (e.g. the critical level of a two-level threshold);
    /// `None` uses the configured default.
    pub severity: Option<Severity>,
    /// How sure the rule is.
    pub confidence: Confidence,
    /// Why confidence is low.
    pub confidence_reason: Option<String>,
}

impl Draft {
    /// A draft with high confidence and the default severity.
    pub fn new(object: ObjectRef, message: impl Into<String>) -> Self {
        Draft {
            object,
            message: message.into(),
            evidence: Evidence::new(),
            recommendation: String::new(),
            fix: None,
            severity: None,
            confidence: Confidence::High,
            confidence_reason: None,
        }
    }

    /// Adds a piece of evidence.
    pub fn evidence(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.evidence.insert(key.to_owned(), value.into());
        self
    }

    /// Sets the recommendation.
    pub fn recommend(mut self, text: impl Into<String>) -> Self {
        self.recommendation = text.into();
        self
    }

    /// Sets the fix.
    pub fn fix(mut self, sql: impl Into<String>, requires: &str, watch: &str) -> Self {
        self.fix = Some(Fix {
            sql: sql.into(),
            requires: Some(requires.to_owned()),
            watch: (!watch.is_empty()).then(|| watch.to_owned()),
            settings: Vec::new(),
            ..Default::default()
        });
        self
    }

    /// Sets a fix built by [`RuleContext::settings_fix`](crate::rules::RuleContext::settings_fix)
    /// (or any other [`Fix`]).
    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }

    /// Sets the severity explicitly.
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }

    /// Lowers confidence, with the reason.
    pub fn low_confidence(mut self, reason: impl Into<String>) -> Self {
        self.confidence = Confidence::Low;
        self.confidence_reason = Some(reason.into());
        self
    }

    /// A verdict drawn from too short a window of statistics: information only, low
    /// confidence with `reason` (the window used and the one needed), no fix (nothing is
    /// dropped or changed on that evidence), and a recommendation that starts with
    /// `remedy` (how to get the window) before the rule's own.
    pub fn unsure(mut self, reason: impl Into<String>, remedy: &str) -> Self {
        self.severity = Some(Severity::Info);
        self.fix = None;
        let mut remedy = remedy.to_owned();
        if let Some(first) = remedy.get(..1) {
            remedy.replace_range(..1, &first.to_uppercase());
        }
        self.recommendation = if self.recommendation.is_empty() {
            remedy
        } else {
            format!(
                "{remedy}; act only if the finding holds then: {}",
                self.recommendation
            )
        };
        self.low_confidence(reason)
    }
}
