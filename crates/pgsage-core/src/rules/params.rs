//! Rule parameters: the one mechanism every rule uses. A rule declares its parameters in
//! `declare_rule!` with a type, a unit and a doc line; the macro makes them a serde struct
//! (`Params`) that the rule reads with `ctx.params()`, and that the configuration checks
//! when a pack file or `pgsage.toml` is loaded (unknown keys and wrong types are errors
//! there, not skips at audit time). Values live in the pack files under `rules/`.
//!
//! Units: shares are percentages and their keys end in `_pct`; durations and sizes say
//! their unit in the key (`_ms`, `_seconds`, `_minutes`, `_hours`, `_days`, `_kb`, `_mb`,
//! `_bytes`); counts name what they count in [`ParamSpec::unit`].

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::config::ParamValue;

/// One tunable parameter of a rule.
#[derive(Debug)]
pub struct ParamSpec {
    /// Key in the pack file.
    pub name: &'static str,
    /// Its unit: `%`, `ms`, `s`, `MB`, `rows`, `connections`, `×` (a factor), ….
    pub unit: &'static str,
    /// What it means, one line.
    pub doc: &'static str,
}

/// Reads a rule's parameter values into its typed parameter struct.
pub fn parse<T: DeserializeOwned>(values: &BTreeMap<String, ParamValue>) -> Result<T, String> {
    let json = serde_json::to_value(values).map_err(|e| e.to_string())?;
    serde_json::from_value(json).map_err(|e| e.to_string())
}

/// Whether `values` fit the parameter struct `T` (a [`super::RuleMeta::check_params`]).
pub fn check<T: DeserializeOwned>(values: &BTreeMap<String, ParamValue>) -> Result<(), String> {
    parse::<T>(values).map(|_| ())
}
