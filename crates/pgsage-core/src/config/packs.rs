//! The shipped rule packs (`rules/*.toml`), embedded in the binary.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ParamValue;
use crate::report::Severity;

/// The pack files, as (file name, text). Embedded so the binary works anywhere.
pub const SHIPPED_PACKS: &[(&str, &str)] = &[
    (
        "connections.toml",
        include_str!("../../../../rules/connections.toml"),
    ),
    ("erp.toml", include_str!("../../../../rules/erp.toml")),
    (
        "indexing.toml",
        include_str!("../../../../rules/indexing.toml"),
    ),
    ("locks.toml", include_str!("../../../../rules/locks.toml")),
    ("memory.toml", include_str!("../../../../rules/memory.toml")),
    (
        "planner.toml",
        include_str!("../../../../rules/planner.toml"),
    ),
    ("plans.toml", include_str!("../../../../rules/plans.toml")),
    (
        "queries.toml",
        include_str!("../../../../rules/queries.toml"),
    ),
    ("schema.toml", include_str!("../../../../rules/schema.toml")),
    (
        "storage.toml",
        include_str!("../../../../rules/storage.toml"),
    ),
    (
        "tenants.toml",
        include_str!("../../../../rules/tenants.toml"),
    ),
    ("vacuum.toml", include_str!("../../../../rules/vacuum.toml")),
    ("wal.toml", include_str!("../../../../rules/wal.toml")),
    (
        "workload.toml",
        include_str!("../../../../rules/workload.toml"),
    ),
];

/// A pack file: its description and its rules' settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackFile {
    /// The `[pack]` table.
    pub pack: PackInfo,
    /// `[rules.ID]` tables.
    #[serde(default)]
    pub rules: BTreeMap<String, PackRule>,
}

/// A pack's description.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PackInfo {
    /// Pack name (`vacuum`).
    pub name: String,
    /// One-line title.
    pub title: String,
    /// What the pack covers.
    pub description: String,
}

/// A rule's settings in a pack file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackRule {
    /// On by default.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Default severity.
    pub severity: Severity,
    /// Lowest server major version the rule applies to.
    #[serde(default)]
    pub min_server_version: Option<i32>,
    /// Parameter values (the defaults users override).
    #[serde(default)]
    pub params: BTreeMap<String, ParamValue>,
}

fn yes() -> bool {
    true
}
