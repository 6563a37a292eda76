//! Whether two snapshots are of one server, judged by what they hold: the address the
//! collector connected to, `cluster_name`, and the oid of the connected database.
//!
//! A snapshot holds no system identifier, so the facts are weighed: two different
//! `cluster_name`s, or the same database name with another oid at another address, are
//! two servers (refused unless allowed); another address alone may be the same server
//! reached under another name (a warning). A major upgrade and another connected
//! database are warnings.

use super::DiffError;
use crate::snapshot::Snapshot;

/// The warnings for comparing `old` with `new`, or the refusal.
pub(super) fn check(
    old: &Snapshot,
    new: &Snapshot,
    allow_different: bool,
) -> Result<Vec<String>, DiffError> {
    let (o, n) = (&old.server, &new.server);
    let mut strong = Vec::new();
    let mut weak = Vec::new();
    if let (Some(a), Some(b)) = (&o.cluster_name, &n.cluster_name) {
        if a != b {
            strong.push(format!("cluster_name `{a}` → `{b}`"));
        }
    }
    let address = |s: &Snapshot| {
        format!(
            "{}:{}",
            s.server.host.as_deref().unwrap_or("local socket"),
            s.server
                .port
                .map_or("default port".to_owned(), |p| p.to_string())
        )
    };
    let other_address = (o.host.is_some() && n.host.is_some() && o.host != n.host)
        || (o.port.is_some() && n.port.is_some() && o.port != n.port);
    let same_name_other_oid = old
        .current_database()
        .zip(new.databases.iter().find(|d| d.name == o.database))
        .filter(|(a, b)| a.oid != b.oid)
        .map(|(a, b)| format!("database `{}` has oid {} → {}", a.name, a.oid, b.oid));
    if other_address {
        let text = format!("address {} → {}", address(old), address(new));
        match same_name_other_oid {
            Some(oid) => {
                strong.push(text);
                strong.push(oid);
            }
            None => weak.push(text),
        }
    } else if let Some(oid) = same_name_other_oid {
        weak.push(format!("{oid} (dropped and created again?)"));
    }
    if !strong.is_empty() && !allow_different {
        return Err(DiffError::DifferentServers {
            differences: strong,
        });
    }
    let mut warnings = Vec::new();
    if !strong.is_empty() || !weak.is_empty() {
        let all: Vec<String> = strong.into_iter().chain(weak).collect();
        warnings.push(format!(
            "the snapshots may be of different servers ({}): every difference below may be between servers rather than over time",
            all.join("; ")
        ));
    }
    if o.major() != n.major() {
        warnings.push(format!(
            "PostgreSQL was upgraded from {} to {} in between: settings and statistics may differ for that reason alone",
            o.version, n.version
        ));
    }
    if o.database != n.database {
        warnings.push(format!(
            "the snapshots were collected connected to different databases (`{}` and `{}`): databases are compared where both snapshots hold their tables",
            o.database, n.database
        ));
    }
    Ok(warnings)
}
