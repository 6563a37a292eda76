//! The subcommands: each parses its arguments into library calls.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use pgsage::report::render::{render, Format, TableStyle};
use pgsage::report::ReportFilter;
use pgsage::snapshot::HostFacts;
use pgsage::{CollectOptions, RuleConfig, Severity, Snapshot, Source};

use crate::args::{
    AuditArgs, Cli, Command, ConnectArgs, HostArgs, RedactArgs, RulesArgs, SnapshotArgs, TuneArgs,
};

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Snapshot(a) => snapshot(a),
        Command::Audit(a) => audit(a),
        Command::Redact(a) => redact(a),
        Command::Rules(a) => rules(a),
        Command::Tune(a) => tune(a),
        Command::Workload(a) => crate::workload::workload(a),
        Command::Plan(a) => crate::plan::plan(a),
        Command::Indexes(a) => crate::indexes::indexes(a),
        Command::Rule { id } => rules(RulesArgs {
            id: Some(id),
            format: "table".into(),
        }),
    }
}

fn host_facts(args: &HostArgs) -> Result<HostFacts> {
    Ok(pgsage::api::host_facts(
        args.ram.as_deref(),
        args.cpus,
        args.storage.as_deref(),
        "flag",
    )?)
}

pub(crate) fn collect(
    args: &ConnectArgs,
    host: HostFacts,
    probe_local_host: bool,
) -> Result<Snapshot> {
    let connect = args.server.connect_options();
    let options = CollectOptions {
        include_query_text: args.include_query_text,
        statements_top_n: args.statements_top,
        interval: args.interval,
        host_facts: host,
        probe_local_host,
        ..CollectOptions::default()
    };
    if let Some(i) = args.interval {
        if std::io::stderr().is_terminal() {
            eprintln!(
                "pgsage: sampling twice, {} apart…",
                humantime::format_duration(i)
            );
        }
    }
    Ok(pgsage::collect_snapshot_with(&connect, &options)?)
}

fn snapshot(args: SnapshotArgs) -> Result<ExitCode> {
    let host = host_facts(&args.host)?;
    let mut snap = collect(&args.connect, host, !args.host.no_local_facts)?;
    if args.redact {
        pgsage::redact::redact(&mut snap);
    }
    snap.save(&args.output)?;
    eprintln!(
        "pgsage: wrote {} ({} tables, {} indexes, {} gaps)",
        args.output.display(),
        snap.tables.len(),
        snap.indexes.len(),
        snap.gaps.len()
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn load_config(path: Option<&Path>) -> Result<RuleConfig> {
    Ok(pgsage::api::load_config(path)?)
}

fn audit(args: AuditArgs) -> Result<ExitCode> {
    let format: Format = args.format.parse().map_err(anyhow::Error::msg)?;
    let min_severity = parse_severity(args.min_severity.as_deref(), "--min-severity")?;
    let fail_on = parse_severity(args.fail_on.as_deref(), "--fail-on")?;
    let mut config = load_config(args.config.as_deref())?;
    pgsage::api::check_packs(&config, &args.packs)?;
    let flags = host_facts(&args.host)?;
    config.host = flags.clone().or(&config.host);

    let (snap, source) = match &args.snapshot {
        Some(path) => (Snapshot::load(path)?, Source::SnapshotFile),
        None => {
            if !args.connect.server.given() {
                bail!("nothing to audit: pass --snapshot FILE or --dsn DSN (or set PGHOST/PGDATABASE)");
            }
            (
                collect(
                    &args.connect,
                    config.host.clone(),
                    !args.host.no_local_facts,
                )?,
                Source::Live,
            )
        }
    };
    let mut report = pgsage::audit_from(&snap, &config, source);
    report.filter(&ReportFilter {
        packs: args.packs.clone(),
        min_severity,
    });

    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let style = TableStyle {
        width: args.width.or(if to_terminal { None } else { Some(100) }),
        color: to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    match &args.output {
        Some(path) => {
            let mut buf = Vec::new();
            render(&report, format, &style, &mut buf)?;
            std::fs::write(path, buf).with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            render(&report, format, &style, &mut out)?;
            out.flush()?;
        }
    }
    let failed = fail_on.is_some_and(|f| report.worst().is_some_and(|w| w >= f));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn tune(args: TuneArgs) -> Result<ExitCode> {
    use pgsage::tune::render::{render as render_tune, TuneFormat};
    use pgsage::tune::{Profile, TuneOptions};
    let profile: Profile = args
        .profile
        .parse()
        .map_err(anyhow::Error::msg)
        .context("--profile")?;
    let format: TuneFormat = args
        .format
        .parse()
        .map_err(anyhow::Error::msg)
        .context("--format")?;
    if args.connections.is_some_and(|n| n < 1) {
        bail!("--connections must be at least 1");
    }
    let config = load_config(args.config.as_deref())?;
    // Flags win over the configuration file; the snapshot's facts fill the rest.
    let host = host_facts(&args.host)?.or(&config.host);
    let snap = match &args.snapshot {
        Some(path) => Snapshot::load(path)?,
        None => {
            if !args.connect.server.given() {
                bail!(
                    "nothing to tune: pass --snapshot FILE or --dsn DSN (or set PGHOST/PGDATABASE)"
                );
            }
            collect(&args.connect, host.clone(), !args.host.no_local_facts)?
        }
    };
    let report = pgsage::tune::recommend(
        &snap,
        &TuneOptions {
            profile,
            host,
            connections: args.connections,
        },
    );
    let mut out = std::io::stdout().lock();
    if args.script {
        out.write_all(report.script().as_bytes())?;
    } else {
        let width = args.width.or(if std::io::stdout().is_terminal() {
            None
        } else {
            Some(100)
        });
        render_tune(&report, format, width, &mut out)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn parse_severity(value: Option<&str>, flag: &str) -> Result<Option<Severity>> {
    value
        .map(|v| {
            v.parse::<Severity>()
                .map_err(anyhow::Error::msg)
                .context(flag.to_owned())
        })
        .transpose()
}

fn redact(args: RedactArgs) -> Result<ExitCode> {
    let mut snap = Snapshot::load(&args.input)?;
    pgsage::redact::redact(&mut snap);
    snap.save(&args.output)?;
    Ok(ExitCode::SUCCESS)
}

fn rules(args: RulesArgs) -> Result<ExitCode> {
    let config = RuleConfig::shipped()?;
    let mut out = std::io::stdout().lock();
    match args.id {
        Some(id) => {
            let Some(rule) = pgsage::rules::rule(&id) else {
                bail!("unknown rule `{id}` (see `pgsage rules`)");
            };
            out.write_all(pgsage::rules::docs::rule_markdown(rule, &config).as_bytes())?;
        }
        None if args.format == "json" => {
            let catalogue = pgsage::rules::docs::catalogue(&config);
            writeln!(out, "{}", serde_json::to_string_pretty(&catalogue)?)?;
        }
        None => {
            for r in pgsage::rules::ALL_RULES.iter() {
                let m = r.meta();
                let on = if config.is_enabled(m.id) {
                    ""
                } else {
                    " (off by default)"
                };
                writeln!(
                    out,
                    "{}  {:<12} {:<24} {}{on}",
                    m.id, m.pack, m.name, m.title
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
