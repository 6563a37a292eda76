use std::collections::BTreeSet;

use crate::knowledge::connections;
use crate::knowledge::odoo::{odoo_process, OdooConfig};
use crate::report::{ObjectRef, Severity};
use crate::rules::erp::common::odoo;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Backend;

fn platform(ctx: &RuleContext<'_>) -> crate::snapshot::Platform {
    crate::knowledge::platform::of(ctx.snapshot, ctx.host).value
}
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Odoo's processes able to open more connections than the server accepts. Each Odoo
    /// process keeps its own connection pool of up to `db_maxconn` connections: with
    /// `workers > 0`, every HTTP worker, every cron worker (`max_cron_threads`) and the
    /// websocket (gevent) process; with `workers = 0`, one process. From the Odoo
    /// configuration (`--odoo-conf odoo.conf`, or `[odoo]` in pgsage.toml), the rule adds
    /// the pools up, times the Odoo servers seen connected (distinct client addresses of
    /// its sessions), and compares the sum with the connections the server accepts for
    /// applications (`max_connections` minus the reserved slots and the other clients'
    /// sessions) times `max_pool_share_pct`. Without the file, it judges what
    /// `pg_stat_activity` shows: Odoo 17+ names its sessions `odoo-<pid>`, and their count
    /// past `max_sessions_share_pct` of the accepted connections is reported. It runs
    /// whichever database pgsage is connected to (the pools are the server's concern).
    ///
    /// ## Why it matters
    /// When the pools fill — a busy hour, a slow query holding workers — new connections
    /// fail with `FATAL: sorry, too many clients already` (or `remaining connection slots
    /// are reserved`): users see errors, crons fail, and the administrator cannot connect
    /// either. Raising `max_connections` to match costs memory and contention; most of
    /// those connections sit idle.
    ///
    /// ## How to fix
    /// Odoo side: lower `db_maxconn` in odoo.conf to the value given (each process needs
    /// only a few connections: a request's cursor and the one Odoo opens beside it), or
    /// run fewer workers per server. Database side: put a pooler in front (PgBouncer, or
    /// the platform's own); the websocket process and queue_job's runner `LISTEN`, so
    /// they need session pooling (or a direct connection), while the HTTP workers work in
    /// transaction pooling.
    ///
    /// ## Thresholds
    /// - `max_pool_share_pct` (default 100): pools may add up to this share of the
    ///   accepted connections.
    /// - `max_sessions_share_pct` (default 80): without odoo.conf, Odoo's open sessions
    ///   past this share of the accepted connections are reported.
    ///
    /// ## References
    /// - <https://www.odoo.com/documentation/17.0/administration/on_premise/deploy.html#builtin-server>
    /// - <https://github.com/odoo/odoo/blob/17.0/odoo/sql_db.py>
    pub struct OdooConnectionPools {
        id: "ERP004",
        name: "odoo-connection-pools",
        pack: "erp",
        title: "Odoo's connection pools exceed the server's connections",
        params: {
            max_pool_share_pct: f64 = ("%", "Share of the accepted connections Odoo's pools may add up to"),
            max_sessions_share_pct: f64 = ("%", "Without odoo.conf: share of the accepted connections Odoo's open sessions may take"),
        },
    }
}

/// Odoo's sessions (application_name `odoo-<pid>`) among the clients.
fn odoo_sessions<'a>(clients: &[&'a Backend]) -> Vec<&'a Backend> {
    clients
        .iter()
        .copied()
        .filter(|b| {
            b.application_name
                .as_deref()
                .and_then(odoo_process)
                .is_some()
        })
        .collect()
}

impl SnapshotRule for OdooConnectionPools {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        // The pools are the server's concern, whichever database pgsage is connected to
        // (`postgres` on an Odoo hosting cluster): the configuration or Odoo's sessions are
        // enough; the connected database only names the version.
        let label = odoo(ctx).map_or_else(|_| "Odoo".to_owned(), |o| o.label());
        let snap = ctx.snapshot;
        let max_connections = ctx
            .setting("max_connections")?
            .as_f64()
            .ok_or_else(|| Skip::because("max_connections is not a number"))?
            as i64;
        let reserved = connections::reserved_slots(snap, platform(ctx));
        let clients = connections::clients(snap);
        let odoo_sessions = odoo_sessions(&clients);
        let others = clients.len() - odoo_sessions.len();
        let accepted = (max_connections - reserved).max(0) as u64;
        let for_odoo = accepted.saturating_sub(others as u64);
        let processes: BTreeSet<&str> = odoo_sessions
            .iter()
            .filter_map(|b| b.application_name.as_deref().and_then(odoo_process))
            .collect();
        let hosts: BTreeSet<&str> = odoo_sessions
            .iter()
            .map(|b| b.client_addr.as_deref().unwrap_or("local"))
            .collect();
        let servers = hosts.len().max(1) as u32;
        let object = ObjectRef::setting("max_connections");
        let accepted_text = format!(
            "{} connections the server accepts for applications (max_connections {} − {} reserved{})",
            units::count(for_odoo),
            units::count(max_connections),
            units::count(reserved),
            if others > 0 {
                format!(" − {} other clients' sessions", units::count(others))
            } else {
                String::new()
            }
        );
        match &ctx.config.odoo {
            Some(conf) => {
                let cap = conf.max_connections() * u64::from(servers);
                if (cap as f64) <= for_odoo as f64 * p.max_pool_share_pct / 100.0 {
                    return Ok(Vec::new());
                }
                Ok(vec![from_config(
                    ctx,
                    conf,
                    cap,
                    servers,
                    for_odoo,
                    &accepted_text,
                    odoo_sessions.len(),
                    object,
                    &label,
                )])
            }
            None => {
                if odoo_sessions.is_empty() {
                    return Err(Skip::because(
                        "no Odoo configuration given (--odoo-conf odoo.conf) and no Odoo sessions seen (Odoo 17+ names them odoo-<pid>)",
                    ));
                }
                let share = odoo_sessions.len() as f64 / for_odoo.max(1) as f64;
                if share * 100.0 < p.max_sessions_share_pct {
                    return Ok(Vec::new());
                }
                let message = format!(
                    "{} Odoo processes{} hold {} connections, {} of the {accepted_text}: a busy hour or a slow query holding workers will make new connections fail with `too many clients`",
                    units::count(processes.len()),
                    if servers > 1 { format!(" on {servers} servers") } else { String::new() },
                    units::count(odoo_sessions.len()),
                    units::share(share),
                );
                Ok(vec![Draft::new(object, message)
                    .severity(if share >= 1.0 { Severity::Critical } else { Severity::Warning })
                    .evidence("odoo_processes", processes.len())
                    .evidence("odoo_sessions", odoo_sessions.len())
                    .evidence("odoo_servers", servers)
                    .evidence("max_connections", max_connections)
                    .evidence("reserved_slots", reserved)
                    .evidence("other_sessions", others)
                    .recommend("Give pgsage the Odoo configuration (--odoo-conf odoo.conf) for the exact pool sizes; lower `db_maxconn` in odoo.conf so that every process's pool fits, or put a pooler in front (session pooling for the websocket process and queue_job's runner, which LISTEN)")])
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn from_config(
    ctx: &RuleContext<'_>,
    conf: &OdooConfig,
    cap: u64,
    servers: u32,
    for_odoo: u64,
    accepted_text: &str,
    open: usize,
    object: ObjectRef,
    label: &str,
) -> Draft {
    let pools: Vec<String> = conf
        .pools()
        .iter()
        .map(|p| {
            format!(
                "{} {} × {}",
                units::count(p.processes),
                p.what,
                units::count(p.size)
            )
        })
        .collect();
    let fitting = conf.fitting_db_maxconn(for_odoo, servers);
    let message = format!(
        "{label}'s connection pools ({}, from {}) may open up to {} connections{} against the {accepted_text}: when they fill, new connections fail with `too many clients` and the administrator is locked out too",
        pools.join(", "),
        conf.path,
        units::count(cap),
        if servers > 1 {
            format!(" ({servers} Odoo servers seen connected)")
        } else {
            String::new()
        },
    );
    let pooling =
        crate::knowledge::platform_pooling::PoolingAdvice::of(ctx.snapshot, platform(ctx));
    let pooler = pooling.advise(
        "put a pooler in front (PgBouncer: session pooling for the websocket process and queue_job's runner, which LISTEN; transaction pooling for the HTTP workers)".to_owned(),
        "send the HTTP workers through the platform's pooler, which is already on (session pooling for the websocket process and queue_job's runner, which LISTEN)",
    );
    // When the audit's connection plan lowers max_connections behind a pooler (CON002,
    // `pgsage tune`), Odoo's pools must go through it: say so, with the same plan.
    let behind_pooler = crate::rules::connections::connection_plan(ctx)
        .filter(|p| p.behind_pooler)
        .map(|p| {
            format!(
                " The audit's connection plan lowers max_connections to {} behind a pooler (CON002): point Odoo at the pooler, whose client limit must then hold these pools.",
                units::count(p.max_connections)
            )
        })
        .unwrap_or_default();
    Draft::new(object, message)
        .severity(if open as u64 >= for_odoo {
            Severity::Critical
        } else {
            Severity::Warning
        })
        .evidence("odoo_conf", conf.path.clone())
        .evidence("workers", conf.workers)
        .evidence("max_cron_threads", conf.max_cron_threads)
        .evidence("db_maxconn", conf.db_maxconn)
        .evidence("odoo_pool_connections", cap)
        .evidence("odoo_servers", servers)
        .evidence("odoo_sessions_open", open)
        .evidence("accepted_connections", for_odoo)
        .recommend(format!(
            "In odoo.conf, set `db_maxconn = {fitting}` so that every pool of {} fits in the {} accepted connections (each process needs only a few: a request's cursor and the one Odoo opens beside it); or {pooler}.{behind_pooler}",
            if servers > 1 { format!("the {servers} Odoo servers") } else { "the Odoo server".to_owned() },
            units::count(for_odoo),
        ))
}

#[cfg(test)]
mod tests {
    use crate::report::Finding;
    use crate::rules::testing::{assert_fires, assert_quiet};
    use crate::{audit, RuleConfig, Snapshot};
    use pgsage_testkit::scenario::{fixture_path, Scenario};

    /// ERP004's findings on a captured case audited with an odoo.conf of testdata/odoo.
    fn with_conf(case: &str, conf: &str) -> Vec<Finding> {
        let snapshot = Snapshot::load(fixture_path("erp", case)).expect("fixture");
        let scenario = Scenario::all()
            .expect("scenarios")
            .into_iter()
            .find(|s| s.name == "erp")
            .expect("erp scenario");
        let mut config = RuleConfig::shipped().expect("packs");
        config.apply_toml(&scenario.config, "erp").expect("config");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/odoo")
            .join(conf);
        config.load_odoo_conf(&path).expect("odoo.conf");
        audit(&snapshot, &config)
            .findings
            .into_iter()
            .filter(|f| f.rule == "ERP004")
            .collect()
    }

    #[test]
    fn odoo_conf_pools_beyond_the_server_are_reported_with_a_fitting_size() {
        // 8 HTTP + 2 cron workers + the websocket process, 64 connections each.
        let f = with_conf("odoo-healthy", "odoo-crowded.conf");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].evidence["odoo_pool_connections"], 11 * 64);
        let rec = &f[0].recommendation;
        // 17 accepted slots over 11 processes: 1 each, and never below 2.
        assert!(rec.contains("db_maxconn = 2"), "{rec}");
    }

    #[test]
    fn odoo_conf_pools_that_fit_are_quiet() {
        // 2 HTTP + 1 cron workers + the websocket process, 4 each: 16 of 17.
        assert!(with_conf("odoo-healthy", "odoo-sized.conf").is_empty());
    }

    #[test]
    fn fires_when_the_pools_exceed_the_server() {
        assert_fires("ERP004", "max_connections");
    }

    #[test]
    fn quiet_when_the_pools_fit() {
        assert_quiet("ERP004");
    }
}
