//! `pgsage workload`: read logs (or pg_stat_statements), aggregate, report.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pgsage::report::render::Format;
use pgsage::snapshot::HostFacts;
use pgsage::workload::log::LogOptions;
use pgsage::workload::report::{render, RenderOptions, SortBy, WorkloadReport};
use pgsage::workload::{AggregateOptions, Workload};
use pgsage::Snapshot;

use crate::args::WorkloadArgs;
use crate::commands::{collect, load_config, parse_severity};

pub fn workload(args: WorkloadArgs) -> Result<ExitCode> {
    let format: Format = args.format.parse().map_err(anyhow::Error::msg)?;
    let by: SortBy = args
        .by
        .parse()
        .map_err(anyhow::Error::msg)
        .context("--by")?;
    let fail_on = parse_severity(args.fail_on.as_deref(), "--fail-on")?;
    let config = load_config(args.config.as_deref())?;
    let snapshot = match &args.snapshot {
        Some(p) => Some(Snapshot::load(p)?),
        None => None,
    };
    let (workload, log) = if !args.log.logs.is_empty() {
        let (w, stats) = from_logs(&args, snapshot.as_ref())?;
        (w, Some(stats))
    } else {
        let snap = match snapshot {
            Some(s) => s,
            None => {
                if !args.connect.server.given() {
                    bail!("no workload: pass log files, --snapshot FILE or --dsn DSN (or set PGHOST/PGDATABASE)");
                }
                collect(&args.connect, HostFacts::default(), false)?
            }
        };
        (pgsage::workload::from_snapshot(&snap)?, None)
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
    let report = WorkloadReport::new(workload, &config, log);
    let to_terminal = std::io::stdout().is_terminal();
    let opts = RenderOptions {
        top: args.top,
        by,
        width: args.width.or(if to_terminal { None } else { Some(100) }),
    };
    let mut out = std::io::stdout().lock();
    render(&report, format, &opts, &mut out)?;
    out.flush()?;
    let failed = fail_on.is_some_and(|f| report.worst().is_some_and(|w| w >= f));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn log_options(args: &WorkloadArgs, snapshot: Option<&Snapshot>) -> Result<LogOptions> {
    let mut opts = snapshot
        .map(LogOptions::from_snapshot)
        .unwrap_or_default()
        .overridden(args.log.log_line_prefix.clone(), args.log.format()?);
    if let Some(t) = args.threads {
        opts.threads = t;
    }
    Ok(opts)
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
    let json = serde_json::to_value(&stats)?;
    Ok((workload, json))
}
