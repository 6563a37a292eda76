//! The fleet inventory: one `[[server]]` table per server, in TOML.
//!
//! ```toml
//! [[server]]
//! name = "erp-prod-1"
//! dsn = "host=db1.example.com user=pgsage dbname=postgres sslmode=verify-full"
//! tags = { env = "prod", customer = "acme", platform = "vm" }
//! ram = "64GiB"
//! cpus = 16
//! storage = "nvme"
//! all_databases = true
//! ```
//!
//! Parsing checks what can be checked without a server: unknown keys, names that are
//! missing, duplicated or unsafe as a directory name, and host facts (the same checks as
//! the `--ram`, `--cpus`, `--storage`, `--platform` and `--tier` flags). Connection strings
//! are checked by the live layer (`pgsage::fleet`), which knows their syntax and refuses
//! one that holds a password.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::knowledge::platform_tiers;
use crate::snapshot::{Fact, HostFacts, Platform};
use crate::{Error, Result};

/// The servers of a fleet, in the inventory's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    /// One per `[[server]]` table.
    pub servers: Vec<ServerEntry>,
}

/// One server of the inventory, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEntry {
    /// Unique within the fleet, safe as a directory name (`DIR/<name>/`).
    pub name: String,
    /// The libpq connection string, without a password (the live layer checks).
    pub dsn: String,
    /// Free-form labels (`env`, `customer`, `platform`, …), carried into every output.
    pub tags: BTreeMap<String, String>,
    /// Host facts from `ram`, `cpus`, `storage`, `platform` and `tier` (source `inventory`).
    pub host: HostFacts,
    /// Collect the per-database sections of every database the role may connect to.
    pub all_databases: bool,
    /// Collect the databases matching these glob patterns (ignored with `all_databases`).
    pub databases: Vec<String>,
}

/// The source recorded with host facts that come from the inventory.
pub const FACT_SOURCE: &str = "inventory";

/// Names the output directory already uses at its top level: a server may not take them.
const RESERVED_NAMES: &[&str] = &[
    "summary.json",
    "summary.html",
    "findings.parquet",
    "findings.ndjson",
];

/// The longest server name accepted (it becomes a directory name).
const MAX_NAME_LEN: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    #[serde(default)]
    server: Vec<RawServer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    name: String,
    dsn: String,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    ram: Option<String>,
    cpus: Option<f64>,
    storage: Option<String>,
    platform: Option<String>,
    tier: Option<String>,
    #[serde(default)]
    all_databases: bool,
    #[serde(default)]
    databases: Vec<String>,
}

impl Inventory {
    /// Reads and checks an inventory file.
    pub fn load(path: &Path) -> Result<Inventory> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            context: format!("reading the inventory {}", path.display()),
            source,
        })?;
        Inventory::parse(&text, &path.display().to_string())
    }

    /// Parses and checks an inventory; `origin` names it in errors (a path).
    pub fn parse(text: &str, origin: &str) -> Result<Inventory> {
        let raw: RawInventory = toml::from_str(text)
            .map_err(|e| Error::config(Some(origin), e.to_string().trim_end().to_owned()))?;
        if raw.server.is_empty() {
            return Err(Error::config(
                Some(origin),
                "no servers: add one `[[server]]` table per server, with `name` and `dsn`",
            ));
        }
        let mut servers: Vec<ServerEntry> = Vec::with_capacity(raw.server.len());
        for (i, s) in raw.server.into_iter().enumerate() {
            let at = |problem: String| {
                Error::config(
                    Some(origin),
                    format!("server {} (`{}`): {problem}", i + 1, s.name),
                )
            };
            check_name(&s.name).map_err(at)?;
            if let Some(other) = servers
                .iter()
                .find(|o| o.name.eq_ignore_ascii_case(&s.name))
            {
                // Case-insensitive: the names become directories, and some file systems
                // (macOS, Windows, many object stores mounted locally) fold case.
                return Err(at(format!(
                    "the name is already used by `{}`: every server needs its own name",
                    other.name
                )));
            }
            if s.dsn.trim().is_empty() {
                return Err(at("`dsn` is empty".to_owned()));
            }
            for key in s.tags.keys() {
                if key.trim().is_empty() {
                    return Err(at("a tag has an empty name".to_owned()));
                }
            }
            let host = host_facts(&s).map_err(|e| at(e.to_string()))?;
            servers.push(ServerEntry {
                name: s.name,
                dsn: s.dsn,
                tags: s.tags,
                host,
                all_databases: s.all_databases,
                databases: s.databases,
            });
        }
        Ok(Inventory { servers })
    }
}

/// A name is a directory name on every platform and in object storage keys: letters,
/// digits, `.`, `_` and `-`, not starting with a dot, and not one of the files the output
/// directory holds.
fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err("`name` is empty".to_owned());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!("the name is longer than {MAX_NAME_LEN} characters"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "the name holds {c:?}: use letters, digits, `.`, `_` and `-` only (it names the \
             server's output directory)"
        ));
    }
    if name.starts_with('.') {
        return Err("the name starts with a dot (a hidden or parent directory)".to_owned());
    }
    if RESERVED_NAMES.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(format!(
            "`{name}` is a file of the output directory: choose another name"
        ));
    }
    Ok(())
}

/// The host facts of one entry, checked like the flags of the same names.
fn host_facts(s: &RawServer) -> Result<HostFacts> {
    let mut facts =
        crate::host::from_flags(s.ram.as_deref(), s.cpus, s.storage.as_deref(), FACT_SOURCE)?;
    if let Some(p) = &s.platform {
        let platform: Platform = p.parse()?;
        facts.platform = Some(Fact::new(platform, FACT_SOURCE));
    }
    platform_tiers::with_tier(facts, s.tier.as_deref(), FACT_SOURCE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Inventory> {
        Inventory::parse(text, "fleet.toml")
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(i) => panic!("should be refused: {i:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_every_key() {
        let inv = parse(
            r#"
            [[server]]
            name = "erp-prod-1"
            dsn = "host=db1 user=pgsage"
            tags = { env = "prod", customer = "acme" }
            ram = "64GiB"
            cpus = 16
            storage = "nvme"
            platform = "self-managed"
            all_databases = true

            [[server]]
            name = "erp_test.2"
            dsn = "postgres://pgsage@db2/postgres"
            databases = ["tenant_*"]
            "#,
        )
        .expect("valid");
        assert_eq!(inv.servers.len(), 2);
        let a = &inv.servers[0];
        assert_eq!(a.name, "erp-prod-1");
        assert_eq!(a.tags.get("env").map(String::as_str), Some("prod"));
        assert_eq!(a.host.ram_bytes.as_ref().map(|f| f.value), Some(64 << 30));
        assert_eq!(
            a.host.cpus.as_ref().map(|f| f.source.as_str()),
            Some("inventory")
        );
        assert!(a.host.storage.is_some() && a.host.platform.is_some());
        assert!(a.all_databases);
        let b = &inv.servers[1];
        assert!(b.tags.is_empty() && !b.all_databases && b.host.ram_bytes.is_none());
        assert_eq!(b.databases, vec!["tenant_*".to_owned()]);
    }

    #[test]
    fn a_tier_gives_its_facts() {
        let inv = parse(
            "[[server]]\nname = \"a\"\ndsn = \"host=a\"\nplatform = \"aws-rds\"\ntier = \"db.r6g.large\"\n",
        )
        .expect("valid");
        assert!(inv.servers[0].host.ram_bytes.is_some());
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = err("[[server]]\nname = \"a\"\ndsn = \"host=a\"\npasword = \"x\"\n");
        assert!(e.contains("pasword") && e.contains("fleet.toml"), "{e}");
        let e = err("[[servers]]\nname = \"a\"\ndsn = \"host=a\"\n");
        assert!(e.contains("servers"), "{e}");
        let e = err("[[server]]\nname = \"a\"\ndsn = \"host=a\"\ntags = { env = 1 }\n");
        assert!(e.contains("env") || e.contains("string"), "{e}");
    }

    #[test]
    fn names_are_required_unique_and_path_safe() {
        let e = err("[[server]]\ndsn = \"host=a\"\n");
        assert!(e.contains("name"), "{e}");
        let e = err("[[server]]\nname = \"Erp\"\ndsn = \"host=a\"\n[[server]]\nname = \"erp\"\ndsn = \"host=b\"\n");
        assert!(
            e.contains("server 2") && e.contains("already used by `Erp`"),
            "{e}"
        );
        for bad in [
            "../etc",
            "a/b",
            "a b",
            ".hidden",
            "",
            "summary.json",
            "Findings.Parquet",
        ] {
            let e = err(&format!("[[server]]\nname = {bad:?}\ndsn = \"host=a\"\n"));
            assert!(e.contains("server 1"), "{bad}: {e}");
        }
        let long = "a".repeat(101);
        assert!(err(&format!(
            "[[server]]\nname = \"{long}\"\ndsn = \"host=a\"\n"
        ))
        .contains("longer"));
    }

    #[test]
    fn host_facts_are_checked_like_the_flags() {
        let e = err("[[server]]\nname = \"a\"\ndsn = \"host=a\"\nram = \"16\"\n");
        assert!(e.contains("no unit"), "{e}");
        let e = err("[[server]]\nname = \"a\"\ndsn = \"host=a\"\nstorage = \"floppy\"\n");
        assert!(e.contains("floppy"), "{e}");
        let e = err("[[server]]\nname = \"a\"\ndsn = \"host=a\"\nplatform = \"mainframe\"\n");
        assert!(e.contains("mainframe"), "{e}");
        let e = err("[[server]]\nname = \"a\"\ndsn = \"host=a\"\ncpus = 0\n");
        assert!(e.contains("cpus"), "{e}");
    }

    #[test]
    fn an_empty_inventory_or_dsn_is_refused() {
        assert!(err("").contains("no servers"));
        assert!(err("[[server]]\nname = \"a\"\ndsn = \" \"\n").contains("`dsn` is empty"));
    }
}
