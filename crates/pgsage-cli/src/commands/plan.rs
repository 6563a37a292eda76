//! `pgsage plan`: what is wrong with an EXPLAIN plan — from a file, standard input, or a
//! statement explained live on a server (`--dsn … --query …`).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use pgsage::engine::plan::{analyze, render_plan_reports, PlanSection};
use pgsage::plan::analyze_live::{explain_live, LiveError, LiveOptions};
use pgsage::plan::from_log::{plans_in_log, plans_in_log_files, LoggedPlans};
use pgsage::plan::{parse_plans, Plan};
use pgsage::report::render::TableStyle;
use pgsage::report::{Report, ReportFilter};
use pgsage::snapshot::Platform;
use pgsage::workload::log::LogOptions;
use pgsage::ConnectOptions;

use crate::output;
use crate::shared_args::{platform_flag, FormatArg, SeverityArg};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// EXPLAIN output to analyze (JSON or text, one plan or several, as pasted from
    /// psql); `-` reads standard input. Not with --query.
    #[arg(required_unless_present = "query", conflicts_with = "query")]
    pub input: Option<PathBuf>,
    /// The input is a server log (stderr, csvlog or jsonlog; .gz too): analyze every plan
    /// auto_explain wrote in it. A plain-text log with auto_explain entries is recognised
    /// without it.
    #[arg(long, conflicts_with = "query")]
    pub log: bool,
    /// The server's log_line_prefix, for server logs (default: the platform's, else
    /// detected).
    #[arg(long, conflicts_with = "query")]
    pub log_line_prefix: Option<String>,
    /// Where the server runs, for its logs' log_line_prefix (azure-flexible-server,
    /// aws-rds, aws-aurora, gcp-cloud-sql, gcp-alloydb). See docs/platform-logs.md.
    #[arg(long, value_parser = platform_flag, conflicts_with = "query")]
    pub platform: Option<Platform>,
    /// Explain this statement live: EXPLAIN (ANALYZE, BUFFERS, …) in a READ ONLY
    /// transaction that is rolled back (see --analyze-writes, --no-analyze).
    #[arg(long)]
    pub query: Option<String>,
    /// Connection string for --query (postgres://… or key=value); PG* environment
    /// variables and ~/.pgpass fill in the rest.
    #[arg(long, requires = "query")]
    pub dsn: Option<String>,
    /// Only plan the statement (EXPLAIN without ANALYZE): nothing runs.
    #[arg(long, requires = "query", conflicts_with = "analyze_writes")]
    pub no_analyze: bool,
    /// Allow EXPLAIN ANALYZE of a statement that writes: it runs in a transaction that is
    /// always rolled back (it still takes locks and fires triggers while it runs).
    #[arg(long, requires = "query")]
    pub analyze_writes: bool,
    /// statement_timeout for the explained statement.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Give up connecting after this long.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,
    /// Show the plan as a tree: each node's own time, share, rows against the estimate,
    /// buffers, and the rules that found something at it.
    #[arg(long)]
    pub tree: bool,
    /// Configuration file overriding the rule packs (default: ./pgsage.toml if present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format (html: one self-contained page, see docs/plans.md).
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Write the report here instead of standard output (e.g. plan.html).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Only findings at or above this severity.
    #[arg(long, value_enum, ignore_case = true)]
    pub min_severity: Option<SeverityArg>,
    /// Exit with status 1 when a finding is at or above this severity.
    #[arg(long, value_enum, ignore_case = true)]
    pub fail_on: Option<SeverityArg>,
    /// Width of the table output (default: the terminal's, or 100).
    #[arg(long, value_parser = output::parse_width)]
    pub width: Option<u16>,
}

/// The library says what stopped the EXPLAIN; the flags that change it are ours to name.
fn live_error(e: LiveError) -> anyhow::Error {
    let hint = match &e {
        LiveError::Empty => "pass the statement with --query",
        LiveError::WriteRefused { .. } => {
            "pass --analyze-writes to run it in a transaction that is rolled back, or \
             --no-analyze to only plan it"
        }
        LiveError::Timeout { .. } => "raise --timeout, or pass --no-analyze to only plan it",
        _ => return e.into(),
    };
    anyhow::anyhow!("{e}; {hint}")
}

pub fn run(args: PlanArgs) -> Result<ExitCode> {
    let mut config = pgsage::RuleConfig::discover(args.config.as_deref())?;
    // The platform named reads its logs and renders the fixes for it (az, aws, gcloud).
    if let Some(platform) = args.platform {
        config.host.platform = Some(pgsage::snapshot::Fact::new(platform, "flag"));
    }

    let (plans, live): (Vec<Plan>, Option<pgsage::plan::analyze_live::LiveExplain>) =
        match (&args.input, &args.query) {
            (Some(path), _) if args.log => (plans_from_log(path, &args)?, None),
            (Some(path), _) => {
                let (name, text) = read_input(path)?;
                if looks_like_auto_explain_log(&text) {
                    (plans_from_log_text(&text, &name, &args)?, None)
                } else {
                    let plans = parse_plans(&text).with_context(|| format!("reading {name}"))?;
                    (plans, None)
                }
            }
            (None, Some(sql)) => {
                let connect = ConnectOptions {
                    dsn: args.dsn.clone(),
                    connect_timeout: args.connect_timeout,
                    statement_timeout: args.timeout,
                    ..ConnectOptions::default()
                };
                let options = LiveOptions {
                    analyze: !args.no_analyze,
                    analyze_writes: args.analyze_writes,
                    timeout: args.timeout,
                };
                let live = explain_live(&connect, sql, &options).map_err(live_error)?;
                (vec![live.plan.clone()], Some(live))
            }
            (None, None) => {
                bail!("nothing to analyze: pass a file (or - for standard input) or --query")
            }
        };

    let mut reports: Vec<Report> = plans.iter().map(|p| analyze(p, &config)).collect();
    for report in &mut reports {
        if let Some(live) = &live {
            live.label(report);
        }
        report.filter(&ReportFilter {
            packs: Vec::new(),
            min_severity: args.min_severity.map(Into::into),
        });
    }
    let sections: Vec<PlanSection<'_>> = plans
        .iter()
        .zip(&reports)
        .map(|(plan, report)| PlanSection { plan, report })
        .collect();
    let to_terminal = output::to_terminal(args.output.as_deref());
    let style = TableStyle {
        width: output::table_width(args.width, to_terminal),
        color: output::color(to_terminal),
    };
    output::write(args.output.as_deref(), |out| {
        if args.format == FormatArg::Html {
            return out.write_all(pgsage::html::plan_page(&sections).as_bytes());
        }
        render_plan_reports(&sections, args.format.into(), &style, args.tree, out)
    })?;
    Ok(output::status(
        args.fail_on,
        reports.iter().filter_map(Report::worst),
    ))
}

/// A server log with auto_explain entries (`LOG:  duration: … ms  plan:`), read as a log
/// even without `--log`; also a Cloud Logging export of one, where the entry is inside a
/// JSON string.
fn looks_like_auto_explain_log(text: &str) -> bool {
    text.lines().take(10_000).any(|l| {
        l.find("duration: ")
            .is_some_and(|at| l[at..].contains(" ms  plan:"))
    })
}

fn log_options(args: &PlanArgs) -> LogOptions {
    LogOptions {
        prefix: args.log_line_prefix.clone(),
        ..LogOptions::default()
    }
    .with_platform(args.platform)
}

/// The auto_explain plans of a server log file (`-`: standard input).
fn plans_from_log(path: &PathBuf, args: &PlanArgs) -> Result<Vec<Plan>> {
    let opts = log_options(args);
    let found = if path.as_os_str() == "-" {
        plans_in_log(std::io::stdin().lock(), "standard input", &opts)
    } else {
        plans_in_log_files(&[path], &opts)
    }
    .with_context(|| format!("reading {}", path.display()))?;
    logged_plans(found, &path.display().to_string())
}

/// The auto_explain plans of a log already read as text.
fn plans_from_log_text(text: &str, name: &str, args: &PlanArgs) -> Result<Vec<Plan>> {
    let found = plans_in_log(text.as_bytes(), name, &log_options(args))
        .with_context(|| format!("reading {name}"))?;
    logged_plans(found, name)
}

/// The plans found, with a count on stderr; none is an error.
fn logged_plans(found: LoggedPlans, name: &str) -> Result<Vec<Plan>> {
    eprintln!(
        "pgsage: {} auto_explain plan(s) in {} log lines{}",
        found.plans.len(),
        found.stats.lines,
        if found.unreadable_count > 0 {
            format!(
                "; {} could not be read (first: {})",
                found.unreadable_count,
                found.unreadable.first().map_or("", String::as_str)
            )
        } else {
            String::new()
        }
    );
    if found.plans.is_empty() {
        bail!("no auto_explain plan in {name} (is auto_explain loaded, with auto_explain.log_min_duration set?)");
    }
    Ok(found.plans.into_iter().map(|p| p.plan).collect())
}

/// The input's name for messages and its text.
fn read_input(path: &PathBuf) -> Result<(String, String)> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        return Ok(("standard input".into(), text));
    }
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("reading {name}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("reading {name}: not UTF-8 text (is it EXPLAIN output?)"))?;
    Ok((name, text))
}
