//! Physical streaming standbys of a [`TestServer`].
//!
//! ```no_run
//! use pgsage_testkit::{require_server, StandbyOptions};
//!
//! let primary = require_server(17).unwrap();
//! let standby = primary
//!     .start_standby(&StandbyOptions::new("replica_a").slot("replica_a"))
//!     .unwrap(); // streaming when this returns
//! standby.pause_replay().unwrap(); // replay lag grows while the primary writes
//! standby.stop().unwrap(); // the slot becomes inactive
//! ```
//!
//! The base backup is taken with the SQL backup API (`pg_backup_start`/`pg_backup_stop`,
//! `pg_start_backup`/`pg_stop_backup` before 15, non-exclusive) and a file copy of the
//! primary's data directory, leaving out what `pg_basebackup` leaves out. This is what
//! `pg_basebackup` does on the server's side; it needs no client binaries, which the
//! relocatable server packages the testkit uses do not ship. The copy is configured as
//! `pg_basebackup -R` would: `standby.signal`, `primary_conninfo` (with the standby's
//! `application_name`) and `primary_slot_name`.

use std::fs;
use std::io::ErrorKind;
use std::ops::Deref;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::server::TestServer;
use crate::user::RunAs;
use crate::{quote_literal, TestkitError, HOST, SUPERUSER};

/// How long to wait for a standby to connect, catch up or pause.
const STANDBY_TIMEOUT: Duration = Duration::from_secs(60);

/// How to create a standby (see [`TestServer::start_standby`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StandbyOptions {
    /// The `application_name` the standby connects with: its name in
    /// `pg_stat_replication` and `synchronous_standby_names`.
    pub application_name: String,
    /// A physical replication slot to create on the primary (before the backup, so it
    /// holds every WAL segment the standby needs) and stream from.
    pub slot: Option<String>,
    /// Make it the primary's synchronous standby (`synchronous_standby_names`), once it
    /// streams.
    pub synchronous: bool,
    /// Extra `postgresql.conf` lines for the standby (after the primary's).
    pub extra_conf: Vec<String>,
}

impl StandbyOptions {
    /// An asynchronous standby named `application_name`, without a slot.
    pub fn new(application_name: &str) -> Self {
        StandbyOptions {
            application_name: application_name.to_owned(),
            slot: None,
            synchronous: false,
            extra_conf: Vec::new(),
        }
    }

    /// Streams from physical slot `name`, created on the primary.
    pub fn slot(mut self, name: &str) -> Self {
        self.slot = Some(name.to_owned());
        self
    }

    /// Makes it synchronous.
    pub fn synchronous(mut self, on: bool) -> Self {
        self.synchronous = on;
        self
    }

    /// Appends one `postgresql.conf` line for the standby.
    pub fn conf(mut self, line: &str) -> Self {
        self.extra_conf.push(line.to_owned());
        self
    }
}

/// A running hot standby streaming from a [`TestServer`]. It dereferences to its own
/// [`TestServer`] (connection strings, clients, `execute`, `wait_for` on the standby).
/// Dropping it stops it and deletes its directory; the slot, if any, stays on the
/// primary (which is throwaway too).
#[derive(Debug)]
pub struct Standby {
    server: TestServer,
    application_name: String,
    slot: Option<String>,
    stopped: AtomicBool,
}

impl Deref for Standby {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.server
    }
}

impl TestServer {
    /// Creates a physical standby of this server from a fresh base backup, starts it
    /// (as the same OS user) and waits until `pg_stat_replication` shows it streaming
    /// (and, when synchronous, listed as `sync`).
    ///
    /// The testkit's servers allow the superuser's replication connections from
    /// 127.0.0.1 and keep the defaults `wal_level = replica` and `max_wal_senders = 10`;
    /// a server configured with `wal_level = minimal` cannot have standbys.
    pub fn start_standby(&self, opts: &StandbyOptions) -> Result<Standby, TestkitError> {
        if let Some(slot) = &opts.slot {
            self.execute(
                "postgres",
                &format!(
                    "SELECT pg_create_physical_replication_slot({}, true)",
                    quote_literal(slot)
                ),
            )?;
        }
        let server = TestServer::start_prepared(self, |dir, data, run_as| {
            self.base_backup(data, run_as)?;
            configure(self, opts, dir, data, run_as)
        })?;
        let standby = Standby {
            server,
            application_name: opts.application_name.clone(),
            slot: opts.slot.clone(),
            stopped: AtomicBool::new(false),
        };
        let name = quote_literal(&opts.application_name);
        self.wait_for(
            "postgres",
            &format!(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_replication \
                 WHERE application_name = {name} AND state = 'streaming')"
            ),
            STANDBY_TIMEOUT,
        )
        .map_err(|e| standby.explain(e))?;
        if opts.synchronous {
            self.execute(
                "postgres",
                &format!(
                    "ALTER SYSTEM SET synchronous_standby_names = {}",
                    quote_literal(&crate::quote_ident(&opts.application_name))
                ),
            )?;
            self.execute("postgres", "SELECT pg_reload_conf()")?;
            self.wait_for(
                "postgres",
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_replication \
                     WHERE application_name = {name} AND sync_state = 'sync')"
                ),
                STANDBY_TIMEOUT,
            )
            .map_err(|e| standby.explain(e))?;
        }
        Ok(standby)
    }

    /// Copies the data directory between `pg_backup_start` and `pg_backup_stop` (one
    /// session) and writes the `backup_label` the stop returns.
    fn base_backup(&self, data: &Path, run_as: Option<RunAs>) -> Result<(), TestkitError> {
        let mut client = self.client("postgres")?;
        let (start, stop) = if self.major() >= 15 {
            (
                "SELECT pg_backup_start('pgsage-testkit standby', true)",
                "SELECT labelfile, spcmapfile FROM pg_backup_stop(false)",
            )
        } else {
            (
                "SELECT pg_start_backup('pgsage-testkit standby', true, false)",
                "SELECT labelfile, spcmapfile FROM pg_stop_backup(false, false)",
            )
        };
        client
            .batch_execute(start)
            .map_err(|e| TestkitError::pg(start, e))?;
        let copied = copy_data_dir(&self.data_dir(), data, Path::new(""), run_as);
        let row = client
            .query_one(stop, &[])
            .map_err(|e| TestkitError::pg(stop, e))?;
        copied?;
        let label: String = row.try_get(0).map_err(|e| TestkitError::pg(stop, e))?;
        let map: Option<String> = row.try_get(1).map_err(|e| TestkitError::pg(stop, e))?;
        write_file(&data.join("backup_label"), &label, run_as)?;
        if let Some(map) = map.filter(|m| !m.is_empty()) {
            write_file(&data.join("tablespace_map"), &map, run_as)?;
        }
        Ok(())
    }
}

/// What `pg_basebackup -R` writes, plus the standby's own socket directory.
fn configure(
    primary: &TestServer,
    opts: &StandbyOptions,
    dir: &Path,
    data: &Path,
    run_as: Option<RunAs>,
) -> Result<(), TestkitError> {
    write_file(&data.join("standby.signal"), "", run_as)?;
    let conninfo = format!(
        "host={HOST} port={} user={SUPERUSER} application_name={}",
        primary.port(),
        opts.application_name
    );
    let mut auto = String::from("\n# --- pgsage-testkit standby ---\n");
    auto.push_str(&format!(
        "primary_conninfo = {}\n",
        quote_literal(&conninfo)
    ));
    if let Some(slot) = &opts.slot {
        auto.push_str(&format!("primary_slot_name = {}\n", quote_literal(slot)));
    }
    append_file(&data.join("postgresql.auto.conf"), &auto)?;
    let mut conf = String::from("\n# --- pgsage-testkit standby ---\n");
    conf.push_str(&format!(
        "unix_socket_directories = {}\n",
        quote_literal(&dir.to_string_lossy())
    ));
    conf.push_str("hot_standby = on\n");
    for line in &opts.extra_conf {
        conf.push_str(line);
        conf.push('\n');
    }
    append_file(&data.join("postgresql.conf"), &conf)
}

impl Standby {
    /// The `application_name` it streams with.
    pub fn application_name(&self) -> &str {
        &self.application_name
    }

    /// The physical slot it streams from, if any.
    pub fn slot(&self) -> Option<&str> {
        self.slot.as_deref()
    }

    /// Pauses WAL replay (`pg_wal_replay_pause()`) and waits until it is paused: the
    /// standby keeps receiving WAL but stops applying it, so its replay lag grows while
    /// the primary writes.
    pub fn pause_replay(&self) -> Result<(), TestkitError> {
        self.execute("postgres", "SELECT pg_wal_replay_pause()")?;
        let paused = if self.major() >= 14 {
            "SELECT pg_get_wal_replay_pause_state() = 'paused'"
        } else {
            "SELECT pg_is_wal_replay_paused()"
        };
        self.wait_for("postgres", paused, STANDBY_TIMEOUT)
    }

    /// Resumes WAL replay (`pg_wal_replay_resume()`).
    pub fn resume_replay(&self) -> Result<(), TestkitError> {
        self.execute("postgres", "SELECT pg_wal_replay_resume()")
    }

    /// Stops the standby (`pg_ctl stop -m fast`): it disappears from the primary's
    /// `pg_stat_replication` and its slot, if any, becomes inactive. Its directory stays
    /// until it drops.
    pub fn stop(&self) -> Result<(), TestkitError> {
        self.server.stop()?;
        self.stopped.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Whether [`Standby::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Waits until the standby has received and flushed everything the primary has
    /// written so far (`flush_lsn` in the primary's `pg_stat_replication`), and with
    /// `replayed` also applied it (`replay_lsn`).
    pub fn wait_caught_up(&self, primary: &TestServer, replayed: bool) -> Result<(), TestkitError> {
        let target = primary.query_text("postgres", "SELECT pg_current_wal_lsn()::text")?;
        let column = if replayed { "replay_lsn" } else { "flush_lsn" };
        primary
            .wait_for(
                "postgres",
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_replication \
                     WHERE application_name = {} AND {column} >= {}::pg_lsn)",
                    quote_literal(&self.application_name),
                    quote_literal(&target)
                ),
                STANDBY_TIMEOUT,
            )
            .map_err(|e| self.explain(e))
    }

    /// Adds the tail of the standby's log to a failure.
    fn explain(&self, e: TestkitError) -> TestkitError {
        TestkitError::Scenario(format!(
            "standby `{}`: {e}\n--- tail of the standby's log ---\n{}",
            self.application_name,
            self.log_tail(30)
        ))
    }
}

impl TestServer {
    /// Runs a query returning one non-NULL text value.
    fn query_text(&self, database: &str, sql: &str) -> Result<String, TestkitError> {
        self.client(database)?
            .query_one(sql, &[])
            .and_then(|row| row.try_get::<_, String>(0))
            .map_err(|e| TestkitError::pg(format!("querying `{sql}` in {database}"), e))
    }
}

/// Files `pg_basebackup` leaves out (relative to the data directory).
const SKIPPED_FILES: &[&str] = &[
    "postmaster.pid",
    "postmaster.opts",
    "backup_label",
    "tablespace_map",
    "backup_manifest",
    "current_logfiles",
    "standby.signal",
    "recovery.signal",
];

/// Directories whose contents `pg_basebackup` leaves out (kept empty).
const EMPTIED_DIRS: &[&str] = &[
    "pg_replslot",
    "pg_dynshmem",
    "pg_notify",
    "pg_serial",
    "pg_snapshots",
    "pg_stat_tmp",
    "pg_subtrans",
    "pg_wal/archive_status",
    "pg_wal/summaries",
];

/// Copies `from` (a running cluster's data directory) into `to`, skipping what a base
/// backup skips and files that vanish during the copy. Files written while it copies
/// are repaired by WAL replay from the backup's start.
fn copy_data_dir(
    from: &Path,
    to: &Path,
    rel: &Path,
    run_as: Option<RunAs>,
) -> Result<(), TestkitError> {
    let io = |what: &str, p: &Path, e| TestkitError::io(format!("{what} {}", p.display()), e);
    fs::create_dir(to).map_err(|e| io("creating", to, e))?;
    fs::set_permissions(to, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .map_err(|e| io("chmod", to, e))?;
    if let Some(r) = run_as {
        r.chown(to)?;
    }
    if EMPTIED_DIRS.iter().any(|d| Path::new(d) == rel) {
        return Ok(());
    }
    let entries = match fs::read_dir(from) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io("reading", from, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| io("reading", from, e))?;
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        let rel_child = rel.join(&name);
        if (rel.as_os_str().is_empty() && SKIPPED_FILES.contains(&name_str.as_ref()))
            || name_str.starts_with("pgsql_tmp")
            || name_str == "pg_internal.init"
        {
            continue;
        }
        let src = entry.path();
        let dst = to.join(&name);
        let Ok(meta) = fs::symlink_metadata(&src) else {
            continue; // vanished
        };
        if meta.is_dir() {
            copy_data_dir(&src, &dst, &rel_child, run_as)?;
        } else if meta.is_file() {
            match fs::copy(&src, &dst) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(io("copying", &src, e)),
            }
            if let Some(r) = run_as {
                r.chown(&dst)?;
            }
        }
        // Symlinks (tablespaces, a relocated pg_wal) are not used by test servers.
    }
    Ok(())
}

fn write_file(path: &Path, text: &str, run_as: Option<RunAs>) -> Result<(), TestkitError> {
    fs::write(path, text)
        .map_err(|e| TestkitError::io(format!("writing {}", path.display()), e))?;
    fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .map_err(|e| TestkitError::io(format!("chmod {}", path.display()), e))?;
    if let Some(r) = run_as {
        r.chown(path)?;
    }
    Ok(())
}

fn append_file(path: &Path, text: &str) -> Result<(), TestkitError> {
    use std::io::Write as _;
    fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| TestkitError::io(format!("appending to {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::StandbyOptions;
    use crate::{require_server, test_majors};

    #[test]
    fn standby_streams_pauses_and_stops() {
        for major in test_majors() {
            let Some(primary) = require_server(major) else {
                continue;
            };
            let standby = primary
                .start_standby(&StandbyOptions::new("replica_t").slot("replica_t"))
                .unwrap_or_else(|e| panic!("PostgreSQL {major}: {e}"));
            let in_recovery = standby
                .query_scalar_i64("postgres", "SELECT pg_is_in_recovery()::int")
                .expect("standby test step");
            assert_eq!(in_recovery, 1, "PostgreSQL {major}");
            standby.pause_replay().expect("standby test step");
            primary
                .execute(
                    "postgres",
                    "CREATE TABLE t AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 20000) g",
                )
                .expect("standby test step");
            standby
                .wait_caught_up(&primary, false)
                .expect("standby test step");
            let lag = primary
                .query_scalar_i64(
                    "postgres",
                    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::int8 \
                     FROM pg_stat_replication WHERE application_name = 'replica_t'",
                )
                .expect("standby test step");
            assert!(lag > 4 << 20, "PostgreSQL {major}: replay lag {lag}");
            standby.resume_replay().expect("standby test step");
            standby
                .wait_caught_up(&primary, true)
                .expect("standby test step");
            let rows = standby
                .query_scalar_i64("postgres", "SELECT count(*) FROM t")
                .expect("standby test step");
            assert_eq!(rows, 20000);
            standby.stop().expect("standby test step");
            primary
                .wait_for(
                    "postgres",
                    "SELECT NOT active FROM pg_replication_slots WHERE slot_name = 'replica_t'",
                    std::time::Duration::from_secs(30),
                )
                .expect("standby test step");
        }
    }
}
