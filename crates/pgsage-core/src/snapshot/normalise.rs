//! Normalising a snapshot before it is stored in the repository (the rules' fixtures, the
//! demo), so that capturing the same server state again gives the same file except for
//! what really changed. Nothing a rule or the tuner computes changes:
//!
//! - every timestamp moves by the same amount ([`Snapshot::shift_times`]) so that
//!   `collected_at` becomes [`normalised_collected_at`]; every age, uptime and window
//!   stays exactly what it was;
//! - the throwaway server's random port becomes [`NORMALISED_PORT`] (`server.port` and the
//!   `port` setting, which no rule reads);
//! - the test server's random temporary directory (`/dev/shm/pgsage-pgH6mW9R`, made by
//!   `pgsage-testkit`) in path settings (`data_directory`, `config_file`, `hba_file`,
//!   `ident_file`, `unix_socket_directories`, none of them read by a rule) becomes
//!   [`NORMALISED_SERVER_DIR`].
//!
//! `scripts/compare-audits.py` checks on every fixture that the audit and the tuning advice
//! are the same before and after.

use chrono::{DateTime, TimeDelta, Utc};

use super::{
    ArchiverStats, Backend, Baseline, CheckpointerStats, DatabaseStats, Index, PreparedXact,
    ServerInfo, Snapshot, Statements, Table, WalStats,
};

/// The port a normalised snapshot shows for the server (when it shows one at all).
pub const NORMALISED_PORT: u16 = 5432;

/// What the test server's temporary directory becomes in a normalised snapshot's settings.
pub const NORMALISED_SERVER_DIR: &str = "/tmp/pgsage-pgXXXXXX";

/// The `collected_at` of a normalised snapshot: 2026-01-01T00:00:00Z.
pub fn normalised_collected_at() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + TimeDelta::seconds(1_767_225_600)
}

impl Snapshot {
    /// Moves every timestamp of the snapshot, its baseline's included, by `delta`. Ages,
    /// uptimes and sampling windows (differences between timestamps) do not change.
    ///
    /// Every struct of the model that holds a timestamp is destructured without `..`, so a
    /// new field (or a new section of the snapshot) does not compile until it is decided
    /// here whether it holds a timestamp.
    ///
    /// Panics if a timestamp would leave chrono's range (about ±262,000 years).
    pub fn shift_times(&mut self, delta: TimeDelta) {
        let Snapshot {
            snapshot_version: _,
            tool: _,
            collected_at,
            redacted: _,
            server,
            host: _,
            gaps: _,
            settings: _,
            databases,
            activity,
            lock_waits: _,
            vacuum_progress: _,
            checkpointer,
            wal,
            archiver,
            io: _,
            replication: _,
            replication_slots: _,
            standby: _,
            prepared_xacts,
            roles: _,
            provider_roles: _,
            provider_settings: _,
            tables,
            indexes,
            foreign_keys: _,
            sequences: _,
            extensions: _,
            columns: _,
            constraints: _,
            triggers: _,
            erp,
            wal_lsn_bytes: _,
            statements,
            baseline,
            other_databases,
        } = self;
        *collected_at += delta;
        shift_server(server, delta);
        databases.iter_mut().for_each(|d| shift_database(d, delta));
        activity.iter_mut().for_each(|b| shift_backend(b, delta));
        checkpointer
            .iter_mut()
            .for_each(|c| shift_checkpointer(c, delta));
        wal.iter_mut().for_each(|w| shift_wal(w, delta));
        archiver.iter_mut().for_each(|a| shift_archiver(a, delta));
        prepared_xacts
            .iter_mut()
            .for_each(|p| shift_prepared(p, delta));
        tables.iter_mut().for_each(|t| shift_table(t, delta));
        indexes.iter_mut().for_each(|i| shift_index(i, delta));
        statements
            .iter_mut()
            .for_each(|s| shift_statements(s, delta));
        baseline.iter_mut().for_each(|b| shift_baseline(b, delta));
        erp.iter_mut().for_each(|e| shift_erp(e, delta));
        for d in other_databases {
            d.erp.iter_mut().for_each(|e| shift_erp(e, delta));
            shift(&mut d.collected_at, delta);
            d.tables.iter_mut().for_each(|t| shift_table(t, delta));
            d.indexes.iter_mut().for_each(|i| shift_index(i, delta));
        }
    }

    /// Normalises what changes on every capture of the same state without meaning
    /// anything (see the module documentation): the timestamps are shifted so that
    /// `collected_at` is [`normalised_collected_at`], the port and the test server's
    /// temporary directory get fixed values. Running it again changes nothing.
    pub fn normalise_for_storage(&mut self) {
        let delta = normalised_collected_at() - self.collected_at;
        self.shift_times(delta);
        if let Some(port) = &mut self.server.port {
            *port = NORMALISED_PORT;
        }
        for s in &mut self.settings {
            if s.name == "port" {
                let port = NORMALISED_PORT.to_string();
                s.setting.clone_from(&port);
                if let Some(reset) = &mut s.reset_val {
                    *reset = port;
                }
            }
            for value in std::iter::once(&mut s.setting)
                .chain(s.reset_val.as_mut())
                .chain(s.boot_val.as_mut())
            {
                if value.contains(TEMP_DIR_PREFIX) {
                    *value = normalise_server_dirs(value);
                }
            }
        }
    }
}

fn shift(t: &mut DateTime<Utc>, delta: TimeDelta) {
    *t += delta;
}

fn shift_opt(t: &mut Option<DateTime<Utc>>, delta: TimeDelta) {
    if let Some(t) = t {
        shift(t, delta);
    }
}

fn shift_server(s: &mut ServerInfo, delta: TimeDelta) {
    let ServerInfo {
        version: _,
        version_num: _,
        started_at,
        host: _,
        port: _,
        database: _,
        user: _,
        is_superuser: _,
        can_read_all_stats: _,
        in_recovery: _,
        cluster_name: _,
    } = s;
    shift(started_at, delta);
}

fn shift_database(d: &mut DatabaseStats, delta: TimeDelta) {
    let DatabaseStats {
        oid: _,
        name: _,
        allow_connections: _,
        is_template: _,
        connection_limit: _,
        size_bytes: _,
        frozenxid_age: _,
        minmxid_age: _,
        numbackends: _,
        xact_commit: _,
        xact_rollback: _,
        blks_read: _,
        blks_hit: _,
        tup_returned: _,
        tup_fetched: _,
        tup_inserted: _,
        tup_updated: _,
        tup_deleted: _,
        conflicts: _,
        temp_files: _,
        temp_bytes: _,
        deadlocks: _,
        checksum_failures: _,
        blk_read_time_ms: _,
        blk_write_time_ms: _,
        session_time_ms: _,
        active_time_ms: _,
        idle_in_transaction_time_ms: _,
        sessions: _,
        sessions_abandoned: _,
        sessions_fatal: _,
        sessions_killed: _,
        stats_reset,
    } = d;
    shift_opt(stats_reset, delta);
}

fn shift_backend(b: &mut Backend, delta: TimeDelta) {
    let Backend {
        pid: _,
        backend_type: _,
        database: _,
        user: _,
        application_name: _,
        client_addr: _,
        state: _,
        wait_event_type: _,
        wait_event: _,
        backend_start,
        xact_start,
        query_start,
        state_change,
        backend_xid_age: _,
        backend_xmin_age: _,
        query_id: _,
        leader_pid: _,
        query: _,
    } = b;
    for t in [backend_start, xact_start, query_start, state_change] {
        shift_opt(t, delta);
    }
}

fn shift_checkpointer(c: &mut CheckpointerStats, delta: TimeDelta) {
    let CheckpointerStats {
        checkpoints_timed: _,
        checkpoints_req: _,
        checkpoint_write_time_ms: _,
        checkpoint_sync_time_ms: _,
        buffers_checkpoint: _,
        buffers_clean: _,
        maxwritten_clean: _,
        buffers_backend: _,
        buffers_alloc: _,
        stats_reset,
    } = c;
    shift_opt(stats_reset, delta);
}

fn shift_wal(w: &mut WalStats, delta: TimeDelta) {
    let WalStats {
        wal_records: _,
        wal_fpi: _,
        wal_bytes: _,
        wal_buffers_full: _,
        stats_reset,
    } = w;
    shift_opt(stats_reset, delta);
}

fn shift_archiver(a: &mut ArchiverStats, delta: TimeDelta) {
    let ArchiverStats {
        archived_count: _,
        last_archived_time,
        failed_count: _,
        last_failed_wal: _,
        last_failed_time,
        stats_reset,
    } = a;
    for t in [last_archived_time, last_failed_time, stats_reset] {
        shift_opt(t, delta);
    }
}

fn shift_prepared(p: &mut PreparedXact, delta: TimeDelta) {
    let PreparedXact {
        gid: _,
        prepared,
        owner: _,
        database: _,
        xid_age: _,
    } = p;
    shift(prepared, delta);
}

fn shift_table(t: &mut Table, delta: TimeDelta) {
    let Table {
        oid: _,
        schema: _,
        name: _,
        kind: _,
        persistence: _,
        is_partition: _,
        has_primary_key: _,
        reltuples: _,
        relpages: _,
        relallvisible: _,
        parent_oid: _,
        partition_key: _,
        partition_key_columns: _,
        toast_reloptions: _,
        heap_bytes: _,
        toast_bytes: _,
        indexes_bytes: _,
        frozenxid_age: _,
        minmxid_age: _,
        toast_frozenxid_age: _,
        reloptions: _,
        seq_scan: _,
        seq_tup_read: _,
        idx_scan: _,
        idx_tup_fetch: _,
        n_tup_ins: _,
        n_tup_upd: _,
        n_tup_del: _,
        n_tup_hot_upd: _,
        n_live_tup: _,
        n_dead_tup: _,
        n_mod_since_analyze: _,
        n_ins_since_vacuum: _,
        last_vacuum,
        last_autovacuum,
        last_analyze,
        last_autoanalyze,
        vacuum_count: _,
        autovacuum_count: _,
        analyze_count: _,
        autoanalyze_count: _,
        last_seq_scan,
        last_idx_scan,
        heap_blks_read: _,
        heap_blks_hit: _,
        idx_blks_read: _,
        idx_blks_hit: _,
        toast_blks_read: _,
        toast_blks_hit: _,
    } = t;
    for t in [
        last_vacuum,
        last_autovacuum,
        last_analyze,
        last_autoanalyze,
        last_seq_scan,
        last_idx_scan,
    ] {
        shift_opt(t, delta);
    }
}

fn shift_index(i: &mut Index, delta: TimeDelta) {
    let Index {
        oid: _,
        table_oid: _,
        schema: _,
        table: _,
        name: _,
        definition: _,
        access_method: _,
        key_columns: _,
        key_attnums: _,
        include_columns: _,
        opclasses: _,
        predicate: _,
        is_unique: _,
        is_primary: _,
        is_exclusion: _,
        is_valid: _,
        is_ready: _,
        is_live: _,
        reltuples: _,
        relpages: _,
        reloptions: _,
        constraint_name: _,
        constraint_type: _,
        size_bytes: _,
        idx_scan: _,
        idx_tup_read: _,
        idx_tup_fetch: _,
        idx_blks_read: _,
        idx_blks_hit: _,
        last_idx_scan,
    } = i;
    shift_opt(last_idx_scan, delta);
}

fn shift_statements(s: &mut Statements, delta: TimeDelta) {
    // `Statement` and `StatementTotals` hold no timestamp.
    let Statements {
        extension_version: _,
        stats_reset,
        dealloc: _,
        totals: _,
        top: _,
        usage: _,
    } = s;
    shift_opt(stats_reset, delta);
}

fn shift_baseline(b: &mut Baseline, delta: TimeDelta) {
    let Baseline {
        collected_at,
        databases,
        checkpointer,
        wal,
        tables,
        indexes,
        statements,
        wal_lsn_bytes: _,
    } = b;
    shift(collected_at, delta);
    databases.iter_mut().for_each(|d| shift_database(d, delta));
    checkpointer
        .iter_mut()
        .for_each(|c| shift_checkpointer(c, delta));
    wal.iter_mut().for_each(|w| shift_wal(w, delta));
    tables.iter_mut().for_each(|t| shift_table(t, delta));
    indexes.iter_mut().for_each(|i| shift_index(i, delta));
    statements
        .iter_mut()
        .for_each(|s| shift_statements(s, delta));
}

/// The name `pgsage-testkit` gives its servers' temporary directories, before the random
/// part.
const TEMP_DIR_PREFIX: &str = "pgsage-pg";

/// Replaces, in every absolute path of a setting's value (`unix_socket_directories` is a
/// comma-separated list), everything up to and including a test server's temporary
/// directory with [`NORMALISED_SERVER_DIR`].
fn normalise_server_dirs(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut token = String::new();
    for c in value.chars() {
        if matches!(c, ',' | ' ' | '\'' | '"' | '=') {
            out.push_str(&normalise_path(&token));
            token.clear();
            out.push(c);
        } else {
            token.push(c);
        }
    }
    out.push_str(&normalise_path(&token));
    out
}

fn normalise_path(path: &str) -> String {
    if !path.starts_with('/') {
        return path.to_owned();
    }
    let mut end = 0;
    for component in path.split('/') {
        end += component.len();
        if is_temp_dir(component) {
            return format!("{NORMALISED_SERVER_DIR}{}", &path[end..]);
        }
        end += 1;
    }
    path.to_owned()
}

fn is_temp_dir(component: &str) -> bool {
    component
        .strip_prefix(TEMP_DIR_PREFIX)
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests;

/// The scheduled jobs' times (ages of queue rows are differences: unchanged).
fn shift_erp(e: &mut super::ErpFacts, delta: TimeDelta) {
    for job in &mut e.jobs {
        job.next_run.iter_mut().for_each(|t| shift(t, delta));
        job.last_run.iter_mut().for_each(|t| shift(t, delta));
    }
}
