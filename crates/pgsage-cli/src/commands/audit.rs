//! `pgsage audit`: run the rules on a live server or a snapshot file and print the findings.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use pgsage::diff::baseline::BaselineComparison;
use pgsage::report::render::{render, TableStyle};
use pgsage::report::ReportFilter;
use pgsage::{Snapshot, Source};

use crate::shared_args::{check_tier, ConnectArgs, FormatArg, HostArgs, SeverityArg, SizingArgs};
use crate::{hints, output};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Audit this snapshot file instead of a live server.
    #[arg(long, conflicts_with = "dsn")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub host: HostArgs,
    #[command(flatten)]
    pub sizing: SizingArgs,
    /// Configuration file overriding the rule packs (default: ./pgsage.toml if present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The Odoo server's configuration file (odoo.conf), for the `erp` pack: its
    /// connection pools (workers, max_cron_threads, db_maxconn) and replica. Only those
    /// keys are read; its passwords never are.
    #[arg(long, value_name = "FILE")]
    pub odoo_conf: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Only these packs (repeatable).
    #[arg(long = "pack")]
    pub packs: Vec<String>,
    /// Only findings at or above this severity.
    #[arg(long, value_enum, ignore_case = true)]
    pub min_severity: Option<SeverityArg>,
    /// Exit with status 1 when a finding is at or above this severity.
    #[arg(long, value_enum, ignore_case = true)]
    pub fail_on: Option<SeverityArg>,
    /// Write the report here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Width of the table output (default: the terminal's, or 100).
    #[arg(long, value_parser = output::parse_width)]
    pub width: Option<u16>,
    /// Print the fixes as a SQL script for `psql -v ON_ERROR_STOP=1 -f` instead of the
    /// report: online changes, then reloads, restarts and the maintenance window, each
    /// with the lock it takes; destructive statements commented out.
    #[arg(long, conflicts_with = "format")]
    pub script: bool,
    /// An earlier report (`--format json`) to compare with: `--fail-on` counts only the
    /// findings not in it, and the output says which are new (docs/diff.md).
    #[arg(long)]
    pub baseline: Option<PathBuf>,
}

pub fn run(args: AuditArgs) -> Result<ExitCode> {
    let mut config = pgsage::RuleConfig::discover(args.config.as_deref())?;
    config.check_packs(&args.packs)?;
    args.sizing.apply(&mut config)?;
    if let Some(path) = &args.odoo_conf {
        config.load_odoo_conf(path)?;
    }
    config.host = args.host.facts()?.or(&config.host);

    let (snap, source) = match &args.snapshot {
        Some(path) => (Snapshot::load(path)?, Source::SnapshotFile),
        None => {
            if !args.connect.server.given() {
                bail!("nothing to audit: pass --snapshot FILE or --dsn DSN (or set PGHOST/PGDATABASE)");
            }
            let snap = args
                .connect
                .collect(config.host.clone(), !args.host.no_local_facts)?;
            (snap, Source::Live)
        }
    };
    check_tier(&snap, &config.host)?;
    let mut report = pgsage::audit_from(&snap, &config, source);
    report.filter(&ReportFilter {
        packs: args.packs.clone(),
        min_severity: args.min_severity.map(Into::into),
    });
    let baseline = match &args.baseline {
        Some(path) => {
            let mut old = pgsage::diff::baseline::load_report(path)?;
            // The same filter on both sides: a finding filtered out of one is not new.
            old.filter(&ReportFilter {
                packs: args.packs.clone(),
                min_severity: args.min_severity.map(Into::into),
            });
            let shown = path.display().to_string();
            Some(BaselineComparison::of(&report, &old, &shown))
        }
        None => None,
    };
    // With a baseline, only the new findings fail the run.
    let status = || match &baseline {
        Some(b) => output::status(args.fail_on, b.new_severities(&report)),
        None => output::status(args.fail_on, report.worst()),
    };
    // The summary line, then the new findings indented (listed in Markdown).
    let baseline_lines: Vec<String> = baseline.as_ref().map_or_else(Vec::new, |b| {
        let bullet = if args.format == FormatArg::Markdown {
            "- "
        } else {
            "  "
        };
        b.lines(&report)
            .into_iter()
            .enumerate()
            .map(|(i, l)| if i == 0 { l } else { format!("{bullet}{l}") })
            .collect()
    });

    let to_terminal = output::to_terminal(args.output.as_deref());
    let style = TableStyle {
        width: output::table_width(args.width, to_terminal),
        color: output::color(to_terminal),
    };
    // The report names the facts its skipped rules lacked; the flags are ours to name.
    let hints = match args.format {
        FormatArg::Json | FormatArg::Html => Vec::new(),
        FormatArg::Table | FormatArg::Markdown => {
            let mut lines =
                hints::missing_facts(report.skipped.iter().filter_map(|s| s.missing_fact));
            lines.extend(hints::short_window(&report.counters));
            lines
        }
    };
    if args.script {
        output::write(args.output.as_deref(), |out| {
            pgsage::report::render::render_script(&report, out)
        })?;
        for line in &baseline_lines {
            eprintln!("{line}");
        }
        return Ok(status());
    }
    if args.format == FormatArg::Html {
        // The page with the charts drawn from the audited snapshot; the hints (nothing
        // may follow </html>) go to standard error.
        output::write(args.output.as_deref(), |out| {
            out.write_all(pgsage::html::audit_page(&report, Some(&snap)).as_bytes())
        })?;
        for line in hints::missing_facts(report.skipped.iter().filter_map(|s| s.missing_fact))
            .into_iter()
            .chain(hints::short_window(&report.counters))
        {
            eprintln!("{line}");
        }
        for line in &baseline_lines {
            eprintln!("{line}");
        }
        return Ok(status());
    }
    output::write(args.output.as_deref(), |out| {
        if let (FormatArg::Json, Some(b)) = (args.format, &baseline) {
            return writeln!(out, "{}", pgsage::diff::baseline::report_json(&report, b));
        }
        for line in &baseline_lines {
            writeln!(out, "{line}")?;
        }
        if !baseline_lines.is_empty() {
            writeln!(out)?;
        }
        render(&report, args.format.into(), &style, out)?;
        for line in &hints {
            writeln!(out, "\n{line}")?;
        }
        Ok(())
    })?;
    Ok(status())
}
