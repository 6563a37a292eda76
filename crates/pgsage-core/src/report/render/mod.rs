//! Rendering a [`Report`](super::Report) as JSON, a terminal table or Markdown, into any
//! `io::Write` (so tests render into a buffer at a fixed width without colour), and its
//! fixes as a psql script ([`mod@script`]).

mod markdown;
pub mod script;
mod table;
pub(crate) mod tenants;
pub(crate) mod workload_questions;

pub use markdown::render_markdown;
pub use script::{render_script, script};
pub use table::{render_table, TableStyle};
// The HTML page (crate::html) lists as many first actions as the text report.
pub(crate) use table::TOP_ACTIONS;

use super::{ActionFix, Finding, Report};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The JSON contract.
    Json,
    /// A terminal table.
    Table,
    /// Markdown, for tickets and wikis.
    Markdown,
    /// One self-contained HTML page to share ([`html`]).
    Html,
}

impl std::str::FromStr for Format {
    type Err = crate::ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Format::Json),
            "table" | "text" => Ok(Format::Table),
            "markdown" | "md" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            other => Err(crate::ParseValueError::new(
                "format",
                other,
                "table, json, markdown or html",
            )),
        }
    }
}

/// Renders in any format.
pub fn render(
    report: &Report,
    format: Format,
    style: &TableStyle,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            out.write_all(report.to_json().as_bytes())?;
            out.write_all(b"\n")
        }
        Format::Table => render_table(report, style, out),
        Format::Markdown => render_markdown(report, out),
        // The page is drawn above the engine (crate::html, which reads reports, plans,
        // workloads and tune advice): a renderer here cannot reach it.
        Format::Html => Err(html_elsewhere("crate::html::audit_page")),
    }
}

/// The error of a renderer asked for HTML: pages are written by [`crate::html`].
pub fn html_elsewhere(function: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        format!("HTML pages are written by {function}"),
    )
}

/// The report's first lines, each part apart (the HTML page lays them out itself).
pub(crate) struct SummaryParts {
    /// `pgsage audit of `erp` on PostgreSQL 17.2 (snapshot, collected …)`.
    pub title: String,
    /// The host facts: `ram 24 GB (flag), cpus 4 (flag), …`.
    pub host: String,
    /// `Azure Database for PostgreSQL flexible server (detected: …)`, when known.
    pub platform: Option<String>,
    /// `counters since the last reset over 6.5 min`.
    pub statistics: String,
    /// `5 databases: `app` (connected), `tenant_a`, …`, when several were audited.
    pub databases: Option<String>,
    /// The short-window warning, when the window is too short.
    pub banner: Option<String>,
    /// `39 findings in 18 actions: 3 critical, 19 warning, 17 info`.
    pub counts: String,
}

/// The parts of the report's first lines.
pub(crate) fn summary_parts(report: &Report) -> SummaryParts {
    let t = &report.target;
    let s = &report.summary;
    let total = s.critical + s.warning + s.info;
    SummaryParts {
        title: format!(
            "pgsage audit of `{}` on PostgreSQL {} ({}, collected {})",
            t.database,
            t.server_version,
            t.source,
            t.collected_at.format("%Y-%m-%d %H:%M UTC")
        ),
        host: crate::report::host_facts_line(&report.host),
        platform: t.platform.as_ref().map(|p| {
            format!(
                "{} ({})",
                if p.value.is_managed() {
                    p.value.service_name()
                } else {
                    "self-managed"
                },
                p.source
            )
        }),
        databases: databases_line(&t.databases),
        statistics: format!(
            "{} over {}",
            counters_basis(&report.counters.basis),
            crate::units::duration(report.counters.window_seconds)
        ),
        banner: window_banner(report),
        counts: format!(
            "{} in {}: {} critical, {} warning, {} info",
            crate::units::counted(total, "finding", "findings"),
            crate::units::counted(report.actions.len(), "action", "actions"),
            s.critical,
            s.warning,
            s.info
        ),
    }
}

/// The report's first lines in every format: the server, the host facts, the statistics
/// window, and the counts.
pub(crate) fn summary_lines(report: &Report) -> Vec<String> {
    let p = summary_parts(report);
    let mut lines = vec![p.title, format!("Host: {}", p.host)];
    if let Some(platform) = p.platform {
        lines.push(format!("Platform: {platform}"));
    }
    if let Some(databases) = p.databases {
        lines.push(format!("Databases: {databases}"));
    }
    lines.push(format!("Statistics: {}", p.statistics));
    lines.extend(p.banner);
    lines.push(p.counts);
    lines
}

/// Findings of one action shown in full in the text and Markdown reports of several
/// databases (`--all-databases`), where one cause repeats in every tenant; the rest are
/// named on one line (the JSON and HTML reports keep every finding in full).
const ESTATE_FINDINGS_SHOWN: usize = 10;

/// The findings of action `a` to show in full, and the ones only named after them.
pub(crate) fn shown_findings<'a>(
    report: &Report,
    a: &'a super::Action,
) -> (&'a [usize], &'a [usize]) {
    if report.target.databases.is_empty() || a.findings.len() <= ESTATE_FINDINGS_SHOWN {
        return (&a.findings, &[]);
    }
    a.findings.split_at(ESTATE_FINDINGS_SHOWN)
}

/// "… and 39 more: `tenant_11.public.x`, … (every one in full in the JSON and HTML reports)".
pub(crate) fn more_findings_line(report: &Report, rest: &[usize]) -> Option<String> {
    const NAMED: usize = 8;
    if rest.is_empty() {
        return None;
    }
    let objects: Vec<&crate::report::ObjectRef> =
        rest.iter().map(|&i| &report.findings[i].object).collect();
    // The same object in every tenant: named once, then its databases.
    let same = objects
        .iter()
        .all(|o| o.display_name() == objects[0].display_name() && o.database.is_some());
    let mut names: Vec<String> = objects
        .iter()
        .take(NAMED)
        .map(|o| match (&o.database, same) {
            (Some(db), true) => format!("`{db}`"),
            _ => format!("`{}`", report.target.object_name(o)),
        })
        .collect();
    if rest.len() > NAMED {
        names.push(format!("and {} more", rest.len() - NAMED));
    }
    let what = if same {
        format!("`{}` in {}", objects[0].display_name(), names.join(", "))
    } else {
        names.join(", ")
    };
    Some(format!(
        "… and {} like these: {what} (each in full in --format json or html)",
        crate::units::counted(rest.len(), "more finding", "more findings"),
    ))
}

/// The audited databases, named up to a dozen: `5 databases: `app` (connected), `a`, …`.
fn databases_line(databases: &[String]) -> Option<String> {
    const NAMED: usize = 12;
    let (connected, others) = databases.split_first()?;
    let mut names = vec![format!("`{connected}` (connected)")];
    names.extend(others.iter().take(NAMED - 1).map(|d| format!("`{d}`")));
    if databases.len() > NAMED {
        names.push(format!("and {} more", databases.len() - NAMED));
    }
    Some(format!(
        "{}: {}",
        crate::units::counted(databases.len(), "database", "databases"),
        names.join(", ")
    ))
}

/// A warning when the statistics window is too short for usage verdicts or rates: what
/// is unsure, and how to get a window. `None` when it is long enough (or the report has
/// no window requirements, as plan reports).
pub(crate) fn window_banner(report: &Report) -> Option<String> {
    let c = &report.counters;
    if !c.too_short() {
        return None;
    }
    let usage_short = c.too_short_for_usage();
    let rates_short = c.too_short_for_rates();
    let mut needs = Vec::new();
    if usage_short {
        needs.push(format!(
            "unused-index verdicts need {} of counters (these cover {})",
            crate::units::duration(c.min_usage_seconds),
            crate::units::duration(c.since_reset_seconds)
        ));
    }
    if rates_short {
        needs.push(format!(
            "rates and ratios need a sampled interval of {}",
            crate::units::duration(c.min_interval_seconds)
        ));
    }
    let unsure = report
        .findings
        .iter()
        .filter(|f| {
            f.confidence_reason
                .as_deref()
                .is_some_and(|r| r.starts_with("unsure"))
        })
        .count();
    let mut how = vec![format!(
        "sample two collections {} apart",
        crate::units::duration(c.min_interval_seconds)
    )];
    if let Some(wait) = c.usage_judged_in_seconds {
        how.push(format!("audit again in {}", crate::units::duration(wait)));
    }
    Some(format!(
        "WARNING: statistics window too short to judge usage: {}. {} marked unsure (info, no change proposed); to judge them, {}.",
        needs.join("; "),
        crate::units::counted(unsure, "finding is", "findings are"),
        how.join(", or ")
    ))
}

fn counters_basis(basis: &str) -> &str {
    match basis {
        "since_reset" => "counters since the last reset",
        "interval" => "two samples",
        other => other,
    }
}

/// The notes of an action's provider commands that no earlier action showed, and the
/// rank of the first earlier action that showed the others (the notes on placeholders and
/// parameter groups are the same for every action: shown once).
pub(crate) fn new_platform_notes<'a>(
    report: &'a Report,
    action: &'a crate::report::actions::Action,
) -> (Vec<&'a str>, Option<usize>) {
    let Some(p) = action.fix.as_ref().and_then(|f| f.platform.as_ref()) else {
        return (Vec::new(), None);
    };
    let mut fresh = Vec::new();
    let mut earlier = None;
    for note in &p.notes {
        let shown_in = report
            .actions
            .iter()
            .take_while(|a| a.rank < action.rank)
            .find(|a| {
                a.fix
                    .as_ref()
                    .and_then(|f| f.platform.as_ref())
                    .is_some_and(|q| q.notes.contains(note))
            })
            .map(|a| a.rank);
        match shown_in {
            Some(rank) => earlier = Some(earlier.map_or(rank, |r: usize| r.min(rank))),
            None => fresh.push(note.as_str()),
        }
    }
    (fresh, earlier)
}

/// What applying an action's fix costs: phase, lock, rewrite, duration
/// ([`ActionFix::cost_line`]).
pub(crate) fn applying(fix: &ActionFix) -> String {
    fix.cost_line()
}

/// `text` wrapped at `width` columns: the first line after `first`, the next after
/// `rest`. A word longer than a whole line (a JSON value in evidence) is cut.
pub(crate) fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let room = width.saturating_sub(rest.chars().count()).max(20);
    let mut lines = Vec::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for long_word in text.split_whitespace() {
        let chars: Vec<char> = long_word.chars().collect();
        for piece in chars.chunks(room) {
            let word: String = piece.iter().collect();
            let len = line.chars().count();
            if !empty && len + 1 + piece.len() > width {
                lines.push(std::mem::replace(&mut line, rest.to_owned()));
                empty = true;
            }
            if !empty {
                line.push(' ');
            }
            line.push_str(&word);
            empty = false;
        }
    }
    lines.push(line);
    lines
}

/// Evidence as `key=value` pairs, numbers rounded for reading.
pub(crate) fn evidence_text(f: &Finding) -> String {
    f.evidence
        .iter()
        .map(|(k, v)| format!("{k}={}", value_text(k, v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An evidence value as a user reads it: numbers rounded to two decimals with thousands
/// separators ([`crate::units::decimal`]), except identifiers (`pid`, `*_pid`, `oid`,
/// `queryid`, `gid`), which are copied as they are.
fn value_text(key: &str, v: &serde_json::Value) -> String {
    let identifier = key == "pid"
        || key.ends_with("_pid")
        || key.ends_with("oid")
        || key.ends_with("queryid")
        || key == "gid"
        || key.ends_with("port");
    match v {
        serde_json::Value::Number(n) if identifier => n.to_string(),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => crate::units::count(i),
            (None, Some(x)) => crate::units::decimal(x),
            _ => n.to_string(),
        },
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RuleConfig;
    use crate::snapshot::Snapshot;

    fn demo() -> Snapshot {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/snapshots/demo.json");
        Snapshot::load(&path).expect("demo snapshot")
    }

    #[test]
    fn a_short_window_gets_a_banner_on_the_first_lines_and_a_long_enough_one_none() {
        let snap = demo();
        let shipped = RuleConfig::shipped().expect("packs");
        let report = crate::engine::audit(&snap, &shipped);
        assert!(report.counters.since_reset_seconds < report.counters.min_usage_seconds);
        let lines = summary_lines(&report);
        let banner = lines
            .iter()
            .find(|l| l.starts_with("WARNING: statistics window too short"))
            .expect("banner");
        let unsure = report
            .findings
            .iter()
            .filter(|f| {
                f.confidence_reason
                    .as_deref()
                    .is_some_and(|r| r.starts_with("unsure"))
            })
            .count();
        assert!(unsure > 0);
        assert!(
            banner.contains(&format!("{unsure} findings are marked unsure")),
            "{banner}"
        );

        let mut lax = RuleConfig::shipped().expect("packs");
        lax.min_stats_age_seconds = 0.0;
        let report = crate::engine::audit(&snap, &lax);
        assert!(window_banner(&report).is_none());
    }

    #[test]
    fn wrap_keeps_words_whole_and_cuts_only_words_longer_than_a_line() {
        let lines = wrap("alpha beta gamma delta", 11, "", "  ");
        assert_eq!(lines, vec!["alpha beta", "  gamma", "  delta"]);
        let long = "x".repeat(50);
        for line in wrap(&long, 30, "", "") {
            assert!(line.chars().count() <= 30, "{line}");
        }
    }

    /// Numbers a user reads get thousands separators ("2,100,000,000", not 2100000000);
    /// identifiers (process ids, oids, query ids) are copied as they are.
    #[test]
    fn evidence_numbers_are_grouped_identifiers_are_not() {
        assert_eq!(
            value_text("last_value", &serde_json::json!(2_100_000_000_i64)),
            "2,100,000,000"
        );
        assert_eq!(
            value_text("n_dead_tup", &serde_json::json!(12000)),
            "12,000"
        );
        assert_eq!(value_text("dead_pct", &serde_json::json!(30.0)), "30");
        assert_eq!(
            value_text("rows_per_scan", &serde_json::json!(19672.456)),
            "19,672.46"
        );
        assert_eq!(value_text("scale", &serde_json::json!(0.25)), "0.25");
        assert_eq!(value_text("delta", &serde_json::json!(-1500)), "-1,500");
        assert_eq!(value_text("pid", &serde_json::json!(123456)), "123456");
        assert_eq!(
            value_text("oldest_pid", &serde_json::json!(123456)),
            "123456"
        );
        assert_eq!(
            value_text("queryid", &serde_json::json!(-7220817516440266929_i64)),
            "-7220817516440266929"
        );
        assert_eq!(value_text("state", &serde_json::json!("active")), "active");
    }
}
