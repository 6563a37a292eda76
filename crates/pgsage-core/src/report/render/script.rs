//! `pgsage audit --script`: every finding's fix as one SQL script that
//! `psql -v ON_ERROR_STOP=1 -f fixes.sql` runs as is.
//!
//! The statements come in four groups, in this order: *online now*, *needs a reload*
//! (followed by one `SELECT pg_reload_conf();`), *needs a restart* (the settings are
//! written now and take effect at the restart) and *maintenance window*, each fix placed
//! by its `phase` and annotated with the finding (rule, object), the lock it takes, what
//! the lock blocks, whether it rewrites a table, and how long it may take. Nothing is
//! wrapped in `BEGIN`/`COMMIT`: `CREATE INDEX CONCURRENTLY`, `VACUUM` and `ALTER SYSTEM`
//! cannot run in a transaction block, so each statement commits on its own and psql stops
//! at the first error. Statements that destroy something (drop an index, end a session,
//! drop a slot), and those a person must decide on or complete (queries to look at,
//! templates, conditional steps, session-only `SET`s), are written as comments with the
//! reason. An identical statement, or a second value for a setting, appears once.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::knowledge::server_parameters::PlatformFix;
use crate::report::{Finding, Fix, Phase, Report};
use crate::sql::impact::{pieces, Kind, Piece, Statement};

/// The findings whose fixes the script writes, in script order within each group: by
/// action rank (first thing first), then the action's own order of findings; findings
/// of a report without actions (an old JSON file) in report order.
pub fn fix_order(report: &Report) -> Vec<usize> {
    let has_fix = |i: &usize| report.findings.get(*i).is_some_and(|f| f.fix.is_some());
    if report.actions.is_empty() {
        return (0..report.findings.len()).filter(has_fix).collect();
    }
    let mut order: Vec<usize> = Vec::new();
    for a in &report.actions {
        for i in a.findings.iter().copied().filter(has_fix) {
            if !order.contains(&i) {
                order.push(i);
            }
        }
    }
    order
}

/// Writes the script.
pub fn render_script(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    out.write_all(script(report).as_bytes())
}

/// The script as text.
pub fn script(report: &Report) -> String {
    let t = &report.target;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "-- pgsage audit: fixes for database {} on PostgreSQL {}, collected {}",
        t.database,
        t.server_version,
        t.collected_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    let platform = t
        .platform
        .as_ref()
        .map(|p| p.value)
        .filter(|p| p.is_managed());
    let _ = writeln!(
        s,
        "-- Run it connected to {} as {}: psql -v ON_ERROR_STOP=1 -d {} -f fixes.sql",
        t.database,
        platform.map_or("a superuser", admin_role),
        crate::sql::quote_ident(&t.database)
    );
    if let Some(p) = platform {
        let _ = writeln!(
            s,
            "-- {}: no ALTER SYSTEM; the server parameters are set with {}: the commands at the end.",
            p.service_name(),
            crate::knowledge::server_parameters::commands::cli_command(p)
        );
    }
    s.push_str(
        "-- No BEGIN/COMMIT: CREATE INDEX CONCURRENTLY, VACUUM and ALTER SYSTEM cannot run in a\n\
         -- transaction block, so each statement commits on its own and the script stops at the\n\
         -- first error. What destroys something, or needs a person to decide, is commented out\n\
         -- with the reason.\n\\set ON_ERROR_STOP on\n",
    );
    let order = fix_order(report);
    let mut seen = Seen::default();
    let mut any = false;
    for phase in [
        Phase::Online,
        Phase::Reload,
        Phase::Restart,
        Phase::Maintenance,
    ] {
        let findings: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| {
                report.findings[i]
                    .fix
                    .as_ref()
                    .is_some_and(|x| x.phase == phase)
            })
            .collect();
        if findings.is_empty() {
            continue;
        }
        any = true;
        s.push('\n');
        s.push_str(&banner(heading(phase, platform.is_some())));
        let mut ran_a_setting = false;
        let mut last_action = None;
        for i in findings {
            let f = &report.findings[i];
            let Some(fix) = &f.fix else { continue };
            // Each action's statements under its rank and title, as the report shows it.
            let action = report.actions.iter().find(|a| a.findings.contains(&i));
            if let Some(a) = action.filter(|a| Some(a.rank) != last_action) {
                let _ = write!(
                    s,
                    "\n-- Action {}: {}\n",
                    a.rank,
                    a.title.replace('\n', " ")
                );
                last_action = Some(a.rank);
            }
            s.push('\n');
            ran_a_setting |= block(&mut s, report, f, fix, &mut seen);
        }
        match phase {
            Phase::Reload if ran_a_setting => {
                s.push_str("\nSELECT pg_reload_conf();\n");
            }
            Phase::Restart if platform.is_none() => s.push_str(
                "\n-- Restart PostgreSQL now: the settings above take effect only then\n\
                 -- (pg_ctl restart -D <data directory>, or systemctl restart postgresql).\n",
            ),
            _ => {}
        }
    }
    if !any {
        s.push_str("\n-- nothing to change\n");
    }
    if let Some(fix) = PlatformFix::merge(
        order
            .iter()
            .filter_map(|&i| report.findings[i].fix.as_ref())
            .filter_map(|f| f.platform.as_ref()),
    ) {
        platform_section(&mut s, &fix);
    }
    s
}

/// The role that runs the script on a managed platform.
fn admin_role(platform: crate::snapshot::Platform) -> &'static str {
    use crate::snapshot::Platform;
    match platform {
        Platform::AzureFlexibleServer => "the server admin (a member of azure_pg_admin)",
        Platform::AwsRds | Platform::AwsAurora => "the master user (a member of rds_superuser)",
        Platform::GcpCloudSql => "a member of cloudsqlsuperuser (postgres)",
        Platform::GcpAlloydb => "a member of alloydbsuperuser (postgres)",
        Platform::SelfManaged => "a superuser",
    }
}

/// The provider's commands for every setting of the script, once each, as comments: they
/// run in a shell, not in psql.
fn platform_section(s: &mut String, fix: &PlatformFix) {
    s.push('\n');
    s.push_str(&banner(&format!(
        "Server parameters on {}: run in a shell with {}, not in psql",
        fix.platform.service_name(),
        crate::knowledge::server_parameters::commands::cli_name(fix.platform)
    )));
    for c in &fix.commands {
        let _ = writeln!(s, "--   {c}");
    }
    for n in &fix.notes {
        let _ = writeln!(s, "-- {n}");
    }
    if !fix.not_allowed.is_empty() {
        let _ = writeln!(s, "-- Not allowed on {}:", fix.platform.service_name());
        for r in fix.refusal_lines() {
            let _ = writeln!(s, "--   {r}");
        }
    }
}

fn heading(phase: Phase, managed: bool) -> &'static str {
    match phase {
        Phase::Online => "Online now: no restart, no lock that blocks reads or writes for long",
        Phase::Reload if managed => {
            "Needs a reload: the server parameters at the end apply without a restart"
        }
        Phase::Restart if managed => {
            "Needs a restart: the server parameters at the end, then the restart they name"
        }
        Phase::Reload => "Needs a reload: ALTER SYSTEM now, one SELECT pg_reload_conf() at the end",
        Phase::Restart => "Needs a restart: ALTER SYSTEM now; the values take effect at the restart",
        Phase::Maintenance => {
            "Maintenance window: locks that block reads or writes while they work, or table rewrites"
        }
    }
}

fn banner(title: &str) -> String {
    let rule = format!("-- {}\n", "=".repeat(title.len().max(20)));
    format!("{rule}-- {title}\n{rule}")
}

/// What the script already wrote: statements (whitespace-insensitive) and settings.
#[derive(Default)]
struct Seen {
    /// Statements run so far, with the database they ran in.
    statements: Vec<(Option<String>, String)>,
    settings: BTreeMap<String, String>,
}

fn normalised(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Writes one finding's fix; returns whether it wrote an `ALTER SYSTEM` to run.
fn block(s: &mut String, report: &Report, f: &Finding, fix: &Fix, seen: &mut Seen) -> bool {
    let _ = writeln!(
        s,
        "-- {} {}: {} ({})",
        f.rule,
        f.title,
        report.target.object_name(&f.object),
        f.severity
    );
    let _ = writeln!(s, "-- cost: {}", fix.cost_line());
    let database = fix_database(f);
    let connect = database
        .filter(|d| *d != report.target.database)
        .map(str::to_owned);
    let mut body = String::new();
    let mut ran_setting = false;
    // Whether a statement that runs acts inside the fix's database (a VACUUM, a table);
    // server-wide ones (ALTER SYSTEM, ALTER DATABASE, ALTER ROLE) run from any.
    let mut runs = false;
    for piece in pieces(&fix.sql) {
        match piece {
            Piece::Comment(c) => {
                if !c
                    .to_ascii_lowercase()
                    .starts_with("then restart postgresql")
                {
                    let _ = writeln!(body, "-- {c}");
                }
            }
            Piece::Statement(st) => {
                if st.impact.kind == Kind::ReloadConf && fix.phase == Phase::Reload {
                    continue; // one reload ends the group
                }
                match skipped_reason(&st, fix) {
                    Some(why) => commented(&mut body, &st, &why),
                    None => {
                        if let Some(why) = duplicate(&st, database, seen) {
                            let _ = writeln!(body, "-- {why}");
                            continue;
                        }
                        runs |= !matches!(
                            st.impact.kind,
                            Kind::AlterSystem { .. }
                                | Kind::ReloadConf
                                | Kind::RoleOrDatabase
                                | Kind::Privileges
                                | Kind::Checkpoint
                        );
                        ran_setting |= matches!(st.impact.kind, Kind::AlterSystem { .. });
                        let _ = match &st.note {
                            Some(n) => writeln!(body, "{}  -- {n}", st.sql),
                            None => writeln!(body, "{}", st.sql),
                        };
                    }
                }
            }
        }
    }
    match (&connect, runs) {
        (Some(db), true) => {
            let _ = writeln!(s, "\\connect {}", crate::sql::quote_ident(db));
            s.push_str(&body);
            let _ = writeln!(
                s,
                "\\connect {}",
                crate::sql::quote_ident(&report.target.database)
            );
        }
        _ => s.push_str(&body),
    }
    ran_setting
}

/// Why the script leaves a statement of `fix` commented out (`None`: it runs): it destroys
/// something (unless the engine found it harmless for this fix, e.g. dropping an invalid
/// index), or a person must decide on or complete it.
pub fn skipped_reason(st: &Statement, fix: &Fix) -> Option<String> {
    if let Some(why) = &st.impact.destructive {
        // The engine keeps in `fix.destructive` only the reasons that hold on this server.
        if fix
            .destructive
            .as_deref()
            .is_some_and(|d| d.contains(why.as_str()))
        {
            return Some(format!("destructive, {why}"));
        }
    }
    st.impact.skip.clone()
}

fn commented(body: &mut String, st: &Statement, why: &str) {
    let _ = writeln!(body, "-- not run: {why}");
    for (i, line) in st.sql.lines().enumerate() {
        let note = match (&st.note, i) {
            (Some(n), 0) => format!("  -- {n}"),
            _ => String::new(),
        };
        let _ = writeln!(body, "--   {line}{note}");
    }
}

/// A statement the script already wrote, or a setting it already set.
fn duplicate(st: &Statement, database: Option<&str>, seen: &mut Seen) -> Option<String> {
    if let Kind::AlterSystem { setting, value } = &st.impact.kind {
        let value = value.clone().unwrap_or_else(|| "DEFAULT".to_owned());
        return match seen.settings.get(setting) {
            Some(v) if *v == value => Some(format!("{setting} = {value}: already set above")),
            Some(v) => Some(format!(
                "not run: {setting} is set above to {v} (this fix says {value})"
            )),
            None => {
                seen.settings.insert(setting.clone(), value);
                None
            }
        };
    }
    if st.impact.kind == Kind::ReloadConf {
        return None;
    }
    // The same statement in another database is another statement.
    let key = normalised(&st.sql);
    if seen
        .statements
        .iter()
        .any(|(db, earlier)| db.as_deref() == database && crate::sql::covers(earlier, &key))
    {
        return Some(format!(
            "already above: {}",
            st.sql.lines().next().unwrap_or("")
        ));
    }
    seen.statements.push((database.map(str::to_owned), key));
    None
}

/// The database a fix runs in: the finding's object's.
fn fix_database(f: &Finding) -> Option<&str> {
    match f.object.kind {
        crate::report::ObjectKind::Database => Some(f.object.name.as_str()),
        _ => f.object.database.as_deref(),
    }
}
