//! What a rule sees ([`RuleContext`]) and what it returns ([`Draft`], [`Skip`]).

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use crate::config::ParamValue;
use crate::host::MissingFact;
pub use crate::report::Draft;
use crate::report::{Fix, SettingChange};
use crate::snapshot::{HostFacts, Snapshot};
use crate::tune::TuneReport;
use crate::workload::Workload;

/// Why a rule did not run: a precondition is missing. Shown in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(pub String);

impl Skip {
    /// A skip with a reason.
    pub fn because(reason: impl Into<String>) -> Self {
        Skip(reason.into())
    }

    /// A skip for a missing fact: its reason is the fact's ([`MissingFact::reason`]), so
    /// the report's [`crate::report::SkippedRule::missing_fact`] names it.
    pub fn missing(fact: MissingFact) -> Self {
        Skip(fact.reason().to_owned())
    }
}

pub use crate::knowledge::counters::Basis;
use crate::knowledge::counters::{StatsWindow, Verdict};

/// Everything a rule may look at. Rules never touch the network.
#[derive(Debug)]
pub struct RuleContext<'a> {
    /// The snapshot.
    pub snapshot: &'a Snapshot,
    /// Host facts after merging flags, config and the snapshot.
    pub host: &'a HostFacts,
    /// This rule's parameters.
    pub params: &'a BTreeMap<String, ParamValue>,
    /// Counters younger than this are too fresh to judge usage-based rules.
    pub min_stats_age_seconds: f64,
    /// The whole audit configuration, for a rule that defers to another one (IDX006
    /// leaves to IDX009 the tables IDX009 names an index for, with IDX009's parameters).
    pub config: &'a crate::RuleConfig,
    /// Derived views shared by every rule of the audit.
    pub views: &'a Views,
}

/// Views of the snapshot that several rules judge, built at most once per audit (on
/// first use, by whichever rule needs it first) and shared by all rules.
#[derive(Debug, Default)]
pub struct Views {
    workload: OnceLock<Result<Workload, String>>,
    tuning: OnceLock<TuneReport>,
    /// IDX009's unvalidated index advice, which IDX005 and IDX006 defer to.
    pub(crate) index_advice: OnceLock<Result<crate::advise::IndexAdvice, Skip>>,
    /// Which indexes the audit drops (IDX001, IDX002, IDX003 and IDX007 ask it).
    pub(crate) index_drops: OnceLock<super::drop_plan::DropPlan>,
}

/// What the recommended configuration (`pgsage tune`'s, computed once per audit) says of
/// a setting: the value every finding that changes it must use.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingTarget {
    /// Change it to this value (as `ALTER SYSTEM` takes it).
    Change(String),
    /// The current value is right: a finding must not propose another one.
    Keep,
    /// The recommended configuration does not size this setting (or lacks the host facts
    /// to): the rule's own value stands, and `pgsage tune` takes it from the finding.
    Unsized,
}

impl<'a> RuleContext<'a> {
    /// This rule's typed parameters (its `Params`, declared in `declare_rule!`).
    pub fn params<T: serde::de::DeserializeOwned>(&self) -> Result<T, Skip> {
        params_for_rule(self.params)
    }

    /// The snapshot's pg_stat_statements workload (deltas over the sampled window when
    /// there is one), built once per audit, or why there is none.
    pub fn workload(&self) -> Result<&'a Workload, Skip> {
        self.views
            .workload
            .get_or_init(|| crate::workload::from_snapshot(self.snapshot).map_err(|e| e.0))
            .as_ref()
            .map_err(|reason| Skip(reason.clone()))
    }

    /// The recommended configuration for this snapshot, host and the configured profile:
    /// [`crate::tune::recommend`], computed once per audit.
    pub fn tuning(&self) -> &'a TuneReport {
        self.views.tuning.get_or_init(|| {
            // The configuration's facts (flags included); `recommend` adds the snapshot's
            // own, labelled as such.
            crate::tune::recommend(self.snapshot, &self.config.tune_options(&self.config.host))
        })
    }

    /// What the recommended configuration says of `setting`.
    pub fn target(&self, setting: &str) -> SettingTarget {
        match self.tuning().settings.iter().find(|a| a.name == setting) {
            Some(a) if a.change => SettingTarget::Change(a.recommended.clone()),
            Some(_) => SettingTarget::Keep,
            None => SettingTarget::Unsized,
        }
    }

    /// The value a finding sets `setting` to: the recommended configuration's when it
    /// sizes the setting, else the rule's `own`. `None` when the recommended configuration
    /// keeps the current value: the finding must then not propose another one.
    pub fn value_for(&self, setting: &str, own: impl FnOnce() -> String) -> Option<String> {
        match self.target(setting) {
            SettingTarget::Change(v) => Some(v),
            SettingTarget::Keep => None,
            SettingTarget::Unsized => Some(own()),
        }
    }

    /// The recommended configuration's new value for a setting it sizes, `None` when it
    /// keeps the current value or does not size the setting.
    pub fn sized_value(&self, setting: &str) -> Option<String> {
        match self.target(setting) {
            SettingTarget::Change(v) => Some(v),
            SettingTarget::Keep | SettingTarget::Unsized => None,
        }
    }

    /// The recommended configuration's advice on a setting (its value, why, evidence).
    pub fn advice(&self, setting: &str) -> Option<&'a crate::tune::Advice> {
        self.tuning().settings.iter().find(|a| a.name == setting)
    }

    /// The recommended configuration's value of a memory setting in bytes, whether it
    /// changes it or keeps it; `None` when it does not size the setting.
    pub fn recommended_bytes(&self, setting: &str) -> Option<f64> {
        let advice = self.tuning().settings.iter().find(|a| a.name == setting)?;
        crate::host::parse_size(&advice.recommended)
            .ok()
            .map(|b| b as f64)
    }

    /// A fix that sets server settings: `before` (comments, other statements), one
    /// `ALTER SYSTEM` per setting, then the reload or the restart it needs. `requires`
    /// is `restart` when any of the settings needs one, else `reload`.
    pub fn settings_fix(&self, changes: &[(&str, String)], before: &str, watch: &str) -> Fix {
        let settings: Vec<SettingChange> = changes
            .iter()
            .map(|(name, value)| SettingChange {
                name: (*name).to_owned(),
                value: value.clone(),
                restart: self.snapshot.setting(name).map_or_else(
                    || crate::tune::needs_restart_without_settings(name),
                    |s| s.needs_restart(),
                ),
            })
            .collect();
        let restart = settings.iter().any(|s| s.restart);
        let mut sql = String::new();
        if !before.is_empty() {
            sql.push_str(before.trim_end());
            sql.push('\n');
        }
        for s in &settings {
            sql.push_str(&crate::sql::alter_system(&s.name, &s.value));
            sql.push('\n');
        }
        sql.push_str(if restart {
            "-- then restart PostgreSQL"
        } else {
            "SELECT pg_reload_conf();"
        });
        Fix {
            sql,
            requires: Some(if restart { "restart" } else { "reload" }.to_owned()),
            watch: (!watch.is_empty()).then(|| watch.to_owned()),
            settings,
            ..Default::default()
        }
    }

    /// A setting's raw value, or a skip naming it.
    pub fn setting(&self, name: &str) -> Result<&'a crate::snapshot::Setting, Skip> {
        self.snapshot
            .setting(name)
            .ok_or_else(|| Skip(format!("setting `{name}` not in the snapshot")))
    }

    /// Host RAM in bytes, or a skip naming it missing.
    pub fn ram_bytes(&self) -> Result<u64, Skip> {
        self.host
            .ram_bytes
            .as_ref()
            .map(|f| f.value)
            .ok_or_else(|| Skip::missing(MissingFact::Ram))
    }

    /// Host CPUs, or a skip naming them missing.
    pub fn cpus(&self) -> Result<f64, Skip> {
        self.host
            .cpus
            .as_ref()
            .map(|f| f.value)
            .ok_or_else(|| Skip::missing(MissingFact::Cpus))
    }

    /// The counters to use for rates: the sampled window when there is one, else totals
    /// since the database's statistics reset (or server start, whichever is later).
    pub fn basis(&self) -> Basis {
        Basis::of(self.snapshot)
    }

    /// The statistics window behind usage verdicts and the minimum each kind of verdict
    /// needs ([`StatsWindow`]): a rule asks it whether its verdict is sure
    /// (`ctx.stats_window().unsure(Verdict::Rate)`), and, for counters with their own
    /// reset, judges over them with [`StatsWindow::over`].
    pub fn stats_window(&self) -> StatsWindow {
        StatsWindow::of(self.snapshot, self.min_stats_age_seconds)
    }

    /// When the window is too short for a rate or a share
    /// ([`StatsWindow::unsure`] with [`Verdict::Rate`]): the reason to lower confidence.
    pub fn stats_too_young(&self) -> Option<String> {
        self.stats_window().unsure(Verdict::Rate).map(|u| u.reason)
    }
}

/// [`super::params::parse`] for a rule at work: a value that does not fit skips the rule
/// with the reason (the shipped packs are checked by a test, a user's values by their
/// type when the configuration loads).
pub(crate) fn params_for_rule<T: serde::de::DeserializeOwned>(
    values: &BTreeMap<String, ParamValue>,
) -> Result<T, Skip> {
    super::params::parse(values).map_err(|e| Skip(format!("invalid parameters: {e}")))
}
