//! auto_explain plans inside server logs (JSON or text format), found with the workload's
//! log reader: every `duration: … ms  plan:` entry becomes a [`LoggedPlan`].

use std::io::Read;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::{parse_plans, Plan, PlanError};
use crate::workload::log::{self, LogError, LogOptions, LogStats};
use crate::workload::{Sample, SampleKind};

/// Lines of a text plan's `Query Text:` header skipped at most while looking for where
/// the plan starts (the query text may span lines).
const MAX_QUERY_TEXT_LINES: usize = 500;

/// A plan auto_explain wrote to the log, with the entry's facts.
#[derive(Debug, Clone)]
pub struct LoggedPlan {
    /// When it was logged, if the prefix has a timestamp.
    pub at: Option<DateTime<Utc>>,
    /// Database, if the prefix has it.
    pub database: Option<String>,
    /// User, if the prefix has it.
    pub user: Option<String>,
    /// The statement's duration as logged, ms.
    pub duration_ms: f64,
    /// The plan.
    pub plan: Plan,
}

/// What reading a log for plans found.
#[derive(Debug)]
pub struct LoggedPlans {
    /// Plans in log order.
    pub plans: Vec<LoggedPlan>,
    /// auto_explain entries whose plan could not be parsed, with the reason (first few).
    pub unreadable: Vec<String>,
    /// How many auto_explain entries could not be parsed.
    pub unreadable_count: usize,
    /// The log reader's counts (lines, unparsed lines, …).
    pub stats: LogStats,
}

/// Reads the auto_explain plans of log files (stderr, csvlog or jsonlog, `.gz` too).
pub fn plans_in_log_files<P: AsRef<Path>>(
    paths: &[P],
    opts: &LogOptions,
) -> Result<LoggedPlans, LogError> {
    let mut collector = Collector::default();
    let stats = log::read_paths(paths, opts, |s| collector.add(s))?;
    Ok(collector.finish(stats))
}

/// Reads the auto_explain plans of one log stream (`name` labels it in counts).
pub fn plans_in_log(
    reader: impl Read,
    name: &str,
    opts: &LogOptions,
) -> Result<LoggedPlans, LogError> {
    let mut collector = Collector::default();
    let stats = log::read(reader, name, opts, |s| collector.add(s))?;
    Ok(collector.finish(stats))
}

/// Parses the plan text of one auto_explain entry: JSON (`{"Query Text": …, "Plan": …}`)
/// or text, whose first lines are `Query Text: …` (the query may span lines; the plan
/// starts at the first line from which the rest parses as a plan).
pub fn parse_logged_plan(text: &str) -> Result<Plan, PlanError> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return single(parse_plans(trimmed)?);
    }
    let lines: Vec<&str> = trimmed.lines().collect();
    if !lines
        .first()
        .is_some_and(|l| l.trim_start().starts_with("Query Text:"))
    {
        return single(parse_plans(trimmed)?);
    }
    let mut last = PlanError::Empty;
    for start in 1..lines.len().min(MAX_QUERY_TEXT_LINES + 1) {
        match parse_plans(&lines[start..].join("\n")) {
            Ok(plans) => return single(plans),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn single(mut plans: Vec<Plan>) -> Result<Plan, PlanError> {
    match plans.len() {
        1 => Ok(plans.remove(0)),
        n => Err(PlanError::shape(
            "auto_explain entry",
            format!("expected one plan, found {n}"),
        )),
    }
}

/// Unreadable entries whose reasons are kept.
const KEPT_REASONS: usize = 5;

#[derive(Default)]
struct Collector {
    plans: Vec<LoggedPlan>,
    unreadable: Vec<String>,
    unreadable_count: usize,
}

impl Collector {
    fn add(&mut self, sample: Sample) {
        if sample.kind != SampleKind::AutoExplain {
            return;
        }
        let Some(text) = sample.plan.as_deref() else {
            return;
        };
        match parse_logged_plan(text) {
            Ok(plan) => self.plans.push(LoggedPlan {
                at: sample.at,
                database: sample.database,
                user: sample.user,
                duration_ms: sample.duration_ms,
                plan,
            }),
            Err(e) => {
                self.unreadable_count += 1;
                if self.unreadable.len() < KEPT_REASONS {
                    self.unreadable.push(e.to_string());
                }
            }
        }
    }

    fn finish(self, stats: LogStats) -> LoggedPlans {
        LoggedPlans {
            plans: self.plans,
            unreadable: self.unreadable,
            unreadable_count: self.unreadable_count,
            stats,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every auto_explain entry of the captured logs (13–18, text and JSON formats, all
    /// logging setups) parses; the corpus manifest is the log tests' business.
    #[test]
    fn plans_in_the_captured_logs_parse() {
        let root = pgsage_testkit::scenario::repo_root().join("testdata/logs");
        let mut found = 0;
        let mut text_plans = 0;
        for major in 13..=18 {
            let dir = root.join(format!("pg{major}"));
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.file_name().is_some_and(|n| n == "manifest.json") {
                    continue;
                }
                let got = plans_in_log_files(&[&path], &LogOptions::default())
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert_eq!(
                    got.unreadable_count,
                    0,
                    "{}: {:?}",
                    path.display(),
                    got.unreadable
                );
                found += got.plans.len();
                text_plans += got
                    .plans
                    .iter()
                    .filter(|p| p.plan.root.node_type == "Aggregate")
                    .count();
            }
        }
        assert!(found > 0, "no auto_explain plans in testdata/logs");
        assert!(text_plans > 0, "no text-format plan (Aggregate root) found");
    }

    /// A captured text plan behind a query text of several lines, as auto_explain logs it.
    #[test]
    fn a_multi_line_query_text_is_skipped() {
        let path = pgsage_testkit::scenario::repo_root().join("testdata/plans/pg17/sort_spill.txt");
        let captured = std::fs::read_to_string(path).expect("corpus plan");
        let expected = parse_plans(&captured)
            .expect("corpus plan parses")
            .remove(0);
        let logged = format!("Query Text: SELECT *\n  FROM sale_order\n  ORDER BY 1\n{captured}");
        let plan = parse_logged_plan(&logged).expect("plan");
        assert_eq!(plan.root.node_type, expected.root.node_type);
        assert_eq!(plan.nodes().count(), expected.nodes().count());
    }

    #[test]
    fn not_a_plan_is_an_error() {
        assert!(parse_logged_plan("Query Text: SELECT 1\nno plan here").is_err());
        assert!(parse_logged_plan("").is_err());
    }
}
