//! The advisor's options. Thresholds come from rule IDX009's parameters in
//! `rules/indexing.toml` ([`AdvisorOptions::from_config`]); a front end's budget and
//! database (`--max-indexes`, `--max-size`, `--database`) override them
//! ([`AdvisorOptions::overridden`]), and [`AdvisorOptions::validate`] refuses a budget
//! that cannot hold an index.

use std::time::Duration;

use crate::config::ParamValue;
use crate::config::RuleConfig;
use crate::{Error, Result};

/// The rule whose parameters hold the advisor's thresholds.
const RULE: &str = "IDX009";

/// Options of an advisor run.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisorOptions {
    /// At most this many new indexes.
    pub max_indexes: usize,
    /// At most this many bytes of new indexes (None: no limit).
    pub max_size_bytes: Option<i64>,
    /// Only statements of this database (None: the snapshot's database).
    pub database: Option<String>,
    /// Per-statement timeout for EXPLAIN on a server.
    pub statement_timeout: Duration,
    /// Key columns per candidate index.
    pub max_key_columns: usize,
    /// INCLUDE columns per candidate (0: no covering indexes).
    pub max_include_columns: usize,
    /// Tables with fewer rows are left alone: a sequential scan of them is cheap.
    pub min_table_rows: f64,
    /// Largest estimated share of the table (in %) a candidate's predicate may return;
    /// ORDER BY … LIMIT candidates are exempt (the scan stops early).
    pub max_selectivity_pct: f64,
    /// Validated advice: the planner cost drop (in %) a statement needs to count as helped.
    pub min_cost_drop_pct: f64,
    /// Share of the workload's execution time (in %) the statements a candidate helps
    /// must take together.
    pub min_workload_share_pct: f64,
    /// A statement whose mean execution time is below this (ms) is already fast: it does
    /// not count as helped.
    pub min_mean_ms: f64,
    /// An existing index on some of a candidate's equality columns that already narrows a
    /// lookup to at most this many rows (estimated) makes the candidate noise: the few
    /// rows are filtered on the heap for next to nothing. Not a rule parameter (yet).
    pub served_max_rows: f64,
}

impl Default for AdvisorOptions {
    /// The shipped defaults of IDX009's parameters.
    fn default() -> Self {
        AdvisorOptions {
            max_indexes: 5,
            max_size_bytes: None,
            database: None,
            statement_timeout: Duration::from_millis(5000),
            max_key_columns: 3,
            max_include_columns: 3,
            min_table_rows: 10_000.0,
            max_selectivity_pct: 5.0,
            min_cost_drop_pct: 50.0,
            min_workload_share_pct: 1.0,
            min_mean_ms: 1.0,
            served_max_rows: 100.0,
        }
    }
}

impl AdvisorOptions {
    /// Options from IDX009's parameters.
    pub fn from_config(config: &RuleConfig) -> Result<AdvisorOptions> {
        let rule = config
            .rules
            .get(RULE)
            .ok_or_else(|| Error::config(None, format!("rule {RULE} is not in the packs")))?;
        let number = |name: &str| -> Result<f64> {
            match rule.params.get(name) {
                Some(ParamValue::Number(n)) if n.is_finite() && *n >= 0.0 => Ok(*n),
                Some(ParamValue::Number(n)) => Err(Error::config(
                    None,
                    format!("parameter `{name}` of {RULE} must be a number ≥ 0, not {n}"),
                )),
                Some(other) => Err(Error::config(
                    None,
                    format!(
                        "parameter `{name}` of {RULE} is a {}, expected a number",
                        other.type_name()
                    ),
                )),
                None => Err(Error::config(
                    None,
                    format!("parameter `{name}` of {RULE} is not set"),
                )),
            }
        };
        let count = |name: &str| -> Result<usize> { Ok(number(name)?.round() as usize) };
        Ok(AdvisorOptions {
            max_indexes: count("max_indexes")?,
            max_key_columns: count("max_key_columns")?.max(1),
            max_include_columns: count("max_include_columns")?,
            min_table_rows: number("min_table_rows")?,
            max_selectivity_pct: number("max_selectivity_pct")?,
            min_cost_drop_pct: number("min_cost_drop_pct")?,
            min_workload_share_pct: number("min_workload_share_pct")?,
            min_mean_ms: number("min_mean_ms")?,
            statement_timeout: Duration::from_millis(number("statement_timeout_ms")?.round() as u64),
            ..AdvisorOptions::default()
        })
    }
}

impl AdvisorOptions {
    /// These options with a front end's overrides: at most `max_indexes` indexes, at most
    /// `max_size` of them (a size: `2GiB`, `500MB`, bytes), statements of `database`
    /// only; then [`validate`](Self::validate)d. An unparsable size is an
    /// [`Error::InvalidValue`] for `max_size`.
    pub fn overridden(
        mut self,
        max_indexes: Option<usize>,
        max_size: Option<&str>,
        database: Option<String>,
    ) -> Result<AdvisorOptions> {
        if let Some(n) = max_indexes {
            self.max_indexes = n;
        }
        if let Some(size) = max_size {
            let bytes = crate::host::parse_size(size).map_err(|problem| Error::InvalidValue {
                what: "max_size".into(),
                problem,
            })?;
            self.max_size_bytes = Some(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
        if database.is_some() {
            self.database = database;
        }
        self.validate()?;
        Ok(self)
    }

    /// An [`Error::InvalidValue`] naming the field when the options cannot advise
    /// anything: `max_indexes` or `max_key_columns` of 0, a `max_size_bytes` below 1.
    /// The advisor's entry point (`pgsage::advise::request::run`) checks this, so the CLI
    /// and the Python package refuse the same options.
    pub fn validate(&self) -> Result<()> {
        let invalid = |what: &str, problem: &str| {
            Err(Error::InvalidValue {
                what: what.into(),
                problem: problem.into(),
            })
        };
        if self.max_indexes == 0 {
            return invalid("max_indexes", "must be at least 1");
        }
        if self.max_key_columns == 0 {
            return invalid("max_key_columns", "must be at least 1");
        }
        if self.max_size_bytes.is_some_and(|b| b < 1) {
            return invalid("max_size", "must be at least 1 byte");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_parameters_are_the_defaults() {
        let config = RuleConfig::shipped().expect("shipped packs");
        let opts = AdvisorOptions::from_config(&config).expect("IDX009 parameters");
        assert_eq!(opts, AdvisorOptions::default());
    }

    #[test]
    fn user_overrides_are_read() {
        let mut config = RuleConfig::shipped().expect("shipped packs");
        config
            .apply_toml(
                "[rules.IDX009.params]\nmax_indexes = 2\nmin_table_rows = 500\n",
                "test",
            )
            .expect("config");
        let opts = AdvisorOptions::from_config(&config).expect("IDX009 parameters");
        assert_eq!(opts.max_indexes, 2);
        assert_eq!(opts.min_table_rows, 500.0);
    }

    #[test]
    fn overrides_are_applied_and_checked() {
        let opts = AdvisorOptions::default()
            .overridden(Some(2), Some("1GiB"), Some("app".into()))
            .expect("valid");
        assert_eq!(
            (
                opts.max_indexes,
                opts.max_size_bytes,
                opts.database.as_deref()
            ),
            (2, Some(1 << 30), Some("app"))
        );
        for (max_indexes, max_size, what) in [
            (Some(0), None, "max_indexes"),
            (None, Some("lots"), "max_size"),
        ] {
            match AdvisorOptions::default().overridden(max_indexes, max_size, None) {
                Err(Error::InvalidValue { what: w, .. }) => assert_eq!(w, what),
                other => panic!("expected an invalid {what}, got {other:?}"),
            }
        }
        let none = AdvisorOptions {
            max_key_columns: 0,
            ..AdvisorOptions::default()
        };
        assert!(none.validate().is_err());
        AdvisorOptions::default()
            .validate()
            .expect("the defaults are valid");
    }
}
