use crate::knowledge::odoo::{self, QueueTable};
use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::erp::common::{facts, odoo};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{ErpFacts, QueueBacklog, ScheduledJob};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Odoo's queue and notification tables keeping rows their own cleanup should have
    /// removed: bus notifications older than a day (`bus_bus`), finished jobs older than
    /// queue_job's 30 days (`queue_job`), scheduled-job triggers older than a week
    /// (`ir_cron_trigger`), emails waiting to be sent for more than a day (`mail_mail`).
    /// The finding says which scheduled job does the cleanup and what state it is in
    /// (inactive, overdue, missing), with the table's dead rows and autovacuum setting.
    ///
    /// ## Why it matters
    /// These tables are meant to stay small: every poll of the bus, every job runner and
    /// the mail queue reads them many times a minute. A cleanup that stopped makes them
    /// grow without bound, their reads slower each day, and their indexes and backups
    /// bigger; a mail queue that stopped means customers receive nothing.
    ///
    /// ## How to fix
    /// Odoo side: activate (or repair) the scheduled job named in the finding —
    /// Settings → Technical → Scheduled Actions — and check that cron workers run
    /// (`max_cron_threads > 0` on one server). Database side: the job deletes the rows;
    /// for the bus, triggers and finished jobs the statement it runs is given, in case a
    /// backlog must be cleared at once; `VACUUM` then makes the space reusable. Emails are
    /// never deleted by pgsage's fix: the queue must be sent (check the outgoing mail
    /// server).
    ///
    /// ## Thresholds
    /// - `min_expired_rows` (default 10,000): expired rows below this are not reported.
    ///
    /// ## References
    /// - <https://github.com/odoo/odoo/blob/17.0/addons/bus/models/bus.py>
    /// - <https://github.com/OCA/queue/tree/16.0/queue_job>
    /// - <https://www.odoo.com/documentation/17.0/developer/reference/backend/actions.html#automated-actions-ir-cron>
    pub struct QueueBacklogRule {
        id: "ERP002",
        name: "queue-backlog",
        pack: "erp",
        title: "Odoo queue table kept past its cleanup",
        params: {
            min_expired_rows: f64 = ("rows", "Rows past the cleanup below this count are not reported"),
        },
    }
}

/// What the cleanup job is doing, for the message.
fn job_state(
    ctx: &RuleContext<'_>,
    f: &ErpFacts,
    q: &QueueTable,
) -> (Option<ScheduledJob>, String) {
    let job = f
        .jobs
        .iter()
        .filter(|j| j.model.as_deref() == Some(q.job_model))
        .find(|j| j.name.to_ascii_lowercase().contains(q.job_name_hint))
        .cloned();
    let text = match &job {
        None if f.jobs.is_empty() => "the scheduled jobs were not read".to_owned(),
        None => format!("no scheduled job on `{}` was found", q.job_model),
        Some(j) if !j.active => format!("the scheduled job \"{}\" is inactive", j.name),
        Some(j) => match j.next_run {
            Some(next) if ctx.snapshot.age_seconds(next) > 86_400.0 => format!(
                "the scheduled job \"{}\" is active but overdue by {} (no cron worker runs it)",
                j.name,
                units::duration(ctx.snapshot.age_seconds(next))
            ),
            _ => format!(
                "the scheduled job \"{}\" is active and due{}: it does not keep up or fails (see Odoo's log)",
                j.name,
                j.next_run
                    .map_or(String::new(), |n| format!(" at {}", n.format("%Y-%m-%d %H:%M UTC")))
            ),
        },
    };
    (job, text)
}

/// The statement the cleanup runs, when running it by hand is harmless.
fn cleanup_sql(q: &QueueTable, name: &str) -> Option<String> {
    let age = crate::sql::quote_ident(q.age_column);
    // Odoo stores UTC without a time zone; the retentions are whole days.
    let days = (q.retention_seconds / 86_400.0).round();
    let older = format!("{age} < (now() AT TIME ZONE 'UTC') - interval '{days} days'");
    match q.table {
        "bus_bus" | "ir_cron_trigger" => Some(format!("DELETE FROM {name} WHERE {older};")),
        "queue_job" => Some(format!(
            "DELETE FROM {name} WHERE state = 'done' AND {older};"
        )),
        _ => None,
    }
}

fn draft(ctx: &RuleContext<'_>, f: &ErpFacts, q: &QueueTable, b: &QueueBacklog) -> Draft {
    let snap = ctx.snapshot;
    let (schema, table) = b.table.split_once('.').unwrap_or(("public", &b.table));
    let name = crate::sql::qualified(schema, table);
    let (job, job_text) = job_state(ctx, f, q);
    let stats = snap
        .tables
        .iter()
        .find(|t| t.schema == schema && t.name == table);
    let mut message = format!(
        "`{table}` keeps {} {} older than {} ({} of its {} rows{}): {}; {}",
        units::count(b.expired_rows),
        q.what,
        units::duration(b.retention_seconds),
        units::share(b.expired_rows as f64 / b.rows.max(1) as f64),
        units::count(b.rows),
        b.oldest_age_seconds.map_or(String::new(), |a| format!(
            ", the oldest {} old",
            units::duration(a)
        )),
        q.cleanup,
        job_text,
    );
    if let Some(t) = stats {
        if t.n_dead_tup > t.n_live_tup && t.n_dead_tup > 0 {
            message.push_str(&format!(
                "; the table also holds {} dead rows",
                units::count(t.n_dead_tup)
            ));
        }
    }
    let erp_side = match &job {
        // Emails wait because sending fails, not because a cleanup stopped.
        Some(j) if j.active && q.table == "mail_mail" => format!(
            "In Odoo, find why the emails are not sent: the outgoing mail server (Settings → Technical → Outgoing Mail Servers: test its connection) and the failure reason of the queued emails; the scheduled job \"{}\" then sends the queue",
            j.name
        ),
        Some(j) if !j.active => format!(
            "In Odoo, activate the scheduled job \"{}\" (Settings → Technical → Scheduled Actions) and run it once",
            j.name
        ),
        Some(j) => format!(
            "In Odoo, check why the scheduled job \"{}\" does not clean up: a cron worker must run (`max_cron_threads` > 0 on one server) and its runs must not fail (Odoo's log)",
            j.name
        ),
        None => format!(
            "In Odoo, restore the cleanup of `{table}` ({}): its scheduled job is missing",
            q.module
        ),
    };
    let mut d = Draft::new(
        ObjectRef::in_schema(ObjectKind::Table, &snap.server.database, schema, table),
        message,
    )
    .severity(Severity::Warning)
    .evidence("rows", b.rows)
    .evidence("expired_rows", b.expired_rows)
    .evidence("retention_s", b.retention_seconds)
    .evidence(
        "cleanup_job",
        job.as_ref().map_or("(none)", |j| j.name.as_str()),
    )
    .evidence(
        "cleanup_job_active",
        job.as_ref()
            .map_or("(none)".to_owned(), |j| j.active.to_string()),
    )
    .recommend(format!(
        "{erp_side}; once it has run, `VACUUM` the table so the space is reused"
    ));
    // The statement the cleanup runs, when clearing a backlog by hand is harmless (never
    // for emails: they are the application's to send).
    if let Some(delete) = cleanup_sql(q, &name) {
        d = d.fix(
            format!("-- what the cleanup job does, to clear the backlog at once (off-peak):\n{delete}\nVACUUM (ANALYZE) {name};"),
            "none",
            "the table's row count and n_dead_tup in pg_stat_user_tables, and the job's last run in Odoo",
        );
    }
    if let Some(a) = b.oldest_age_seconds {
        d = d.evidence("oldest_expired_age_s", a.round());
    }
    if let Some(t) = stats {
        d = d
            .evidence("n_dead_tup", t.n_dead_tup)
            .evidence(
                "table_bytes",
                t.heap_bytes + t.toast_bytes + t.indexes_bytes,
            )
            .evidence("reloptions", t.reloptions.join(","));
    }
    d
}

impl SnapshotRule for QueueBacklogRule {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let o = odoo(ctx)?;
        let f = facts(ctx, &o)?;
        // Queue tables the role may not read report nothing: say so rather than pass them
        // as clean.
        if !f.read("queue tables") {
            return Err(Skip::because(
                "Odoo's queue tables were not read (see the snapshot's gaps: `odoo tables`)",
            ));
        }
        Ok(f.queues
            .iter()
            .filter(|b| b.expired_rows as f64 >= p.min_expired_rows)
            .filter_map(|b| {
                let table = b.table.rsplit('.').next().unwrap_or(&b.table);
                odoo::queue(table).map(|q| draft(ctx, f, q, b))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_bus_nobody_cleans() {
        assert_fires("ERP002", "public.bus_bus");
    }

    #[test]
    fn quiet_when_the_cleanup_runs() {
        assert_quiet("ERP002");
    }
}
