//! Throwaway PostgreSQL servers.

use std::collections::hash_map::DefaultHasher;
use std::fmt::Write as _;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use postgres::{Client, NoTls};
use tempfile::TempDir;

use crate::binaries;
use crate::user::{self, RunAs};
use crate::{wait_until, TestkitError};

/// The superuser every test server is initialised with.
pub const SUPERUSER: &str = "postgres";

/// The address every test server listens on.
pub const HOST: &str = "127.0.0.1";

/// How many fresh ports [`TestServer::start`] tries before giving up.
const START_ATTEMPTS: u32 = 5;

/// Bump when the initdb invocation changes, to invalidate cached templates.
const TEMPLATE_FORMAT: u32 = 1;

/// Directory under which servers' temporary directories are created. Default:
/// `/dev/shm` when it is a writable tmpfs with at least 2 GiB free (no disk I/O at
/// all), otherwise the system temp dir (`$TMPDIR` or `/tmp`).
pub const SCRATCH_ENV: &str = "PGSAGE_TESTKIT_TMPDIR";

/// Set to any non-empty value to run `initdb` for every server instead of copying
/// a cached, pristine data directory.
pub const NO_TEMPLATE_ENV: &str = "PGSAGE_TESTKIT_NO_TEMPLATE";

/// How to configure a [`TestServer`].
///
/// Defaults (written to `postgresql.conf` before `extra_conf`, so a later
/// [`ServerOptions::conf`] line overrides them): `listen_addresses = '127.0.0.1'`,
/// `max_connections = 50`, `shared_buffers = 32MB`, `fsync = off`,
/// `shared_preload_libraries = 'pg_stat_statements'`, `pg_stat_statements.track = all`,
/// `track_io_timing = on`, `password_encryption = 'scram-sha-256'`; with TLS also
/// `ssl = on` and the generated certificate. Note that rules looking at settings will
/// see these values (for instance `fsync = off`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerOptions {
    /// PostgreSQL major version (13..=18).
    pub major: u32,
    /// Enable TLS with a freshly generated self-signed certificate for `localhost`.
    pub tls: bool,
    /// Extra `postgresql.conf` lines, appended after the defaults.
    pub extra_conf: Vec<String>,
}

impl ServerOptions {
    /// Options for a plain (no TLS) server of `major`.
    pub fn new(major: u32) -> Self {
        ServerOptions {
            major,
            tls: false,
            extra_conf: Vec::new(),
        }
    }

    /// Turns TLS on or off.
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Appends one `postgresql.conf` line, e.g. `"work_mem = '64kB'"`.
    pub fn conf(mut self, line: &str) -> Self {
        self.extra_conf.push(line.to_string());
        self
    }
}

/// A running, throwaway PostgreSQL server in its own temporary directory.
///
/// Authentication: the superuser [`SUPERUSER`] connects without a password over TCP
/// from 127.0.0.1 (`trust`); every other role needs its password (`scram-sha-256`),
/// see [`TestServer::create_role`]. Dropping the server stops it
/// (`pg_ctl stop -m immediate`) and deletes its directory. If the test process dies
/// without dropping it (abort, SIGKILL, a server kept in a `static`), a small watchdog
/// process stops the server and removes the directory within about a second.
#[derive(Debug)]
pub struct TestServer {
    major: u32,
    port: u16,
    bin: PathBuf,
    run_as: Option<RunAs>,
    ca_cert: Option<PathBuf>,
    watchdog: Option<Child>,
    dir: TempDir,
}

impl TestServer {
    /// Initialises and starts a server; blocks until it accepts connections.
    ///
    /// Picks a random free port and retries with another one (up to 5 times) if the
    /// port was taken by a concurrently starting server. On failure the error carries
    /// the tail of the server log.
    pub fn start(opts: ServerOptions) -> Result<TestServer, TestkitError> {
        let major = opts.major;
        let bin = binaries::bin_dir(major).ok_or_else(|| binaries::not_found(major))?;
        let run_as = user::run_as()?;
        if run_as.is_some() {
            user::check_traversable(&bin)?;
        }
        let dir = tempfile::Builder::new()
            .prefix("pgsage-pg")
            .tempdir_in(scratch_root())
            .map_err(|e| TestkitError::io("creating the server's temporary directory", e))?;
        if let Some(r) = run_as {
            r.chown(dir.path())?;
        }
        let data = dir.path().join("data");
        init_data_dir(&bin, run_as, dir.path(), &data)?;
        write_hba(&data)?;
        let ca_cert = if opts.tls {
            Some(write_tls(dir.path(), &data, run_as)?)
        } else {
            None
        };
        write_conf(&data, dir.path(), &opts)?;
        TestServer::launch(major, bin, run_as, ca_cert, dir)
    }

    /// Starts a server whose data directory (`<dir>/data`) is already prepared (a
    /// standby's copy of its primary), with the same binaries and OS user as `like`.
    pub(crate) fn start_prepared(
        like: &TestServer,
        prepare: impl FnOnce(&Path, &Path, Option<RunAs>) -> Result<(), TestkitError>,
    ) -> Result<TestServer, TestkitError> {
        let dir = tempfile::Builder::new()
            .prefix("pgsage-pg")
            .tempdir_in(scratch_root())
            .map_err(|e| TestkitError::io("creating the server's temporary directory", e))?;
        if let Some(r) = like.run_as {
            r.chown(dir.path())?;
        }
        let data = dir.path().join("data");
        prepare(dir.path(), &data, like.run_as)?;
        TestServer::launch(
            like.major,
            like.bin.clone(),
            like.run_as,
            like.ca_cert.clone(),
            dir,
        )
    }

    fn launch(
        major: u32,
        bin: PathBuf,
        run_as: Option<RunAs>,
        ca_cert: Option<PathBuf>,
        dir: TempDir,
    ) -> Result<TestServer, TestkitError> {
        let mut server = TestServer {
            major,
            port: 0,
            bin,
            run_as,
            ca_cert,
            watchdog: None,
            dir,
        };
        server.start_postmaster()?;
        server.watchdog = spawn_watchdog(server.dir.path(), &server.data_dir());
        Ok(server)
    }

    /// Stops the server (`pg_ctl stop -m fast`), keeping its directory until it drops.
    pub(crate) fn stop(&self) -> Result<(), TestkitError> {
        let out = self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"])?;
        if out.status.success() {
            Ok(())
        } else {
            Err(TestkitError::CommandFailed {
                command: "pg_ctl stop -m fast".into(),
                status: out.status.to_string(),
                output: output_text(&out),
            })
        }
    }

    fn start_postmaster(&mut self) -> Result<(), TestkitError> {
        let log = self.log_path();
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.port = free_port()?;
            let out = self.pg_ctl(&[
                "start",
                "-w",
                "-t",
                "60",
                "-l",
                &log.to_string_lossy(),
                "-o",
                &format!("-p {}", self.port),
            ])?;
            if out.status.success() {
                return Ok(());
            }
            let log_tail = self.log_tail(40);
            let port_taken = [
                "could not bind",
                "Address already in use",
                "could not create any TCP/IP sockets",
            ]
            .iter()
            .any(|needle| log_tail.contains(needle));
            if !port_taken || attempt >= START_ATTEMPTS {
                return Err(TestkitError::StartFailed {
                    major: self.major,
                    attempts: attempt,
                    reason: format!("pg_ctl start: {}", output_text(&out)),
                    log,
                    log_tail,
                });
            }
            // Make sure nothing half-started lingers before trying another port.
            let _ = self.pg_ctl(&["stop", "-m", "immediate", "-w", "-t", "10"]);
        }
    }

    /// The major version.
    pub fn major(&self) -> u32 {
        self.major
    }

    /// The host to connect to: always `127.0.0.1`.
    pub fn host(&self) -> &str {
        HOST
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The superuser's name: `postgres` (no password needed over TCP from 127.0.0.1).
    pub fn superuser(&self) -> &str {
        SUPERUSER
    }

    /// A key=value connection string for the superuser:
    /// `host=127.0.0.1 port=N user=postgres dbname=DB sslmode=disable`.
    ///
    /// Later keys override earlier ones, so callers may append e.g. `" sslmode=require"`.
    pub fn dsn(&self, database: &str) -> String {
        format!(
            "host={HOST} port={} user={SUPERUSER} dbname={} sslmode=disable",
            self.port,
            dsn_value(database)
        )
    }

    /// A key=value connection string for `user` with `password` (see [`Self::dsn`]).
    pub fn dsn_as(&self, user: &str, password: &str, database: &str) -> String {
        format!(
            "host={HOST} port={} user={} password={} dbname={} sslmode=disable",
            self.port,
            dsn_value(user),
            dsn_value(password),
            dsn_value(database)
        )
    }

    /// A URL for the superuser: `postgres://postgres@127.0.0.1:N/DB?sslmode=disable`.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@{HOST}:{}/{}?sslmode=disable",
            self.port,
            percent_encode(database)
        )
    }

    /// A URL for `user` with `password` (see [`Self::url`]).
    pub fn url_as(&self, user: &str, password: &str, database: &str) -> String {
        format!(
            "postgres://{}:{}@{HOST}:{}/{}?sslmode=disable",
            percent_encode(user),
            percent_encode(password),
            self.port,
            percent_encode(database)
        )
    }

    /// A new synchronous client connected as the superuser (no TLS).
    ///
    /// Handy for planting problems, e.g. moving it into a thread that holds a
    /// transaction open while the code under test looks at the server.
    pub fn client(&self, database: &str) -> Result<Client, TestkitError> {
        let dsn = self.dsn(database);
        Client::connect(&dsn, NoTls)
            .map_err(|e| TestkitError::pg(format!("connecting with `{dsn}`"), e))
    }

    /// Creates database `name` and installs `pg_stat_statements` in it.
    pub fn create_database(&self, name: &str) -> Result<(), TestkitError> {
        self.create_database_without_extensions(name)?;
        self.execute(name, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    }

    /// Creates database `name` without installing any extension.
    pub fn create_database_without_extensions(&self, name: &str) -> Result<(), TestkitError> {
        self.execute(
            "postgres",
            &format!("CREATE DATABASE {}", quote_ident(name)),
        )
    }

    /// Runs `sql` (one or more statements, simple protocol) as the superuser.
    pub fn execute(&self, database: &str, sql: &str) -> Result<(), TestkitError> {
        self.client(database)?
            .batch_execute(sql)
            .map_err(|e| TestkitError::pg(format!("executing `{sql}` in {database}"), e))
    }

    /// Runs a query returning exactly one row and returns its first column, which must
    /// be a non-NULL `bigint`, `integer` or `smallint`.
    pub fn query_scalar_i64(&self, database: &str, sql: &str) -> Result<i64, TestkitError> {
        let row = self
            .client(database)?
            .query_one(sql, &[])
            .map_err(|e| TestkitError::pg(format!("querying `{sql}` in {database}"), e))?;
        if row.is_empty() {
            return Err(unexpected(sql, "no columns"));
        }
        let value = if let Ok(v) = row.try_get::<_, Option<i64>>(0) {
            v
        } else if let Ok(v) = row.try_get::<_, Option<i32>>(0) {
            v.map(i64::from)
        } else if let Ok(v) = row.try_get::<_, Option<i16>>(0) {
            v.map(i64::from)
        } else {
            return Err(unexpected(
                sql,
                &format!(
                    "column type {} is not an integer type",
                    row.columns()[0].type_()
                ),
            ));
        };
        value.ok_or_else(|| unexpected(sql, "NULL"))
    }

    /// Creates a LOGIN role with a scram-sha-256 `password` and runs
    /// `GRANT <entry> TO <role>` for every entry of `grants`, so an entry may be a role
    /// (`"pg_monitor"`) or a privilege clause (`"SELECT ON ALL TABLES IN SCHEMA public"`).
    pub fn create_role(
        &self,
        name: &str,
        password: &str,
        grants: &[&str],
    ) -> Result<(), TestkitError> {
        let role = quote_ident(name);
        let mut sql = format!(
            "SET password_encryption = 'scram-sha-256';\nCREATE ROLE {role} LOGIN PASSWORD {};\n",
            quote_literal(password)
        );
        for grant in grants {
            let _ = writeln!(sql, "GRANT {grant} TO {role};");
        }
        self.execute("postgres", &sql)
    }

    /// With TLS: the server's self-signed certificate (CN and SAN `localhost`, no IP
    /// SAN), usable by clients as their root certificate. `None` without TLS.
    pub fn ca_cert_path(&self) -> Option<&Path> {
        self.ca_cert.as_deref()
    }

    /// Pushes the cumulative statistics (`pg_stat_*` views) gathered by `client`'s
    /// session so that other sessions can see them.
    ///
    /// Statistics are per backend: this must be called on the session that did the
    /// work, outside a transaction block. On 15+ it runs `pg_stat_force_next_flush()`,
    /// and the backend flushes before it answers. Before 15 the backend sends its
    /// counters to the stats collector when it goes idle at least 500 ms
    /// (`PGSTAT_STAT_INTERVAL`) after its previous report, so this waits out that
    /// interval and runs an empty statement; the collector still processes the message
    /// asynchronously, so readers should poll with [`TestServer::wait_for`]. Ending the
    /// session (dropping the client) also flushes its statistics, on every version.
    pub fn flush_stats(&self, client: &mut Client) -> Result<(), TestkitError> {
        let sql = if self.major >= 15 {
            "SELECT pg_stat_force_next_flush()"
        } else {
            std::thread::sleep(Duration::from_millis(550));
            "SELECT 1"
        };
        client
            .batch_execute(sql)
            .map_err(|e| TestkitError::pg(format!("executing `{sql}`"), e))
    }

    /// Polls `predicate_sql` (a query returning one boolean) in `database` as the
    /// superuser until it returns true, or fails with [`TestkitError::Timeout`].
    ///
    /// Each poll first runs `pg_stat_clear_snapshot()`, so statistics views are re-read.
    pub fn wait_for(
        &self,
        database: &str,
        predicate_sql: &str,
        timeout: Duration,
    ) -> Result<(), TestkitError> {
        let mut client = self.client(database)?;
        let mut failure = None;
        let ok = wait_until(timeout, || {
            let r = client
                .batch_execute("SELECT pg_stat_clear_snapshot()")
                .and_then(|()| {
                    client
                        .query_one(predicate_sql, &[])
                        .and_then(|row| row.try_get::<_, Option<bool>>(0))
                });
            match r {
                Ok(v) => v == Some(true),
                Err(e) => {
                    failure = Some(e);
                    true
                }
            }
        });
        if let Some(e) = failure {
            return Err(TestkitError::pg(
                format!("polling `{predicate_sql}` in {database}"),
                e,
            ));
        }
        if ok {
            Ok(())
        } else {
            Err(TestkitError::Timeout {
                sql: predicate_sql.to_string(),
                timeout,
            })
        }
    }

    /// Restarts the server (`pg_ctl restart -m fast`) on the same port, e.g. after
    /// `ALTER SYSTEM` of a setting that needs a restart.
    pub fn restart(&mut self) -> Result<(), TestkitError> {
        let log = self.log_path();
        let out = self.pg_ctl(&[
            "restart",
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            "-l",
            &log.to_string_lossy(),
        ])?;
        if out.status.success() {
            Ok(())
        } else {
            Err(TestkitError::StartFailed {
                major: self.major,
                attempts: 1,
                reason: format!("pg_ctl restart: {}", output_text(&out)),
                log_tail: self.log_tail(40),
                log,
            })
        }
    }

    /// The directory holding `initdb`, `pg_ctl` and `postgres` used for this server.
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// The data directory (`PGDATA`).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The directory holding the Unix-domain socket (also the server's temp root).
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server log file.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    /// The last `lines` lines of the server log (for diagnostics).
    pub fn log_tail(&self, lines: usize) -> String {
        let text = fs::read_to_string(self.log_path()).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<Output, TestkitError> {
        let mut cmd = server_command(&self.bin.join("pg_ctl"), self.run_as, self.dir.path());
        cmd.arg("-D").arg(self.data_dir()).args(args);
        run(cmd)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        let stopped = self
            .pg_ctl(&["stop", "-m", "immediate", "-w", "-t", "30"])
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !stopped {
            if let Some(pid) = postmaster_pid(&self.data_dir()) {
                let _ = Command::new("kill")
                    .args(["-QUIT", &pid.to_string()])
                    .output();
            }
        }
        // `self.dir` (a TempDir) is removed when the fields drop, after this.
    }
}

/// A command running as the server's OS user, in `cwd`, with a clean PG* environment.
fn server_command(program: &Path, run_as: Option<RunAs>, cwd: &Path) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LC_ALL", "C")
        .env("LANG", "C")
        .current_dir(cwd)
        .stdin(Stdio::null());
    if let Some(r) = run_as {
        r.apply(&mut cmd);
    }
    cmd
}

fn run(mut cmd: Command) -> Result<Output, TestkitError> {
    let line = format!("{cmd:?}");
    cmd.output()
        .map_err(|e| TestkitError::io(format!("running {line}"), e))
}

fn run_checked(cmd: Command) -> Result<(), TestkitError> {
    let line = format!("{cmd:?}");
    let out = run(cmd)?;
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

fn output_text(out: &Output) -> String {
    let mut s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.trim().is_empty() {
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(err.trim());
    }
    s
}

fn initdb(bin: &Path, run_as: Option<RunAs>, cwd: &Path, data: &Path) -> Result<(), TestkitError> {
    let mut cmd = server_command(&bin.join("initdb"), run_as, cwd);
    cmd.arg("-D").arg(data).args([
        "-U",
        SUPERUSER,
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "-N",
    ]);
    run_checked(cmd)
}

/// Fills `data` with a fresh cluster: a copy of a cached pristine `initdb` output when
/// possible (much cheaper than `initdb`), otherwise `initdb` itself.
fn init_data_dir(
    bin: &Path,
    run_as: Option<RunAs>,
    cwd: &Path,
    data: &Path,
) -> Result<(), TestkitError> {
    if std::env::var_os(NO_TEMPLATE_ENV).is_some_and(|v| !v.is_empty()) {
        return initdb(bin, run_as, cwd, data);
    }
    if let Ok(template) = template_dir(bin, run_as) {
        let mut cp = server_command(Path::new("cp"), run_as, cwd);
        cp.arg("-a").arg(&template).arg(data);
        if run_checked(cp).is_ok() {
            return Ok(());
        }
        let _ = fs::remove_dir_all(data);
    }
    initdb(bin, run_as, cwd, data)
}

/// A pristine `initdb` output for `bin`, shared by all test processes of this OS user.
///
/// Lives in `<scratch root>/pgsage-testkit-<uid>/`, keyed by the binaries and the day (so a
/// template is never old enough for tmp cleaners to have pruned it). Created in a
/// private directory and renamed into place, so a visible template is complete.
fn template_dir(bin: &Path, run_as: Option<RunAs>) -> Result<PathBuf, TestkitError> {
    let postgres = fs::metadata(bin.join("postgres"))
        .map_err(|e| TestkitError::io(format!("stat {}", bin.join("postgres").display()), e))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let day = now.as_secs() / 86_400;
    let mut h = DefaultHasher::new();
    (
        TEMPLATE_FORMAT,
        bin,
        postgres.len(),
        postgres.mtime(),
        postgres.mtime_nsec(),
    )
        .hash(&mut h);
    let key = format!("{:016x}-{day}", h.finish());

    let uid = run_as.map_or_else(
        || fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0),
        |r| r.uid,
    );
    let root = scratch_root().join(format!("pgsage-testkit-{uid}"));
    if !root.is_dir() {
        fs::create_dir_all(&root)
            .map_err(|e| TestkitError::io(format!("creating {}", root.display()), e))?;
        let _ = fs::set_permissions(&root, fs::Permissions::from_mode(0o700));
        if let Some(r) = run_as {
            r.chown(&root)?;
        }
    }
    let template = root.join(&key);
    if template.join("PG_VERSION").is_file() {
        return Ok(template);
    }
    prune_templates(&root, day);
    let tmp = root.join(format!(
        ".{key}-{}-{}",
        std::process::id(),
        now.subsec_nanos()
    ));
    if let Err(e) = initdb(bin, run_as, &root, &tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    match fs::rename(&tmp, &template) {
        Ok(()) => Ok(template),
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            if template.join("PG_VERSION").is_file() {
                Ok(template) // another process won the race
            } else {
                Err(TestkitError::io(
                    format!("renaming template into {}", template.display()),
                    e,
                ))
            }
        }
    }
}

/// Where server directories and templates go (see [`SCRATCH_ENV`]).
fn scratch_root() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        if let Some(dir) = std::env::var_os(SCRATCH_ENV).filter(|v| !v.is_empty()) {
            return PathBuf::from(dir);
        }
        let shm = Path::new("/dev/shm");
        if shm_usable(shm) {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        }
    })
    .clone()
}

/// Whether `dir` is a directory with at least 2 GiB available (per `df`).
fn shm_usable(dir: &Path) -> bool {
    if !dir.is_dir() {
        return false;
    }
    let Ok(out) = Command::new("df")
        .arg("-Pk")
        .arg(dir)
        .stdin(Stdio::null())
        .output()
    else {
        return false;
    };
    // "Filesystem 1024-blocks Used Available Capacity Mounted-on" then one data line.
    let text = String::from_utf8_lossy(&out.stdout);
    let available_kib = text
        .lines()
        .nth(1)
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|v| v.parse::<u64>().ok());
    out.status.success() && available_kib.is_some_and(|kib| kib >= 2 * 1024 * 1024)
}

/// Removes templates from earlier days (best effort).
fn prune_templates(root: &Path, today: u64) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let day = name.rsplit('-').next().and_then(|d| d.parse::<u64>().ok());
        if !name.starts_with('.') && day.is_some_and(|d| d + 1 < today) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn write_hba(data: &Path) -> Result<(), TestkitError> {
    // `host` lines match both TLS and plain TCP connections, so they also cover
    // what `hostssl` lines would on a TLS server.
    let hba = "\
# pgsage-testkit
local all all                 trust
host  all postgres 127.0.0.1/32 trust
host  replication postgres 127.0.0.1/32 trust
host  all all      127.0.0.1/32 scram-sha-256
";
    let path = data.join("pg_hba.conf");
    fs::write(&path, hba).map_err(|e| TestkitError::io(format!("writing {}", path.display()), e))
}

fn write_conf(data: &Path, socket_dir: &Path, opts: &ServerOptions) -> Result<(), TestkitError> {
    let mut conf = String::from("\n# --- pgsage-testkit ---\n");
    let socket = socket_dir.to_string_lossy().replace('\'', "''");
    for line in [
        "listen_addresses = '127.0.0.1'",
        &format!("unix_socket_directories = '{socket}'"),
        "max_connections = 50",
        "shared_buffers = 32MB",
        "fsync = off",
        "shared_preload_libraries = 'pg_stat_statements'",
        "pg_stat_statements.track = all",
        "track_io_timing = on",
        "password_encryption = 'scram-sha-256'",
    ] {
        conf.push_str(line);
        conf.push('\n');
    }
    if opts.tls {
        conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
    }
    if !opts.extra_conf.is_empty() {
        conf.push_str("# --- extra ---\n");
        for line in &opts.extra_conf {
            conf.push_str(line);
            conf.push('\n');
        }
    }
    let path = data.join("postgresql.conf");
    fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(conf.as_bytes()))
        .map_err(|e| TestkitError::io(format!("appending to {}", path.display()), e))
}

/// Writes `server.crt`/`server.key` into `data` and a client copy of the certificate
/// into `dir`; returns the client copy's path.
fn write_tls(dir: &Path, data: &Path, run_as: Option<RunAs>) -> Result<PathBuf, TestkitError> {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, "localhost");
    params.distinguished_name = dn;
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    let cert_pem = cert.pem();

    let write = |path: &Path, contents: &str, mode: u32| -> Result<(), TestkitError> {
        fs::write(path, contents)
            .map_err(|e| TestkitError::io(format!("writing {}", path.display()), e))?;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(|e| TestkitError::io(format!("chmod {}", path.display()), e))?;
        if let Some(r) = run_as {
            r.chown(path)?;
        }
        Ok(())
    };
    write(&data.join("server.crt"), &cert_pem, 0o644)?;
    write(&data.join("server.key"), &key.serialize_pem(), 0o600)?;
    let client_copy = dir.join("root.crt");
    write(&client_copy, &cert_pem, 0o644)?;
    Ok(client_copy)
}

/// A port that was free a moment ago (the kernel's pick for port 0).
fn free_port() -> Result<u16, TestkitError> {
    TcpListener::bind((HOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| TestkitError::io("finding a free port", e))
}

fn postmaster_pid(data: &Path) -> Option<u32> {
    fs::read_to_string(data.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

const WATCHDOG_SCRIPT: &str = r#"
parent=$1; data=$2; dir=$3
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
pm=$(head -n 1 "$data/postmaster.pid" 2>/dev/null)
if [ -n "$pm" ]; then
  kill -QUIT "$pm" 2>/dev/null
  i=0
  while kill -0 "$pm" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i+1)); done
fi
rm -rf "$dir"
"#;

/// Starts a process (in its own process group, so it survives the test runner
/// killing ours) that stops the server and removes `dir` once this process is gone.
fn spawn_watchdog(dir: &Path, data: &Path) -> Option<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG_SCRIPT)
        .arg("pgsage-testkit-watchdog")
        .arg(std::process::id().to_string())
        .arg(data)
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()
}

fn unexpected(sql: &str, message: &str) -> TestkitError {
    TestkitError::Unexpected {
        sql: sql.to_string(),
        message: message.to_string(),
    }
}

/// Quotes an SQL identifier: `a"b` becomes `"a""b"`.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes an SQL string literal: `it's` becomes `'it''s'`.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A value for a key=value connection string, quoted when needed.
fn dsn_value(value: &str) -> String {
    if !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\')
    {
        return value.to_string();
    }
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn percent_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
