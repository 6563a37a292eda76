//! `pgsage workload`: read logs (or pg_stat_statements), aggregate, report.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pgsage::engine::workload::{render, RenderOptions, SortBy, WorkloadReport};
use pgsage::snapshot::HostFacts;
use pgsage::snapshot::Platform;
use pgsage::workload::log::LogOptions;
use pgsage::workload::{AggregateOptions, Workload};
use pgsage::Snapshot;

use crate::output;
use crate::shared_args::{platform_flag, tier_flag, ConnectArgs, FormatArg, LogArgs, SeverityArg};

#[derive(Debug, Args)]
pub struct WorkloadArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// Where the server runs, for its logs' log_line_prefix (azure-flexible-server,
    /// aws-rds, aws-aurora, gcp-cloud-sql, gcp-alloydb): used unless --log-line-prefix or
    /// --snapshot names the server's own. See docs/platform-logs.md.
    #[arg(long, value_parser = platform_flag)]
    pub platform: Option<Platform>,
    /// Use this snapshot's pg_stat_statements (or, with log files, its logging settings);
    /// its standbys, tables, sessions and host facts answer the workload questions.
    #[arg(long, conflicts_with = "dsn")]
    pub snapshot: Option<PathBuf>,
    /// CPUs available to PostgreSQL: the headroom at the peak (WRK004).
    #[arg(long)]
    pub cpus: Option<f64>,
    /// The managed service's compute size whose vCPUs are the host's cores (--cpus wins):
    /// Standard_D4ds_v5, db.r6g.large, db-custom-4-16384; docs/tiers.md lists them.
    #[arg(long, value_parser = tier_flag)]
    pub tier: Option<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Configuration file overriding the rule packs (default: ./pgsage.toml if present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The Odoo server's configuration file (odoo.conf): its `db_replica_host` tells the
    /// workload questions where Odoo already sends read-only work. Only the pool and
    /// replica keys are read.
    #[arg(long, value_name = "FILE")]
    pub odoo_conf: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Save the workload (every fingerprint, JSON) to this file, e.g. workload.json.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write the report (in --format) here instead of standard output, e.g.
    /// workload.html (-o saves the workload itself).
    #[arg(long, value_name = "FILE")]
    pub report_out: Option<PathBuf>,
    /// How many queries to list.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Order of the listed queries (temp: by temporary file bytes).
    #[arg(long, value_enum, default_value_t = SortByArg::Total)]
    pub by: SortByArg,
    /// Length of a time window for log captures (e.g. 1h, 15m).
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub bucket: Duration,
    /// Log parser threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Exit with status 1 when a finding is at or above this severity.
    #[arg(long, value_enum, ignore_case = true)]
    pub fail_on: Option<SeverityArg>,
    /// Width of the table output (default: the terminal's, or 100).
    #[arg(long, value_parser = output::parse_width)]
    pub width: Option<u16>,
}

pub fn run(args: WorkloadArgs) -> Result<ExitCode> {
    let mut config = pgsage::RuleConfig::discover(args.config.as_deref())?;
    if let Some(path) = &args.odoo_conf {
        config.load_odoo_conf(path)?;
    }
    // The platform named reads its logs and renders the fixes for it (az, aws, gcloud).
    if let Some(platform) = args.platform {
        config.host.platform = Some(pgsage::snapshot::Fact::new(platform, "flag"));
    }
    let host = pgsage::host::from_flags(None, args.cpus, None, "flag")?;
    let host = pgsage::knowledge::platform_tiers::with_tier(host, args.tier.as_deref(), "flag")?;
    config.host = host.or(&config.host);
    let mut snapshot = match &args.snapshot {
        Some(p) => Some(Snapshot::load(p)?),
        None => None,
    };
    let (workload, log) = if !args.log.logs.is_empty() {
        let (w, stats) = from_logs(&args, snapshot.as_ref())?;
        (w, Some(stats))
    } else {
        let snap = match snapshot.take() {
            Some(s) => s,
            None => {
                if !args.connect.server.given() {
                    bail!("no workload: pass log files, --snapshot FILE or --dsn DSN (or set PGHOST/PGDATABASE)");
                }
                args.connect.collect(HostFacts::default(), false)?
            }
        };
        let w = pgsage::workload::from_snapshot(&snap)?;
        snapshot = Some(snap);
        (w, None)
    };
    if let Some(path) = &args.output {
        workload.save(path)?;
        if !args.quiet {
            eprintln!(
                "pgsage: wrote {} ({} queries)",
                path.display(),
                workload.queries.len()
            );
        }
    }
    let facts =
        pgsage::engine::question_facts(snapshot.as_ref(), &config.host, config.odoo.as_ref());
    let report = WorkloadReport::with_facts(workload, &config, log, &facts);
    let opts = RenderOptions {
        top: args.top,
        by: args.by.into(),
        width: output::table_width(args.width, output::to_terminal(args.report_out.as_deref())),
    };
    output::write(args.report_out.as_deref(), |out| {
        if args.format == FormatArg::Html {
            return out.write_all(pgsage::html::workload_page(&report, &opts).as_bytes());
        }
        render(&report, args.format.into(), &opts, out)
    })?;
    Ok(output::status(args.fail_on, report.worst()))
}

fn log_options(args: &WorkloadArgs, snapshot: Option<&Snapshot>) -> Result<LogOptions> {
    let mut opts = snapshot
        .map(LogOptions::from_snapshot)
        .unwrap_or_default()
        .overridden(args.log.log_line_prefix.clone(), args.log.format())
        .with_platform(args.platform);
    if let Some(t) = args.threads {
        opts.threads = t;
    }
    Ok(opts)
}

/// `--by`: the library's `SortBy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortByArg {
    #[value(alias = "time")]
    Total,
    Mean,
    Calls,
    Temp,
}

impl From<SortByArg> for SortBy {
    fn from(s: SortByArg) -> Self {
        match s {
            SortByArg::Total => Self::Total,
            SortByArg::Mean => Self::Mean,
            SortByArg::Calls => Self::Calls,
            SortByArg::Temp => Self::Temp,
        }
    }
}

/// A spinner on standard error, shown only on a terminal, without --quiet, once reading
/// has taken more than two seconds.
struct Progress {
    bar: ProgressBar,
    started: Instant,
    enabled: bool,
    shown: bool,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {elapsed} {pos} statements, {msg}")
        {
            bar.set_style(style);
        }
        Progress {
            bar,
            started: Instant::now(),
            enabled: !quiet && std::io::stderr().is_terminal(),
            shown: false,
        }
    }

    fn update(&mut self, samples: u64, fingerprints: usize) {
        if !self.enabled {
            return;
        }
        if !self.shown && self.started.elapsed() > Duration::from_secs(2) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(200));
            self.shown = true;
        }
        self.bar.set_position(samples);
        self.bar
            .set_message(format!("{fingerprints} distinct queries"));
    }

    fn finish(&self) {
        if self.shown {
            self.bar.finish_and_clear();
        }
    }
}

fn from_logs(
    args: &WorkloadArgs,
    snapshot: Option<&Snapshot>,
) -> Result<(Workload, serde_json::Value)> {
    let opts = log_options(args, snapshot)?;
    let secs = i64::try_from(args.bucket.as_secs()).unwrap_or(3600).max(1);
    let mut progress = Progress::new(args.quiet);
    let (workload, stats) = pgsage::workload::from_logs(
        &args.log.logs,
        &opts,
        AggregateOptions {
            bucket_seconds: secs,
        },
        None,
        |samples, fingerprints| progress.update(samples, fingerprints),
    )?;
    progress.finish();
    if stats.unparsed_lines > 0 && !args.quiet {
        eprintln!(
            "pgsage: {} log lines did not parse (counted in the report; see `log.unparsed_examples` in --format json)",
            stats.unparsed_lines
        );
    }
    for e in &stats.input_errors {
        eprintln!("pgsage: warning: {e}");
    }
    // Logs without one statement are an error, not an empty report: most often the
    // wrong log_line_prefix, which these flags name.
    pgsage::workload::found_statements(&workload, &stats).map_err(|e| {
        anyhow::anyhow!(
            "{e} (--log-line-prefix, --platform or --snapshot name the server's prefix; \
             see docs/platform-logs.md)"
        )
    })?;
    let json = serde_json::to_value(&stats)?;
    Ok((workload, json))
}
