//! A snapshot's sections as typed tables (columns with a kind, rows of JSON values), for
//! front ends that show them as data frames (the Python package's `snapshot.tables()`),
//! and [`typed_frame`] for other tables (a workload's queries, a plan's nodes, the
//! index advisor's recommendations) built from a row type.
//!
//! Each column's kind comes from the Rust type of the field, not from the values: a
//! column that is `null` in every row is still known to hold timestamps or integers. The
//! type is found by asking serde which values the field accepts, so the tables follow the
//! snapshot model without a second list of fields to keep in step.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::snapshot::Snapshot;
use crate::{Error, Result};

/// The sections [`section`] knows, in the snapshot file's order.
pub const SECTIONS: &[&str] = &[
    "settings",
    "databases",
    "activity",
    "lock_waits",
    "io",
    "replication",
    "replication_slots",
    "prepared_xacts",
    "roles",
    "tables",
    "indexes",
    "foreign_keys",
    "sequences",
    "extensions",
    "columns",
    "constraints",
    "triggers",
    "statements",
    "gaps",
];

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// `true` / `false`.
    Bool,
    /// A whole number (fits in `i64`).
    Int,
    /// A floating-point number.
    Float,
    /// Text.
    Text,
    /// An RFC 3339 timestamp in UTC, as text.
    Timestamp,
    /// A list of strings.
    TextList,
    /// Anything else (lists of numbers, nested objects), as JSON.
    Json,
}

/// One column of a [`Frame`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameColumn {
    /// The field name, as in the snapshot file.
    pub name: String,
    /// What it holds.
    pub kind: ColumnKind,
    /// Whether it can be `null`.
    pub nullable: bool,
}

/// A section as a table: `rows[i][j]` is the value of `columns[j]` in row `i`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Frame {
    /// The section's name (one of [`SECTIONS`]).
    pub section: String,
    /// The columns, in the snapshot file's field order. Empty when the section has no rows.
    pub columns: Vec<FrameColumn>,
    /// The rows, values in column order (`null` where a row lacks the field).
    pub rows: Vec<Vec<Value>>,
}

/// The section `name` of a snapshot as a [`Frame`]. `statements` is the
/// `pg_stat_statements` top list (empty when it was not collected).
pub fn section(snapshot: &Snapshot, name: &str) -> Result<Frame> {
    let s = snapshot;
    match name {
        "settings" => frame(name, &s.settings),
        "databases" => frame(name, &s.databases),
        "activity" => frame(name, &s.activity),
        "lock_waits" => frame(name, &s.lock_waits),
        "io" => frame(name, &s.io),
        "replication" => frame(name, &s.replication),
        "replication_slots" => frame(name, &s.replication_slots),
        "prepared_xacts" => frame(name, &s.prepared_xacts),
        "roles" => frame(name, &s.roles),
        "tables" => per_database(s, name, &s.tables, |d| &d.tables),
        "indexes" => per_database(s, name, &s.indexes, |d| &d.indexes),
        "foreign_keys" => per_database(s, name, &s.foreign_keys, |d| &d.foreign_keys),
        "sequences" => per_database(s, name, &s.sequences, |d| &d.sequences),
        "extensions" => per_database(s, name, &s.extensions, |d| &d.extensions),
        "columns" => per_database(s, name, &s.columns, |d| &d.columns),
        "constraints" => per_database(s, name, &s.constraints, |d| &d.constraints),
        "triggers" => per_database(s, name, &s.triggers, |d| &d.triggers),
        "statements" => frame(
            name,
            s.statements
                .as_ref()
                .map_or(&[][..], |st| st.top.as_slice()),
        ),
        "gaps" => frame(name, &s.gaps),
        other => Err(Error::InvalidValue {
            what: "section".into(),
            problem: format!("unknown section `{other}` (known: {})", SECTIONS.join(", ")),
        }),
    }
}

/// A per-database section: the connected database's rows, and when the snapshot holds
/// other databases (`--all-databases`) every database's, with a first column `database`.
fn per_database<T, F>(snapshot: &Snapshot, name: &str, connected: &[T], rows_of: F) -> Result<Frame>
where
    T: Serialize + DeserializeOwned + Clone,
    F: Fn(&crate::snapshot::DatabaseSections) -> &Vec<T>,
{
    if !snapshot.has_other_databases() {
        return frame(name, connected);
    }
    let mut all: Vec<(String, T)> = connected
        .iter()
        .map(|r| (snapshot.server.database.clone(), r.clone()))
        .collect();
    for sections in &snapshot.other_databases {
        all.extend(
            rows_of(sections)
                .iter()
                .map(|r| (sections.name.clone(), r.clone())),
        );
    }
    let rows: Vec<T> = all.iter().map(|(_, r)| r.clone()).collect();
    let mut f = frame(name, &rows)?;
    if f.columns.is_empty() {
        return Ok(f);
    }
    f.columns.insert(
        0,
        FrameColumn {
            name: "database".into(),
            kind: ColumnKind::Text,
            nullable: false,
        },
    );
    for (row, (db, _)) in f.rows.iter_mut().zip(&all) {
        row.insert(0, Value::from(db.as_str()));
    }
    Ok(f)
}

/// [`frame`], with the columns of `T::default()` when there are no rows (an empty table
/// still has its columns and their kinds).
pub fn typed_frame<T>(name: &str, rows: &[T]) -> Result<Frame>
where
    T: Serialize + DeserializeOwned + Default,
{
    if rows.is_empty() {
        let mut frame = frame(name, &[T::default()])?;
        frame.rows.clear();
        return Ok(frame);
    }
    frame(name, rows)
}

/// Builds a frame from rows of one serde type, probing the type for each column's kind.
pub fn frame<T: Serialize + DeserializeOwned>(section: &str, rows: &[T]) -> Result<Frame> {
    let objects = rows
        .iter()
        .map(|r| match serde_json::to_value(r) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(not_a_table(section, "rows are not objects")),
            Err(e) => Err(not_a_table(section, &e.to_string())),
        })
        .collect::<Result<Vec<_>>>()?;
    // Fields skipped when empty may be missing from some rows: the union, first-seen order.
    let mut names: Vec<String> = Vec::new();
    for o in &objects {
        for k in o.keys() {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    let columns = match objects.first() {
        Some(template) => names
            .iter()
            .map(|n| probe::<T>(template, n))
            .collect::<Vec<_>>(),
        None => Vec::new(),
    };
    let rows = objects
        .into_iter()
        .map(|mut o| {
            names
                .iter()
                .map(|n| o.remove(n).unwrap_or(Value::Null))
                .collect()
        })
        .collect();
    Ok(Frame {
        section: section.to_owned(),
        columns,
        rows,
    })
}

fn not_a_table(section: &str, problem: &str) -> Error {
    Error::InvalidValue {
        what: format!("section {section}"),
        problem: problem.to_owned(),
    }
}

/// The kind of field `name` of `T`: which probe values `T` accepts in that field.
fn probe<T: DeserializeOwned>(template: &Map<String, Value>, name: &str) -> FrameColumn {
    let accepts = |v: Value| {
        let mut row = template.clone();
        row.insert(name.to_owned(), v);
        serde_json::from_value::<T>(Value::Object(row)).is_ok()
    };
    let kind = if accepts(Value::Bool(true)) {
        ColumnKind::Bool
    } else if accepts(Value::from(1)) {
        if accepts(Value::from(0.5)) {
            ColumnKind::Float
        } else {
            ColumnKind::Int
        }
    } else if accepts(Value::from("not a timestamp")) {
        ColumnKind::Text
    } else if accepts(Value::from("2000-01-01T00:00:00Z")) {
        ColumnKind::Timestamp
    } else if accepts(Value::Array(vec![Value::from("x")])) {
        ColumnKind::TextList
    } else {
        ColumnKind::Json
    };
    FrameColumn {
        name: name.to_owned(),
        kind,
        nullable: accepts(Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn demo() -> Snapshot {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/snapshots/demo.json");
        Snapshot::load(path).expect("demo snapshot loads")
    }

    fn kind(f: &Frame, name: &str) -> (ColumnKind, bool) {
        let c = f
            .columns
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{} has no column {name}", f.section));
        (c.kind, c.nullable)
    }

    #[test]
    fn kinds_follow_the_rust_types() {
        let snap = demo();
        let t = section(&snap, "tables").expect("tables");
        assert_eq!(kind(&t, "oid"), (ColumnKind::Int, false));
        assert_eq!(kind(&t, "reltuples"), (ColumnKind::Float, false));
        assert_eq!(kind(&t, "name"), (ColumnKind::Text, false));
        assert_eq!(kind(&t, "has_primary_key"), (ColumnKind::Bool, false));
        assert_eq!(kind(&t, "idx_scan"), (ColumnKind::Int, true));
        assert_eq!(kind(&t, "last_autovacuum"), (ColumnKind::Timestamp, true));
        assert_eq!(kind(&t, "reloptions"), (ColumnKind::TextList, false));
        let i = section(&snap, "indexes").expect("indexes");
        assert_eq!(kind(&i, "key_attnums"), (ColumnKind::Json, false));
    }

    #[test]
    fn every_section_has_one_row_per_item_and_values_match_their_kind() {
        let snap = demo();
        for name in SECTIONS {
            let f = section(&snap, name).expect(name);
            let expected = serde_json::to_value(&snap)
                .ok()
                .and_then(|v| match *name {
                    "statements" => v.get("statements")?.get("top").cloned(),
                    _ => v.get(*name).cloned(),
                })
                .and_then(|v| v.as_array().map(Vec::len))
                .unwrap_or(0);
            assert_eq!(f.rows.len(), expected, "{name}");
            for row in &f.rows {
                assert_eq!(row.len(), f.columns.len(), "{name}");
                for (v, c) in row.iter().zip(&f.columns) {
                    let ok = match (c.kind, v) {
                        (_, Value::Null) => c.nullable,
                        (ColumnKind::Bool, Value::Bool(_)) => true,
                        (ColumnKind::Int, Value::Number(n)) => n.is_i64() || n.is_u64(),
                        (ColumnKind::Float, Value::Number(_)) => true,
                        (ColumnKind::Text, Value::String(_)) => true,
                        (ColumnKind::Timestamp, Value::String(s)) => {
                            chrono::DateTime::parse_from_rfc3339(s).is_ok()
                        }
                        (ColumnKind::TextList, Value::Array(a)) => a.iter().all(Value::is_string),
                        (ColumnKind::Json, _) => true,
                        _ => false,
                    };
                    assert!(ok, "{name}.{}: {v} is not a {:?}", c.name, c.kind);
                }
            }
        }
    }

    #[test]
    fn unknown_sections_are_errors() {
        let err = section(&demo(), "nope").expect_err("unknown").to_string();
        assert!(err.contains("unknown section `nope`"), "{err}");
    }
}
