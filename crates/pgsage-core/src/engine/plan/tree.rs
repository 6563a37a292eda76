//! `pgsage plan --tree`: the plan as an indented tree, one line per node, with its own
//! time, its share of the total, rows actual against estimated, its own buffers, and the
//! rules that found something at it — laid out for a terminal of a given width
//! (labels are truncated to fit).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::plan::{NodeProfile, Plan, PlanNode};
use crate::report::Report;
use crate::rules::plans::node_label;
use crate::units;

/// The widest indentation drawn; deeper nodes show their depth instead.
const MAX_INDENT: usize = 24;

/// The smallest estimate error (actual against planned rows, either way) the tree and
/// the HTML page mark on a node.
pub(crate) const MISESTIMATE_SHOWN: f64 = 2.0;

/// The column header (before the node labels).
const HEADER: &str = "  self ms  share    rows planned  ×off   hit/read  node";

/// The tree of `plan`, marking the nodes `report` has findings at, at most `width`
/// columns wide (at least 60).
pub fn render_tree(plan: &Plan, report: &Report, width: usize) -> String {
    let width = width.max(60);
    let profile = plan.profile();
    let mut marks: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for f in &report.findings {
        if let Some(path) = f.evidence.get("node_path").and_then(|p| p.as_str()) {
            let rules = marks.entry(path.to_owned()).or_default();
            if !rules.contains(&f.rule.as_str()) {
                rules.push(&f.rule);
            }
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "{}", truncate(HEADER, width));
    for np in &profile.nodes {
        let path = np.path.to_string();
        let mark = marks.get(&path);
        let prefix = format!(
            "{}{:>8} {:>6} {} {:>10}  ",
            if mark.is_some() { '!' } else { ' ' },
            np.exclusive_ms.map_or("-".into(), ms),
            np.share.map_or("-".into(), crate::units::share),
            rows(np),
            buffers(np),
        );
        let depth = np.path.depth();
        let indent = if depth * 2 <= MAX_INDENT {
            " ".repeat(depth * 2)
        } else {
            format!("{:>width$} ", format!("[{depth}]"), width = MAX_INDENT - 1)
        };
        let mut label = String::new();
        if let Some(rules) = mark {
            label.push_str(&format!("[{}] ", rules.join(" ")));
        }
        label.push_str(&node_label(np.node));
        if np.node.never_executed() {
            label.push_str(" (never executed)");
        } else if np.node.actual_loops.is_some_and(|l| l > 1.0) {
            label.push_str(&format!(
                " ×{} loops",
                count(np.node.actual_loops.unwrap_or(0.0))
            ));
        }
        let line = format!("{prefix}{indent}{label}");
        let _ = writeln!(out, "{}", truncate(&line, width));
    }
    let mut summary = Vec::new();
    if let Some(p) = plan.planning_time_ms {
        summary.push(format!("planning {}", units::millis(p)));
    }
    if let Some(e) = plan.execution_time_ms {
        summary.push(format!("execution {}", units::millis(e)));
    }
    if let Some(t) = plan.trigger_time_ms().filter(|_| !plan.triggers.is_empty()) {
        summary.push(format!("triggers {}", units::millis(t)));
    }
    if let Some(j) = plan.jit.as_ref().and_then(|j| j.total_ms) {
        summary.push(format!("JIT {}", units::millis(j)));
    }
    summary.push(format!("{} nodes", units::count(profile.nodes.len())));
    let _ = writeln!(out, "{}", truncate(&summary.join(" · "), width));
    out
}

/// The self-time column (milliseconds, the unit in the header, fixed width): `12.345`,
/// `1234`.
fn ms(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{v:.0}")
    } else if v >= 1000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// The row and block columns (fixed width, so abbreviated): `950`, `12k`, `3.4M`.
fn count(v: f64) -> String {
    let v = v.max(0.0);
    if v >= 9_999_500.0 {
        format!("{:.0}M", v / 1e6)
    } else if v >= 999_950.0 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 9_999.5 {
        format!("{:.0}k", v / 1e3)
    } else if v.fract() == 0.0 || v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Actual rows (× loops), planned rows (× loops) and how far off: 21 columns.
fn rows(np: &NodeProfile<'_>) -> String {
    let node = np.node;
    let (actual, planned) = rows_over_loops(node);
    let actual = actual.map_or("-".into(), count);
    let planned = planned.map_or("-".into(), count);
    let off = match node.rows_estimate() {
        Some(e) if e.factor >= MISESTIMATE_SHOWN => format!(
            "{}{}",
            if e.underestimated { '↑' } else { '↓' },
            count(e.factor)
        ),
        _ => String::new(),
    };
    format!("{actual:>7} {planned:>7} {off:>5}")
}

/// Actual and planned rows over all the node's loops (EXPLAIN gives both per loop; a
/// node that never ran counts as one loop).
pub(crate) fn rows_over_loops(node: &PlanNode) -> (Option<f64>, Option<f64>) {
    let loops = node.actual_loops.unwrap_or(1.0).max(1.0);
    (
        node.actual_rows.map(|a| a * loops),
        node.plan_rows.map(|p| p * loops),
    )
}

/// The node's own shared blocks, hit/read.
fn buffers(np: &NodeProfile<'_>) -> String {
    match np.exclusive_buffers {
        Some(b) => {
            let mut s = format!(
                "{}/{}",
                count(b.shared_hit as f64),
                count(b.shared_read as f64)
            );
            if b.temp_written > 0 {
                s.push_str(&format!(" t{}", count(b.temp_written as f64)));
            }
            s
        }
        None => "-".into(),
    }
}

/// `line` cut to `width` characters, ending with `…` when cut.
fn truncate(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_owned();
    }
    let mut s: String = line.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(count(950.0), "950");
        assert_eq!(count(12_345.0), "12k");
        assert_eq!(count(3_400_000.0), "3.4M");
        assert_eq!(count(0.5), "0.50");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
