//! The "Workload questions" section of the text and Markdown reports (audit and
//! workload): one paragraph per question, the statements named by fingerprint and text.

use std::io::{self, Write};

use crate::report::workload_questions::{Answer, PeakStatement, WorkloadAnswers};
use crate::units;

/// The section's paragraphs as plain text wrapped at `width` columns (the caller writes
/// the heading in its own style).
pub fn text(a: &WorkloadAnswers, width: usize, out: &mut dyn Write) -> io::Result<()> {
    for (title, lines) in sections(a) {
        for l in super::wrap(&format!("{title}: {}", lines[0]), width, "  ", "    ") {
            writeln!(out, "{l}")?;
        }
        for detail in &lines[1..] {
            for l in super::wrap(detail, width, "    - ", "      ") {
                writeln!(out, "{l}")?;
            }
        }
    }
    Ok(())
}

/// The section as Markdown.
pub fn markdown(a: &WorkloadAnswers, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## Workload questions\n")?;
    for (title, lines) in sections(a) {
        writeln!(out, "**{title}**: {}\n", lines[0])?;
        for l in &lines[1..] {
            writeln!(out, "- {l}")?;
        }
        if lines.len() > 1 {
            writeln!(out)?;
        }
    }
    Ok(())
}

/// (title, [summary, detail lines…]) per question.
pub(crate) fn sections(a: &WorkloadAnswers) -> Vec<(&'static str, Vec<String>)> {
    let mut s = Vec::new();
    s.push((
        "What runs at the peak",
        match &a.interactive_peak {
            Some(p) if a.windows <= 1 => vec![format!(
                "{} ({} short statements{}): {}",
                if a.source == "log" {
                    "the capture spans one time window"
                } else {
                    "pg_stat_statements keeps one window"
                },
                units::count(p.interactive_calls),
                p.seconds
                    .filter(|s| *s > 0.0)
                    .map(|s| format!(", {}/s", units::number(p.interactive_calls as f64 / s)))
                    .unwrap_or_default(),
                if a.source == "log" {
                    "a longer capture or shorter windows show the peak hour"
                } else {
                    "the per-hour classes and the peak hour need server logs"
                }
            )],
            Some(p) => vec![format!(
                "the interactive peak is {} with {} short statements{}",
                p.label(),
                units::count(p.interactive_calls),
                p.seconds
                    .filter(|s| *s > 0.0)
                    .map(|s| format!(" ({}/s)", units::number(p.interactive_calls as f64 / s)))
                    .unwrap_or_default()
            )],
            None => vec!["no short statements: no interactive peak".to_owned()],
        },
    ));
    s.push((
        "Move to a replica",
        answer(&a.reporting, |r| {
            let standby = match r.standbys {
                Some(0) => "; no standby streams from this server",
                Some(_) => "; a standby streams from this server",
                None => "",
            };
            let mut l = vec![if r.statements.is_empty() {
                format!("no long read takes a large share of the peak{standby}")
            } else {
                format!(
                    "{} {} {} of the peak's execution time on the primary{standby}",
                    units::counted(r.statements.len(), "long read", "long reads"),
                    if r.statements.len() == 1 {
                        "takes"
                    } else {
                        "take"
                    },
                    units::percent(r.statements.iter().map(|s| s.peak_share_pct).sum())
                )
            }];
            l.extend(r.statements.iter().map(statement_line));
            l
        }),
    ));
    s.push((
        "Cache",
        answer(&a.cache, |c| {
            let mut l = vec![if c.candidates.is_empty() {
                "no hot read of a small, rarely written table".to_owned()
            } else {
                format!(
                    "{} of small, rarely written tables",
                    units::counted(c.candidates.len(), "hot read", "hot reads")
                )
            }];
            l.extend(c.candidates.iter().map(|c| {
                format!(
                    "{} `{}`: {}/s at {} each, tables {}",
                    c.fingerprint,
                    cut(&c.query),
                    units::number(c.calls_per_s),
                    units::millis(c.mean_ms),
                    c.tables
                        .iter()
                        .map(|t| format!(
                            "{} ({}, {} writes/s)",
                            t.name,
                            units::bytes(t.size_bytes),
                            units::number(t.writes_per_s)
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }));
            l.extend(c.left_to_index.iter().map(|x| {
                format!(
                    "{} `{}`: {}/s, slow for want of an index, not a cache: {}",
                    x.fingerprint,
                    cut(&x.query),
                    units::number(x.calls_per_s),
                    x.index
                )
            }));
            l
        }),
    ));
    s.push((
        "Batch work at the peak",
        answer(&a.overlaps, |o| {
            let mut l = vec![if o.jobs.is_empty() {
                format!("no batch work in the interactive peak ({})", o.peak.label())
            } else {
                format!(
                    "{} {} {} of the peak's execution time{}",
                    units::counted(o.jobs.len(), "batch statement", "batch statements"),
                    if o.jobs.len() == 1 { "takes" } else { "take" },
                    units::percent(o.jobs.iter().map(|s| s.peak_share_pct).sum()),
                    o.quietest
                        .as_ref()
                        .map(|q| format!("; the quietest window is {}", q.label()))
                        .unwrap_or_default()
                )
            }];
            l.extend(o.jobs.iter().map(statement_line));
            l
        }),
    ));
    s.push((
        "Headroom",
        answer(&a.capacity, |c| {
            let busy = units::number(c.busy_sessions);
            let at = if a.source == "log" {
                format!("at the busiest window ({})", c.peak.label())
            } else {
                "over the sampled window".to_owned()
            };
            let mut first = match (c.cpus, c.busy_pct) {
                (Some(cpus), Some(pct)) => format!(
                    "{at}, {busy} of {} cores are busy with queries ({})",
                    units::number(cpus),
                    units::percent(pct)
                ),
                _ => format!(
                    "{at}, {busy} sessions are busy with queries (the host's cores are unknown)"
                ),
            };
            if let Some(avg) = c.average_busy_sessions.filter(|_| a.windows > 1) {
                first.push_str(&format!("; {} on average", units::number(avg)));
            }
            let mut l = vec![first];
            if let (Some(n), Some(max)) = (c.connections, c.max_connections) {
                l.push(format!(
                    "{} of max_connections {} when the snapshot was taken",
                    units::counted(n, "client connection", "client connections"),
                    units::count(max)
                ));
            }
            if let (Some(rate), Some(src)) = (c.wal_bytes_per_s, &c.wal_source) {
                let over = if src.ends_with("_interval") {
                    "over the sampled interval"
                } else {
                    "since the WAL statistics were reset (a long-run average, not the peak)"
                };
                l.push(format!("WAL written at {} {over}", units::rate(rate)));
            }
            if let Some(t) = c.temp_bytes {
                // The statements' own count: blocks written to temporary files, each
                // merge pass counted again (pg_stat_database counts the files' sizes).
                l.push(format!(
                    "{} written to temporary files by the statements over the capture",
                    units::bytes(t)
                ));
            }
            l
        }),
    ));
    s
}

fn answer<T>(a: &Answer<T>, f: impl Fn(&T) -> Vec<String>) -> Vec<String> {
    match a {
        Answer::Answered(v) => f(v),
        Answer::Unanswered(why) => vec![format!("not answered: {why}")],
    }
}

fn statement_line(s: &PeakStatement) -> String {
    let mut l = format!(
        "{} `{}`: {} in the peak ({}, {} runs, {} each)",
        s.fingerprint,
        cut(&s.query),
        units::millis(s.peak_ms),
        units::percent(s.peak_share_pct),
        units::count(s.peak_calls),
        units::millis(s.mean_ms)
    );
    if let Some(io) = s.io_share_pct {
        l.push_str(&format!(", {} of the blocks read", units::percent(io)));
    }
    let who: Vec<&str> = s
        .applications
        .iter()
        .chain(&s.users)
        .map(String::as_str)
        .collect();
    if !who.is_empty() {
        l.push_str(&format!(", by {}", who.join(", ")));
    }
    l
}

/// The text cut to 100 characters for a one-line mention.
fn cut(q: &str) -> String {
    if q.chars().count() <= 100 {
        return q.to_owned();
    }
    format!("{}…", q.chars().take(100).collect::<String>())
}
