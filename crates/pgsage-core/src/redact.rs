//! Redaction for sharing a snapshot: literals removed from query texts, and host, user,
//! role, application and client names replaced by stable hashes (the same name always
//! gives the same hash, so a report still groups by them).

use sha2::{Digest, Sha256};

use crate::snapshot::Snapshot;

/// A stable, short pseudonym for a name: `kind-` plus 10 hex digits of its SHA-256.
pub fn pseudonym(kind: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("pgsage:{kind}:{name}").as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    format!("{kind}-{hex}")
}

/// Replaces string, numeric, bit and dollar-quoted literals in SQL text with `?`,
/// leaving identifiers, keywords, parameters (`$1`) and comments' absence intact.
pub fn strip_literals(sql: &str) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    let ident_char = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    while i < chars.len() {
        let c = chars[i];
        let prev_ident = i > 0 && ident_char(chars[i - 1]);
        match c {
            // '…' with '' escapes; also E'…', B'…', X'…', N'…' prefixes.
            '\'' => {
                let backslash_escapes = i > 0 && matches!(chars[i - 1], 'e' | 'E');
                if backslash_escapes
                    || (prev_ident
                        && i > 0
                        && matches!(chars[i - 1], 'b' | 'B' | 'x' | 'X' | 'n' | 'N'))
                {
                    out.pop();
                }
                i += 1;
                while i < chars.len() {
                    if backslash_escapes && chars[i] == '\\' {
                        i += 2;
                        continue;
                    }
                    if chars[i] == '\'' {
                        if chars.get(i + 1) == Some(&'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                out.push('?');
            }
            '"' => {
                // Quoted identifier: keep as is.
                out.push(c);
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    if chars[i] == '"' {
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            '$' if !prev_ident => {
                // $1 parameter, or $tag$ … $tag$ dollar quoting.
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let tag: String = chars[i..j].iter().collect();
                if j < chars.len()
                    && chars[j] == '$'
                    && !tag[1..].chars().all(|c| c.is_ascii_digit())
                    || (j < chars.len() && chars[j] == '$' && tag.len() == 1)
                {
                    let delim: Vec<char> = format!("{tag}$").chars().collect();
                    let mut k = j + 1;
                    while k + delim.len() <= chars.len() && chars[k..k + delim.len()] != delim[..] {
                        k += 1;
                    }
                    i = (k + delim.len()).min(chars.len());
                    out.push('?');
                } else {
                    out.extend(&chars[i..j]);
                    i = j;
                }
            }
            d if d.is_ascii_digit() && !prev_ident => {
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_')
                {
                    i += 1;
                }
                out.push('?');
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Whether a statement's text may carry a secret in a literal: `CREATE ROLE … PASSWORD
/// '…'`, `ALTER USER MAPPING … OPTIONS (password '…')`, a `CREATE SUBSCRIPTION` or
/// `dblink_connect` connection string with `password=…`.
fn may_hold_a_secret(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    lower.contains("password") || lower.contains("passfile")
}

/// Settings whose value is a libpq connection string (a standby's way to its primary,
/// often with the replication password in it).
const CONNINFO_SETTINGS: &[&str] = &["primary_conninfo"];

/// A connection string with the value of every `password` key, and the password of a
/// URL's `user:password@`, replaced by `***`; the rest as written.
pub fn mask_conninfo_password(conninfo: &str) -> String {
    let t = conninfo.trim_start();
    if let Some(rest) = t
        .strip_prefix("postgresql://")
        .or_else(|| t.strip_prefix("postgres://"))
    {
        let scheme = &t[..t.len() - rest.len()];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let authority = match authority.rfind('@') {
            Some(at) => match authority[..at].find(':') {
                Some(colon) => format!("{}:***{}", &authority[..colon], &authority[at..]),
                None => authority.to_owned(),
            },
            None => authority.to_owned(),
        };
        // `?password=…` in the query string.
        let tail = tail
            .split('&')
            .map(|part| match part.split_once("password=") {
                Some((before, _)) if before.is_empty() || before.ends_with('?') => {
                    format!("{before}password=***")
                }
                _ => part.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&");
        return format!("{scheme}{authority}{tail}");
    }
    // key=value: find `password`, an optional space, `=`, then a quoted or bare value.
    let chars: Vec<char> = conninfo.chars().collect();
    let mut out = String::with_capacity(conninfo.len());
    let mut i = 0;
    while i < chars.len() {
        let at_word_start = i == 0 || chars[i - 1].is_whitespace();
        let is_key = at_word_start
            && chars[i..]
                .iter()
                .take(8)
                .collect::<String>()
                .eq_ignore_ascii_case("password");
        if !is_key {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut j = i + 8;
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        if chars.get(j) != Some(&'=') {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        j += 1;
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        if chars.get(j) == Some(&'\'') {
            j += 1;
            while j < chars.len() && chars[j] != '\'' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            j += 1;
        } else {
            while j < chars.len() && !chars[j].is_whitespace() {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
        }
        out.push_str("password=***");
        i = j.min(chars.len());
    }
    out
}

/// Removes the literals of every query text that may hold a password (see
/// [`strip_literals`]), and the password of connection-string settings
/// (`primary_conninfo`), leaving every other text as collected. `pg_stat_statements`
/// keeps utility statements such as `CREATE ROLE x PASSWORD 'secret'` verbatim, and
/// `pg_stat_activity` shows them while they run: a snapshot written to a shared place
/// (a fleet's output directory, object storage) must not carry them.
pub fn mask_secrets(snapshot: &mut Snapshot) {
    let mask = |text: &mut Option<String>| {
        if let Some(t) = text.as_mut().filter(|t| may_hold_a_secret(t)) {
            *t = strip_literals(t);
        }
    };
    for b in &mut snapshot.activity {
        mask(&mut b.query);
    }
    for setting in snapshot
        .settings
        .iter_mut()
        .filter(|s| CONNINFO_SETTINGS.contains(&s.name.as_str()))
    {
        setting.setting = mask_conninfo_password(&setting.setting);
        for value in [&mut setting.boot_val, &mut setting.reset_val]
            .into_iter()
            .flatten()
        {
            *value = mask_conninfo_password(value);
        }
    }
    let statements = snapshot.statements.iter_mut().chain(
        snapshot
            .baseline
            .iter_mut()
            .flat_map(|b| b.statements.iter_mut()),
    );
    for st in statements {
        for q in &mut st.top {
            mask(&mut q.query);
        }
    }
}

/// Redacts a snapshot in place.
pub fn redact(snapshot: &mut Snapshot) {
    let user = |u: &mut Option<String>| {
        if let Some(v) = u {
            *v = pseudonym("user", v);
        }
    };
    let app = |a: &mut Option<String>| {
        if let Some(v) = a.as_mut().filter(|v| !v.is_empty()) {
            *v = pseudonym("app", v);
        }
    };
    let addr = |a: &mut Option<String>| {
        if let Some(v) = a {
            *v = pseudonym("host", v);
        }
    };
    let s = snapshot;
    s.redacted = true;
    if let Some(h) = &mut s.server.host {
        *h = pseudonym("host", h);
    }
    s.server.user = pseudonym("user", &s.server.user);
    for b in &mut s.activity {
        user(&mut b.user);
        app(&mut b.application_name);
        addr(&mut b.client_addr);
        if let Some(q) = &mut b.query {
            *q = strip_literals(q);
        }
    }
    for r in &mut s.replication {
        user(&mut r.user);
        app(&mut r.application_name);
        addr(&mut r.client_addr);
    }
    for p in &mut s.prepared_xacts {
        p.owner = pseudonym("user", &p.owner);
    }
    for r in &mut s.roles {
        r.name = pseudonym("user", &r.name);
    }
    let statements = s
        .statements
        .iter_mut()
        .chain(s.baseline.iter_mut().flat_map(|b| b.statements.iter_mut()));
    for st in statements {
        for q in &mut st.top {
            user(&mut q.user);
            if let Some(text) = &mut q.query {
                *text = strip_literals(text);
            }
        }
        for u in &mut st.usage {
            user(&mut u.user);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_removed_and_structure_kept() {
        assert_eq!(
            strip_literals(
                "SELECT * FROM res_partner WHERE name = 'O''Brien' AND id IN (1, 2.5) AND x = $1"
            ),
            "SELECT * FROM res_partner WHERE name = ? AND id IN (?, ?) AND x = $1"
        );
        assert_eq!(
            strip_literals("select $$secret$$, $t$x$t$ from t2"),
            "select ?, ? from t2"
        );
        assert_eq!(
            strip_literals("select E'a\\'b', \"Col 1\" from t"),
            "select ?, \"Col 1\" from t"
        );
        assert_eq!(strip_literals("select 'unterminated"), "select ?");
    }

    #[test]
    fn secrets_are_masked_and_other_texts_kept() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/snapshots/demo.json");
        let mut snap = Snapshot::load(&p).expect("demo");
        let top = &mut snap.statements.as_mut().expect("statements").top;
        assert!(top.len() >= 2, "the demo has statements");
        top[0].query = Some("CREATE ROLE app LOGIN PASSWORD 'hunter2'".into());
        top[1].query = Some("SELECT * FROM t WHERE name = 'kept'".into());
        mask_secrets(&mut snap);
        let top = &snap.statements.as_ref().expect("statements").top;
        assert_eq!(
            top[0].query.as_deref(),
            Some("CREATE ROLE app LOGIN PASSWORD ?")
        );
        assert_eq!(
            top[1].query.as_deref(),
            Some("SELECT * FROM t WHERE name = 'kept'")
        );
    }

    #[test]
    fn connection_string_passwords_are_masked() {
        for (given, masked) in [
            (
                "user=replicator password=hunter2 host=primary port=5432",
                "user=replicator password=*** host=primary port=5432",
            ),
            (
                "host=p password = 'hunter2 with \\' quote' sslmode=require",
                "host=p password=*** sslmode=require",
            ),
            ("host=p user=passwordless", "host=p user=passwordless"),
            (
                "postgresql://rep:hunter2@primary:5432/db?sslmode=require",
                "postgresql://rep:***@primary:5432/db?sslmode=require",
            ),
            (
                "postgres://rep@primary/db?password=hunter2&sslmode=require",
                "postgres://rep@primary/db?password=***&sslmode=require",
            ),
        ] {
            assert_eq!(mask_conninfo_password(given), masked, "{given}");
        }
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/snapshots/demo.json");
        let mut snap = Snapshot::load(&p).expect("demo");
        fn setting(snap: &mut Snapshot) -> &mut crate::snapshot::Setting {
            snap.settings
                .iter_mut()
                .find(|s| s.name == "primary_conninfo")
                .expect("the demo has primary_conninfo")
        }
        let s = setting(&mut snap);
        s.setting = "host=primary password=hunter2".into();
        s.reset_val = Some("host=primary password=hunter2".into());
        mask_secrets(&mut snap);
        let s = setting(&mut snap);
        assert_eq!(s.setting, "host=primary password=***");
        assert_eq!(s.reset_val.as_deref(), Some("host=primary password=***"));
    }

    #[test]
    fn pseudonyms_are_stable_and_distinct() {
        assert_eq!(pseudonym("user", "odoo"), pseudonym("user", "odoo"));
        assert_ne!(pseudonym("user", "odoo"), pseudonym("user", "odoo2"));
        assert!(!pseudonym("user", "odoo").contains("odoo"));
    }
}
