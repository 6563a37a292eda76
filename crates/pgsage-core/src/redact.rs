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
    fn pseudonyms_are_stable_and_distinct() {
        assert_eq!(pseudonym("user", "odoo"), pseudonym("user", "odoo"));
        assert_ne!(pseudonym("user", "odoo"), pseudonym("user", "odoo2"));
        assert!(!pseudonym("user", "odoo").contains("odoo"));
    }
}
