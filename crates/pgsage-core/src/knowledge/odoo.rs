//! What pgsage knows of Odoo: how to recognise its database, which of its tables are
//! queues with a cleanup of their own, which columns are its polymorphic references, and
//! how many connections its processes may open (from `odoo.conf`).
//!
//! The collector reads the facts ([`crate::snapshot::ErpFacts`]) with this knowledge; the
//! `erp` rule pack judges them. Sources: Odoo's code (`odoo/service/server.py`,
//! `odoo/sql_db.py`, `addons/bus/models/bus.py`, `odoo/addons/base/models/ir_cron.py`,
//! `ir_autovacuum.py`) and OCA `queue_job`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::snapshot::Table;

/// The catalog tables that together say "this database is Odoo's": the module registry,
/// the model registry and the users. All three must be in one schema.
pub const CATALOG_TABLES: &[&str] = &["ir_module_module", "ir_model", "res_users"];

/// `ir_config_parameter` keys the collector reads (the table also holds `database.secret`
/// and API keys, which pgsage never reads).
pub const PARAMETERS: &[&str] = &["ir_attachment.location"];

/// Modules whose tables the `erp` rules judge.
pub const MODULES_OF_INTEREST: &[&str] = &["bus", "mail", "queue_job"];

/// Where Odoo was recognised: the schema and the catalog tables found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognition {
    /// The schema of the catalog tables.
    pub schema: String,
    /// The catalog tables, as `schema.table`.
    pub tables: Vec<String>,
}

/// Odoo's catalog in a database's tables, if it is there.
pub fn recognise(tables: &[Table]) -> Option<Recognition> {
    let mut schemas: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in tables {
        if CATALOG_TABLES.contains(&t.name.as_str()) && t.kind == "r" {
            schemas.entry(t.schema.as_str()).or_default().push(&t.name);
        }
    }
    schemas
        .into_iter()
        .find(|(_, names)| CATALOG_TABLES.iter().all(|c| names.contains(c)))
        .map(|(schema, _)| Recognition {
            schema: schema.to_owned(),
            tables: CATALOG_TABLES
                .iter()
                .map(|t| format!("{schema}.{t}"))
                .collect(),
        })
}

/// Why the `erp` pack does not run on a database: no ERP catalog there.
pub fn not_recognised_reason(database: &str) -> String {
    format!(
        "database {database} is not an Odoo database (no {} in one schema)",
        CATALOG_TABLES.join(", ")
    )
}

/// A queue or notification table with a cleanup of its own, and what that cleanup keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueTable {
    /// The table.
    pub table: &'static str,
    /// The module that owns it.
    pub module: &'static str,
    /// What its rows are, for a reader.
    pub what: &'static str,
    /// The column whose age decides expiry.
    pub age_column: &'static str,
    /// A condition (on the table's own columns) a row must meet to be expired, if any.
    pub condition: Option<&'static str>,
    /// The columns the condition and the age need.
    pub columns: &'static [&'static str],
    /// Rows older than this (seconds) are past the cleanup.
    pub retention_seconds: f64,
    /// The cleanup and what it keeps, for a reader.
    pub cleanup: &'static str,
    /// The scheduled job that runs the cleanup: its model, and a word of its name.
    pub job_model: &'static str,
    /// A word of the job's name that tells it apart from other jobs on the same model.
    pub job_name_hint: &'static str,
}

const DAY: f64 = 86_400.0;

/// Odoo's queue tables. The retentions leave a day's margin over the cleanup's own, so a
/// cleanup that is merely late is not reported.
pub const QUEUES: &[QueueTable] = &[
    QueueTable {
        table: "bus_bus",
        module: "bus",
        what: "bus notifications",
        age_column: "create_date",
        condition: None,
        columns: &["create_date"],
        retention_seconds: DAY,
        cleanup: "the bus deletes notifications older than 100 seconds as it sends new \
                  ones, and the daily job \"Base: Auto-vacuum internal data\" sweeps the rest",
        job_model: "ir.autovacuum",
        job_name_hint: "vacuum",
    },
    QueueTable {
        table: "queue_job",
        module: "queue_job",
        what: "finished jobs",
        age_column: "date_done",
        condition: Some("state = 'done'"),
        columns: &["date_done", "state"],
        retention_seconds: 31.0 * DAY,
        cleanup: "queue_job's daily job \"AutoVacuum Job Queue\" deletes jobs done more than \
                  30 days ago (each channel's removal interval)",
        job_model: "queue.job",
        job_name_hint: "vacuum",
    },
    QueueTable {
        table: "ir_cron_trigger",
        module: "base",
        what: "scheduled-job triggers",
        age_column: "call_at",
        condition: None,
        columns: &["call_at"],
        retention_seconds: 8.0 * DAY,
        cleanup: "the daily job \"Base: Auto-vacuum internal data\" deletes triggers older \
                  than a week",
        job_model: "ir.autovacuum",
        job_name_hint: "vacuum",
    },
    QueueTable {
        table: "mail_mail",
        module: "mail",
        what: "outgoing emails",
        age_column: "create_date",
        condition: Some("state = 'outgoing'"),
        columns: &["create_date", "state"],
        retention_seconds: DAY,
        cleanup: "the job \"Mail: Email Queue Manager\" sends queued emails every few \
                  minutes (and deletes them once sent, unless they are kept)",
        job_model: "mail.mail",
        job_name_hint: "queue",
    },
];

/// The queue table named `table`, if it is one.
pub fn queue(table: &str) -> Option<&'static QueueTable> {
    QUEUES.iter().find(|q| q.table == table)
}

/// The columns that name the model of a polymorphic reference (`res_model` + `res_id`:
/// chatter, followers, attachments, activities).
pub const MODEL_COLUMNS: &[&str] = &["res_model", "model"];
/// The column that holds the referenced record's id.
pub const RECORD_ID_COLUMN: &str = "res_id";

/// What an `odoo.conf` says about the connections Odoo opens and where its reads go. Only
/// these keys are read: the file also holds the admin and database passwords.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OdooConfig {
    /// The file it was read from.
    pub path: String,
    /// `workers`: HTTP worker processes (0: one threaded process).
    pub workers: u32,
    /// `max_cron_threads`: cron worker processes (threads when `workers = 0`).
    pub max_cron_threads: u32,
    /// `db_maxconn`: the connection pool size of each process.
    pub db_maxconn: u32,
    /// `db_maxconn_gevent` (Odoo 17+): the pool size of the websocket (gevent) process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_maxconn_gevent: Option<u32>,
    /// `db_replica_host` (Odoo 18+): where read-only requests and reports go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_replica_host: Option<String>,
    /// `db_host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_host: Option<String>,
    /// `db_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_name: Option<String>,
    /// `[queue_job] channels`, when queue_job's runner is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_job_channels: Option<String>,
}

/// Odoo's defaults (`odoo/tools/config.py`).
const DEFAULT_WORKERS: u32 = 0;
const DEFAULT_MAX_CRON_THREADS: u32 = 2;
const DEFAULT_DB_MAXCONN: u32 = 64;

/// Why an `odoo.conf` could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{path}:{line}: {problem}")]
pub struct OdooConfigError {
    /// The file.
    pub path: String,
    /// The line (1-based; 0 for the whole file).
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

impl OdooConfig {
    /// Reads the `[options]` (and `[queue_job]`) sections of an `odoo.conf` (INI, as
    /// Python's ConfigParser reads it: `key = value` or `key: value`, `;`/`#` comments).
    pub fn parse(path: &str, text: &str) -> Result<OdooConfig, OdooConfigError> {
        let err = |line: usize, problem: String| OdooConfigError {
            path: path.to_owned(),
            line,
            problem,
        };
        let mut section = String::new();
        let mut options: BTreeMap<String, (usize, String)> = BTreeMap::new();
        let mut channels = None;
        let mut saw_options = false;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[') {
                let Some(name) = name.strip_suffix(']') else {
                    return Err(err(i + 1, format!("unclosed section header `{line}`")));
                };
                section = name.trim().to_owned();
                saw_options |= section == "options";
                continue;
            }
            if raw.starts_with([' ', '\t']) {
                // A continuation of the previous value (ConfigParser's multi-line values):
                // none of the keys read here has one.
                continue;
            }
            let Some(sep) = line.find(['=', ':']) else {
                return Err(err(
                    i + 1,
                    format!("expected `key = value`, found `{line}`"),
                ));
            };
            let key = line[..sep].trim().to_ascii_lowercase();
            let value = line[sep + 1..].trim().to_owned();
            match section.as_str() {
                "options" => {
                    options.insert(key, (i + 1, value));
                }
                "queue_job" if key == "channels" => channels = Some(value),
                _ => {}
            }
        }
        if !saw_options {
            return Err(err(
                0,
                "no [options] section: is this an Odoo configuration file?".into(),
            ));
        }
        let number = |key: &str, default: u32| -> Result<u32, OdooConfigError> {
            match options.get(key) {
                None => Ok(default),
                Some((_, v)) if is_unset(v) => Ok(default),
                Some((line, v)) => v.parse::<u32>().map_err(|_| {
                    err(
                        *line,
                        format!("`{key}` must be a whole number, found `{v}`"),
                    )
                }),
            }
        };
        let text = |key: &str| {
            options
                .get(key)
                .map(|(_, v)| v.clone())
                .filter(|v| !is_unset(v))
        };
        Ok(OdooConfig {
            path: path.to_owned(),
            workers: number("workers", DEFAULT_WORKERS)?,
            max_cron_threads: number("max_cron_threads", DEFAULT_MAX_CRON_THREADS)?,
            db_maxconn: number("db_maxconn", DEFAULT_DB_MAXCONN)?,
            db_maxconn_gevent: match options.get("db_maxconn_gevent") {
                Some((_, v)) if !is_unset(v) => Some(number("db_maxconn_gevent", 0)?),
                _ => None,
            },
            db_replica_host: text("db_replica_host"),
            db_host: text("db_host"),
            db_name: text("db_name"),
            queue_job_channels: channels.filter(|v| !is_unset(v)),
        })
    }

    /// The processes that each keep a connection pool, with the pool's size: in
    /// multi-process mode (`workers > 0`) every HTTP worker, every cron worker and the
    /// websocket (gevent) process; in threaded mode one process.
    pub fn pools(&self) -> Vec<Pool> {
        if self.workers == 0 {
            return vec![Pool {
                processes: 1,
                what: "the threaded server (HTTP and cron threads share one pool)",
                size: self.db_maxconn,
            }];
        }
        let mut pools = vec![Pool {
            processes: self.workers,
            what: "HTTP workers",
            size: self.db_maxconn,
        }];
        if self.max_cron_threads > 0 {
            pools.push(Pool {
                processes: self.max_cron_threads,
                what: "cron workers",
                size: self.db_maxconn,
            });
        }
        pools.push(Pool {
            processes: 1,
            what: "websocket (gevent) process",
            size: self.db_maxconn_gevent.unwrap_or(self.db_maxconn),
        });
        pools
    }

    /// The connections one Odoo server may open when every pool fills: the sum of
    /// processes × pool size.
    pub fn max_connections(&self) -> u64 {
        self.pools()
            .iter()
            .map(|p| u64::from(p.processes) * u64::from(p.size))
            .sum()
    }

    /// The processes that keep a pool.
    pub fn processes(&self) -> u32 {
        self.pools().iter().map(|p| p.processes).sum()
    }

    /// The largest `db_maxconn` with which every pool of `servers` Odoo servers fits in
    /// `slots` connections (at least 2: a request's cursor and the one Odoo opens beside
    /// it for the registry and the bus).
    pub fn fitting_db_maxconn(&self, slots: u64, servers: u32) -> u32 {
        let processes = u64::from(self.processes()) * u64::from(servers.max(1));
        let fit = slots / processes.max(1);
        u32::try_from(fit).unwrap_or(u32::MAX).max(2)
    }
}

/// A group of Odoo processes that each keep a connection pool of the same size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// How many processes.
    pub processes: u32,
    /// What they are.
    pub what: &'static str,
    /// Each one's pool size.
    pub size: u32,
}

/// ConfigParser's "no value" spellings in odoo.conf (`False` is what Odoo writes).
fn is_unset(v: &str) -> bool {
    v.is_empty() || v.eq_ignore_ascii_case("false") || v.eq_ignore_ascii_case("none")
}

/// Whether a session's `application_name` is an Odoo process's (Odoo 17+ names its
/// connections `odoo-<pid>`, `db_app_name`).
pub fn odoo_process(application_name: &str) -> Option<&str> {
    let pid = application_name.strip_prefix("odoo-")?;
    (!pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())).then_some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "\
[options]
; a production server
admin_passwd = $pbkdf2-sha512$secret
db_host = 10.0.0.5
db_password = hunter2
db_maxconn = 32
workers = 9
max_cron_threads = 2
db_replica_host = False
limit_time_real = 1200

[queue_job]
channels = root:4
";

    #[test]
    fn reads_the_pool_keys_and_nothing_secret() {
        let c = OdooConfig::parse("odoo.conf", CONF).expect("parses");
        assert_eq!(c.workers, 9);
        assert_eq!(c.db_maxconn, 32);
        assert_eq!(c.max_cron_threads, 2);
        assert_eq!(c.db_replica_host, None);
        assert_eq!(c.db_host.as_deref(), Some("10.0.0.5"));
        assert_eq!(c.queue_job_channels.as_deref(), Some("root:4"));
        let json = serde_json::to_string(&c).expect("serialises");
        assert!(
            !json.contains("hunter2") && !json.contains("pbkdf2"),
            "{json}"
        );
        // 9 HTTP + 2 cron + 1 gevent processes, 32 each.
        assert_eq!(c.processes(), 12);
        assert_eq!(c.max_connections(), 12 * 32);
        assert_eq!(c.fitting_db_maxconn(240, 1), 20);
        assert_eq!(c.fitting_db_maxconn(10, 3), 2);
    }

    #[test]
    fn threaded_mode_is_one_pool_and_defaults_apply() {
        let c = OdooConfig::parse("o.conf", "[options]\n").expect("parses");
        assert_eq!(c.workers, 0);
        assert_eq!(c.max_connections(), 64);
    }

    #[test]
    fn bad_files_say_where() {
        let e = OdooConfig::parse("o.conf", "[options]\nworkers = many\n").expect_err("rejected");
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("whole number"), "{e}");
        let e = OdooConfig::parse("o.conf", "workers = 4\n").expect_err("rejected");
        assert!(e.problem.contains("[options]"), "{e}");
        let e = OdooConfig::parse("o.conf", "[options\n").expect_err("rejected");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn odoo_process_names() {
        assert_eq!(odoo_process("odoo-4242"), Some("4242"));
        assert_eq!(odoo_process("odoo-"), None);
        assert_eq!(odoo_process("odoo-web"), None);
        assert_eq!(odoo_process("psql"), None);
    }
}
