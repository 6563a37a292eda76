//! The live collector: reads a server's settings, statistics and catalogs into a
//! [`Snapshot`], with version-aware SQL for PostgreSQL 13–18.
//!
//! It is read-only and gentle: one connection, one `REPEATABLE READ READ ONLY`
//! transaction per sample, no DDL, no locks beyond what catalog reads take, and a fixed
//! number of round trips whatever the number of tables (see [`CollectStats`]). What
//! it cannot see (privileges, extensions, versions) becomes a
//! [`Gap`](crate::snapshot::Gap), never an error. The format is documented in
//! `docs/snapshot-format.md`.
//!
//! - [`collect_snapshot`] / [`collect_snapshot_with`]: connect and collect, blocking;
//!   [`collect_snapshot_cancellable`] gives up when another thread asks it to.
//! - [`collect_from_client`]: collect on an already connected client (async).
//!
//! Each section's SQL lives in its own module below.

mod activity;
mod checkpointer;
mod columns;
mod constraints;
mod databases;
mod erp;
mod extensions;
mod foreign_keys;
mod indexes;
mod io;
mod locks;
mod other_databases;
mod pipeline;
mod replication;
mod roles;
mod sequences;
mod server;
mod settings;
mod statements;
mod tables;
mod wal;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_postgres::Client;

use crate::connect::Target;
use crate::snapshot::{
    Baseline, CheckpointerStats, DatabaseStats, Extension, Gap, HostFacts, Index, Snapshot,
    Statements, Table, ToolInfo, WalStats, SNAPSHOT_VERSION,
};
use crate::{ConnectOptions, Error, Result};
use pipeline::{gap, Conn, Plan, Results, Slot};
use statements::Pgss;

/// What to collect.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Keep `pg_stat_activity.query` texts (truncated to `query_text_max` characters).
    pub include_query_text: bool,
    /// Maximum length of a kept query text.
    pub query_text_max: usize,
    /// How many `pg_stat_statements` entries to keep, by total execution time.
    pub statements_top_n: usize,
    /// Take two samples this far apart and keep both (rates instead of lifetime counters).
    pub interval: Option<Duration>,
    /// Host facts given by the user (flags, config); recorded in the snapshot.
    pub host_facts: HostFacts,
    /// When the server is on this machine (Unix socket or loopback address), fill the facts
    /// the user did not give from this machine's cgroup limits and /proc. Turn off when a
    /// loopback address is a tunnel to another host.
    pub probe_local_host: bool,
    /// Which other databases of the cluster to read the per-database sections of
    /// (tables, indexes, …), each over its own connection. Default: none.
    pub databases: DatabaseSelection,
    /// At most this many databases are read at once (`--jobs`); at least 1.
    pub jobs: usize,
}

/// Which databases' sections a collection reads besides the connected one's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DatabaseSelection {
    /// Only the connected database.
    #[default]
    Connected,
    /// Every database the role may connect to (`--all-databases`): not templates, not
    /// databases that refuse connections.
    All,
    /// The databases whose names match one of these glob patterns (`--databases
    /// 'tenant_*,erp'`), the connected database always included.
    Matching(Vec<String>),
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            include_query_text: false,
            query_text_max: 1000,
            statements_top_n: 1000,
            interval: None,
            host_facts: HostFacts::default(),
            probe_local_host: true,
            databases: DatabaseSelection::Connected,
            jobs: 4,
        }
    }
}

/// What a collection cost: for benchmarks, tests and `--verbose` output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CollectStats {
    /// Times the collector waited for the server's answers. Queries are pipelined, so
    /// this is far below `statements`; it depends on the version and on how many
    /// sections failed, never on the number of objects.
    pub round_trips: u32,
    /// Statements sent (queries, savepoints, `BEGIN`/`COMMIT`).
    pub statements: u32,
    /// Connections the collection opened (0 on a client it was given; 1 + one per other
    /// database with `--all-databases`).
    pub connections: u32,
}

impl CollectStats {
    fn add(&mut self, other: CollectStats) {
        self.round_trips += other.round_trips;
        self.statements += other.statements;
        self.connections += other.connections;
    }
}

/// Connects with `options` and collects a snapshot with default [`CollectOptions`].
/// Blocks the calling thread (it runs its own small runtime).
pub fn collect_snapshot(options: &ConnectOptions) -> Result<Snapshot> {
    collect_snapshot_with(options, &CollectOptions::default())
}

/// Connects with `options` and collects what `collect` asks for. Blocking: runs a
/// current-thread tokio runtime, so do not call it from inside an async runtime (use
/// [`crate::connect::connect`] and [`collect_from_client`] there).
pub fn collect_snapshot_with(
    options: &ConnectOptions,
    collect: &CollectOptions,
) -> Result<Snapshot> {
    collect_snapshot_with_stats(options, collect).map(|(snapshot, _)| snapshot)
}

/// [`collect_snapshot_with`], also returning what the collection cost over all its
/// connections (for benchmarks and tests: round trips per database are constant).
pub fn collect_snapshot_with_stats(
    options: &ConnectOptions,
    collect: &CollectOptions,
) -> Result<(Snapshot, CollectStats)> {
    blocking_runtime()?.block_on(connect_and_collect(options, collect))
}

/// How often a cancellable collection looks at its flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// [`collect_snapshot_with`] that gives up as soon as `cancel` becomes true (checked
/// every 50 ms), returning [`pgsage_core::Error::Cancelled`]. For callers that wait on
/// another thread and must stay responsive (Ctrl-C in Python, the index advisor).
pub fn collect_snapshot_cancellable(
    options: &ConnectOptions,
    collect: &CollectOptions,
    cancel: &AtomicBool,
) -> Result<Snapshot> {
    blocking_runtime()?.block_on(async {
        let work = connect_and_collect(options, collect);
        let cancelled = async {
            while !cancel.load(Ordering::Relaxed) {
                tokio::time::sleep(CANCEL_POLL).await;
            }
        };
        tokio::select! {
            result = work => result.map(|(snapshot, _)| snapshot),
            () = cancelled => Err(Error::cancelled("collecting")),
        }
    })
}

/// The current-thread tokio runtime behind every blocking entry point of the library.
pub(crate) fn blocking_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::io("starting the collector's runtime", source))
}

/// Connects, collects and closes the session: the body of every blocking collection.
pub(crate) async fn connect_and_collect(
    options: &ConnectOptions,
    collect: &CollectOptions,
) -> Result<(Snapshot, CollectStats)> {
    let params = crate::connect::resolve(options)?;
    let session = crate::connect::connect_with(&params).await?;
    let collected = collect_on(&session.client, &session.target, collect, Some(&params)).await;
    // A failed polite close changes nothing about what was collected.
    let _ = session.close().await;
    let (mut snapshot, mut stats) = collected?;
    stats.connections += 1;
    stats.add(other_databases::collect(&params, &mut snapshot, collect).await?);
    Ok((snapshot, stats))
}

/// Collects a snapshot over an already connected client. The client must not be in a
/// transaction; it is left outside one.
pub async fn collect_from_client(
    client: &Client,
    target: &Target,
    opts: &CollectOptions,
) -> Result<Snapshot> {
    collect_from_client_with_stats(client, target, opts)
        .await
        .map(|(snapshot, _)| snapshot)
}

/// [`collect_from_client`], also returning what the collection cost.
pub async fn collect_from_client_with_stats(
    client: &Client,
    target: &Target,
    opts: &CollectOptions,
) -> Result<(Snapshot, CollectStats)> {
    collect_on(client, target, opts, None).await
}

/// The collection over `client`; with `helper`, a large database's heaviest sections
/// are read over a second connection opened with those parameters, at the same time.
async fn collect_on(
    client: &Client,
    target: &Target,
    opts: &CollectOptions,
    helper: Option<&crate::connect::ConnectParams>,
) -> Result<(Snapshot, CollectStats)> {
    let mut conn = Conn::new(client);
    let result = collect(&mut conn, target, opts, helper).await;
    if result.is_err() && !client.is_closed() {
        // Leave the client usable; the original error is the one worth reporting.
        let _ = client.batch_execute("ROLLBACK").await;
    }
    result.map(|snapshot| (snapshot, conn.stats))
}

async fn collect(
    conn: &mut Conn<'_>,
    target: &Target,
    opts: &CollectOptions,
    helper: Option<&crate::connect::ConnectParams>,
) -> Result<Snapshot> {
    let baseline = match opts.interval {
        Some(interval) => {
            let baseline = sample_counters(conn, target, opts).await?;
            tokio::time::sleep(interval).await;
            Some(baseline)
        }
        None => None,
    };
    let mut snapshot = sample_full(conn, target, opts, helper).await?;
    snapshot.baseline = baseline;
    // pg_stat_statements keeps `CREATE ROLE … PASSWORD '…'` verbatim and primary_conninfo
    // may hold the replication password: no snapshot file carries them.
    pgsage_core::redact::mask_secrets(&mut snapshot);
    Ok(snapshot)
}

/// One snapshot of the catalogs for the whole sample, and from 15 on one statistics
/// snapshot too (the default, `cache`, snapshots per object; before 15 the
/// transaction's first access already freezes all of them). `set_config` rather than
/// `SET` so that the version test can sit in the same statement.
const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
SELECT CASE WHEN current_setting('server_version_num')::int >= 150000 \
THEN set_config('stats_fetch_consistency', 'snapshot', true) END";
const CLOCK_SQL: &str = "SELECT clock_timestamp() AS now";

/// What every sample learns first, in one round trip with `BEGIN`.
struct Context {
    facts: server::Facts,
    extensions: Vec<Extension>,
    /// `pg_stat_statements`, when installed in a supported version.
    pgss: Option<Pgss>,
    /// Why `pg_stat_statements` is not read, when it is not.
    pgss_gap: Option<String>,
}

impl Context {
    fn major(&self) -> i32 {
        self.facts.info.major()
    }
}

async fn begin(conn: &mut Conn<'_>, target: &Target) -> Result<Context> {
    let (info_row, extension_rows) = conn
        .open(
            BEGIN,
            ("server facts", server::SQL),
            ("extensions", extensions::SQL),
        )
        .await?;
    let query_error = |what: &str, source| Error::query(what, source);
    let facts = server::decode(&info_row, target).map_err(|e| query_error("server facts", e))?;
    let extensions =
        extensions::decode(&extension_rows).map_err(|e| query_error("extensions", e))?;
    let (pgss, pgss_gap) = match extensions.iter().find(|e| e.name == "pg_stat_statements") {
        None => (
            None,
            Some(format!(
                "extension not installed in database {}",
                facts.info.database
            )),
        ),
        Some(e) => {
            let version = extensions::parse_version(&e.version);
            if version < statements::MIN_VERSION {
                (
                    None,
                    Some(format!(
                        "extension version {} is older than 1.8; run ALTER EXTENSION pg_stat_statements UPDATE",
                        e.version
                    )),
                )
            } else {
                (
                    Some(Pgss {
                        schema: e.schema.clone(),
                        version,
                        version_text: e.version.clone(),
                    }),
                    None,
                )
            }
        }
    };
    Ok(Context {
        facts,
        extensions,
        pgss,
        pgss_gap,
    })
}

/// The slots of the counter sections, shared by the baseline and the full sample.
struct CounterSlots {
    databases: Slot,
    checkpointer: Slot,
    wal: Option<Slot>,
    wal_lsn: Slot,
    tables: Slot,
    indexes: Slot,
    statements: Option<Slot>,
    statements_info: Option<Slot>,
    statements_usage: Option<Slot>,
}

fn plan_counters(plan: &mut Plan, cx: &Context, opts: &CollectOptions) -> CounterSlots {
    let major = cx.major();
    CounterSlots {
        databases: plan.add("pg_stat_database", databases::sql(major)),
        checkpointer: plan.add("pg_stat_checkpointer", checkpointer::sql(major).into()),
        wal: (major >= 14).then(|| plan.add("pg_stat_wal", wal::WAL_SQL.into())),
        wal_lsn: plan.add("wal position", wal::lsn_sql(cx.facts.info.in_recovery)),
        tables: plan.add("pg_stat_user_tables", tables::sql(major)),
        indexes: plan.add("pg_stat_user_indexes", indexes::sql(major)),
        statements: cx.pgss.as_ref().map(|p| {
            plan.add(
                "pg_stat_statements",
                statements::sql(p, opts.statements_top_n),
            )
        }),
        statements_info: cx
            .pgss
            .as_ref()
            .filter(|p| p.version >= (1, 9))
            .map(|p| plan.add("pg_stat_statements_info", statements::info_sql(p))),
        statements_usage: cx
            .pgss
            .as_ref()
            .map(|p| plan.add("pg_stat_statements per database", statements::usage_sql(p))),
    }
}

/// The counter sections, decoded; failures and version gaps go to `gaps`.
struct Counters {
    databases: Vec<DatabaseStats>,
    checkpointer: Option<CheckpointerStats>,
    wal: Option<WalStats>,
    wal_lsn_bytes: Option<i64>,
    tables: Vec<Table>,
    /// Tables whose sizes are estimates and whose indexes may be missing: another
    /// session locks them exclusively.
    locked_tables: Vec<String>,
    indexes: Vec<Index>,
    statements: Option<Statements>,
}

fn take_counters(
    results: &mut Results,
    slots: &CounterSlots,
    cx: &Context,
    gaps: &mut Vec<Gap>,
) -> Counters {
    let major = cx.major();
    let wal = match slots.wal {
        Some(slot) => results.take(slot, gaps, wal::decode_wal).flatten(),
        None => {
            gaps.push(gap("pg_stat_wal", "requires PostgreSQL 14+".into()));
            None
        }
    };
    let statements = match (&cx.pgss, slots.statements) {
        (Some(pgss), Some(slot)) => {
            let main_failed = results.failed(slot);
            let main = results.take(slot, gaps, statements::decode);
            let info = match slots.statements_info {
                // When the view itself fails, its companion's failure says nothing new.
                Some(info) if main_failed => {
                    results.discard(info);
                    None
                }
                Some(info) => results.take(info, gaps, statements::decode_info),
                None => {
                    let why = if major < 14 {
                        "requires PostgreSQL 14+ (pg_stat_statements 1.9)".to_owned()
                    } else {
                        format!(
                            "requires pg_stat_statements 1.9+ (installed: {}); run ALTER EXTENSION pg_stat_statements UPDATE",
                            pgss.version_text
                        )
                    };
                    gaps.push(gap("pg_stat_statements_info", why));
                    None
                }
            };
            let usage = match slots.statements_usage {
                Some(usage) if main_failed => {
                    results.discard(usage);
                    None
                }
                Some(usage) => results.take(usage, gaps, statements::decode_usage),
                None => None,
            };
            main.map(|m| statements::assemble(pgss, m, info, usage))
        }
        _ => {
            if let Some(why) = &cx.pgss_gap {
                gaps.push(gap("pg_stat_statements", why.clone()));
            }
            None
        }
    };
    let (mut tables, locked) = results
        .take(slots.tables, gaps, tables::decode)
        .unwrap_or_default();
    let indexes = results.take(slots.indexes, gaps, indexes::decode);
    if let Some(indexes) = &indexes {
        tables::fill_index_sizes(&mut tables, &locked, indexes);
    }
    let locked_tables = locked.into_iter().map(|(_, name)| name).collect();
    Counters {
        databases: results
            .take(slots.databases, gaps, databases::decode)
            .unwrap_or_default(),
        checkpointer: results
            .take(slots.checkpointer, gaps, checkpointer::decode)
            .flatten(),
        wal,
        wal_lsn_bytes: results.take(slots.wal_lsn, gaps, wal::decode_lsn).flatten(),
        tables,
        locked_tables,
        indexes: indexes.unwrap_or_default(),
        statements,
    }
}

fn take_clock(results: &mut Results, slot: Slot, gaps: &mut Vec<Gap>) -> Option<DateTime<Utc>> {
    results.take(slot, gaps, |rows| {
        rows.first().map(|r| r.try_get("now")).transpose()
    })?
}

/// The first sample of an interval collection: counters only, in its own transaction.
async fn sample_counters(
    conn: &mut Conn<'_>,
    target: &Target,
    opts: &CollectOptions,
) -> Result<Baseline> {
    let cx = begin(conn, target).await?;
    let mut plan = Plan::default();
    let slots = plan_counters(&mut plan, &cx, opts);
    let clock = plan.add("clock", CLOCK_SQL.into());
    let mut results = conn.run(plan).await?;
    conn.execute("COMMIT", "COMMIT").await?;
    // The full sample reports the gaps; the baseline's would repeat them.
    let mut ignored = Vec::new();
    let counters = take_counters(&mut results, &slots, &cx, &mut ignored);
    let collected_at = take_clock(&mut results, clock, &mut ignored).unwrap_or_else(Utc::now);
    Ok(Baseline {
        collected_at,
        databases: counters.databases,
        checkpointer: counters.checkpointer,
        wal: counters.wal,
        tables: counters.tables,
        indexes: counters.indexes,
        statements: counters.statements,
        wal_lsn_bytes: counters.wal_lsn_bytes,
    })
}

/// A full sample in one transaction: three round trips (`BEGIN` + facts, the sections,
/// `COMMIT`).
async fn sample_full(
    conn: &mut Conn<'_>,
    target: &Target,
    opts: &CollectOptions,
    helper: Option<&crate::connect::ConnectParams>,
) -> Result<Snapshot> {
    let cx = begin(conn, target).await?;
    let major = cx.major();
    let in_recovery = cx.facts.info.in_recovery;

    let mut plan = Plan::default();
    let counters = plan_counters(&mut plan, &cx, opts);
    let settings = plan.add("pg_settings", settings::SQL.into());
    let activity = plan.add(
        "pg_stat_activity",
        activity::sql(
            major,
            opts.include_query_text.then_some(opts.query_text_max),
        ),
    );
    let lock_waits = plan.add("pg_locks", activity::LOCK_WAITS_SQL.into());
    let vacuum_progress = plan.add(
        "pg_stat_progress_vacuum",
        activity::vacuum_progress_sql(major),
    );
    let archiver = plan.add("pg_stat_archiver", wal::ARCHIVER_SQL.into());
    let io = (major >= 16).then(|| plan.add("pg_stat_io", io::SQL.into()));
    let replication = plan.add("pg_stat_replication", replication::clients_sql(in_recovery));
    let slots = plan.add("pg_replication_slots", replication::slots_sql(in_recovery));
    let standby =
        in_recovery.then(|| plan.add("pg_stat_wal_receiver", replication::standby_sql(major)));
    let prepared = plan.add("pg_prepared_xacts", replication::PREPARED_SQL.into());
    let roles = plan.add("pg_roles", roles::SQL.into());
    let provider_roles = plan.add("provider roles", roles::provider_roles_sql());
    let provider_settings = plan.add("provider settings", roles::provider_settings_sql());
    let foreign_keys = plan.add("foreign keys", foreign_keys::sql());
    let sequences = plan.add("pg_sequences", sequences::sql());
    let columns = plan.add("columns", columns::sql());
    let constraints = plan.add("constraints", constraints::constraints_sql());
    let triggers = plan.add("triggers", constraints::triggers_sql());
    let clock = plan.add("clock", CLOCK_SQL.into());

    let sessions = helper_sessions(&cx, helper).await;
    let results = if sessions.is_empty() {
        conn.run(plan).await
    } else {
        run_with_helpers(conn, &sessions, plan).await
    };
    for (session, _) in sessions {
        // A failed polite close changes nothing about what was collected.
        let _ = session.close().await;
    }
    let mut results = results?;

    let mut gaps = Vec::new();
    let c = take_counters(&mut results, &counters, &cx, &mut gaps);
    let io = match io {
        Some(slot) => results
            .take(slot, &mut gaps, io::decode)
            .unwrap_or_default(),
        None => {
            gaps.push(gap("pg_stat_io", "requires PostgreSQL 16+".into()));
            Vec::new()
        }
    };
    let (sequences, hidden_sequences) = results
        .take(sequences, &mut gaps, sequences::decode)
        .unwrap_or_default();
    let columns = results.take(columns, &mut gaps, columns::decode);
    // An Odoo database's own facts, in the same snapshot: one more round trip, only there.
    let erp = erp::read(
        conn,
        &c.tables,
        columns.as_ref().map_or(&[][..], |c| &c.columns),
        &cx.facts.info.user,
        &mut gaps,
    )
    .await?;
    conn.execute("COMMIT", "COMMIT").await?;
    let databases = c.databases;
    // Name → value: the names are the platform's evidence, the values what its features
    // are set to.
    let provider_settings = results
        .take(
            provider_settings,
            &mut gaps,
            roles::decode_provider_settings,
        )
        .unwrap_or_default();
    let mut snapshot = Snapshot {
        snapshot_version: SNAPSHOT_VERSION,
        tool: ToolInfo::current(),
        collected_at: take_clock(&mut results, clock, &mut gaps).unwrap_or_else(Utc::now),
        redacted: false,
        server: cx.facts.info.clone(),
        host: if opts.probe_local_host && crate::host::is_local(&target.host) {
            opts.host_facts.clone().or(&crate::host::probe_local())
        } else {
            opts.host_facts.clone()
        },
        gaps: Vec::new(),
        settings: results
            .take(settings, &mut gaps, settings::decode)
            .unwrap_or_default(),
        activity: results
            .take(activity, &mut gaps, activity::decode)
            .unwrap_or_default(),
        lock_waits: results
            .take(lock_waits, &mut gaps, activity::decode_lock_waits)
            .unwrap_or_default(),
        vacuum_progress: results
            .take(vacuum_progress, &mut gaps, activity::decode_vacuum_progress)
            .unwrap_or_default(),
        checkpointer: c.checkpointer,
        wal: c.wal,
        archiver: results
            .take(archiver, &mut gaps, wal::decode_archiver)
            .flatten(),
        io,
        replication: results
            .take(replication, &mut gaps, replication::decode_clients)
            .unwrap_or_default(),
        replication_slots: results
            .take(slots, &mut gaps, replication::decode_slots)
            .unwrap_or_default(),
        standby: standby.and_then(|slot| {
            results
                .take(slot, &mut gaps, replication::decode_standby)
                .flatten()
        }),
        prepared_xacts: results
            .take(prepared, &mut gaps, replication::decode_prepared)
            .unwrap_or_default(),
        roles: results
            .take(roles, &mut gaps, roles::decode)
            .unwrap_or_default(),
        provider_roles: results
            .take(provider_roles, &mut gaps, roles::decode_names)
            .unwrap_or_default(),
        provider_settings,
        tables: c.tables,
        indexes: c.indexes,
        foreign_keys: results
            .take(foreign_keys, &mut gaps, foreign_keys::decode)
            .unwrap_or_default(),
        sequences,
        extensions: cx.extensions.clone(),
        statements: c.statements,
        baseline: None,
        databases,
        columns: Vec::new(),
        constraints: results
            .take(constraints, &mut gaps, constraints::decode_constraints)
            .unwrap_or_default(),
        triggers: results
            .take(triggers, &mut gaps, constraints::decode_triggers)
            .unwrap_or_default(),
        erp,
        wal_lsn_bytes: c.wal_lsn_bytes,
        other_databases: Vec::new(),
    };
    visibility_gaps(&cx, &snapshot, &hidden_sequences, &mut gaps);
    if let Some(columns) = columns {
        if columns.hidden_tables > 0 {
            gaps.push(gap("pg_stats", pg_stats_why(&cx.facts.info.user, &columns)));
        }
        snapshot.columns = columns.columns;
    }
    if !c.locked_tables.is_empty() {
        gaps.push(gap("locked relations", locked_why(&c.locked_tables)));
    }
    gaps.sort();
    gaps.dedup();
    snapshot.gaps = gaps;
    // Where it runs, recorded with its evidence unless given.
    if snapshot.host.platform.is_none() {
        snapshot.host.platform = Some(crate::knowledge::platform::detect(&snapshot));
    }
    Ok(snapshot)
}

/// What the other connections read on a large database, one list per connection: the
/// heaviest sections besides the tables' (whose sizes the first connection reads), so
/// that all finish at about the same time (docs/performance.md).
const HELPER_LANES: &[&[&str]] = &[&["columns"], &["pg_stat_user_indexes", "pg_sequences"]];

/// The other connections for a large database (the first exported its snapshot), or
/// none: a small database, a standby, a client given by the caller, or connections that
/// cannot be opened (the limit reached): then the first reads everything, as always.
async fn helper_sessions(
    cx: &Context,
    helper: Option<&crate::connect::ConnectParams>,
) -> Vec<(crate::connect::Session, String)> {
    let (Some(id), Some(params)) = (cx.facts.exported_snapshot.as_ref(), helper) else {
        return Vec::new();
    };
    // An id is hex digits and dashes (`00000003-0000001B-1`); anything else is not sent.
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Vec::new();
    }
    let opened = futures_util::future::join_all(
        HELPER_LANES
            .iter()
            .map(|_| crate::connect::connect_with(params)),
    )
    .await;
    opened
        .into_iter()
        .filter_map(|s| s.ok())
        .map(|s| (s, id.clone()))
        .collect()
}

/// Runs `plan` over the main connection and the helper sessions, each helper in its own
/// `REPEATABLE READ READ ONLY` transaction on the main one's exported snapshot: the same
/// data, read by several backends at once. A helper that cannot import the snapshot is
/// left out.
async fn run_with_helpers(
    conn: &mut Conn<'_>,
    sessions: &[(crate::connect::Session, String)],
    plan: Plan,
) -> Result<Results> {
    let mut helpers = Vec::new();
    for (session, snapshot_id) in sessions {
        let mut helper = Conn::new(&session.client);
        let begin = format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
             SET TRANSACTION SNAPSHOT '{snapshot_id}'; \
             SELECT CASE WHEN current_setting('server_version_num')::int >= 150000 \
             THEN set_config('stats_fetch_consistency', 'snapshot', true) END"
        );
        if helper
            .execute("importing the snapshot", &begin)
            .await
            .is_ok()
        {
            helpers.push(helper);
        }
    }
    let results = conn.run_split(&mut helpers, plan, HELPER_LANES).await;
    for helper in &mut helpers {
        if results.is_ok() {
            helper.execute("COMMIT", "COMMIT").await?;
        }
        conn.stats.add(helper.stats);
        conn.stats.connections += 1;
    }
    results
}

fn pg_stats_why(role: &str, columns: &columns::Decoded) -> String {
    format!(
        "column statistics visible for {} of {} analysed tables: role {role} lacks SELECT on \
         the others (pg_monitor alone cannot read pg_stats), so their null fractions, widths \
         and distinct counts are unknown",
        columns.visible_tables,
        columns.visible_tables + columns.hidden_tables
    )
}

fn locked_why(tables: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut names = tables[..tables.len().min(SHOWN)].join(", ");
    if tables.len() > SHOWN {
        names.push_str(&format!(" and {} more", tables.len() - SHOWN));
    }
    format!(
        "other sessions hold or await ACCESS EXCLUSIVE locks on {} table(s) (or their indexes): \
         {names}; their sizes are estimated from pg_class.relpages and their locked indexes and \
         constraints are missing, rather than waiting for the locks",
        tables.len()
    )
}

/// Sections that were read but are partly hidden from this role (or by locks).
fn visibility_gaps(
    cx: &Context,
    snapshot: &Snapshot,
    hidden_sequences: &sequences::Hidden,
    gaps: &mut Vec<Gap>,
) {
    let role = &cx.facts.info.user;
    // The grant the platform allows (Azure's admin cannot grant pg_monitor on 16+), and
    // who can give it: never a superuser the platform's customers do not have.
    let platform = snapshot
        .host
        .platform
        .clone()
        .unwrap_or_else(|| crate::knowledge::platform::detect(snapshot))
        .value;
    let grant =
        crate::knowledge::platform_privileges::monitoring_grant(platform, snapshot.server.major())
            .advice(role);
    if !cx.facts.info.can_read_all_stats {
        gaps.push(gap(
            "pg_read_all_stats",
            format!(
                "role {role} is not a member of pg_read_all_stats (pg_monitor): other roles' \
                 session states, waits and queries in pg_stat_activity, their statement texts \
                 and queryids in pg_stat_statements and replication details are hidden; to \
                 see them: {grant}"
            ),
        ));
    }
    if !cx.facts.read_all_settings {
        gaps.push(gap(
            "pg_read_all_settings",
            format!(
                "role {role} is not a member of pg_read_all_settings (pg_monitor): \
                 superuser-only settings are missing from pg_settings; to see them: {grant}"
            ),
        ));
    }
    let hidden_sizes = snapshot
        .databases
        .iter()
        .filter(|d| d.size_bytes.is_none())
        .count();
    if hidden_sizes > 0 {
        gaps.push(gap(
            "pg_database_size",
            format!(
                "role {role} lacks CONNECT on {hidden_sizes} database(s) (or pg_read_all_stats): their sizes are unknown"
            ),
        ));
    }
    if let Some(why) = sequences::hidden_why(role, hidden_sequences) {
        gaps.push(gap("sequence last values", why));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Instant;

    #[test]
    fn cancelling_stops_a_collection_that_hangs() {
        // Accepts connections and never answers.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let cancel = AtomicBool::new(false);
        let started = Instant::now();
        let result = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                cancel.store(true, Ordering::Relaxed);
            });
            let mut options = ConnectOptions::new(format!(
                "host=127.0.0.1 port={port} user=x dbname=x sslmode=disable"
            ));
            options.connect_timeout = Duration::from_secs(60);
            collect_snapshot_cancellable(&options, &CollectOptions::default(), &cancel)
        });
        drop(listener);
        match result {
            Err(Error::Core(pgsage_core::Error::Cancelled { what })) => {
                assert_eq!(what, "collecting")
            }
            other => panic!("expected a cancellation, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
