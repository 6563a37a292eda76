use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{ReplicationClient, Snapshot, StandbyStatus};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// On a primary (rows of `pg_stat_replication`):
    /// - a standby (or logical subscriber) behind the current WAL position by at least
    ///   `max_lag_mb` (`replay_lsn`, the furthest-behind position), or by at least
    ///   `max_lag_seconds` of `write_lag`/`flush_lag`/`replay_lag`. Those times are `NULL`
    ///   once an idle standby has caught up, and a standby with nothing left to replay is
    ///   never flagged on a stale time;
    /// - a standby connected but not streaming (`state` `startup`, `catchup` or
    ///   `stopping`; `backup` connections of `pg_basebackup` are not standbys);
    /// - a synchronous standby (`sync_state` `sync`/`quorum`) lagging at the level
    ///   `synchronous_commit` waits for (`remote_write`: written, `on`: flushed,
    ///   `remote_apply`: replayed): every commit waits for it (critical);
    /// - `synchronous_standby_names` asking for more synchronous standbys than are
    ///   connected while `synchronous_commit` waits for them: commits hang (critical).
    ///
    /// On a standby (collected with `pg_is_in_recovery()`): WAL replay paused
    /// (`pg_wal_replay_pause()`), at least `max_lag_mb` received but not replayed, or no
    /// WAL receiver streaming although `primary_conninfo` is set.
    ///
    /// ## Why it matters
    /// A lagging standby serves stale reads (reports, read replicas of an ERP) and loses
    /// the lagging transactions on failover (or needs that long to catch up before it can
    /// take over). A standby with a slot makes the primary keep all the WAL it has not
    /// confirmed, so a stuck one fills the primary's disk. A lagging synchronous standby
    /// slows every commit down, and a missing one stops them all.
    ///
    /// ## How to fix
    /// Find the stage that lags: WAL not sent or not written/flushed points at the network
    /// or the standby's disk; WAL flushed but not replayed points at replay: paused
    /// (`SELECT pg_wal_replay_resume();` on the standby), waiting for standby queries that
    /// conflict with it (long reports; `max_standby_streaming_delay` = -1 waits for ever;
    /// `hot_standby_feedback = on` avoids most cancellations, at the price of bloat on the
    /// primary), or slower I/O on the standby than on the primary. For a synchronous
    /// standby that is down, remove it from `synchronous_standby_names` (reload) to let
    /// commits through, or list several in `ANY 1 (…)`. On managed services, replica lag
    /// is also shown by the provider's metrics; the parameters are set in its portal.
    ///
    /// ## Thresholds
    /// - `max_lag_mb` (default 1024): WAL a standby may be behind (replay position), in MB.
    /// - `max_lag_seconds` (default 300): `write_lag`/`flush_lag`/`replay_lag` a standby
    ///   may show, in seconds.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-REPLICATION-VIEW>
    /// - <https://www.postgresql.org/docs/current/warm-standby.html#STREAMING-REPLICATION>
    /// - <https://www.postgresql.org/docs/current/hot-standby.html#HOT-STANDBY-CONFLICT>
    /// - <https://www.postgresql.org/docs/current/runtime-config-replication.html#GUC-SYNCHRONOUS-STANDBY-NAMES>
    /// - <https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-RECOVERY-CONTROL>
    pub struct ReplicationLag {
        id: "WAL009",
        name: "replication-lag",
        pack: "wal",
        title: "Standby lagging or not streaming",
        params: {
            max_lag_mb: f64 = ("MB", "WAL a standby may be behind (replay position)"),
            max_lag_seconds: f64 = ("s", "write/flush/replay lag a standby may show"),
        },
    }
}

/// Thresholds, in bytes and seconds.
#[derive(Debug, Clone, Copy)]
struct Limits {
    bytes: f64,
    seconds: f64,
}

/// What synchronous replication waits for at commit, from `synchronous_commit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SyncWait {
    None,
    Write,
    Flush,
    Apply,
}

fn sync_wait(synchronous_commit: Option<&str>) -> SyncWait {
    match synchronous_commit.unwrap_or("on") {
        "off" | "local" => SyncWait::None,
        "remote_write" => SyncWait::Write,
        "remote_apply" => SyncWait::Apply,
        _ => SyncWait::Flush,
    }
}

/// How many synchronous standbys `synchronous_standby_names` requires, and whether
/// they are a quorum (`ANY n (…)`). `None` when empty (no synchronous replication).
fn required_sync(names: &str) -> Option<(usize, bool)> {
    let s = names.trim();
    if s.is_empty() {
        return None;
    }
    let (quorum, rest) = match s.split_once(char::is_whitespace) {
        Some((w, rest)) if w.eq_ignore_ascii_case("any") => (true, rest.trim_start()),
        Some((w, rest)) if w.eq_ignore_ascii_case("first") => (false, rest.trim_start()),
        _ => (false, s),
    };
    // `n (a, b)` or `n(a, b)`: a count; a plain list `a, b` means one.
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let after = rest[digits.len()..].trim_start();
    let n = if !digits.is_empty() && after.starts_with('(') {
        digits.parse().unwrap_or(1)
    } else {
        1
    };
    Some((n, quorum))
}

/// Why a standby seen from its primary is flagged, if it is.
#[derive(Debug, Clone, PartialEq)]
struct Lagging {
    /// Bytes behind (replay position, else the furthest-behind one known).
    bytes: Option<i64>,
    /// The largest of the write/flush/replay lag times.
    seconds: Option<f64>,
    /// Over a threshold.
    over: bool,
    /// `state` when it is not `streaming`.
    not_streaming: Option<String>,
    /// Synchronous and lagging at the level commits wait for.
    stalls_commits: bool,
}

fn max_opt(values: &[Option<f64>]) -> Option<f64> {
    values
        .iter()
        .flatten()
        .copied()
        .fold(None, |m, v| Some(m.map_or(v, |m: f64| m.max(v))))
}

/// The predicate for one `pg_stat_replication` row.
fn lagging(c: &ReplicationClient, limits: Limits, wait: SyncWait) -> Option<Lagging> {
    let state = c.state.as_deref().unwrap_or("");
    if state == "backup" {
        return None;
    }
    let bytes = c
        .replay_lag_bytes
        .or(c.flush_lag_bytes)
        .or(c.write_lag_bytes)
        .or(c.sent_lag_bytes);
    // A standby with nothing left to apply is caught up, whatever stale time it shows.
    let behind = bytes.is_some_and(|b| b > 0);
    let seconds = max_opt(&[
        c.write_lag_seconds,
        c.flush_lag_seconds,
        c.replay_lag_seconds,
    ]);
    let over_bytes = |b: Option<i64>| b.is_some_and(|b| b as f64 >= limits.bytes);
    let over_time = |t: Option<f64>| behind && t.is_some_and(|t| t >= limits.seconds);
    let over = over_bytes(bytes) || over_time(seconds);
    let not_streaming = (!state.is_empty() && state != "streaming").then(|| state.to_owned());
    let sync = matches!(c.sync_state.as_deref(), Some("sync" | "quorum"));
    let stalls_commits = sync
        && match wait {
            SyncWait::None => false,
            SyncWait::Write => over_bytes(c.write_lag_bytes) || over_time(c.write_lag_seconds),
            SyncWait::Flush => over_bytes(c.flush_lag_bytes) || over_time(c.flush_lag_seconds),
            SyncWait::Apply => over,
        };
    (over || not_streaming.is_some() || stalls_commits).then_some(Lagging {
        bytes,
        seconds,
        over,
        not_streaming,
        stalls_commits,
    })
}

/// The stage a standby lags at, from its positions.
fn stage(c: &ReplicationClient, limits: Limits) -> &'static str {
    let big = |b: Option<i64>| b.is_some_and(|b| b as f64 >= limits.bytes / 2.0);
    if big(c.sent_lag_bytes) {
        "the primary has not even sent the WAL (walsender or network)"
    } else if big(c.flush_lag_bytes) {
        "WAL is sent but not yet written and flushed by the standby (network or the standby's disk)"
    } else if big(c.replay_lag_bytes) {
        "WAL is received but not replayed (replay paused, waiting for conflicting queries on the standby, or slow I/O there)"
    } else {
        "lag times are high"
    }
}

fn standby_name(c: &ReplicationClient) -> String {
    match c.application_name.as_deref() {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => format!("walsender {}", c.pid),
    }
}

fn opt_i64(v: Option<i64>) -> serde_json::Value {
    v.map_or(serde_json::Value::Null, serde_json::Value::from)
}

fn opt_f64(v: Option<f64>) -> serde_json::Value {
    v.map_or(serde_json::Value::Null, |v| {
        serde_json::Value::from((v * 1000.0).round() / 1000.0)
    })
}

fn primary_finding(c: &ReplicationClient, l: &Lagging, limits: Limits, wait: SyncWait) -> Draft {
    let name = standby_name(c);
    let mut parts = Vec::new();
    if l.over {
        let mut behind = l
            .bytes
            .map_or_else(String::new, |b| format!("{} behind", units::bytes(b)));
        if let Some(t) = l.seconds.filter(|t| *t >= 1.0) {
            if !behind.is_empty() {
                behind.push_str(", ");
            }
            behind.push_str(&format!("lag {}", units::duration(t)));
        }
        parts.push(format!("is {behind}: {}", stage(c, limits)));
    }
    if let Some(state) = &l.not_streaming {
        parts.push(format!(
            "is connected but not streaming (`state` = {state})"
        ));
    }
    if l.stalls_commits {
        parts.push(format!(
            "is a synchronous standby lagging at the level `synchronous_commit` waits for ({}): every commit waits for it",
            match wait {
                SyncWait::Write => "remote_write",
                SyncWait::Apply => "remote_apply",
                _ => "on: flush",
            }
        ));
    }
    let message = format!("Standby `{name}` {}", parts.join("; it "));
    let mut draft = Draft::new(ObjectRef::named(ObjectKind::Server, &name), message)
        .evidence("application_name", name.clone())
        .evidence("state", c.state.clone().unwrap_or_default())
        .evidence("sync_state", c.sync_state.clone().unwrap_or_default())
        .evidence("sent_lag_bytes", opt_i64(c.sent_lag_bytes))
        .evidence("write_lag_bytes", opt_i64(c.write_lag_bytes))
        .evidence("flush_lag_bytes", opt_i64(c.flush_lag_bytes))
        .evidence("replay_lag_bytes", opt_i64(c.replay_lag_bytes))
        .evidence("write_lag_seconds", opt_f64(c.write_lag_seconds))
        .evidence("flush_lag_seconds", opt_f64(c.flush_lag_seconds))
        .evidence("replay_lag_seconds", opt_f64(c.replay_lag_seconds))
        .evidence("reply_age_seconds", opt_f64(c.reply_age_seconds))
        .evidence("max_lag_bytes", limits.bytes)
        .evidence("max_lag_seconds", limits.seconds)
        .recommend(
            "On the standby: check whether replay is paused (SELECT pg_is_wal_replay_paused()) and resume it; look for long queries that replay waits for (max_standby_streaming_delay, hot_standby_feedback); compare its disk and network with the primary's. If it is gone for good, remove it (and its slot)",
        )
        .fix(
            "-- on the standby:\nSELECT pg_is_wal_replay_paused(), pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn();\nSELECT pg_wal_replay_resume();  -- if paused\nSELECT pid, now() - xact_start AS age, state, left(query, 60) FROM pg_stat_activity\nWHERE backend_type = 'client backend' AND xact_start IS NOT NULL ORDER BY age DESC LIMIT 10;\nSHOW max_standby_streaming_delay;",
            "none",
            "pg_stat_replication on the primary: sent_lsn, write_lsn, flush_lsn and replay_lsn closing in on pg_current_wal_lsn(), and replay_lag",
        );
    if l.stalls_commits {
        draft = draft.severity(Severity::Critical);
    } else if !l.over && l.not_streaming.is_some() {
        draft = draft.low_confidence(
            "a standby passes through this state briefly after it (re)connects; check again",
        );
    }
    draft
}

/// `synchronous_standby_names` wants more synchronous standbys than are connected.
fn missing_sync(snap: &Snapshot, wait: SyncWait) -> Option<Draft> {
    if wait == SyncWait::None {
        return None;
    }
    let names = snap.setting("synchronous_standby_names")?;
    let (required, quorum) = required_sync(&names.setting)?;
    let wanted = if quorum { "quorum" } else { "sync" };
    let connected = snap
        .replication
        .iter()
        .filter(|c| c.sync_state.as_deref() == Some(wanted))
        .count();
    (connected < required).then(|| {
        Draft::new(
            ObjectRef::setting("synchronous_standby_names"),
            format!(
                "`synchronous_standby_names` = '{}' needs {required} synchronous standby(s) but {connected} is connected: every commit that writes waits until one comes back",
                names.setting
            ),
        )
        .severity(Severity::Critical)
        .evidence("synchronous_standby_names", names.setting.clone())
        .evidence("required_sync_standbys", required as i64)
        .evidence("connected_sync_standbys", connected as i64)
        .evidence("connected_standbys", snap.replication.len() as i64)
        .evidence(
            "synchronous_commit",
            snap.setting("synchronous_commit")
                .map_or("on".to_owned(), |s| s.setting.clone()),
        )
        .recommend(
            "Bring the synchronous standby back, or let commits through now by emptying synchronous_standby_names (reload) until it is repaired; list several standbys (ANY 1 (a, b)) so one failure does not stop the primary",
        )
        .fix(
            // A stopgap, not a configuration to keep: commented out, and not part of the
            // recommended configuration.
            "-- to let commits through until the standby is back:\n-- ALTER SYSTEM SET synchronous_standby_names = '';\n-- SELECT pg_reload_conf();",
            "reload",
            "sessions waiting on SyncRep in pg_stat_activity (wait_event), and pg_stat_replication.sync_state",
        )
    })
}

/// What the standby itself shows, when collected from a standby.
fn standby_findings(snap: &Snapshot, st: &StandbyStatus, limits: Limits) -> Vec<Draft> {
    let mut drafts = Vec::new();
    let backlog = st.replay_backlog_bytes;
    let paused = st.replay_paused == Some(true);
    let over = backlog.is_some_and(|b| b as f64 >= limits.bytes);
    if paused || over {
        let message = match (paused, backlog) {
            (true, Some(b)) => format!(
                "WAL replay is paused on this standby (`pg_wal_replay_pause()`), with {} received but not applied: reads see data as of the pause",
                units::bytes(b)
            ),
            (true, None) => "WAL replay is paused on this standby (`pg_wal_replay_pause()`): reads see data as of the pause".to_owned(),
            (false, b) => format!(
                "This standby has {} of WAL received but not replayed: replay is waiting for conflicting queries or cannot keep up",
                units::bytes(b.unwrap_or(0) as f64)
            ),
        };
        drafts.push(
            Draft::new(ObjectRef::named(ObjectKind::Server, "wal_replay"), message)
                .evidence("replay_paused", st.replay_paused.map_or(serde_json::Value::Null, serde_json::Value::from))
                .evidence("replay_backlog_bytes", opt_i64(backlog))
                .evidence("last_replay_age_seconds", opt_f64(st.last_replay_age_seconds))
                .evidence("max_lag_bytes", limits.bytes)
                .recommend(if paused {
                    "Resume replay unless the pause is deliberate (a consistent read for a report); a paused standby also keeps its WAL and cannot be promoted quickly"
                } else {
                    "Look for long queries on this standby that replay waits for (max_standby_streaming_delay) and for slow I/O; consider hot_standby_feedback = on"
                })
                .fix(
                    "SELECT pg_wal_replay_resume();  -- if paused\nSELECT pid, now() - xact_start AS age, left(query, 60) FROM pg_stat_activity\nWHERE backend_type = 'client backend' AND xact_start IS NOT NULL ORDER BY age DESC LIMIT 10;",
                    "none",
                    "pg_last_wal_replay_lsn() closing in on pg_last_wal_receive_lsn()",
                ),
        );
    }
    let conninfo_set = snap
        .setting("primary_conninfo")
        .is_some_and(|s| !s.setting.trim().is_empty());
    let not_streaming = match (st.receiver_pid, st.receiver_status.as_deref()) {
        (None, _) => conninfo_set.then(|| "no WAL receiver runs".to_owned()),
        (Some(_), Some(status)) if status != "streaming" => {
            Some(format!("the WAL receiver is `{status}`, not streaming"))
        }
        _ => None,
    };
    if let Some(why) = not_streaming {
        drafts.push(
            Draft::new(
                ObjectRef::named(ObjectKind::Server, "wal_receiver"),
                format!("This standby is not streaming from its primary: {why}; it falls further behind with every write on the primary"),
            )
            .evidence("receiver_status", st.receiver_status.clone().unwrap_or_else(|| "not running".to_owned()))
            .evidence("last_msg_age_seconds", opt_f64(st.last_msg_age_seconds))
            .evidence("primary_conninfo_set", conninfo_set)
            .recommend("Check the standby's log for connection errors (authentication, pg_hba.conf, a removed WAL segment or slot) and the network to the primary")
            .fix(
                "SELECT * FROM pg_stat_wal_receiver;\nSHOW primary_conninfo;\nSHOW primary_slot_name;",
                "none",
                "pg_stat_wal_receiver.status = 'streaming'",
            ),
        );
    }
    drafts
}

impl SnapshotRule for ReplicationLag {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let limits = Limits {
            bytes: p.max_lag_mb * 1024.0 * 1024.0,
            seconds: p.max_lag_seconds,
        };
        let snap = ctx.snapshot;
        if let Some(g) = snap.gap("pg_stat_replication") {
            return Err(Skip::because(format!(
                "pg_stat_replication not readable: {}",
                g.why
            )));
        }
        if !snap.server.can_read_all_stats && !snap.replication.is_empty() {
            return Err(Skip::because(format!(
                "role {} lacks pg_read_all_stats (pg_monitor): the standbys' positions and states are hidden",
                snap.server.user
            )));
        }
        let wait = sync_wait(
            snap.setting("synchronous_commit")
                .map(|s| s.setting.as_str()),
        );
        let mut drafts: Vec<Draft> = snap
            .replication
            .iter()
            .filter_map(|c| lagging(c, limits, wait).map(|l| primary_finding(c, &l, limits, wait)))
            .collect();
        if snap.server.in_recovery {
            match (&snap.standby, snap.gap("pg_stat_wal_receiver")) {
                (Some(st), _) => drafts.extend(standby_findings(snap, st, limits)),
                (None, Some(g)) => {
                    return Err(Skip::because(format!(
                        "this standby's WAL receiver and replay state are not readable: {}",
                        g.why
                    )))
                }
                (None, None) => {
                    return Err(Skip::because(
                        "a standby collected without its WAL receiver and replay state (older snapshot)",
                    ))
                }
            }
        } else {
            drafts.extend(missing_sync(snap, wait));
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use super::{lagging, required_sync, Limits, SyncWait};
    use crate::rules::testing::{assert_fires, assert_quiet};
    use crate::snapshot::ReplicationClient;

    fn client(
        state: &str,
        sync: &str,
        replay: i64,
        flush: i64,
        replay_s: Option<f64>,
    ) -> ReplicationClient {
        ReplicationClient {
            pid: 1,
            user: None,
            application_name: Some("replica".into()),
            client_addr: None,
            state: Some(state.into()),
            sync_state: Some(sync.into()),
            replay_lag_bytes: Some(replay),
            flush_lag_bytes: Some(flush),
            replay_lag_seconds: replay_s,
            backend_xmin_age: None,
            sent_lag_bytes: Some(flush),
            write_lag_bytes: Some(flush),
            write_lag_seconds: None,
            flush_lag_seconds: None,
            reply_age_seconds: Some(1.0),
        }
    }

    const LIMITS: Limits = Limits {
        bytes: 1024.0 * 1024.0,
        seconds: 60.0,
    };

    #[test]
    fn caught_up_standby_is_quiet_even_with_a_stale_lag_time() {
        let c = client("streaming", "async", 0, 0, Some(500.0));
        assert_eq!(lagging(&c, LIMITS, SyncWait::Flush), None);
        let c = client("streaming", "async", 0, 0, None);
        assert_eq!(lagging(&c, LIMITS, SyncWait::Flush), None);
    }

    #[test]
    fn lag_in_bytes_or_time_fires() {
        let c = client("streaming", "async", 5 << 20, 0, None);
        assert!(lagging(&c, LIMITS, SyncWait::Flush).is_some_and(|l| l.over && !l.stalls_commits));
        let c = client("streaming", "async", 100, 0, Some(120.0));
        assert!(lagging(&c, LIMITS, SyncWait::Flush).is_some_and(|l| l.over));
    }

    #[test]
    fn synchronous_standby_stalls_commits_at_its_wait_level() {
        // Replay lag only: commits wait for flush, not replay.
        let c = client("streaming", "sync", 5 << 20, 0, None);
        assert!(lagging(&c, LIMITS, SyncWait::Flush).is_some_and(|l| !l.stalls_commits));
        assert!(lagging(&c, LIMITS, SyncWait::Apply).is_some_and(|l| l.stalls_commits));
        let c = client("streaming", "sync", 5 << 20, 5 << 20, None);
        assert!(lagging(&c, LIMITS, SyncWait::Flush).is_some_and(|l| l.stalls_commits));
    }

    #[test]
    fn not_streaming_fires_but_backup_connections_do_not() {
        let c = client("catchup", "async", 0, 0, None);
        assert!(lagging(&c, LIMITS, SyncWait::Flush).is_some_and(|l| l.not_streaming.is_some()));
        let c = client("backup", "async", 50 << 20, 50 << 20, None);
        assert_eq!(lagging(&c, LIMITS, SyncWait::Flush), None);
    }

    #[test]
    fn parses_synchronous_standby_names() {
        assert_eq!(required_sync(""), None);
        assert_eq!(required_sync("replica_a"), Some((1, false)));
        assert_eq!(required_sync("\"a\", b"), Some((1, false)));
        assert_eq!(required_sync("2 (a, b, c)"), Some((2, false)));
        assert_eq!(required_sync("FIRST 2 (a, b)"), Some((2, false)));
        assert_eq!(required_sync("ANY 2 (a, b, c)"), Some((2, true)));
        assert_eq!(required_sync("any 1(a,b)"), Some((1, true)));
        assert_eq!(required_sync("*"), Some((1, false)));
    }

    #[test]
    fn fires_on_a_paused_standby() {
        assert_fires("WAL009", "replica_paused");
    }

    #[test]
    fn fires_on_a_missing_synchronous_standby() {
        let f = assert_fires("WAL009", "synchronous_standby_names");
        assert!(f
            .iter()
            .all(|f| f.severity == crate::report::Severity::Critical));
    }

    #[test]
    fn fires_on_the_standby_side() {
        assert_fires("WAL009", "wal_replay");
    }

    #[test]
    fn quiet_on_caught_up_standbys() {
        assert_quiet("WAL009");
    }
}
