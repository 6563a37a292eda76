//! [`SnapshotDiff`] as text and Markdown. Both lay out the same sections ([`sections`]),
//! so they cannot say different things; JSON is [`SnapshotDiff::to_json`].

use std::io::Write;

mod lines;

use lines::{
    action_line, activity_lines, database_heading, database_lines, finding_line, setting_line,
    statement_line,
};

use super::{DiffKind, SnapshotDiff};
use crate::units;

/// Output formats of `pgsage diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text for a terminal or a mail.
    Text,
    /// Markdown, for tickets and wikis.
    Markdown,
    /// [`SnapshotDiff`] as JSON.
    Json,
}

impl std::str::FromStr for Format {
    type Err = crate::ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" | "table" => Ok(Format::Text),
            "markdown" | "md" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            other => Err(crate::ParseValueError::new(
                "format",
                other,
                "text, markdown or json",
            )),
        }
    }
}

/// Writes `diff` in `format`.
pub fn render(diff: &SnapshotDiff, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Json => writeln!(out, "{}", diff.to_json()),
        Format::Text => {
            writeln!(out, "{}", title(diff))?;
            for s in sections(diff) {
                writeln!(out, "\n{}", s.heading)?;
                for line in &s.lines {
                    writeln!(out, "  {line}")?;
                }
            }
            Ok(())
        }
        Format::Markdown => {
            writeln!(out, "# {}", title(diff))?;
            for s in sections(diff) {
                writeln!(out, "\n## {}\n", s.heading)?;
                for line in &s.lines {
                    writeln!(out, "- {line}")?;
                }
            }
            Ok(())
        }
    }
}

/// One part of the rendering: a heading and its lines.
pub struct Section {
    /// `Settings changed (2)`.
    pub heading: String,
    /// One line per change.
    pub lines: Vec<String>,
}

/// `What changed on `erp` (PostgreSQL 17.2) from 2026-01-01 00:00 UTC to … (7 d)`.
pub fn title(diff: &SnapshotDiff) -> String {
    let version = if diff.old.server_version == diff.new.server_version {
        format!("PostgreSQL {}", diff.new.server_version)
    } else {
        format!(
            "PostgreSQL {} → {}",
            diff.old.server_version, diff.new.server_version
        )
    };
    format!(
        "What changed on `{}` ({version}) from {} to {} ({}{})",
        diff.new.database,
        diff.old.collected_at.format("%Y-%m-%d %H:%M UTC"),
        diff.new.collected_at.format("%Y-%m-%d %H:%M UTC"),
        units::duration(diff.elapsed_seconds.abs()),
        match diff.kind {
            DiffKind::Snapshots => "",
            DiffKind::Reports => "; reports: findings and actions only",
        }
    )
}

/// The sections, in reading order; empty ones are left out, and a diff without any
/// change says so.
pub fn sections(diff: &SnapshotDiff) -> Vec<Section> {
    let mut out = Vec::new();
    let mut push = |heading: String, lines: Vec<String>| {
        if !lines.is_empty() {
            out.push(Section { heading, lines });
        }
    };
    push("Warnings".into(), diff.warnings.clone());
    push(
        format!("Counters reset in between ({})", diff.resets.len()),
        diff.resets.iter().map(|r| r.what.clone()).collect(),
    );
    push(
        format!("Settings changed ({})", diff.settings.len()),
        diff.settings.iter().map(setting_line).collect(),
    );
    let f = &diff.findings;
    let mut finding_lines: Vec<String> = vec![format!(
        "{} new, {} resolved, {} persisting",
        f.new.len(),
        f.resolved.len(),
        f.persisting.len()
    )];
    finding_lines.extend(f.new.iter().map(|c| format!("new: {}", finding_line(c))));
    finding_lines.extend(
        f.resolved
            .iter()
            .map(|c| format!("resolved: {}", finding_line(c))),
    );
    finding_lines.extend(
        f.persisting
            .iter()
            .filter(|c| c.old_severity.is_some())
            .map(|c| format!("persisting: {}", finding_line(c))),
    );
    push("Findings".into(), finding_lines);
    let a = &diff.actions;
    let mut action_lines = vec![format!(
        "{} new, {} resolved, {} persisting",
        a.new.len(),
        a.resolved.len(),
        a.persisting.len()
    )];
    action_lines.extend(a.new.iter().map(|c| format!("new: {}", action_line(c))));
    action_lines.extend(
        a.resolved
            .iter()
            .map(|c| format!("resolved: {}", action_line(c))),
    );
    action_lines.extend(
        a.persisting
            .iter()
            .filter(|c| {
                c.old_severity.is_some()
                    || !c.objects_added.is_empty()
                    || !c.objects_removed.is_empty()
            })
            .map(|c| format!("persisting: {}", action_line(c))),
    );
    push("Actions".into(), action_lines);
    if diff.kind == DiffKind::Snapshots {
        push(
            format!("Statements regressed ({})", diff.statements.len()),
            diff.statements.iter().map(statement_line).collect(),
        );
        if let Some(a) = &diff.activity {
            push(
                "Activity in between".into(),
                activity_lines(a, diff.elapsed_seconds),
            );
        }
        for d in &diff.databases {
            push(database_heading(d), database_lines(d));
        }
    }
    if diff.is_empty() {
        out.push(Section {
            heading: "Nothing changed".into(),
            lines: vec![
                "no setting, finding, statement or object changed past the thresholds".into(),
            ],
        });
    }
    out
}
