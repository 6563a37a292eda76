//! The demo ERP database (`testdata/demo/erp/`): an Odoo-like installation with its
//! problems planted the way they arise in real ones, and a workload replayed with
//! `pgbench`. `scripts/make-demo-snapshot.sh` builds it and collects
//! `testdata/snapshots/demo.json` from it; tests that need a real copy of the demo
//! database (a fix script applied and re-audited) build their own.
//!
//! ```no_run
//! use pgsage_testkit::demo::{self, Workload};
//! use pgsage_testkit::TestServer;
//!
//! let server = TestServer::start(demo::server_options(17)?)?;
//! demo::build_erp(&server, "erp")?;
//! let sessions = demo::hold_sessions(&server, "erp")?;   // idle workers, an open transaction
//! demo::run_workload(&server, "erp", &Workload::default())?;
//! demo::late_import(&server, "erp")?;
//! // ... collect a snapshot while `sessions` is alive ...
//! # Ok::<(), pgsage_testkit::TestkitError>(())
//! ```
//!
//! The SQL files are plain `psql` and `pgbench` input, runnable by hand; README.md in that
//! directory tells the story (each planted problem and the rule that should find it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use postgres::{Client, NoTls};

use crate::scenario::repo_root;
use crate::{quote_ident, ServerOptions, TestServer, TestkitError};

/// The application's role, owner of the demo database (Odoo's `db_user`).
pub const APP_ROLE: &str = "odoo";
/// Its password (the demo server accepts only SCRAM for roles other than the superuser).
pub const APP_PASSWORD: &str = "odoo";
/// Where `pgbench` and `psql` are looked for first (any version drives any server).
pub const CLIENT_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
/// Overrides the directory holding `pgbench` and `psql`.
pub const CLIENT_BIN_ENV: &str = "PGSAGE_PG_CLIENT_BIN";

/// Idle connections the application's workers keep open (Odoo: workers × `db_maxconn`
/// connection pools, each keeping its connections after use).
pub const IDLE_WORKER_CONNECTIONS: usize = 40;

/// `testdata/demo/erp`.
pub fn erp_dir() -> PathBuf {
    repo_root().join("testdata").join("demo").join("erp")
}

/// The demo server's options: the testkit's defaults, then the lines of
/// `testdata/demo/erp/postgresql.conf` (the customer's settings, planted problems
/// included).
pub fn server_options(major: u32) -> Result<ServerOptions, TestkitError> {
    let path = erp_dir().join("postgresql.conf");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| TestkitError::io(format!("reading {}", path.display()), e))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .fold(ServerOptions::new(major), |opts, line| opts.conf(line)))
}

/// Creates the application role and database `db` (owned by it, with
/// `pg_stat_statements`), then loads the ERP as a migration's restore would: tables
/// (`schema.sql`), data (`data.sql`), indexes and foreign keys (`post_data.sql`), a
/// database-wide `VACUUM (ANALYZE)`, then what years of use left behind (`history.sql`).
/// Ends by resetting `pg_stat_statements`, so that the statements measured are the
/// workload's, not the load's.
///
/// Takes one to three minutes and about 2.5 GB in the server's directory.
pub fn build_erp(server: &TestServer, db: &str) -> Result<(), TestkitError> {
    let role = quote_ident(APP_ROLE);
    server.execute(
        "postgres",
        &format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN \
             CREATE ROLE {role} LOGIN PASSWORD '{APP_PASSWORD}'; END IF; END $$"
        ),
    )?;
    server.create_database(db)?;
    server.execute(
        "postgres",
        &format!("ALTER DATABASE {} OWNER TO {role}", quote_ident(db)),
    )?;
    server.execute(db, &format!("ALTER SCHEMA public OWNER TO {role}"))?;
    let dir = erp_dir();
    for file in ["schema.sql", "data.sql", "post_data.sql"] {
        psql_file(server, db, &dir.join(file))?;
    }
    server.execute(db, "VACUUM (ANALYZE)")?;
    psql_file(server, db, &dir.join("history.sql"))?;
    server.execute(db, "SELECT pg_stat_statements_reset()")?;
    Ok(())
}

/// The sessions the demo keeps open while it is collected: the application workers'
/// idle pooled connections and a consultant's `psql` session left idle in a
/// transaction. Dropping it closes them.
pub struct HeldSessions {
    clients: Vec<Client>,
}

impl HeldSessions {
    /// How many sessions are held.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }
}

/// Opens [`IDLE_WORKER_CONNECTIONS`] connections as the application (`odoo-<n>`, as
/// Odoo 16+ names them), each running one short statement and then staying idle, and a
/// `psql` session that begins a transaction, reads the draft orders and stays idle in
/// it (holding a lock on `sale_order` that the next module upgrade's `ALTER TABLE`
/// will queue behind). Open them before [`run_workload`] so that at collection time
/// they have been idle for as long as the workload ran.
pub fn hold_sessions(server: &TestServer, db: &str) -> Result<HeldSessions, TestkitError> {
    let connect = |application: &str| -> Result<Client, TestkitError> {
        let dsn = format!(
            "{} application_name={application}",
            server.dsn_as(APP_ROLE, APP_PASSWORD, db)
        );
        Client::connect(&dsn, NoTls)
            .map_err(|e| TestkitError::pg(format!("connecting as {application}"), e))
    };
    let mut clients = Vec::with_capacity(IDLE_WORKER_CONNECTIONS + 1);
    for n in 0..IDLE_WORKER_CONNECTIONS {
        let mut c = connect(&format!("odoo-{}", 4100 + n))?;
        let sql = format!(
            "SELECT id, login FROM res_users WHERE login = 'user{}@demo.example'",
            1 + n % 60
        );
        c.batch_execute(&sql)
            .map_err(|e| TestkitError::pg(sql.clone(), e))?;
        clients.push(c);
    }
    let mut consultant = connect("psql")?;
    let sql = "BEGIN; SELECT count(*) FROM sale_order WHERE state = 'draft';";
    consultant
        .batch_execute(sql)
        .map_err(|e| TestkitError::pg(sql, e))?;
    clients.push(consultant);
    Ok(HeldSessions { clients })
}

/// How long and how hard to replay the workload (`testdata/demo/erp/workload/`).
#[derive(Debug, Clone)]
pub struct Workload {
    /// How long each `pgbench` runs.
    pub duration: Duration,
    /// Interactive clients (order entry, warehouse scans, chatter reads, bus polling,
    /// job queue).
    pub clients: u32,
    /// Interactive transactions per second, all clients together (`pgbench --rate`):
    /// a fixed load, whatever the machine's speed.
    pub rate: f64,
}

impl Default for Workload {
    /// 330 seconds: the idle sessions opened before it must have been idle for five
    /// minutes (the usual "idle for long" threshold) when the snapshot is taken, and five
    /// minutes give autovacuum (one-minute naptime) several rounds and the nightly jobs
    /// enough WAL for requested checkpoints, while the whole build stays under ten minutes.
    fn default() -> Self {
        Workload {
            duration: Duration::from_secs(330),
            clients: 8,
            rate: 12.0,
        }
    }
}

/// What `pgbench` reported, per run.
#[derive(Debug, Clone)]
pub struct WorkloadReport {
    /// `pgbench`'s output, one entry per concurrent run (interactive, reports, nightly).
    pub outputs: Vec<String>,
}

/// Replays the workload with `pgbench` as the application role, three runs side by side
/// for `workload.duration`: the interactive mix (weights: order entry 3, warehouse scans
/// 3, chatter reads 1, bus polling 8, job queue 3) at `workload.rate` transactions per
/// second over `workload.clients` clients; finance's reports (one client, a pause of 20 s
/// between runs); the cron worker's nightly jobs (one client, 15 s between runs).
/// Fails if any run reports an error.
pub fn run_workload(
    server: &TestServer,
    db: &str,
    workload: &Workload,
) -> Result<WorkloadReport, TestkitError> {
    let dir = erp_dir().join("workload");
    let script = |name: &str, weight: Option<u32>| {
        let path = dir.join(name).to_string_lossy().into_owned();
        match weight {
            Some(w) => format!("{path}@{w}"),
            None => path,
        }
    };
    let seconds = workload.duration.as_secs().max(1).to_string();
    let interactive_clients = workload.clients.max(1).to_string();
    let rate = format!("{}", workload.rate.max(0.1));
    let mut runs: Vec<Vec<String>> = Vec::new();
    let mut interactive = vec![
        "-c".to_owned(),
        interactive_clients,
        "-j".to_owned(),
        "2".to_owned(),
        "-R".to_owned(),
        rate,
    ];
    for (name, weight) in [
        ("order_entry.sql", 3),
        ("warehouse_scan.sql", 3),
        ("chatter_read.sql", 1),
        ("bus_poll.sql", 8),
        ("queue_churn.sql", 3),
    ] {
        interactive.push("-f".to_owned());
        interactive.push(script(name, Some(weight)));
    }
    runs.push(interactive);
    for name in ["reports.sql", "nightly_jobs.sql"] {
        runs.push(vec![
            "-c".to_owned(),
            "1".to_owned(),
            "-f".to_owned(),
            script(name, None),
        ]);
    }
    let pgbench = client_tool("pgbench")?;
    // Each run's output is read by its own thread: a run must never block on a full pipe
    // while another is waited for.
    let runs = runs
        .into_iter()
        .map(|args| {
            let mut cmd = client_command(&pgbench, server, db);
            cmd.args(["-n", "-r", "-T", &seconds]).args(&args);
            let line = format!("{cmd:?}");
            let child = cmd
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| TestkitError::io(format!("running {line}"), e))?;
            Ok((line, std::thread::spawn(move || child.wait_with_output())))
        })
        .collect::<Result<Vec<_>, TestkitError>>()?;
    let mut outputs = Vec::new();
    let mut failure = None;
    for (line, waiter) in runs {
        let out = waiter
            .join()
            .map_err(|_| TestkitError::CommandFailed {
                command: line.clone(),
                status: "panicked".to_owned(),
                output: String::new(),
            })?
            .map_err(|e| TestkitError::io(format!("waiting for {line}"), e))?;
        let text = output_text(&out);
        // A client that fails a statement aborts; pgbench's summary says so.
        if !out.status.success() || text.contains("aborted in command") {
            failure.get_or_insert(TestkitError::CommandFailed {
                command: line,
                status: out.status.to_string(),
                output: text.clone(),
            });
        }
        outputs.push(text);
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(WorkloadReport { outputs }),
    }
}

/// The supplier price list import run just before the audit (`late_import.sql`), then
/// waits until the statistics show its rows.
pub fn late_import(server: &TestServer, db: &str) -> Result<(), TestkitError> {
    psql_file(server, db, &erp_dir().join("late_import.sql"))?;
    server.wait_for(
        db,
        "SELECT n_live_tup >= 150000 FROM pg_stat_user_tables WHERE relname = 'x_supplier_price_import'",
        Duration::from_secs(30),
    )
}

/// Runs an SQL file with `psql` as the application role, stopping at the first error.
pub fn psql_file(server: &TestServer, db: &str, file: &Path) -> Result<(), TestkitError> {
    let mut cmd = client_command(&client_tool("psql")?, server, db);
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(file)
        .stdin(Stdio::null());
    let line = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| TestkitError::io(format!("running {line}"), e))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(TestkitError::CommandFailed {
            command: line,
            status: out.status.to_string(),
            output: output_text(&out),
        })
    }
}

/// A `psql`/`pgbench` command connected to `db` as the application role, with the
/// caller's libpq variables (`PG*`) replaced.
fn client_command(program: &Path, server: &TestServer, db: &str) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") && !key.to_string_lossy().starts_with("PGSAGE") {
            cmd.env_remove(key);
        }
    }
    cmd.env("PGPASSWORD", APP_PASSWORD)
        .env("PGAPPNAME", "odoo-worker")
        .env("PGSSLMODE", "disable")
        .args(["-h", server.host(), "-p", &server.port().to_string()])
        .args(["-U", APP_ROLE]);
    // psql's `-d` is the database; pgbench's is `--debug` (it takes the database as its
    // last argument), so the database is passed in the environment for both.
    cmd.env("PGDATABASE", db);
    cmd
}

/// `pgbench` or `psql`: from [`CLIENT_BIN_ENV`], then [`CLIENT_BIN_DIR`], then any
/// `/usr/lib/postgresql/<major>/bin`, then `PATH`.
pub fn client_tool(name: &str) -> Result<PathBuf, TestkitError> {
    let mut dirs: Vec<PathBuf> = std::env::var_os(CLIENT_BIN_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .collect();
    dirs.push(PathBuf::from(CLIENT_BIN_DIR));
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut majors: Vec<PathBuf> = entries.flatten().map(|e| e.path().join("bin")).collect();
        majors.sort();
        dirs.extend(majors.into_iter().rev());
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| TestkitError::CommandFailed {
            command: name.to_owned(),
            status: "not found".to_owned(),
            output: format!(
                "`{name}` not found in {CLIENT_BIN_ENV}, {CLIENT_BIN_DIR}, \
                 /usr/lib/postgresql/*/bin or PATH; install postgresql-client \
                 (any version drives any server)"
            ),
        })
}

fn output_text(out: &Output) -> String {
    let mut s = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.trim().is_empty() {
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(err.trim());
    }
    s
}
