//! [`RuleConfig`]: which rules run, with which severities and thresholds.
//!
//! Built from the shipped packs (`rules/*.toml`, embedded), then overridden by the user's
//! `pgsage.toml`. Unknown rule ids, packs or parameters are errors.

mod packs;
mod params;
mod user;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub use packs::{PackFile, PackInfo, PackRule, SHIPPED_PACKS};
pub use params::ParamValue;
pub use user::{Suppression, UserConfig};

use crate::host::parse_ram;
use crate::report::Severity;
use crate::snapshot::{Fact, HostFacts, StorageKind};
use crate::{Error, ParseValueError, Result};

/// The user configuration [`RuleConfig::discover`] reads when no path is given.
pub const DEFAULT_FILE: &str = "pgsage.toml";

/// Default minimum age of statistics for usage-based rules: one day.
pub(crate) use crate::knowledge::counters::DEFAULT_MIN_STATS_AGE_HOURS;

/// The effective settings of one rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSettings {
    /// Pack it belongs to.
    pub pack: String,
    /// Whether it runs.
    pub enabled: bool,
    /// Default severity of its findings.
    pub severity: Severity,
    /// Severity forced by the user for every finding.
    pub severity_override: Option<Severity>,
    /// Lowest server major version.
    pub min_server_version: Option<i32>,
    /// Parameter values.
    pub params: BTreeMap<String, ParamValue>,
}

/// Everything the engine needs to know besides the snapshot.
#[derive(Debug, Clone)]
pub struct RuleConfig {
    /// The packs, in name order.
    pub packs: Vec<PackInfo>,
    /// Settings by rule id.
    pub rules: BTreeMap<String, RuleSettings>,
    /// Packs turned off.
    pub disabled_packs: BTreeSet<String>,
    /// Accepted findings.
    pub suppressions: Vec<Suppression>,
    /// Usage-based rules need counters at least this old (seconds).
    pub min_stats_age_seconds: f64,
    /// Host facts from the configuration file.
    pub host: HostFacts,
    /// The workload profile the recommended configuration is sized for.
    pub profile: crate::tune::Profile,
    /// The `max_connections` to plan for, instead of deriving it from the snapshot.
    pub connections: Option<i64>,
    /// The application's configuration file (`--odoo-conf`), for the `erp` rules.
    pub odoo: Option<crate::knowledge::odoo::OdooConfig>,
}

impl RuleConfig {
    /// The shipped packs with their defaults.
    pub fn shipped() -> Result<RuleConfig> {
        RuleConfig::from_packs(SHIPPED_PACKS)
    }

    /// Builds a configuration from pack files `(name, text)`: each rule listed once, its
    /// settings as the pack gives them.
    ///
    /// The rule registry is a layer above: that the shipped packs list every rule, in its
    /// own pack, with exactly the parameters it declares, is checked by the engine's tests
    /// (the packs are embedded, so a mismatch cannot appear at run time).
    pub fn from_packs(files: &[(&str, &str)]) -> Result<RuleConfig> {
        let mut packs = Vec::new();
        let mut rules = BTreeMap::new();
        for (file, text) in files {
            let origin = Some(*file);
            let parsed: PackFile =
                toml::from_str(text).map_err(|e| Error::config(origin, e.to_string()))?;
            for (id, rule) in parsed.rules {
                let settings = RuleSettings {
                    pack: parsed.pack.name.clone(),
                    enabled: rule.enabled,
                    severity: rule.severity,
                    severity_override: None,
                    min_server_version: rule.min_server_version,
                    params: rule.params,
                };
                if rules.insert(id.to_ascii_uppercase(), settings).is_some() {
                    return Err(Error::config(origin, format!("rule `{id}` listed twice")));
                }
            }
            packs.push(parsed.pack);
        }
        packs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(RuleConfig {
            packs,
            rules,
            disabled_packs: BTreeSet::new(),
            suppressions: Vec::new(),
            min_stats_age_seconds: DEFAULT_MIN_STATS_AGE_HOURS * 3600.0,
            host: HostFacts::default(),
            profile: crate::tune::Profile::default(),
            connections: None,
            odoo: None,
        })
    }

    /// What the recommended configuration is sized for: the configured profile and
    /// connections, and `host` (the facts after flags, configuration and snapshot merged).
    ///
    /// The formulas the audit's rules and `tune` share take the rules' parameters from here:
    /// VAC005's for per-table autovacuum settings, CON002's for the pool size and
    /// `max_connections`.
    pub fn tune_options(&self, host: &HostFacts) -> crate::tune::TuneOptions {
        let defaults = crate::tune::TuneOptions::new(self.profile).large_tables;
        let vac005 = |name: &str, default: f64| self.number("VAC005", name, default);
        crate::tune::TuneOptions {
            profile: self.profile,
            host: host.clone(),
            connections: self.connections,
            large_tables: crate::knowledge::autovacuum::LargeTablePolicy {
                min_trigger_rows: vac005("min_trigger_rows", defaults.min_trigger_rows),
                target: crate::knowledge::autovacuum::ScaleFactorTarget {
                    dead_pct: vac005("target_dead_pct", defaults.target.dead_pct),
                    max_rows: vac005("max_target_rows", defaults.target.max_rows),
                    min_minutes: vac005("min_minutes_between_vacuums", defaults.target.min_minutes),
                },
                server_finding_min_tables: vac005(
                    "server_finding_min_tables",
                    defaults.server_finding_min_tables,
                ),
            },
            pooling: {
                let d = crate::tune::TuneOptions::new(self.profile).pooling;
                let con002 = |name: &str, default: f64| self.number("CON002", name, default);
                crate::knowledge::connections::PoolPolicy {
                    pool_size_per_cpu: con002("pool_size_per_cpu", d.pool_size_per_cpu),
                    cpu_multiplier: con002("cpu_multiplier", d.cpu_multiplier),
                    max_connections_floor: con002("max_connections_floor", d.max_connections_floor),
                }
            },
            min_stats_age_seconds: self.min_stats_age_seconds,
        }
    }

    /// A rule's numeric parameter, or `default` when the rule or the parameter is missing.
    fn number(&self, rule: &str, name: &str, default: f64) -> f64 {
        match self.rules.get(rule).and_then(|r| r.params.get(name)) {
            Some(ParamValue::Number(n)) => *n,
            _ => default,
        }
    }

    /// The configuration `--config` gives: the shipped packs overridden by `path`;
    /// without a path, by `./pgsage.toml` when that file exists (the CLI and the Python
    /// package look it up the same way).
    pub fn discover(path: Option<&Path>) -> Result<RuleConfig> {
        match path {
            Some(p) => RuleConfig::load(p),
            None if Path::new(DEFAULT_FILE).is_file() => RuleConfig::load(DEFAULT_FILE),
            None => RuleConfig::shipped(),
        }
    }

    /// The shipped packs overridden by a user configuration given as JSON with the shape
    /// of `pgsage.toml` (`{"rules": {"VAC001": {"params": {...}}}, "host": {...}, ...}`);
    /// `origin` names it in errors.
    pub fn from_json(json: &str, origin: &str) -> Result<RuleConfig> {
        let user: UserConfig =
            serde_json::from_str(json).map_err(|e| Error::config(Some(origin), e.to_string()))?;
        let mut config = RuleConfig::shipped()?;
        config.apply(user, origin)?;
        Ok(config)
    }

    /// The shipped packs overridden by a user configuration file.
    pub fn load(path: impl AsRef<Path>) -> Result<RuleConfig> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            origin: Some(path.display().to_string()),
            problem: format!("cannot read: {e}"),
        })?;
        let mut config = RuleConfig::shipped()?;
        config.apply_toml(&text, &path.display().to_string())?;
        Ok(config)
    }

    /// Reads an Odoo configuration file (`--odoo-conf`) for the `erp` rules: its pool
    /// and replica keys only (the file also holds passwords, which are never read).
    pub fn load_odoo_conf(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            origin: Some(shown.clone()),
            problem: format!("cannot read the Odoo configuration: {e}"),
        })?;
        let conf = crate::knowledge::odoo::OdooConfig::parse(&shown, &text).map_err(|e| {
            Error::Config {
                origin: Some(shown.clone()),
                problem: format!("line {}: {}", e.line, e.problem),
            }
        })?;
        self.odoo = Some(conf);
        Ok(())
    }

    fn apply_odoo(&mut self, o: &user::OdooSection, origin: Option<&str>) -> Result<()> {
        if let Some(path) = &o.conf {
            self.load_odoo_conf(path)?;
        }
        let mut conf = self
            .odoo
            .take()
            .unwrap_or_else(|| crate::knowledge::odoo::OdooConfig {
                path: format!("[odoo] of {}", origin.unwrap_or("the configuration")),
                ..crate::knowledge::odoo::OdooConfig::parse("", "[options]").unwrap_or_default()
            });
        if let Some(v) = o.workers {
            conf.workers = v;
        }
        if let Some(v) = o.max_cron_threads {
            conf.max_cron_threads = v;
        }
        if let Some(v) = o.db_maxconn {
            if v == 0 {
                return Err(Error::config(origin, "odoo.db_maxconn must be at least 1"));
            }
            conf.db_maxconn = v;
        }
        if let Some(v) = o.db_maxconn_gevent {
            conf.db_maxconn_gevent = Some(v);
        }
        if let Some(v) = &o.db_replica_host {
            conf.db_replica_host = Some(v.clone());
        }
        self.odoo = Some(conf);
        Ok(())
    }

    /// Applies a user configuration given as TOML text; `origin` names it in errors.
    pub fn apply_toml(&mut self, text: &str, origin: &str) -> Result<()> {
        let user: UserConfig =
            toml::from_str(text).map_err(|e| Error::config(Some(origin), e.to_string()))?;
        self.apply(user, origin)
    }

    /// Applies a parsed user configuration.
    pub fn apply(&mut self, user: UserConfig, origin: &str) -> Result<()> {
        let origin = Some(origin);
        if let Some(hours) = user.audit.min_stats_age_hours {
            if hours.is_nan() || hours < 0.0 {
                return Err(Error::config(
                    origin,
                    "audit.min_stats_age_hours must be >= 0",
                ));
            }
            self.min_stats_age_seconds = hours * 3600.0;
        }
        self.apply_host(&user.host, origin)?;
        if let Some(profile) = &user.tune.profile {
            self.profile = profile.parse().map_err(|p: ParseValueError| {
                Error::config(origin, format!("tune.profile: {p}"))
            })?;
        }
        if let Some(n) = user.tune.connections {
            if n < 1 {
                return Err(Error::config(origin, "tune.connections must be at least 1"));
            }
            self.connections = Some(n);
        }
        if let Some(o) = &user.odoo {
            self.apply_odoo(o, origin)?;
        }
        for pack in user.packs.disabled {
            self.disable_pack(&pack)
                .map_err(|p| Error::config(origin, p))?;
        }
        for (id, o) in user.rules {
            let id = self
                .canonical_id(&id)
                .map_err(|p| Error::config(origin, p))?;
            if let Some(enabled) = o.enabled {
                self.set_enabled(&id, enabled)
                    .map_err(|p| Error::config(origin, p))?;
            }
            if let Some(sev) = o.severity {
                if let Some(r) = self.rules.get_mut(&id) {
                    r.severity_override = Some(sev);
                }
            }
            for (name, value) in o.params {
                self.set_param(&id, &name, value)
                    .map_err(|p| Error::config(origin, p))?;
            }
        }
        for s in user.suppress {
            let id = self
                .canonical_id(&s.rule)
                .map_err(|p| Error::config(origin, p))?;
            globset::Glob::new(&s.object).map_err(|e| {
                Error::config(origin, format!("suppression pattern `{}`: {e}", s.object))
            })?;
            if s.reason.trim().is_empty() {
                return Err(Error::config(
                    origin,
                    format!("suppression of `{id}` for `{}` needs a reason", s.object),
                ));
            }
            self.suppressions.push(Suppression { rule: id, ..s });
        }
        Ok(())
    }

    fn apply_host(&mut self, host: &user::HostSection, origin: Option<&str>) -> Result<()> {
        let source = "config".to_owned();
        let host_tier = host.tier.as_deref();
        if let Some(ram) = &host.ram {
            let value =
                parse_ram(ram).map_err(|p| Error::config(origin, format!("host.ram: {p}")))?;
            self.host.ram_bytes = Some(Fact {
                value,
                source: source.clone(),
            });
        }
        if let Some(cpus) = host.cpus {
            if cpus.is_nan() || cpus <= 0.0 {
                return Err(Error::config(origin, "host.cpus must be > 0"));
            }
            self.host.cpus = Some(Fact {
                value: cpus,
                source: source.clone(),
            });
        }
        if let Some(storage) = &host.storage {
            let value: StorageKind = storage.parse().map_err(|p: ParseValueError| {
                Error::config(origin, format!("host.storage: {p}"))
            })?;
            self.host.storage = Some(Fact {
                value,
                source: source.clone(),
            });
        }
        if let Some(platform) = &host.platform {
            let value: crate::snapshot::Platform =
                platform.parse().map_err(|p: ParseValueError| {
                    Error::config(origin, format!("host.platform: {p}"))
                })?;
            self.host.platform = Some(Fact { value, source });
        }
        // The tier fills what the section does not say (its own keys win), and must be
        // one of the section's platform when it names one.
        let host = std::mem::take(&mut self.host);
        self.host = crate::knowledge::platform_tiers::with_tier(host, host_tier, "config")
            .map_err(|e| Error::config(origin, format!("host.tier: {}", Self::problem_of(e))))?;
        Ok(())
    }

    /// What is wrong with a value, without the `invalid value for …` the configuration's
    /// own key replaces.
    fn problem_of(e: Error) -> String {
        match e {
            Error::InvalidValue { problem, .. } => problem,
            other => other.to_string(),
        }
    }

    fn canonical_id(&self, id: &str) -> std::result::Result<String, String> {
        let upper = id.to_ascii_uppercase();
        if self.rules.contains_key(&upper) {
            Ok(upper)
        } else {
            Err(format!("unknown rule `{id}`"))
        }
    }

    /// Turns a pack off.
    pub fn disable_pack(&mut self, pack: &str) -> std::result::Result<(), String> {
        self.check_pack(pack)?;
        self.disabled_packs.insert(pack.to_owned());
        Ok(())
    }

    /// An [`Error::InvalidValue`] for `packs` naming the known packs when one of `packs`
    /// is not among them (`pgsage audit --pack`).
    pub fn check_packs(&self, packs: &[String]) -> Result<()> {
        for p in packs {
            self.check_pack(p).map_err(|problem| Error::InvalidValue {
                what: "packs".into(),
                problem,
            })?;
        }
        Ok(())
    }

    /// Keeps only the named packs.
    pub fn only_packs(&mut self, packs: &[String]) -> std::result::Result<(), String> {
        for p in packs {
            self.check_pack(p)?;
        }
        for info in &self.packs {
            if !packs.contains(&info.name) {
                self.disabled_packs.insert(info.name.clone());
            }
        }
        Ok(())
    }

    fn check_pack(&self, pack: &str) -> std::result::Result<(), String> {
        if self.packs.iter().any(|p| p.name == pack) {
            Ok(())
        } else {
            let known: Vec<&str> = self.packs.iter().map(|p| p.name.as_str()).collect();
            Err(format!(
                "unknown pack `{pack}` (known: {})",
                known.join(", ")
            ))
        }
    }

    /// Turns a rule on or off.
    pub fn set_enabled(&mut self, id: &str, enabled: bool) -> std::result::Result<(), String> {
        let id = self.canonical_id(id)?;
        if let Some(r) = self.rules.get_mut(&id) {
            r.enabled = enabled;
        }
        Ok(())
    }

    /// Sets a parameter; it must exist and keep its type (an integer may set a number).
    pub fn set_param(
        &mut self,
        id: &str,
        name: &str,
        value: ParamValue,
    ) -> std::result::Result<(), String> {
        let id = self.canonical_id(id)?;
        let Some(rule) = self.rules.get_mut(&id) else {
            return Err(format!("unknown rule `{id}`"));
        };
        let Some(current) = rule.params.get_mut(name) else {
            let known: Vec<&str> = rule.params.keys().map(String::as_str).collect();
            return Err(format!(
                "rule `{id}` has no parameter `{name}` (known: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ));
        };
        if std::mem::discriminant(current) != std::mem::discriminant(&value) {
            return Err(format!(
                "parameter `{name}` of `{id}` is a {}, not a {}",
                current.type_name(),
                value.type_name()
            ));
        }
        *current = value;
        Ok(())
    }

    /// Whether a rule runs (rule and pack enabled).
    pub fn is_enabled(&self, id: &str) -> bool {
        self.rules
            .get(id)
            .is_some_and(|r| r.enabled && !self.disabled_packs.contains(&r.pack))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    /// `TuneOptions::new` (tune on its own) and the shipped packs give `tune` the same
    /// parameters, and a user's override of a rule parameter reaches `tune`.
    fn tune_options_take_the_rules_parameters() {
        let mut config = RuleConfig::shipped().expect("valid");
        let from_packs = config.tune_options(&HostFacts::default());
        let alone = crate::tune::TuneOptions::new(config.profile);
        assert_eq!(from_packs.large_tables, alone.large_tables);
        assert_eq!(from_packs.pooling, alone.pooling);
        assert_eq!(
            from_packs.min_stats_age_seconds,
            alone.min_stats_age_seconds
        );
        config
            .set_param("VAC005", "max_target_rows", ParamValue::Number(100_000.0))
            .expect("param");
        assert_eq!(
            config
                .tune_options(&HostFacts::default())
                .large_tables
                .target
                .max_rows,
            100_000.0
        );
    }

    #[test]
    fn the_platform_is_named_in_the_host_section_and_checked() {
        let mut config = RuleConfig::shipped().expect("valid");
        config
            .apply_toml("[host]\nplatform = \"gcp-cloud-sql\"\n", "test.toml")
            .expect("valid platform");
        let p = config.host.platform.as_ref().expect("platform");
        assert_eq!(
            (p.value, p.source.as_str()),
            (crate::snapshot::Platform::GcpCloudSql, "config")
        );
        let err = RuleConfig::shipped()
            .expect("valid")
            .apply_toml("[host]\nplatform = \"heroku\"\n", "test.toml")
            .expect_err("unknown platform");
        let text = err.to_string();
        assert!(
            text.contains("host.platform") && text.contains("aws-rds"),
            "{text}"
        );
    }

    /// `[host] tier` gives RAM, CPUs and storage with the source `tier <name>`, below the
    /// section's own keys; an unknown tier, or one of another platform than the section
    /// names, is an error naming the key.
    #[test]
    fn the_tier_in_the_host_section_gives_the_facts_its_keys_leave_out() {
        let mut config = RuleConfig::shipped().expect("valid");
        config
            .apply_toml(
                "[host]\ntier = \"Standard_E4ds_v5\"\ncpus = 3\n",
                "test.toml",
            )
            .expect("known tier");
        let h = &config.host;
        let ram = h.ram_bytes.as_ref().expect("ram from the tier");
        assert_eq!(
            (ram.value, ram.source.as_str()),
            (32 << 30, "tier Standard_E4ds_v5")
        );
        let cpus = h.cpus.as_ref().expect("cpus");
        assert_eq!((cpus.value, cpus.source.as_str()), (3.0, "config"));
        assert_eq!(h.storage.as_ref().map(|s| s.value), Some(StorageKind::San));
        let tier = h.tier.as_ref().expect("tier");
        assert_eq!(
            (tier.value.as_str(), tier.source.as_str()),
            ("Standard_E4ds_v5", "config")
        );

        for (toml, says) in [
            ("[host]\ntier = \"Standard_E4ds_v9\"\n", "unknown tier"),
            (
                "[host]\ntier = \"db.r6g.large\"\nplatform = \"azure-flexible-server\"\n",
                "Amazon RDS",
            ),
        ] {
            let err = RuleConfig::shipped()
                .expect("valid")
                .apply_toml(toml, "test.toml")
                .expect_err(toml)
                .to_string();
            assert!(
                err.contains("test.toml")
                    && err.contains("host.tier: ")
                    && !err.contains("invalid value for")
                    && err.contains(says),
                "{err}"
            );
        }
    }

    #[test]
    fn user_overrides_apply() {
        let mut config = RuleConfig::shipped().expect("valid");
        config
            .apply_toml(
                r#"
                [audit]
                min_stats_age_hours = 2
                [host]
                ram = "24GiB"
                cpus = 2
                storage = "ssd"
                [packs]
                disabled = ["memory"]
                [rules.vac001]
                severity = "critical"
                [rules.VAC001.params]
                min_dead_tuples = 50
                [[suppress]]
                rule = "IDX001"
                object = "public.audit_*"
                reason = "kept for the auditors"
                "#,
                "test.toml",
            )
            .expect("valid config");
        assert_eq!(config.min_stats_age_seconds, 7200.0);
        assert_eq!(
            config.host.ram_bytes.as_ref().map(|f| f.value),
            Some(24 << 30)
        );
        assert!(!config.is_enabled("MEM001"));
        assert_eq!(
            config.rules["VAC001"].severity_override,
            Some(Severity::Critical)
        );
        assert_eq!(
            config.rules["VAC001"].params["min_dead_tuples"],
            ParamValue::Number(50.0)
        );
        assert_eq!(config.suppressions.len(), 1);
    }

    #[test]
    fn unknown_ids_keys_and_types_are_errors() {
        for (text, expected) in [
            ("[rules.XYZ999]\nenabled = false", "unknown rule `XYZ999`"),
            ("[rules.VAC001.params]\nnope = 1", "has no parameter `nope`"),
            (
                "[rules.VAC001.params]\nmin_dead_tuples = \"many\"",
                "is a number, not a string",
            ),
            ("[packs]\ndisabled = [\"nopack\"]", "unknown pack `nopack`"),
            ("[rules.VAC001]\nthreshold = 1", "unknown field `threshold`"),
            ("bogus = 1", "unknown field `bogus`"),
            ("[host]\nram = \"lots\"", "host.ram"),
            ("[host]\nram = \"16\"", "16GiB"),
            ("[host]\nram = \"64MB\"", "16GiB"),
            (
                "[[suppress]]\nrule = \"VAC001\"\nobject = \"x\"\nreason = \"\"",
                "needs a reason",
            ),
            ("[rules.VAC001", "TOML parse error"),
        ] {
            let mut config = RuleConfig::shipped().expect("valid");
            let err = config
                .apply_toml(text, "user.toml")
                .expect_err(text)
                .to_string();
            assert!(err.contains(expected), "{text:?} gave {err:?}");
            assert!(err.contains("user.toml"), "{err}");
        }
    }

    #[test]
    fn json_config_overrides_like_toml() {
        let config = RuleConfig::from_json(
            r#"{"rules": {"VAC001": {"severity": "critical", "params": {"min_dead_tuples": 7}}},
                "packs": {"disabled": ["memory"]}}"#,
            "<dict>",
        )
        .expect("valid");
        assert_eq!(
            config.rules["VAC001"].severity_override,
            Some(Severity::Critical)
        );
        assert!(!config.is_enabled("MEM001"));
        let err = RuleConfig::from_json(r#"{"rules": {"NOPE1": {}}}"#, "<dict>")
            .expect_err("unknown rule")
            .to_string();
        assert!(
            err.contains("unknown rule `NOPE1`") && err.contains("<dict>"),
            "{err}"
        );
    }

    #[test]
    fn unknown_packs_are_invalid_values() {
        let config = RuleConfig::shipped().expect("valid");
        config
            .check_packs(&["vacuum".to_owned(), "memory".to_owned()])
            .expect("known packs");
        match config.check_packs(&["nopack".to_owned()]) {
            Err(Error::InvalidValue { what, problem }) => {
                assert_eq!(what, "packs");
                assert!(
                    problem.starts_with("unknown pack `nopack` (known: "),
                    "{problem}"
                );
            }
            other => panic!("expected an invalid value, got {other:?}"),
        }
    }
}
