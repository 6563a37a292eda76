//! `log_line_prefix`: compiled once, then matched against each stderr line without
//! allocating. Every escape PostgreSQL 13–18 knows is understood, with padding
//! (`%-10u`, `%10p`) and `%q`.

use super::severity::{severity_at, Severity};
use crate::knowledge::platform_logs;

/// A compiled `log_line_prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePrefix {
    source: String,
    items: Vec<Item>,
    /// Index in `items` where `%q` stood: non-session processes stop there.
    q_at: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Lit(String),
    Esc { esc: Escape, padded: bool },
}

/// The value kind of an escape, which decides how its text is recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    Application,
    User,
    Database,
    RemoteHostPort,
    RemoteHost,
    BackendType,
    Tag,
    Pid,
    LeaderPid,
    TimeMs,
    Time,
    Epoch,
    SqlState,
    Session,
    LineNo,
    SessionStart,
    Vxid,
    Xid,
    QueryId,
}

/// The values a prefix gave for one line (borrowed from the line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrefixFields<'a> {
    /// `%m`, `%t` or `%n` text (the first of them in the prefix).
    pub time: Option<&'a str>,
    /// `%u`.
    pub user: Option<&'a str>,
    /// `%d`.
    pub database: Option<&'a str>,
    /// `%a`.
    pub application: Option<&'a str>,
    /// `%h`, or `%r` without its port.
    pub client: Option<&'a str>,
    /// `%p`.
    pub pid: Option<i32>,
    /// `%c`.
    pub session: Option<&'a str>,
    /// `%e`.
    pub sqlstate: Option<&'a str>,
}

/// A matched line: the prefix's fields, the severity and where the message starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixMatch<'a> {
    /// Field values.
    pub fields: PrefixFields<'a>,
    /// The message's severity (`LOG`, `DETAIL`, …).
    pub severity: Severity,
    /// Byte offset of the message text (after `LOG:  ` and a verbose SQLSTATE).
    pub message_at: usize,
}

/// Backtracking budget per line, so hostile lines cannot make matching quadratic.
const MAX_STEPS: u32 = 256;

impl LinePrefix {
    /// Compiles a `log_line_prefix` value. Never fails: unknown escapes produce nothing
    /// in PostgreSQL, so they are ignored here too.
    pub fn new(prefix: &str) -> LinePrefix {
        let mut items = Vec::new();
        let mut q_at = None;
        let mut lit = String::new();
        let mut chars = prefix.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                lit.push(c);
                continue;
            }
            // Optional padding: '-'? digits.
            let mut padded = false;
            if chars.peek() == Some(&'-') {
                chars.next();
                padded = true;
            }
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
                padded = true;
            }
            let Some(e) = chars.next() else { break };
            let esc = match e {
                '%' => {
                    lit.push('%');
                    continue;
                }
                'q' => {
                    flush(&mut lit, &mut items);
                    q_at.get_or_insert(items.len());
                    continue;
                }
                'a' => Escape::Application,
                'u' => Escape::User,
                'd' => Escape::Database,
                'r' => Escape::RemoteHostPort,
                'h' => Escape::RemoteHost,
                'b' => Escape::BackendType,
                'i' => Escape::Tag,
                'p' => Escape::Pid,
                'P' => Escape::LeaderPid,
                'm' => Escape::TimeMs,
                't' => Escape::Time,
                'n' => Escape::Epoch,
                'e' => Escape::SqlState,
                'c' => Escape::Session,
                'l' => Escape::LineNo,
                's' => Escape::SessionStart,
                'v' => Escape::Vxid,
                'x' => Escape::Xid,
                'Q' => Escape::QueryId,
                _ => continue,
            };
            flush(&mut lit, &mut items);
            items.push(Item::Esc { esc, padded });
        }
        flush(&mut lit, &mut items);
        LinePrefix {
            source: prefix.to_string(),
            items,
            q_at,
        }
    }

    /// The prefix as given.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the prefix has `%p` (needed to pair `log_statement` lines with
    /// `log_duration` lines of the same backend).
    pub fn has_pid(&self) -> bool {
        self.items.iter().any(|i| {
            matches!(
                i,
                Item::Esc {
                    esc: Escape::Pid,
                    ..
                }
            )
        })
    }

    /// Matches a line: the prefix, then a severity (`LOG:  `). `None` when the line is
    /// not the start of a log entry.
    pub fn match_line<'a>(&self, line: &'a str) -> Option<PrefixMatch<'a>> {
        let mut fields = PrefixFields::default();
        let mut steps = 0;
        let (severity, message_at) = self.match_from(line, 0, 0, &mut fields, &mut steps)?;
        Some(PrefixMatch {
            fields,
            severity,
            message_at,
        })
    }

    fn match_from<'a>(
        &self,
        line: &'a str,
        item: usize,
        pos: usize,
        fields: &mut PrefixFields<'a>,
        steps: &mut u32,
    ) -> Option<(Severity, usize)> {
        *steps += 1;
        if *steps > MAX_STEPS {
            return None;
        }
        if self.q_at == Some(item) {
            // Session processes print the rest; others stop here.
            let saved = *fields;
            if let Some(found) = self.match_items(line, item, pos, fields, steps) {
                return Some(found);
            }
            *fields = saved;
            return severity_at(line, pos);
        }
        self.match_items(line, item, pos, fields, steps)
    }

    fn match_items<'a>(
        &self,
        line: &'a str,
        item: usize,
        pos: usize,
        fields: &mut PrefixFields<'a>,
        steps: &mut u32,
    ) -> Option<(Severity, usize)> {
        let Some(it) = self.items.get(item) else {
            return severity_at(line, pos);
        };
        let rest = line.get(pos..)?;
        match it {
            Item::Lit(s) => {
                if rest.starts_with(s.as_str()) {
                    self.match_from(line, item + 1, pos + s.len(), fields, steps)
                } else {
                    None
                }
            }
            Item::Esc { esc, padded } => {
                let (lead, body) = if *padded {
                    let t = rest.trim_start_matches(' ');
                    (rest.len() - t.len(), t)
                } else {
                    (0, rest)
                };
                let start = pos + lead;
                if let Some(len) = fixed_len(*esc, body) {
                    let mut end = start + len;
                    if *padded {
                        end += line[end..].len() - line[end..].trim_start_matches(' ').len();
                    }
                    let saved = *fields;
                    set_field(fields, *esc, &line[start..start + len]);
                    let found = self.match_from(line, item + 1, end, fields, steps);
                    if found.is_none() {
                        *fields = saved;
                    }
                    return found;
                }
                if !is_free(*esc) {
                    return None;
                }
                self.match_free(line, item, start, *esc, *padded, fields, steps)
            }
        }
    }

    /// A free-text escape (`%u`, `%a`, …): try each possible end, shortest first.
    #[allow(clippy::too_many_arguments)]
    fn match_free<'a>(
        &self,
        line: &'a str,
        item: usize,
        start: usize,
        esc: Escape,
        padded: bool,
        fields: &mut PrefixFields<'a>,
        steps: &mut u32,
    ) -> Option<(Severity, usize)> {
        let next_lit = match self.items.get(item + 1) {
            Some(Item::Lit(s)) if self.q_at != Some(item + 1) => Some(s.as_str()),
            _ => None,
        };
        let mut from = start;
        loop {
            let end = match next_lit {
                Some(s) => from + line.get(from..)?.find(s)?,
                None => from,
            };
            let value = &line[start..end];
            let value = if padded {
                value.trim_end_matches(' ')
            } else {
                value
            };
            let saved = *fields;
            set_field(fields, esc, value);
            if let Some(found) = self.match_from(line, item + 1, end, fields, steps) {
                return Some(found);
            }
            *fields = saved;
            if *steps > MAX_STEPS {
                return None;
            }
            // Next candidate end: after this occurrence (or one character further).
            let step = line.get(end..)?.chars().next()?.len_utf8();
            from = end + step;
        }
    }
}

fn flush(lit: &mut String, items: &mut Vec<Item>) {
    if !lit.is_empty() {
        items.push(Item::Lit(std::mem::take(lit)));
    }
}

fn is_free(esc: Escape) -> bool {
    matches!(
        esc,
        Escape::Application
            | Escape::User
            | Escape::Database
            | Escape::RemoteHostPort
            | Escape::RemoteHost
            | Escape::BackendType
            | Escape::Tag
    )
}

/// The length of a fixed-shape escape's text at the start of `s`, `None` when `s` does
/// not start with that shape (or the escape is free text).
fn fixed_len(esc: Escape, s: &str) -> Option<usize> {
    let b = s.as_bytes();
    match esc {
        Escape::Pid | Escape::LineNo | Escape::Xid => {
            let n = digits(b);
            (n > 0).then_some(n)
        }
        Escape::LeaderPid => Some(digits(b)),
        Escape::QueryId => {
            let sign = usize::from(b.first() == Some(&b'-'));
            let n = digits(&b[sign..]);
            (n > 0).then_some(sign + n)
        }
        Escape::TimeMs => timestamp_len(b, true),
        Escape::Time | Escape::SessionStart => timestamp_len(b, false),
        Escape::Epoch => {
            let n = digits(b);
            (n > 0 && b.get(n) == Some(&b'.') && digits(&b[n + 1..]) == 3).then_some(n + 4)
        }
        Escape::SqlState => {
            (b.len() >= 5 && b[..5].iter().all(u8::is_ascii_alphanumeric)).then_some(5)
        }
        Escape::Session => {
            let n = hex(b);
            (n > 0 && b.get(n) == Some(&b'.')).then(|| n + 1 + hex(&b[n + 1..]))
        }
        Escape::Vxid => Some(
            b.iter()
                .take_while(|c| c.is_ascii_digit() || **c == b'/' || **c == b'-')
                .count(),
        ),
        _ => None,
    }
}

fn digits(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

fn hex(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_hexdigit()).count()
}

/// `YYYY-MM-DD HH:MM:SS[.mmm] TZ`, where TZ is letters (`UTC`, `CEST`) or a numeric
/// offset (`+03`, `-0330`).
pub(super) fn timestamp_len(b: &[u8], millis: bool) -> Option<usize> {
    const SHAPE: &[u8; 19] = b"0000-00-00 00:00:00";
    if b.len() < 19 {
        return None;
    }
    for (c, s) in b.iter().zip(SHAPE) {
        let ok = if *s == b'0' {
            c.is_ascii_digit()
        } else {
            c == s
        };
        if !ok {
            return None;
        }
    }
    let mut n = 19;
    if millis {
        if b.get(n) != Some(&b'.') || digits(&b[n + 1..]) != 3 {
            return None;
        }
        n += 4;
    }
    if b.get(n) != Some(&b' ') {
        return None;
    }
    n += 1;
    Some(n + tz_len(&b[n..])?)
}

fn tz_len(b: &[u8]) -> Option<usize> {
    let letters = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if letters > 0 {
        return Some(letters);
    }
    match b.first() {
        Some(b'+' | b'-') => {
            let n = digits(&b[1..]);
            (n >= 2).then_some(1 + n)
        }
        _ => None,
    }
}

fn set_field<'a>(f: &mut PrefixFields<'a>, esc: Escape, v: &'a str) {
    match esc {
        Escape::TimeMs | Escape::Time | Escape::Epoch => {
            f.time.get_or_insert(v);
        }
        Escape::User => f.user = Some(v),
        Escape::Database => f.database = Some(v),
        Escape::Application => f.application = Some(v),
        Escape::RemoteHost => f.client = Some(v),
        // `host(port)` → host; `[local]` stays.
        Escape::RemoteHostPort if f.client.is_none() => {
            let host = match v.rfind('(') {
                Some(i) if v.ends_with(')') => &v[..i],
                _ => v,
            };
            f.client = Some(host);
        }
        Escape::Pid => f.pid = v.parse().ok(),
        Escape::Session => f.session = Some(v),
        Escape::SqlState => f.sqlstate = Some(v),
        _ => {}
    }
}

/// Well-known prefixes tried when none is given: PostgreSQL's default, Debian's,
/// pgBadger's recommended one, the managed platforms' (Azure's default, RDS's and
/// Aurora's, Cloud SQL's and AlloyDB's, also without its time as older Cloud Logging
/// entries have it; see [`crate::knowledge::platform_logs`]).
pub const KNOWN_PREFIXES: &[&str] = &[
    "%m [%p] ",
    "%m [%p] %q%u@%d ",
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    platform_logs::AZURE_DEFAULT_PREFIX,
    platform_logs::AWS_PREFIX,
    platform_logs::GOOGLE_CLOUD_PREFIX,
    platform_logs::GOOGLE_CLOUD_UNTIMED_PREFIX,
    "%m [%p] %q[user=%u,db=%d,app=%a] ",
    "%t [%p-%l] %q%u@%d ",
    "%m ",
    "%t ",
    "",
];

/// Picks the known prefix, after `lead` (text every line has before the server's
/// prefix: nothing, or the time a Cloud Logging entry adds), that matches the most of
/// `lines` (at least one).
pub fn detect<'a>(lines: impl Iterator<Item = &'a str> + Clone, lead: &str) -> Option<LinePrefix> {
    let mut best: Option<(usize, usize, LinePrefix)> = None;
    for (rank, p) in KNOWN_PREFIXES.iter().enumerate() {
        let prefix = LinePrefix::new(&format!("{lead}{p}"));
        let n = lines
            .clone()
            .filter(|l| prefix.match_line(l).is_some())
            .count();
        // More matches wins; on a tie, the earlier (more specific) prefix.
        if n > 0 && best.as_ref().is_none_or(|(m, _, _)| n > *m) {
            best = Some((n, rank, prefix));
        }
    }
    best.map(|(_, _, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_prefix() {
        let p = LinePrefix::new("%m [%p] ");
        let l = "2024-05-01 10:00:00.123 UTC [4242] LOG:  duration: 1.5 ms  statement: SELECT 1";
        let m = p.match_line(l).expect("matches");
        assert_eq!(m.fields.pid, Some(4242));
        assert_eq!(m.fields.time, Some("2024-05-01 10:00:00.123 UTC"));
        assert_eq!(m.severity, Severity::Log);
        assert_eq!(&l[m.message_at..], "duration: 1.5 ms  statement: SELECT 1");
    }

    #[test]
    fn q_stops_for_background_processes() {
        let p = LinePrefix::new("%m [%p] %q%u@%d ");
        let bg = "2024-05-01 10:00:00.123 UTC [7] LOG:  checkpoint starting: time";
        let m = p.match_line(bg).expect("background line");
        assert_eq!(m.fields.user, None);
        let s = "2024-05-01 10:00:00.123 UTC [8] app@erp LOG:  statement: SELECT 'a@b '";
        let m = p.match_line(s).expect("session line");
        assert_eq!(
            (m.fields.user, m.fields.database),
            (Some("app"), Some("erp"))
        );
    }

    #[test]
    fn padding_and_rds() {
        let p = LinePrefix::new("%t:%r:%-10u@%d:[%p]:");
        let l = "2024-05-01 10:00:00 UTC:10.0.0.1(5432):bob       @db:[12]:ERROR:  x";
        let m = p.match_line(l).expect("matches");
        assert_eq!(m.fields.user, Some("bob"));
        assert_eq!(m.fields.client, Some("10.0.0.1"));
        assert_eq!(m.severity, Severity::Error);
    }

    #[test]
    fn azure_prefix_with_dash_after_time_zone() {
        let p = LinePrefix::new("%t-%c-");
        let l = "2024-05-01 10:00:00 UTC-6632a1b0.1f4-LOG:  statement: SELECT 1";
        let m = p.match_line(l).expect("matches");
        assert_eq!(m.fields.session, Some("6632a1b0.1f4"));
    }

    /// Cloud SQL's lines (as `textPayload` holds them, and as copied out of it) are
    /// found among the known prefixes, with their database and user; RDS's and Azure's
    /// are too, each by its own prefix.
    #[test]
    fn managed_platforms_lines_are_detected() {
        let cloud = "2022-07-30 05:04:30.061 UTC [4075710]: [2-1] db=shop,user=app LOG:  duration: 1.5 ms  statement: SELECT 1";
        let rds = "2024-05-01 10:00:00 UTC:10.0.0.1(5432):app@shop:[12]:LOG:  duration: 1.5 ms  statement: SELECT 1";
        let azure =
            "2024-05-01 10:00:00 UTC-6632a1b0.1f4-LOG:  duration: 1.5 ms  statement: SELECT 1";
        for (line, expected) in [
            (cloud, "%m [%p]: [%l-1] db=%d,user=%u "),
            (rds, "%t:%r:%u@%d:[%p]:"),
            (azure, "%t-%c-"),
        ] {
            let p = detect([line].into_iter(), "").expect("detected");
            assert_eq!(p.as_str(), expected, "{line}");
        }
        let p = detect([cloud].into_iter(), "").expect("detected");
        let m = p.match_line(cloud).expect("matches");
        assert_eq!(
            (m.fields.database, m.fields.user),
            (Some("shop"), Some("app"))
        );
        // A Cloud Logging entry's time before an untimed payload (entries before 2021).
        let old = "2020-04-08 21:32:23.456 UTC [153735]: [10-1] db=shop,user=app LOG:  duration: 11.446 ms  statement: SELECT 1";
        let p = detect([old].into_iter(), "%m ").expect("detected");
        assert_eq!(p.as_str(), "%m [%p]: [%l-1] db=%d,user=%u ");
    }

    #[test]
    fn not_a_record() {
        let p = LinePrefix::new("%m [%p] ");
        assert!(p.match_line("\tcontinued").is_none());
        assert!(p.match_line("garbage").is_none());
        assert!(p
            .match_line("2024-05-01 10:00:00.123 UTC [1] nope")
            .is_none());
    }
}
