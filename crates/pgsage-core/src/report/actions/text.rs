//! Filling a theme's title and effect from its findings: `{objects}`,
//! `{objects:singular|plural}`, `{names}`, `{dead_rows}`, `{freed}`, `{stored}`.

use crate::report::{Finding, ObjectKind, ObjectRef};
use crate::units;

/// Up to this many objects are named; more are counted.
const NAMED_OBJECTS: usize = 3;

/// `template` with its placeholders filled: objects from `primary` (the findings the
/// action is about), sums over `all` (including the findings it explains).
pub(super) fn fill(
    template: &str,
    primary: &[&Finding],
    all: &[&Finding],
    several_databases: bool,
) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let placeholder = &rest[start + 1..start + len];
        rest = &rest[start + len + 1..];
        // "… in 27 databases" ends a sentence well; inside one it is a parenthesis.
        let ends = rest.trim_start().is_empty() || rest.starts_with([':', ',', '.', ';']);
        let text = placeholder_text(placeholder, primary, all, ends);
        out.push_str(&text);
        if several_databases && placeholder.starts_with("objects") {
            out.push_str(&single_database(&distinct(primary), ends));
        }
    }
    out.push_str(rest);
    out
}

fn placeholder_text(
    placeholder: &str,
    primary: &[&Finding],
    all: &[&Finding],
    ends_sentence: bool,
) -> String {
    let (name, nouns) = placeholder
        .split_once(':')
        .map_or((placeholder, None), |(n, v)| (n, v.split_once('|')));
    match name {
        "objects" => objects_phrase(&distinct(primary), nouns, ends_sentence),
        "names" => {
            let objects = distinct(primary);
            let names: Vec<String> = objects.iter().map(|o| o.display_name()).collect();
            names.join(", ")
        }
        "dead_rows" => {
            let dead = sum_evidence(all, &["n_dead_tup"]);
            if dead >= 1.0 {
                format!(" ({} dead rows today)", units::count(dead))
            } else {
                String::new()
            }
        }
        "freed" => {
            // Only what the fix drops or rebuilds frees space.
            let fixed: Vec<&Finding> = all.iter().copied().filter(|f| f.fix.is_some()).collect();
            let bytes = sum_evidence(&fixed, &["wasted_bytes", "size_bytes"]);
            if bytes >= 1.0 {
                format!(" (about {} freed)", units::bytes(bytes))
            } else {
                String::new()
            }
        }
        "stored" => {
            let bytes = sum_evidence(all, &["toast_bytes"]);
            if bytes >= 1.0 {
                format!(" (about {} stored today)", units::bytes(bytes))
            } else {
                String::new()
            }
        }
        other => format!("{{{other}}}"),
    }
}

/// " in `tenant_07`" when every object is in that one database (said only when the report
/// covers several); the phrase for several databases is [`objects_phrase`]'s.
fn single_database(objects: &[ObjectRef], ends_sentence: bool) -> String {
    let mut dbs: Vec<&str> = objects
        .iter()
        .filter_map(|o| o.database.as_deref())
        .collect();
    dbs.dedup();
    match dbs.as_slice() {
        [one] if objects.iter().all(|o| o.database.is_some()) => {
            if ends_sentence {
                format!(" in `{one}`")
            } else {
                format!(" (in `{one}`)")
            }
        }
        _ => String::new(),
    }
}

/// The objects of `findings`, each once, in order.
fn distinct(findings: &[&Finding]) -> Vec<ObjectRef> {
    let mut objects: Vec<ObjectRef> = Vec::new();
    for f in findings {
        if !objects.contains(&f.object) {
            objects.push(f.object.clone());
        }
    }
    objects
}

/// "`a.t`", "`a.t` and `b.u`", "`a`, `b` and `c`", or "9 tables"; objects in several
/// databases of the cluster: "`public.bus_bus` in 27 databases", "40 tables in 27
/// databases".
fn objects_phrase(
    objects: &[ObjectRef],
    nouns: Option<(&str, &str)>,
    ends_sentence: bool,
) -> String {
    if objects.is_empty() {
        return String::new();
    }
    let databases = {
        let mut d: Vec<&str> = objects
            .iter()
            .filter_map(|o| o.database.as_deref())
            .collect();
        d.sort_unstable();
        d.dedup();
        d.len()
    };
    if databases > 1 && objects.iter().all(|o| o.database.is_some()) {
        // The same names in each database: name them once.
        let mut names: Vec<ObjectRef> = Vec::new();
        for o in objects {
            let bare = ObjectRef {
                database: None,
                ..o.clone()
            };
            if !names.contains(&bare) {
                names.push(bare);
            }
        }
        let what = if names.len() < objects.len() && names.len() <= NAMED_OBJECTS {
            objects_phrase(&names, nouns, ends_sentence)
        } else {
            count_phrase(objects, nouns)
        };
        return if ends_sentence {
            format!("{what} in {databases} databases")
        } else {
            format!("{what} (in {databases} databases)")
        };
    }
    if objects.len() <= NAMED_OBJECTS {
        let names: Vec<String> = objects
            .iter()
            .map(|o| format!("`{}`", o.display_name()))
            .collect();
        return match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, init)) => format!("{} and {last}", init.join(", ")),
            None => String::new(),
        };
    }
    count_phrase(objects, nouns)
}

/// "9 tables" (or the theme's own nouns).
fn count_phrase(objects: &[ObjectRef], nouns: Option<(&str, &str)>) -> String {
    let (singular, plural) = nouns.unwrap_or_else(|| {
        let first = objects.first().map_or(ObjectKind::Table, |o| o.kind);
        if objects.iter().all(|o| o.kind == first) {
            kind_nouns(first)
        } else {
            ("object", "objects")
        }
    });
    units::counted(objects.len(), singular, plural)
}

fn kind_nouns(kind: ObjectKind) -> (&'static str, &'static str) {
    match kind {
        ObjectKind::Server => ("server", "servers"),
        ObjectKind::Database => ("database", "databases"),
        ObjectKind::Setting => ("setting", "settings"),
        ObjectKind::Table => ("table", "tables"),
        ObjectKind::Index => ("index", "indexes"),
        ObjectKind::Column => ("column", "columns"),
        ObjectKind::Sequence => ("sequence", "sequences"),
        ObjectKind::Constraint => ("constraint", "constraints"),
        ObjectKind::Session => ("session", "sessions"),
        ObjectKind::Query => ("statement", "statements"),
        ObjectKind::Role => ("role", "roles"),
    }
}

/// The sum over distinct objects of the first of `keys` each finding's evidence has.
fn sum_evidence(findings: &[&Finding], keys: &[&str]) -> f64 {
    let mut seen: Vec<&ObjectRef> = Vec::new();
    let mut total = 0.0;
    for f in findings {
        let Some(value) = keys
            .iter()
            .find_map(|k| f.evidence.get(*k).and_then(serde_json::Value::as_f64))
        else {
            continue;
        };
        if seen.contains(&&f.object) {
            continue;
        }
        seen.push(&f.object);
        total += value;
    }
    total
}
