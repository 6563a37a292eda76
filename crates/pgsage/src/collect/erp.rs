//! The ERP application's own facts, read only in a database recognised as Odoo's
//! ([`pgsage_core::knowledge::odoo::recognise`], from the tables already collected): its
//! installed modules and version, the attachment storage parameter, what the attachment
//! table holds in the database, the queue tables' rows past their cleanup, and the
//! scheduled jobs.
//!
//! One more round trip, in the sample's transaction (same snapshot), only for an Odoo
//! database. Every query is built from the columns the catalog says exist, so a version
//! of Odoo without one of them loses that fact, not the collection; a table the role may
//! not read is a gap naming the grant.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use tokio_postgres::{Error as PgError, Row};

use super::pipeline::{Conn, Plan, Results, Slot};
use crate::snapshot::{Attachments, Column, ErpFacts, Gap, QueueBacklog, ScheduledJob, Table};
use crate::Result;
use pgsage_core::knowledge::odoo::{self, QueueTable};
use pgsage_core::sql::{quote_ident, quote_literal};

/// Days of the "recent" attachment counts (growth).
const RECENT_DAYS: u32 = 30;

/// The gap names of this section.
const MODULES: &str = "odoo modules";
const PARAMETERS: &str = "odoo parameters";
const ATTACHMENTS: &str = "odoo attachments";
const QUEUES: &str = "odoo queue tables";
const JOBS: &str = "odoo scheduled jobs";

/// Reads the facts of the Odoo database the tables belong to, if they are Odoo's.
pub(super) async fn read(
    conn: &mut Conn<'_>,
    tables: &[Table],
    columns: &[Column],
    role: &str,
    gaps: &mut Vec<Gap>,
) -> Result<Option<ErpFacts>> {
    let Some(found) = odoo::recognise(tables) else {
        return Ok(None);
    };
    let schema = found.schema.clone();
    let catalog = Catalog {
        schema: &schema,
        tables,
        columns,
    };
    let mut plan = Plan::default();
    let modules = catalog.modules_sql().map(|sql| plan.add(MODULES, sql));
    let parameters = catalog
        .parameters_sql()
        .map(|sql| plan.add(PARAMETERS, sql));
    let attachments = catalog
        .attachments_sql()
        .map(|sql| plan.add(ATTACHMENTS, sql));
    let queues: Vec<(&QueueTable, Slot)> = odoo::QUEUES
        .iter()
        .filter_map(|q| catalog.queue_sql(q).map(|sql| (q, plan.add(QUEUES, sql))))
        .collect();
    let jobs = catalog.jobs_sql().map(|sql| plan.add(JOBS, sql));
    let mut results = conn.run(plan).await?;

    let mut own_gaps = Vec::new();
    let mut facts = ErpFacts {
        product: "odoo".into(),
        recognised_by: found.tables,
        schema: schema.clone(),
        ..Default::default()
    };
    if let Some((modules, version)) = take(&mut results, modules, &mut own_gaps, decode_modules) {
        facts.modules = modules;
        facts.version = version;
    }
    if let Some(p) = take(&mut results, parameters, &mut own_gaps, decode_parameters) {
        facts.parameters = p;
    }
    facts.attachments = take(&mut results, attachments, &mut own_gaps, |rows| {
        decode_attachments(rows, &format!("{schema}.ir_attachment"))
    })
    .flatten();
    for (q, slot) in queues {
        let table = format!("{schema}.{}", q.table);
        if let Some(Some(b)) = results.take(slot, &mut own_gaps, |rows| {
            decode_queue(rows, &table, q.retention_seconds)
        }) {
            facts.queues.push(b);
        }
    }
    if let Some(j) = take(&mut results, jobs, &mut own_gaps, decode_jobs) {
        facts.jobs = j;
    }
    // What could not be read: the sections (for the rules, which then skip instead of
    // passing them as clean), and one gap with one grant for every refused table.
    let mut refused = Vec::new();
    for g in own_gaps {
        let section = g.what.trim_start_matches("odoo ").to_owned();
        if !facts.unread.contains(&section) {
            facts.unread.push(section.clone());
        }
        if g.why.contains("permission denied") {
            refused.push(section);
        } else {
            gaps.push(g);
        }
    }
    if !refused.is_empty() {
        gaps.push(Gap {
            what: "odoo tables".into(),
            why: format!(
                "role {role} may not read Odoo's tables (permission denied): its {} are not judged; \
                 to include them: GRANT SELECT ON {} TO {role} (never on ir_config_parameter, \
                 which holds secrets: without it, only the attachment location parameter is unknown)",
                refused.join(", "),
                catalog.grantable().join(", ")
            ),
        });
    }
    Ok(Some(facts))
}

fn take<T>(
    results: &mut Results,
    slot: Option<Slot>,
    gaps: &mut Vec<Gap>,
    decode: impl FnOnce(&[Row]) -> Result<T, PgError>,
) -> Option<T> {
    results.take(slot?, gaps, decode)
}

/// The database's catalog as collected: which tables and columns exist.
struct Catalog<'a> {
    schema: &'a str,
    tables: &'a [Table],
    columns: &'a [Column],
}

impl Catalog<'_> {
    fn has_table(&self, name: &str) -> bool {
        self.tables
            .iter()
            .any(|t| t.schema == self.schema && t.name == name)
    }

    fn has_column(&self, table: &str, column: &str) -> bool {
        self.columns
            .iter()
            .any(|c| c.schema == self.schema && c.table == table && c.name == column)
    }

    fn has_columns(&self, table: &str, columns: &[&str]) -> bool {
        self.has_table(table) && columns.iter().all(|c| self.has_column(table, c))
    }

    fn table(&self, name: &str) -> String {
        pgsage_core::sql::qualified(self.schema, name)
    }

    /// The tables this section reads, for the grant a gap names.
    fn grantable(&self) -> Vec<String> {
        let mut names = vec!["ir_module_module", "ir_attachment", "ir_cron", "ir_model"];
        names.extend(odoo::QUEUES.iter().map(|q| q.table));
        names
            .into_iter()
            .filter(|t| self.has_table(t))
            .map(|t| self.table(t))
            .collect()
    }

    fn modules_sql(&self) -> Option<String> {
        if !self.has_columns("ir_module_module", &["name", "state"]) {
            return None;
        }
        let version = if self.has_column("ir_module_module", "latest_version") {
            "latest_version::text"
        } else {
            "NULL::text"
        };
        Some(format!(
            "SELECT name::text AS name, {version} AS version FROM {} \
             WHERE state = 'installed' ORDER BY name",
            self.table("ir_module_module")
        ))
    }

    fn parameters_sql(&self) -> Option<String> {
        if !self.has_columns("ir_config_parameter", &["key", "value"]) {
            return None;
        }
        let keys: Vec<String> = odoo::PARAMETERS.iter().map(|k| quote_literal(k)).collect();
        Some(format!(
            "SELECT key::text AS key, value::text AS value FROM {} WHERE key IN ({})",
            self.table("ir_config_parameter"),
            keys.join(", ")
        ))
    }

    fn attachments_sql(&self) -> Option<String> {
        if !self.has_columns("ir_attachment", &["db_datas", "create_date"]) {
            return None;
        }
        let in_filestore = if self.has_column("ir_attachment", "store_fname") {
            "count(*) FILTER (WHERE store_fname IS NOT NULL)"
        } else {
            "0"
        };
        // pg_column_size of a TOASTed value is its stored size, read from the TOAST
        // pointer: the files themselves are never fetched.
        let recent = format!("create_date >= now() - interval '{RECENT_DAYS} days'");
        Some(format!(
            "SELECT count(*) FILTER (WHERE db_datas IS NOT NULL)::int8 AS in_database,
                    coalesce(sum(pg_column_size(db_datas)), 0)::int8 AS in_database_bytes,
                    ({in_filestore})::int8 AS in_filestore,
                    count(*) FILTER (WHERE db_datas IS NOT NULL AND {recent})::int8 AS recent,
                    coalesce(sum(pg_column_size(db_datas)) FILTER (WHERE {recent}), 0)::int8
                      AS recent_bytes
             FROM {}",
            self.table("ir_attachment")
        ))
    }

    fn queue_sql(&self, q: &QueueTable) -> Option<String> {
        if !self.has_columns(q.table, q.columns) {
            return None;
        }
        let age = quote_ident(q.age_column);
        let mut expired = format!(
            "{age} < (now() AT TIME ZONE 'UTC') - make_interval(secs => {})",
            q.retention_seconds
        );
        if let Some(c) = q.condition {
            expired = format!("{c} AND {expired}");
        }
        Some(format!(
            "SELECT count(*)::int8 AS rows, count(*) FILTER (WHERE {expired})::int8 AS expired,
                    extract(epoch FROM (now() AT TIME ZONE 'UTC')
                      - min({age}) FILTER (WHERE {expired}))::float8 AS oldest
             FROM {}",
            self.table(q.table)
        ))
    }

    fn jobs_sql(&self) -> Option<String> {
        let t = "ir_cron";
        if !self.has_columns(t, &["active", "nextcall"]) {
            return None;
        }
        let name = if self.has_column(t, "cron_name") {
            "c.cron_name::text"
        } else if self.has_column(t, "name") {
            "c.name::text"
        } else {
            return None;
        };
        let (model, join) = if self.has_column(t, "model") {
            ("c.model::text", String::new())
        } else if self.has_column(t, "model_id") && self.has_columns("ir_model", &["id", "model"]) {
            (
                "m.model::text",
                format!(
                    "LEFT JOIN {} m ON m.id = c.model_id",
                    self.table("ir_model")
                ),
            )
        } else {
            ("NULL::text", String::new())
        };
        let interval = if self.has_columns(t, &["interval_number", "interval_type"]) {
            "c.interval_number::text || ' ' || c.interval_type::text"
        } else {
            "NULL::text"
        };
        let last = if self.has_column(t, "lastcall") {
            "c.lastcall AT TIME ZONE 'UTC'"
        } else {
            "NULL::timestamptz"
        };
        Some(format!(
            "SELECT {name} AS name, {model} AS model, c.active AS active,
                    {interval} AS every, c.nextcall AT TIME ZONE 'UTC' AS next_run,
                    {last} AS last_run
             FROM {} c {join} ORDER BY c.id",
            self.table(t)
        ))
    }
}

fn decode_modules(rows: &[Row]) -> Result<(Vec<String>, Option<String>), PgError> {
    let mut modules = Vec::with_capacity(rows.len());
    let mut version = None;
    for r in rows {
        let name: String = r.try_get("name")?;
        if name == "base" {
            version = r.try_get::<_, Option<String>>("version")?;
        }
        modules.push(name);
    }
    Ok((modules, version))
}

fn decode_parameters(rows: &[Row]) -> Result<BTreeMap<String, String>, PgError> {
    rows.iter()
        .map(|r| Ok((r.try_get("key")?, r.try_get("value")?)))
        .collect()
}

fn count(r: &Row, column: &str) -> Result<u64, PgError> {
    Ok(u64::try_from(r.try_get::<_, i64>(column)?).unwrap_or(0))
}

fn decode_attachments(rows: &[Row], table: &str) -> Result<Option<Attachments>, PgError> {
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(Attachments {
        table: table.to_owned(),
        in_database: count(r, "in_database")?,
        in_database_bytes: count(r, "in_database_bytes")?,
        in_filestore: count(r, "in_filestore")?,
        recent_in_database: count(r, "recent")?,
        recent_in_database_bytes: count(r, "recent_bytes")?,
        recent_days: RECENT_DAYS,
    }))
}

fn decode_queue(
    rows: &[Row],
    table: &str,
    retention_seconds: f64,
) -> Result<Option<QueueBacklog>, PgError> {
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(QueueBacklog {
        table: table.to_owned(),
        rows: count(r, "rows")?,
        expired_rows: count(r, "expired")?,
        oldest_age_seconds: r.try_get("oldest")?,
        retention_seconds,
    }))
}

fn decode_jobs(rows: &[Row]) -> Result<Vec<ScheduledJob>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(ScheduledJob {
                name: job_name(r.try_get::<_, Option<String>>("name")?.unwrap_or_default()),
                model: r.try_get("model")?,
                active: r.try_get::<_, Option<bool>>("active")?.unwrap_or(false),
                interval: r.try_get("every")?,
                next_run: r.try_get::<_, Option<DateTime<Utc>>>("next_run")?,
                last_run: r.try_get::<_, Option<DateTime<Utc>>>("last_run")?,
            })
        })
        .collect()
}

/// A job's name: Odoo 16+ stores translatable names as JSON (`{"en_US": "…"}`); the
/// English one, else the first.
fn job_name(raw: String) -> String {
    if !raw.starts_with('{') {
        return raw;
    }
    match serde_json::from_str::<BTreeMap<String, String>>(&raw) {
        Ok(names) => names
            .get("en_US")
            .or_else(|| names.values().next())
            .cloned()
            .unwrap_or(raw),
        Err(_) => raw,
    }
}

#[cfg(test)]
mod tests {
    use super::job_name;

    #[test]
    fn translated_job_names_read_in_english() {
        assert_eq!(
            job_name(
                r#"{"fr_FR": "Nettoyage", "en_US": "Base: Auto-vacuum internal data"}"#.into()
            ),
            "Base: Auto-vacuum internal data"
        );
        assert_eq!(
            job_name("Mail: Email Queue Manager".into()),
            "Mail: Email Queue Manager"
        );
        assert_eq!(job_name("{not json".into()), "{not json");
    }
}
