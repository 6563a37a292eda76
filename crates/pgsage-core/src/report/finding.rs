//! A [`Finding`]: what is wrong with which object, the evidence, and the fix.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::sql::impact::{LockMode, Phase};

/// How bad a finding is. Ordered: `Info < Warning < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Should be fixed.
    Warning,
    /// Fix now: an outage or data loss is near.
    Critical,
}

impl Severity {
    /// `info`, `warning`, `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = crate::ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "warning" | "warn" => Ok(Severity::Warning),
            "critical" | "crit" => Ok(Severity::Critical),
            other => Err(crate::ParseValueError::new(
                "severity",
                other,
                "info, warning or critical",
            )),
        }
    }
}

/// How sure the rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// The preconditions held: statistics old enough, facts known.
    High,
    /// A precondition was weak; `confidence_reason` says which.
    Low,
}

/// The kind of object a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    /// The whole server.
    Server,
    /// A database.
    Database,
    /// A configuration parameter.
    Setting,
    /// A table.
    Table,
    /// An index.
    Index,
    /// A column.
    Column,
    /// A sequence.
    Sequence,
    /// A constraint.
    Constraint,
    /// A backend session.
    Session,
    /// A query (pg_stat_statements entry or fingerprint).
    Query,
    /// A role.
    Role,
}

/// The object a finding names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectRef {
    /// What kind of object.
    pub kind: ObjectKind,
    /// Database, when the object lives in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Schema, for schema objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Bare name: GUC name for settings, queryid for queries, pid for sessions.
    pub name: String,
    /// Normalized query text, for query objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

impl ObjectRef {
    /// The server itself.
    pub fn server() -> Self {
        ObjectRef::named(ObjectKind::Server, "server")
    }

    /// A setting.
    pub fn setting(name: &str) -> Self {
        ObjectRef::named(ObjectKind::Setting, name)
    }

    /// A database.
    pub fn database(name: &str) -> Self {
        ObjectRef::named(ObjectKind::Database, name)
    }

    /// An object in a schema of a database.
    pub fn in_schema(kind: ObjectKind, database: &str, schema: &str, name: &str) -> Self {
        ObjectRef {
            kind,
            database: Some(database.to_owned()),
            schema: Some(schema.to_owned()),
            name: name.to_owned(),
            query: None,
        }
    }

    /// An object known by name only.
    pub fn named(kind: ObjectKind, name: &str) -> Self {
        ObjectRef {
            kind,
            database: None,
            schema: None,
            name: name.to_owned(),
            query: None,
        }
    }

    /// `schema.name` (or just `name`), as shown in reports and matched by suppressions.
    pub fn display_name(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// What to change, and what it costs to apply. Rules write `sql`, `requires`, `watch` and
/// `settings`; the engine derives the cost (`phase`, `lock`, `rewrites_table`,
/// `destructive`, `duration`) from the SQL once, after the rules ran
/// ([`crate::sql::impact`] for the statements, the snapshot for sizes and settings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// SQL to run.
    pub sql: String,
    /// `none`, `reload` or `restart`: what applying it needs for the server to use it
    /// (what it locks is in `lock`, when to run it in `phase`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires: Option<String>,
    /// What to watch afterwards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watch: Option<String>,
    /// The server settings the fix changes, with the values `sql` sets. One setting has
    /// one value across every finding of a report, equal to `pgsage tune`'s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<SettingChange>,
    /// When it can be applied: `online` (now), `reload`, `restart`, or `maintenance` (a
    /// lock that blocks reads or writes while it works, or a table rewrite).
    #[serde(default)]
    pub phase: Phase,
    /// The strongest table lock it takes, when it takes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<FixLock>,
    /// Whether it writes a new copy of a table and its indexes.
    #[serde(default)]
    pub rewrites_table: bool,
    /// Why applying it destroys something (drops an index, ends sessions, drops a slot):
    /// scripts leave such statements commented out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive: Option<String>,
    /// How long it may take, from the size of what it reads or writes; absent when no
    /// statement scans a table or the size is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Estimate>,
    /// On a managed platform, how its setting changes are applied there (the provider's
    /// commands, in its units) and which the platform refuses; `sql` then holds no
    /// `ALTER SYSTEM`. Absent on a self-managed server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<crate::knowledge::server_parameters::PlatformFix>,
}

impl Fix {
    /// One line on what applying it costs: `needs a maintenance window; ACCESS EXCLUSIVE
    /// lock on public.t (blocks every access, reads included); rewrites the table and its
    /// indexes; about 2 min for 429 MB`.
    pub fn cost_line(&self) -> String {
        let mut parts = vec![match self.phase {
            Phase::Online => "online now".to_owned(),
            Phase::Reload => "needs a reload".to_owned(),
            Phase::Restart => "needs a restart".to_owned(),
            Phase::Maintenance => "needs a maintenance window".to_owned(),
        }];
        match &self.lock {
            Some(l) => parts.push(format!(
                "{} lock on {} (blocks {})",
                l.mode, l.relation, l.blocks
            )),
            None if self.phase <= Phase::Restart => parts.push("no table lock".to_owned()),
            None => {}
        }
        if self.rewrites_table {
            parts.push("rewrites the table and its indexes".to_owned());
        }
        if let Some(d) = &self.duration {
            parts.push(d.text.clone());
        }
        if let Some(d) = &self.destructive {
            parts.push(format!("destructive: {d}"));
        }
        parts.join("; ")
    }
}

/// The strongest table lock a fix takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixLock {
    /// The lock mode, as PostgreSQL names it: `SHARE UPDATE EXCLUSIVE`.
    pub mode: LockMode,
    /// The table it is taken on (`public.t`), or `each table in turn`.
    pub relation: String,
    /// What waits while it is held: `every access, reads included`.
    pub blocks: String,
}

/// How long applying a fix may take ([`crate::knowledge::maintenance`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    /// The estimate, in seconds.
    pub seconds: u64,
    /// The bytes it reads or writes, the estimate's basis.
    pub bytes: u64,
    /// For reading: `about 2 min for 429 MB`.
    pub text: String,
}

/// A server setting a fix changes (defined with the platforms' rendering of it).
pub use crate::knowledge::server_parameters::SettingChange;

/// The numbers a rule used, keyed by name (units in the name: `_bytes`, `_s`, `_pct`).
pub type Evidence = BTreeMap<String, serde_json::Value>;

/// One problem found by a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule id, e.g. `VAC001`.
    pub rule: String,
    /// Pack, e.g. `vacuum`.
    pub pack: String,
    /// Severity after configuration.
    pub severity: Severity,
    /// The rule's title.
    pub title: String,
    /// The object it is about.
    pub object: ObjectRef,
    /// What is wrong, with identifiers in backticks.
    pub message: String,
    /// The numbers used.
    pub evidence: Evidence,
    /// What to do.
    pub recommendation: String,
    /// The exact change, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// How sure the rule is.
    pub confidence: Confidence,
    /// Why confidence is low.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence_reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::Severity;
    use crate::Error;

    #[test]
    fn an_unknown_severity_is_a_typed_error_that_becomes_an_invalid_value() {
        let err = "loud".parse::<Severity>().expect_err("not a severity");
        assert_eq!(
            err.to_string(),
            "unknown severity `loud` (expected info, warning or critical)"
        );
        assert_eq!((err.what, err.value.as_str()), ("severity", "loud"));
        match Error::from(err) {
            Error::InvalidValue { what, problem } => {
                assert_eq!(what, "severity");
                assert!(problem.starts_with("unknown severity `loud`"), "{problem}");
            }
            other => panic!("expected an invalid value, got {other:?}"),
        }
    }
}
