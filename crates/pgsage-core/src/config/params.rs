//! [`ParamValue`]: the value of a rule parameter, as the pack files and `pgsage.toml` give it.

use serde::{Deserialize, Serialize};

/// A parameter's value from a pack file or the user's config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A flag.
    Bool(bool),
    /// A number (integers are read as numbers too).
    Number(f64),
    /// A string.
    Text(String),
    /// A list of strings (e.g. schemas to ignore).
    List(Vec<String>),
}

impl ParamValue {
    /// The name of its type, for errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            ParamValue::Bool(_) => "boolean",
            ParamValue::Number(_) => "number",
            ParamValue::Text(_) => "string",
            ParamValue::List(_) => "list of strings",
        }
    }
}
