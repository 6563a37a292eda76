//! The password file, `~/.pgpass` or `PGPASSFILE`, read the way libpq reads it.
//!
//! Each line is `hostname:port:database:username:password`. A field of exactly `*`
//! matches anything; `\:` and `\\` stand for `:` and `\`; lines starting with `#` are
//! comments. The first matching line wins. The file is ignored, with a note, when it is
//! not a plain file or when its group or others have any permission on it (it must be
//! `0600` or stricter), as libpq does.

use std::path::Path;

/// What to look up: the connection's host, port, database and user.
#[derive(Debug, Clone, Copy)]
pub struct Lookup<'a> {
    /// Host name, IP address, or `localhost` for the default Unix socket directory.
    pub host: &'a str,
    /// Port, as text.
    pub port: &'a str,
    /// Database name.
    pub database: &'a str,
    /// User name.
    pub user: &'a str,
}

/// The password of the first line of `contents` matching `lookup`.
pub fn find(contents: &str, lookup: Lookup<'_>) -> Option<String> {
    contents
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .find_map(|line| {
            let mut fields = split_line(line);
            if fields.len() < 5 {
                return None;
            }
            let wanted = [lookup.host, lookup.port, lookup.database, lookup.user];
            let matches = fields
                .iter()
                .zip(wanted)
                .all(|(f, w)| f.text == w || (f.text == "*" && !f.escaped));
            // libpq ignores anything after the password's unescaped ':'.
            matches.then(|| fields.swap_remove(4).text)
        })
        .filter(|p| !p.is_empty())
}

/// One field of a line, unescaped, and whether it contained an escape (so `\*` is a
/// literal star, not the wildcard).
#[derive(Debug)]
struct Field {
    text: String,
    escaped: bool,
}

/// Splits a line at unescaped `:` and removes the escapes.
fn split_line(line: &str) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut current = Field {
        text: String::new(),
        escaped: false,
    };
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => {
                    current.text.push(next);
                    current.escaped = true;
                }
                None => current.text.push('\\'),
            },
            ':' => fields.push(std::mem::replace(
                &mut current,
                Field {
                    text: String::new(),
                    escaped: false,
                },
            )),
            _ => current.text.push(c),
        }
    }
    fields.push(current);
    fields
}

/// The outcome of reading a password file.
#[derive(Debug)]
pub enum PassFile {
    /// There is no such file (not an error: most users have none).
    Missing,
    /// The file exists but was not used; the note says why.
    Ignored(String),
    /// The file's text.
    Contents(String),
}

/// Reads a password file, checking its type and permissions first.
pub fn read(path: &Path) -> PassFile {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return PassFile::Missing,
        Err(e) => {
            return PassFile::Ignored(format!("password file {} ignored: {e}", path.display()))
        }
    };
    if !meta.is_file() {
        return PassFile::Ignored(format!(
            "password file {} ignored: not a plain file",
            path.display()
        ));
    }
    if let Some(note) = permissions_problem(path, &meta) {
        return PassFile::Ignored(note);
    }
    match std::fs::read_to_string(path) {
        Ok(text) => PassFile::Contents(text),
        Err(e) => PassFile::Ignored(format!("password file {} ignored: {e}", path.display())),
    }
}

#[cfg(unix)]
fn permissions_problem(path: &Path, meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "password file {} ignored: it has group or world access (mode {:04o}); \
             permissions should be u=rw (0600) or less",
            path.display(),
            mode & 0o7777
        )
    })
}

#[cfg(not(unix))]
fn permissions_problem(_path: &Path, _meta: &std::fs::Metadata) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Lookup<'static> = Lookup {
        host: "db.example.com",
        port: "5432",
        database: "app",
        user: "bob",
    };

    #[test]
    fn exact_match_and_first_wins() {
        let f = "db.example.com:5432:app:bob:first\ndb.example.com:5432:app:bob:second\n";
        assert_eq!(find(f, L).as_deref(), Some("first"));
    }

    #[test]
    fn wildcards() {
        assert_eq!(find("*:*:*:*:any", L).as_deref(), Some("any"));
        assert_eq!(find("db.example.com:*:*:bob:w", L).as_deref(), Some("w"));
        assert_eq!(find("*:5433:*:*:no", L), None);
        // `*` only as a whole field: `db*` is literal.
        assert_eq!(find("db*:*:*:*:no", L), None);
    }

    #[test]
    fn escapes() {
        assert_eq!(
            find(r"*:*:*:*:pa\:ss\\word", L).as_deref(),
            Some(r"pa:ss\word")
        );
        let l = Lookup {
            host: "/tmp:x",
            database: "a\\b",
            ..L
        };
        assert_eq!(find(r"/tmp\:x:*:a\\b:*:ok", l).as_deref(), Some("ok"));
        // An escaped star is a literal star.
        assert_eq!(find(r"\*:*:*:*:no", L), None);
        let l = Lookup { host: "*", ..L };
        assert_eq!(find(r"\*:*:*:*:star", l).as_deref(), Some("star"));
    }

    #[test]
    fn comments_blank_short_and_crlf_lines() {
        let f = "# db.example.com:5432:app:bob:comment\n\n  \nshort:line\r\n*:*:*:bob:crlf\r\n";
        assert_eq!(find(f, L).as_deref(), Some("crlf"));
    }

    #[test]
    fn text_after_password_is_ignored_and_empty_password_is_no_match() {
        assert_eq!(find("*:*:*:*:pw:extra", L).as_deref(), Some("pw"));
        assert_eq!(find("*:*:*:*:", L), None);
    }

    #[test]
    fn user_must_match() {
        assert_eq!(find("*:*:*:alice:pw", L), None);
    }

    #[cfg(unix)]
    #[test]
    fn permissions_are_checked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:pw\n").expect("write");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        match read(&path) {
            PassFile::Ignored(note) => {
                assert!(note.contains("group or world access"), "{note}");
                assert!(note.contains("0644"), "{note}");
            }
            other => panic!("expected Ignored, got {other:?}"),
        }

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(matches!(read(&path), PassFile::Contents(t) if t.contains("pw")));

        assert!(matches!(read(&dir.path().join("none")), PassFile::Missing));
        assert!(matches!(read(dir.path()), PassFile::Ignored(n) if n.contains("not a plain file")));
    }
}
