//! The engine: runs the rules and turns their drafts into reports. It is the layer above
//! [`crate::rules`]: the rules see a snapshot, a plan or a workload and return
//! [`Draft`](crate::report::Draft)s; the engine picks the enabled rules from the
//! [`RuleConfig`](crate::RuleConfig), adds each finding's rule, pack, title and
//! severity, applies suppressions and orders the findings.
//!
//! - a snapshot: [`audit`] (`pgsage audit`), and [`tune_report`], the recommended
//!   configuration that agrees with the audit (re-exported at the crate root);
//! - a plan: [`plan`] (`pgsage plan`);
//! - a workload: [`workload`] (`pgsage workload`).

mod audit;
pub mod fix_cost;
pub mod plan;
mod platform_fix;
pub mod workload;

pub use audit::{audit, audit_and_tune, audit_from, tune_report, Source};
pub(crate) use audit::{run_rules, Outcome};

/// What the workload questions use beside the workload: the snapshot (if any), the
/// host's cores (flags and configuration first, then the snapshot's host facts) and the
/// `wal` pack's WAL rate over the snapshot's basis.
pub fn question_facts<'a>(
    snapshot: Option<&'a crate::Snapshot>,
    host: &crate::snapshot::HostFacts,
    odoo: Option<&crate::knowledge::odoo::OdooConfig>,
) -> crate::questions::Facts<'a> {
    let mut facts = crate::questions::Facts::new(snapshot, host);
    facts.replica_host = odoo.and_then(|o| o.db_replica_host.clone());
    facts.wal_bytes_per_s = snapshot
        .and_then(crate::rules::wal::wal_rate)
        .map(|(rate, source)| crate::snapshot::Fact::new(rate, source));
    facts
}

/// The workload questions' thresholds: the `workload` rules' parameters in `config` (a
/// rule turned off leaves its question unanswered).
pub fn question_thresholds(config: &crate::config::RuleConfig) -> crate::questions::Thresholds {
    fn of<T: serde::de::DeserializeOwned>(
        config: &crate::config::RuleConfig,
        id: &str,
    ) -> Result<T, String> {
        if !config.is_enabled(id) {
            return Err(format!("{id} is turned off"));
        }
        let settings = config
            .rules
            .get(id)
            .ok_or_else(|| format!("{id} is not in the rule packs"))?;
        crate::rules::params::parse(&settings.params).map_err(|e| format!("{id}: {e}"))
    }
    crate::questions::Thresholds {
        reporting: of(config, "WRK001"),
        cache: of(config, "WRK002"),
        overlaps: of(config, "WRK003"),
        capacity: of(config, "WRK004"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::rules::RULES;
    use crate::RuleConfig;

    /// The packs are embedded and the registry compiled in, so their agreement is checked
    /// here rather than each time a configuration is built.
    #[test]
    fn shipped_packs_match_the_registry() {
        let config = RuleConfig::shipped().expect("shipped packs are valid");
        for r in RULES.iter() {
            let meta = r.meta();
            let settings = config
                .rules
                .get(meta.id)
                .unwrap_or_else(|| panic!("rule `{}` is in no pack file", meta.id));
            assert_eq!(settings.pack, meta.pack, "rule `{}`'s pack", meta.id);
            let declared: BTreeSet<&str> = meta.params.iter().map(|p| p.name).collect();
            let given: BTreeSet<&str> = settings.params.keys().map(String::as_str).collect();
            assert_eq!(
                declared, given,
                "rule `{}` declares these parameters; its pack sets those",
                meta.id
            );
            (meta.check_params)(&settings.params)
                .unwrap_or_else(|e| panic!("rule `{}`'s parameters in its pack: {e}", meta.id));
        }
        for id in config.rules.keys() {
            assert!(
                crate::rules::rule(id).is_some(),
                "unknown rule `{id}` in a pack"
            );
        }
        for pack in &config.packs {
            assert!(
                RULES.iter().any(|r| r.meta().pack == pack.name),
                "pack {} has no rules",
                pack.name
            );
        }
    }

    /// The index advisor's findings name IDX009's pack and title without the registry.
    #[test]
    fn advice_findings_name_idx009_as_the_registry_does() {
        use crate::advise::render::findings::{PACK, RULE_ID, TITLE};
        let meta = crate::rules::rule(RULE_ID).expect("IDX009").meta();
        assert_eq!((meta.pack, meta.title), (PACK, TITLE));
    }
}
