use crate::knowledge::counters::Verdict;
use crate::knowledge::tenants::{self, figure, TenantUsage, Tenants};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::sql::{quote_ident, quote_literal};
use crate::units;

use super::common::{database_object, disproportionate, round1};

declare_rule! {
    /// ## What it detects
    /// A noisy tenant: on a cluster holding at least `min_tenants` tenant databases (one
    /// per customer; `postgres`, templates and the managed platforms' own databases are not
    /// tenants), one database takes a disproportionate share of what the tenants do — at
    /// least `min_share_pct` **and** at least `fair_share_multiple` times the share each
    /// would have if the load were even — of
    /// - statement time (`pg_stat_statements`, summed over every top-level entry of the
    ///   database, not only the top statements), when all tenants' statement time over the
    ///   window reaches `min_total_time_ms`;
    /// - temporary file bytes (`pg_stat_database.temp_bytes`), when all tenants' reach
    ///   `min_total_temp_bytes`;
    /// - rows read by scans (`pg_stat_database.tup_returned`), when all tenants' reach
    ///   `min_total_rows_read`.
    ///
    /// The shares are over the sampled window when the snapshot has one (`pgsage audit
    /// --interval`), else since the counters were reset; the finding says which. A window
    /// shorter than the audit's minimum (`[audit] min_stats_age_hours`, or 10 minutes for a
    /// sampled interval) gives an "unsure" finding: information, low confidence, no fix.
    ///
    /// ## Why it matters
    /// Tenants share the CPUs, the buffer cache, the disks and the WAL. One customer's
    /// month-end reports or runaway batch makes every other customer's screens slow, and
    /// their users call it "the ERP is slow". Knowing which tenant takes the load, and how
    /// (time, temporary files, reads), decides the remedy.
    ///
    /// ## How to fix
    /// The recommendation follows the evidence:
    /// - **reporting-heavy** (its share of temporary bytes or rows read is disproportionate
    ///   too: large scans and sorts; when they are its application's own queries rather
    ///   than reports, missing indexes come first: `pgsage indexes`): move its reports to a
    ///   replica, and give its role a
    ///   `statement_timeout` in its database (`ALTER ROLE … IN DATABASE … SET
    ///   statement_timeout`) so a runaway report is cut off; the timeout is 4 × the longest
    ///   mean execution time among its top statements, rounded up to whole minutes, at
    ///   least 1 min, so its normal statements still finish (none when that role is a
    ///   superuser: the setting would cut the DBA's own work in that database too);
    /// - **sustained** (its statement time share is at least `dedicated_share_pct` over a
    ///   long enough window): move it to a dedicated server; the finding gives the number
    ///   of sessions it keeps busy on average (its statement time divided by the window)
    ///   to size that server;
    /// - otherwise: cap its concurrency with its own pool in the pooler (PgBouncer
    ///   `pool_size` for its database), sized to the sessions it keeps busy on average, so
    ///   its peaks queue in the pooler instead of on the CPUs; tune its top statements.
    ///
    /// ## Thresholds
    /// - `min_share_pct` (default 50): share among tenants, in %.
    /// - `fair_share_multiple` (default 2): times the even share (100 % / tenants).
    /// - `min_tenants` (default 3): tenant databases needed to speak of neighbours.
    /// - `min_total_time_ms` (default 60000): all tenants' statement time over the window.
    /// - `min_total_temp_bytes` (default 1 GB): all tenants' temporary bytes over the window.
    /// - `min_total_rows_read` (default 100 million): all tenants' rows read over the window.
    /// - `dedicated_share_pct` (default 70): statement time share, sustained, that calls for
    ///   a server of its own.
    ///
    /// Rule QRY007 judges the same question from the top statements of a workload (and
    /// from server logs with `pgsage workload`); both land in one action.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/pgstatstatements.html>
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-DATABASE-VIEW>
    /// - <https://www.postgresql.org/docs/current/sql-alterrole.html>
    /// - <https://www.pgbouncer.org/config.html#section-databases>
    pub struct NoisyTenant {
        id: "TEN001",
        name: "noisy-tenant",
        pack: "tenants",
        title: "One tenant database takes a disproportionate share of the cluster",
        params: {
            min_share_pct: f64 = ("%", "Share among tenants that is disproportionate"),
            fair_share_multiple: f64 = ("×", "Times the even share (100% / tenants)"),
            min_tenants: f64 = ("databases", "Tenant databases needed to judge"),
            min_total_time_ms: f64 = ("ms", "All tenants' statement time over the window"),
            min_total_temp_bytes: f64 = ("bytes", "All tenants' temporary bytes over the window"),
            min_total_rows_read: f64 = ("rows", "All tenants' rows read over the window"),
            dedicated_share_pct: f64 = ("%", "Sustained statement time share that calls for a dedicated server"),
        },
    }
}

/// One measure judged: its name in messages and evidence, the figure, the minimum total.
struct Measure {
    label: &'static str,
    key: &'static str,
    figure: fn(&TenantUsage) -> Option<f64>,
    show: fn(f64) -> String,
    min_total: f64,
}

/// A disproportionate share: the measure, the tenant's amount, the share.
struct Heavy<'a> {
    measure: &'a Measure,
    amount: f64,
    total: f64,
    share: f64,
}

fn measures(p: &Params) -> [Measure; 3] {
    [
        Measure {
            label: "statement time",
            key: "time",
            figure: figure::time,
            show: |ms| units::millis(ms),
            min_total: p.min_total_time_ms,
        },
        Measure {
            label: "temporary files",
            key: "temp",
            figure: figure::temp,
            show: |b| units::bytes(b),
            min_total: p.min_total_temp_bytes,
        },
        Measure {
            label: "rows read",
            key: "rows_read",
            figure: figure::rows_read,
            show: |n| units::count(n),
            min_total: p.min_total_rows_read,
        },
    ]
}

/// The measures on which `t` is disproportionate (only measures with enough load).
fn heavy_on<'a>(
    tenants: &Tenants,
    t: &TenantUsage,
    measures: &'a [Measure],
    p: &Params,
) -> Vec<Heavy<'a>> {
    let fair = tenants.fair_share_pct();
    measures
        .iter()
        .filter_map(|m| {
            let total = tenants.total(m.figure)?;
            if total < m.min_total || total <= 0.0 {
                return None;
            }
            let amount = (m.figure)(t)?;
            let share = tenants.share(t, m.figure);
            disproportionate(share, fair, p.min_share_pct, p.fair_share_multiple).then(|| Heavy {
                measure: m,
                amount,
                total,
                share: share.unwrap_or(0.0),
            })
        })
        .collect()
}

impl SnapshotRule for NoisyTenant {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let snap = ctx.snapshot;
        let Some(tenants) = super::common::tenants(snap, p.min_tenants) else {
            return Ok(vec![]);
        };
        let measures = measures(&p);
        let fair = tenants.fair_share_pct();
        let mut drafts = Vec::new();
        for t in &tenants.databases {
            let heavy = heavy_on(&tenants, t, &measures, &p);
            if heavy.is_empty() {
                continue;
            }
            drafts.push(finding(ctx, &tenants, t, &heavy, fair, &p));
        }
        Ok(drafts)
    }
}

fn finding(
    ctx: &RuleContext<'_>,
    tenants: &Tenants,
    t: &TenantUsage,
    heavy: &[Heavy<'_>],
    fair: f64,
    p: &Params,
) -> Draft {
    let parts: Vec<String> = heavy
        .iter()
        .map(|h| {
            format!(
                "{} of the tenants' {} ({} of {})",
                units::percent(h.share),
                h.measure.label,
                (h.measure.show)(h.amount),
                (h.measure.show)(h.total)
            )
        })
        .collect();
    let time = heavy.iter().find(|h| h.measure.key == "time");
    // Statement figures have their own window (pg_stat_statements resets apart).
    let basis = match (time, tenants.statements_basis) {
        (Some(_), Some(b)) => b,
        _ => tenants.database_basis,
    };
    let window_text = match (time, tenants.describe_statements_window()) {
        (Some(_), Some(w)) => w,
        _ => tenants.describe_database_window(),
    };
    let message = format!(
        "tenant database `{}` takes {} {window_text}; {} tenant databases share the cluster (an even share is {})",
        t.name,
        parts.join(", "),
        units::count(tenants.count()),
        units::percent(fair)
    );
    let mut draft = Draft::new(database_object(&t.name), message)
        .evidence("tenants", tenants.count())
        .evidence("fair_share_pct", round1(fair))
        .evidence("basis", basis.label())
        .evidence("window_s", basis.seconds().round());
    for (key, f) in [
        (
            "time_share_pct",
            figure::time as fn(&TenantUsage) -> Option<f64>,
        ),
        ("calls_share_pct", figure::calls),
        ("temp_share_pct", figure::temp),
        ("rows_read_share_pct", figure::rows_read),
        ("read_share_pct", figure::read),
        ("wal_share_pct", figure::wal),
    ] {
        if let Some(s) = tenants.share(t, f) {
            draft = draft.evidence(key, round1(s));
        }
    }
    if let Some(ms) = t.statement_time_ms {
        draft = draft.evidence("statement_time_ms", ms.round());
    }
    draft = draft
        .evidence("temp_bytes", t.temp_bytes)
        .evidence("rows_read", t.rows_read);
    if let Some(fallback) = &tenants.statements_fallback {
        draft = draft.evidence("statements_window_note", fallback.as_str());
    }
    if t.reset_in_window {
        draft = draft.low_confidence(format!(
            "the statistics of `{}` were reset during the window: its figures cover only part of it",
            t.name
        ));
    }

    let reporting = heavy
        .iter()
        .any(|h| matches!(h.measure.key, "temp" | "rows_read"));
    let window = ctx.stats_window().over(basis, "statistics");
    let unsure = window.unsure(Verdict::Share);
    let time_share = tenants.share(t, figure::time);
    let busy = t
        .statement_time_ms
        .map(|ms| ms / 1000.0 / basis.seconds().max(1.0));
    if let Some(b) = busy {
        draft = draft.evidence("busy_sessions_avg", (b * 100.0).round() / 100.0);
    }
    let busy_text = busy
        .map(|b| format!("it keeps {} sessions busy on average", units::decimal(b)))
        .unwrap_or_default();
    let sustained = unsure.is_none() && time_share.is_some_and(|s| s >= p.dedicated_share_pct);

    draft = if reporting {
        let mut d = draft.evidence("remedy", "replica").recommend(format!(
            "Its load is large scans and sorts: if they are reports, move its reporting to a replica (a hot standby it reads from) and cut runaway statements off with a statement_timeout for its role in its database; if they are its application's own queries, look for missing indexes first (pgsage indexes on its database){}",
            if busy_text.is_empty() { String::new() } else { format!("; {busy_text}") }
        ));
        if let Some(fix) = timeout_fix(ctx, t) {
            d = d.fix(fix.0, "none", &fix.1);
        }
        d
    } else if sustained {
        draft.evidence("remedy", "dedicated_server").recommend(format!(
            "Move this tenant to a server of its own: it takes {} of the tenants' statement time {}{}; size that server for it, and the others get the cluster back",
            units::percent(time_share.unwrap_or(0.0)),
            window.describe(),
            if busy_text.is_empty() { String::new() } else { format!(" ({busy_text})") }
        ))
    } else {
        let pool = busy.map(|b| b.ceil().max(2.0) as i64);
        draft.evidence("remedy", "pooler").recommend(match pool {
            Some(n) => format!(
                "Cap its concurrency with its own pool in the pooler (PgBouncer [databases] `{} = … pool_size={n}`: {busy_text}), so its peaks queue in the pooler instead of on the CPUs; then tune its top statements (pgsage workload, filtered to its database)",
                t.name
            ),
            None => "Cap its concurrency with its own pool in the pooler (PgBouncer pool_size for its database), so its peaks queue in the pooler instead of on the CPUs; then tune its top statements".to_owned(),
        })
    };
    if let Some(u) = unsure {
        draft = draft.unsure(u.reason, &u.remedy);
    }
    draft
}

/// `ALTER ROLE … IN DATABASE … SET statement_timeout`, for the role taking most of the
/// tenant's time, from the longest mean execution time among its top statements; and
/// what to watch.
fn timeout_fix(ctx: &RuleContext<'_>, t: &TenantUsage) -> Option<(String, String)> {
    let (role, _) = t.top_role.as_ref()?;
    // A superuser's setting would also cut the DBA's own work in that database: the
    // application should not run as one (CON009 says so), and the fix waits for that.
    if ctx
        .snapshot
        .roles
        .iter()
        .any(|r| &r.name == role && r.is_superuser)
    {
        return None;
    }
    let longest = ctx
        .snapshot
        .statements
        .as_ref()?
        .top
        .iter()
        .filter(|s| s.database.as_deref() == Some(t.name.as_str()))
        .filter(|s| s.user.as_deref() == Some(role.as_str()))
        .map(|s| s.mean_exec_time_ms)
        .fold(None::<f64>, |m, x| Some(m.map_or(x, |m| m.max(x))))?;
    let minutes = tenants::role_timeout_minutes(longest);
    let sql = format!(
        "-- {} of mean execution time for its slowest top statement: 4 × that, in whole minutes\nALTER ROLE {} IN DATABASE {} SET statement_timeout = {};",
        units::millis(longest),
        quote_ident(role),
        quote_ident(&t.name),
        quote_literal(&format!("{minutes}min"))
    );
    Some((
        sql,
        "statements cancelled with 'canceling statement due to statement timeout' in the server log for this role (new sessions only get the setting)".to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_the_noisy_tenant() {
        assert_fires("TEN001", "acme");
    }

    #[test]
    fn quiet_on_balanced_tenants() {
        assert_quiet("TEN001");
    }
}
