//! Cloud Logging exports made from a real server's log, for the log readers' tests.
//!
//! Cloud SQL cannot run here. Its server log reaches users as Cloud Logging entries
//! (`gcloud logging read --format=json`), each line of the server's stderr log in an
//! entry's `textPayload`. So the tests start a real server with Cloud SQL's
//! `log_line_prefix`, let it write its log, and [`export`] wraps the lines it wrote into
//! entries. **This is a conversion**: the payloads are the server's own lines; the
//! fields around them (`insertId`, `logName`, `resource`, `severity`,
//! `receiveTimestamp`) have Cloud Logging's shape, as seen in exported entries, with
//! made-up values.

use serde_json::{json, Value};

use crate::TestkitError;

/// How the server's lines are put into entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// One entry per log record: a prefixed line with its continuation lines.
    PerRecord,
    /// One entry per line: continuation lines (starting with a tab) are entries of
    /// their own.
    PerLine,
}

/// What the export looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    /// How lines become entries.
    pub split: Split,
    /// Strip each record's leading `%m ` time from the payload, as older Cloud SQL
    /// entries had it (the time is then only the entry's `timestamp`).
    pub untimed: bool,
    /// One entry per line (a Cloud Storage sink's files) instead of a pretty-printed
    /// JSON array (`gcloud logging read --format=json`).
    pub ndjson: bool,
}

/// The time at the start of a line written with a `%m` prefix in UTC
/// (`2026-12-07 08:30:00.123 UTC`), and the rest of the line.
fn leading_time(line: &str) -> Option<(&str, &str)> {
    const LEN: usize = "2026-12-07 08:30:00.123 UTC".len();
    let (time, rest) = line.split_at_checked(LEN)?;
    let b = time.as_bytes();
    let digits_at = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
    let shaped = digits_at.iter().all(|&i| b[i].is_ascii_digit())
        && time.ends_with(" UTC")
        && b[4] == b'-'
        && b[10] == b' ';
    shaped.then(|| (time, rest.strip_prefix(' ').unwrap_or(rest)))
}

/// `2026-12-07 08:30:00.123 UTC` as RFC 3339 with microseconds, as Cloud Logging
/// writes `timestamp`.
fn rfc3339(time: &str) -> String {
    format!("{}T{}000Z", &time[..10], &time[11..23])
}

/// The Cloud Logging export of `log`, a log a server wrote with a `log_line_prefix`
/// that starts with `%m` and `log_timezone = 'UTC'` (Cloud SQL's). Every record must
/// start with that time.
pub fn export(log: &str, opts: ExportOptions) -> Result<String, TestkitError> {
    let mut records: Vec<Vec<&str>> = Vec::new();
    for (i, line) in log.lines().enumerate() {
        if line.starts_with('\t') {
            match records.last_mut() {
                Some(r) => r.push(line),
                None => {
                    return Err(TestkitError::Convert {
                        what: "a server log into a Cloud Logging export".into(),
                        problem: format!("line {} continues no record", i + 1),
                    })
                }
            }
        } else if !line.is_empty() {
            records.push(vec![line]);
        }
    }
    let mut entries: Vec<Value> = Vec::new();
    for record in &records {
        let Some((time, rest)) = leading_time(record[0]) else {
            return Err(TestkitError::Convert {
                what: "a server log into a Cloud Logging export".into(),
                problem: format!("a record without a leading %m time: {}", record[0]),
            });
        };
        let first = if opts.untimed { rest } else { record[0] };
        let payloads: Vec<String> = match opts.split {
            Split::PerRecord => {
                let mut text = first.to_string();
                for cont in &record[1..] {
                    text.push('\n');
                    text.push_str(cont);
                }
                vec![text]
            }
            Split::PerLine => std::iter::once(first)
                .chain(record[1..].iter().copied())
                .map(str::to_string)
                .collect(),
        };
        for payload in payloads {
            let n = entries.len();
            entries.push(json!({
                "textPayload": payload,
                "insertId": format!("s=0000000000000000;i={n:x};b=0;m=0;t=0;x=0-0@a1"),
                "resource": {
                    "type": "cloudsql_database",
                    "labels": {
                        "project_id": "pgsage-test",
                        "region": "europe-west1",
                        "database_id": "pgsage-test:logs"
                    }
                },
                "timestamp": rfc3339(time),
                "severity": "INFO",
                "logName": "projects/pgsage-test/logs/cloudsql.googleapis.com%2Fpostgres.log",
                "receiveTimestamp": rfc3339(time),
            }));
        }
    }
    let text = if opts.ndjson {
        let mut out = String::new();
        for e in &entries {
            out.push_str(&e.to_string());
            out.push('\n');
        }
        out
    } else {
        let mut out =
            serde_json::to_string_pretty(&entries).map_err(|e| TestkitError::Convert {
                what: "a Cloud Logging export".into(),
                problem: e.to_string(),
            })?;
        out.push('\n');
        out
    };
    Ok(text)
}

/// Writes to `to` the export of the server log at `log` (see [`export`]).
pub fn export_file(
    log: &std::path::Path,
    to: &std::path::Path,
    opts: ExportOptions,
) -> Result<(), TestkitError> {
    let io = |context: String| move |source| TestkitError::Io { context, source };
    let text = std::fs::read_to_string(log).map_err(io(format!("reading {}", log.display())))?;
    std::fs::write(to, export(&text, opts)?).map_err(io(format!("writing {}", to.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "2026-12-07 08:30:00.123 UTC [42]: [1-1] db=app,user=postgres LOG:  statement: SELECT 1,\n\t2\n2026-12-07 08:30:00.124 UTC [42]: [2-1] db=app,user=postgres LOG:  duration: 0.1 ms\n";

    fn opts(split: Split, untimed: bool, ndjson: bool) -> ExportOptions {
        ExportOptions {
            split,
            untimed,
            ndjson,
        }
    }

    #[test]
    fn records_or_lines_become_entries_with_the_line_time() {
        let text = export(LOG, opts(Split::PerRecord, false, false)).expect("export");
        let v: Vec<Value> = serde_json::from_str(&text).expect("a JSON array");
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[0]["textPayload"],
            "2026-12-07 08:30:00.123 UTC [42]: [1-1] db=app,user=postgres LOG:  statement: SELECT 1,\n\t2"
        );
        assert_eq!(v[0]["timestamp"], "2026-12-07T08:30:00.123000Z");
        let text = export(LOG, opts(Split::PerLine, true, true)).expect("export");
        let v: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("one entry a line"))
            .collect();
        assert_eq!(v.len(), 3);
        assert_eq!(
            v[0]["textPayload"],
            "[42]: [1-1] db=app,user=postgres LOG:  statement: SELECT 1,"
        );
        assert_eq!(v[1]["textPayload"], "\t2");
    }

    #[test]
    fn a_log_without_times_is_refused() {
        assert!(export("LOG:  hello\n", opts(Split::PerRecord, false, false)).is_err());
        assert!(export("\tcontinued\n", opts(Split::PerRecord, false, false)).is_err());
    }
}
