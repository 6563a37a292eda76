//! The per-database sections of the cluster's other databases (`--all-databases`,
//! `--databases PATTERN`): one connection per database, at most `jobs` at once, each
//! read-only with the same timeouts as the first, in one `REPEATABLE READ READ ONLY`
//! transaction of three round trips whatever the number of objects.
//!
//! A database the role cannot enter (no `CONNECT`, `pg_hba.conf`, too many connections)
//! becomes a gap named `database NAME`, never an error: the rest of the cluster is still
//! read.

use chrono::Utc;
use futures_util::stream::{self, StreamExt};
use globset::{Glob, GlobSet, GlobSetBuilder};

use super::pipeline::{gap, Conn, Plan};
use super::{
    begin, columns, constraints, foreign_keys, indexes, locked_why, pg_stats_why, sequences,
    tables, CollectOptions, CollectStats, DatabaseSelection, CLOCK_SQL,
};
use crate::connect::{connect_with, ConnectParams};
use crate::snapshot::{DatabaseSections, DatabaseStats, Gap, Snapshot};
use crate::{Error, Result};

/// Databases a managed platform keeps for its own operation: its customers cannot
/// connect to them, or may but should not be audited as their own.
const PROVIDER_DATABASES: &[&str] = &[
    // Azure Database for PostgreSQL flexible server.
    "azure_maintenance",
    "azure_sys",
    // Amazon RDS and Aurora.
    "rdsadmin",
    // Cloud SQL and AlloyDB.
    "cloudsqladmin",
    "alloydbadmin",
];

/// Which of the cluster's databases to read besides the connected one, in the order
/// `pg_database` lists them. An invalid pattern is an error (nothing is collected).
pub(crate) fn selected<'a>(
    databases: &'a [DatabaseStats],
    connected: &str,
    selection: &DatabaseSelection,
) -> Result<Vec<&'a DatabaseStats>> {
    let patterns = match selection {
        DatabaseSelection::Connected => return Ok(Vec::new()),
        DatabaseSelection::All => None,
        DatabaseSelection::Matching(patterns) => Some(glob_set(patterns)?),
    };
    Ok(databases
        .iter()
        .filter(|d| d.name != connected && d.allow_connections && !d.is_template)
        .filter(|d| !PROVIDER_DATABASES.contains(&d.name.as_str()))
        .filter(|d| patterns.as_ref().is_none_or(|p| p.is_match(&d.name)))
        .collect())
}

fn glob_set(patterns: &[String]) -> Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        let glob = Glob::new(p).map_err(|e| invalid_pattern(format!("`{p}`: {e}")))?;
        set.add(glob);
    }
    set.build().map_err(|e| invalid_pattern(e.to_string()))
}

fn invalid_pattern(problem: String) -> Error {
    Error::Core(pgsage_core::Error::InvalidValue {
        what: "--databases".into(),
        problem,
    })
}

/// Reads the selected databases' sections into `snapshot.other_databases` (in the order
/// selected); a database that cannot be read adds a gap to `snapshot.gaps`.
pub(crate) async fn collect(
    params: &ConnectParams,
    snapshot: &mut Snapshot,
    opts: &CollectOptions,
) -> Result<CollectStats> {
    let names: Vec<String> = selected(
        &snapshot.databases,
        &snapshot.server.database,
        &opts.databases,
    )?
    .into_iter()
    .map(|d| d.name.clone())
    .collect();
    let results: Vec<(String, Result<(DatabaseSections, CollectStats)>)> =
        stream::iter(names.into_iter().map(|name| async move {
            let result = collect_one(params, &name).await;
            (name, result)
        }))
        .buffered(opts.jobs.max(1))
        .collect()
        .await;
    let mut total = CollectStats::default();
    for (name, result) in results {
        match result {
            Ok((sections, stats)) => {
                total.add(stats);
                total.connections += 1;
                snapshot.other_databases.push(sections);
            }
            Err(e) => snapshot
                .gaps
                .push(unreadable(&name, &params.target.user, &e)),
        }
    }
    snapshot.gaps.sort();
    snapshot.gaps.dedup();
    Ok(total)
}

/// The gap for a database that could not be read, with what to grant when the role may
/// not connect.
fn unreadable(name: &str, role: &str, e: &Error) -> Gap {
    let why = match e.sqlstate() {
        // insufficient_privilege: no CONNECT on the database.
        Some("42501") => format!(
            "role {role} may not connect to it (no CONNECT privilege): its tables and indexes \
             are not audited; to include it: GRANT CONNECT ON DATABASE \"{}\" TO {role}",
            name.replace('"', "\"\"")
        ),
        _ => format!("not read: {e}"),
    };
    gap(&format!("database {name}"), why)
}

/// One database's sections over its own connection.
async fn collect_one(
    params: &ConnectParams,
    name: &str,
) -> Result<(DatabaseSections, CollectStats)> {
    let mut params = params.clone();
    params.target.database = name.to_owned();
    let session = connect_with(&params).await?;
    let mut conn = Conn::new(&session.client);
    let result = read_sections(&mut conn, &params, name).await;
    let stats = conn.stats;
    // A failed polite close changes nothing about what was collected.
    let _ = session.close().await;
    result.map(|s| (s, stats))
}

async fn read_sections(
    conn: &mut Conn<'_>,
    params: &ConnectParams,
    name: &str,
) -> Result<DatabaseSections> {
    let cx = begin(conn, &params.target).await?;
    let major = cx.major();
    let mut plan = Plan::default();
    let tables_slot = plan.add("pg_stat_user_tables", tables::sql(major));
    let indexes_slot = plan.add("pg_stat_user_indexes", indexes::sql(major));
    let foreign_keys_slot = plan.add("foreign keys", foreign_keys::sql());
    let sequences_slot = plan.add("pg_sequences", sequences::sql());
    let columns_slot = plan.add("columns", columns::sql());
    let constraints_slot = plan.add("constraints", constraints::constraints_sql());
    let triggers_slot = plan.add("triggers", constraints::triggers_sql());
    let clock = plan.add("clock", CLOCK_SQL.into());
    let mut results = conn.run(plan).await?;

    let mut gaps = Vec::new();
    let (mut tables, locked) = results
        .take(tables_slot, &mut gaps, tables::decode)
        .unwrap_or_default();
    let indexes = results
        .take(indexes_slot, &mut gaps, indexes::decode)
        .unwrap_or_default();
    tables::fill_index_sizes(&mut tables, &locked, &indexes);
    let (sequences, hidden) = results
        .take(sequences_slot, &mut gaps, sequences::decode)
        .unwrap_or_default();
    let columns = results.take(columns_slot, &mut gaps, columns::decode);
    let erp = super::erp::read(
        conn,
        &tables,
        columns.as_ref().map_or(&[][..], |c| &c.columns),
        &cx.facts.info.user,
        &mut gaps,
    )
    .await?;
    conn.execute("COMMIT", "COMMIT").await?;
    let mut sections = DatabaseSections {
        name: name.to_owned(),
        collected_at: super::take_clock(&mut results, clock, &mut gaps).unwrap_or_else(Utc::now),
        tables,
        indexes,
        foreign_keys: results
            .take(foreign_keys_slot, &mut gaps, foreign_keys::decode)
            .unwrap_or_default(),
        sequences,
        extensions: cx.extensions.clone(),
        columns: Vec::new(),
        constraints: results
            .take(constraints_slot, &mut gaps, constraints::decode_constraints)
            .unwrap_or_default(),
        triggers: results
            .take(triggers_slot, &mut gaps, constraints::decode_triggers)
            .unwrap_or_default(),
        erp,
        gaps: Vec::new(),
    };
    if let Some(columns) = columns {
        if columns.hidden_tables > 0 {
            gaps.push(gap("pg_stats", pg_stats_why(&cx.facts.info.user, &columns)));
        }
        sections.columns = columns.columns;
    }
    if !locked.is_empty() {
        let names: Vec<String> = locked.into_iter().map(|(_, n)| n).collect();
        gaps.push(gap("locked relations", locked_why(&names)));
    }
    if let Some(why) = sequences::hidden_why(&cx.facts.info.user, &hidden) {
        gaps.push(gap("sequence last values", why));
    }
    // Each gap names the database, so the merged list of a view stays readable.
    for g in &mut gaps {
        g.what = format!("{} in database {name}", g.what);
    }
    gaps.sort();
    gaps.dedup();
    sections.gaps = gaps;
    Ok(sections)
}
