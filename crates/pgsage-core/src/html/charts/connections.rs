//! Client connections at collection time (one sample of `pg_stat_activity`): by state,
//! and by application, role and database. The sessions are those pgsage counts
//! everywhere ([`clients_and_hidden`]): client backends without the collector's own and
//! the provider's operators', plus other roles' sessions whose type the collecting role
//! may not see.

use std::collections::BTreeMap;

use super::svg::{Bar, Part};
use super::{counted_names, Figure, Panel, TOP_NAMES};
use crate::knowledge::connections::{clients_and_hidden, hidden_sessions};
use crate::snapshot::{Backend, Snapshot};
use crate::units;

/// What a session's state reads when the collecting role may not see it.
const HIDDEN_STATE: &str = "not visible (no pg_read_all_stats)";

/// Client connections by state (`active`, `idle`, `idle in transaction`, …).
pub(super) fn by_state(snapshot: &Snapshot) -> Option<Figure> {
    let sessions = clients_and_hidden(snapshot);
    if sessions.is_empty() {
        return None;
    }
    let bars = bars(&sessions, usize::MAX, |b| {
        b.state.clone().unwrap_or_else(|| HIDDEN_STATE.to_owned())
    });
    Some(Figure {
        id: "chart-connections-state",
        title: "Connections by state".into(),
        caption: caption(snapshot, sessions.len()),
        facts: Vec::new(),
        panels: vec![Panel {
            heading: None,
            bars,
        }],
    })
}

/// Client connections by application, role and database.
pub(super) fn by_origin(snapshot: &Snapshot) -> Option<Figure> {
    let sessions = clients_and_hidden(snapshot);
    if sessions.is_empty() {
        return None;
    }
    let name = |v: &Option<String>, none: &str| match v.as_deref() {
        Some(s) if !s.is_empty() => s.to_owned(),
        _ => none.to_owned(),
    };
    Some(Figure {
        id: "chart-connections-origin",
        title: "Connections by application, role and database".into(),
        caption: caption(snapshot, sessions.len()),
        facts: Vec::new(),
        panels: vec![
            Panel {
                heading: Some("By application (application_name)".into()),
                bars: bars(&sessions, TOP_NAMES, |b| {
                    name(&b.application_name, "(no application_name)")
                }),
            },
            Panel {
                heading: Some("By role".into()),
                bars: bars(&sessions, TOP_NAMES, |b| name(&b.user, "(unknown role)")),
            },
            Panel {
                heading: Some("By database".into()),
                bars: bars(&sessions, TOP_NAMES, |b| name(&b.database, "(no database)")),
            },
        ],
    })
}

fn caption(snapshot: &Snapshot, sessions: usize) -> String {
    let hidden = hidden_sessions(snapshot).len();
    let mut c = format!(
        "{} at collection time (pg_stat_activity), the collector's own session left out",
        units::counted(sessions, "client connection", "client connections"),
    );
    if hidden > 0 {
        c.push_str(&format!(
            "; {} of other roles counted although their type is not visible to the collecting role",
            units::counted(hidden, "session", "sessions")
        ));
    }
    c.push('.');
    c
}

/// One bar per name `key` gives the sessions, the most frequent first, the names past
/// `shown` as one bar.
fn bars(sessions: &[&Backend], shown: usize, key: impl Fn(&Backend) -> String) -> Vec<Bar> {
    let total = sessions.len();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for b in sessions {
        *counts.entry(key(b)).or_default() += 1;
    }
    counted_names(counts, shown)
        .into_iter()
        .map(|n| Bar {
            label: n.name,
            parts: vec![Part {
                name: "connections",
                class: if n.rest { "bar3" } else { "bar" },
                value: n.count as f64,
                text: units::count(n.count),
            }],
            value: format!(
                "{} · {}",
                units::count(n.count),
                units::share(n.count as f64 / total as f64)
            ),
            detail: units::counted(n.count, "connection", "connections"),
        })
        .collect()
}
