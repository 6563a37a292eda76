//! Installed extensions, read up front: `pg_stat_statements`' version and schema decide
//! how the statements section is queried.

use tokio_postgres::{Error as PgError, Row};

use crate::snapshot::Extension;

pub(super) const SQL: &str = "\
SELECT e.extname::text AS name, e.extversion::text AS version, n.nspname::text AS schema
FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
ORDER BY e.extname";

pub(super) fn decode(rows: &[Row]) -> Result<Vec<Extension>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(Extension {
                name: r.try_get("name")?,
                version: r.try_get("version")?,
                schema: r.try_get("schema")?,
            })
        })
        .collect()
}

/// An extension version as `(major, minor)`: `1.10` → `(1, 10)`, so `1.10 > 1.9`.
/// Unparsable parts count as 0.
pub(super) fn parse_version(v: &str) -> (u32, u32) {
    let mut parts = v.split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or(0)
    });
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// A schema-qualified, always-quoted relation name, safe to splice into SQL.
pub(super) fn quoted(schema: &str, name: &str) -> String {
    format!(
        "\"{}\".\"{}\"",
        schema.replace('"', "\"\""),
        name.replace('"', "\"\"")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(parse_version("1.8"), (1, 8));
        assert!(parse_version("1.10") > parse_version("1.9"));
        assert_eq!(parse_version("1.11"), (1, 11));
        assert_eq!(parse_version("2"), (2, 0));
        assert_eq!(parse_version("1.5beta"), (1, 5));
    }

    #[test]
    fn quotes_always() {
        assert_eq!(
            quoted("public", "pg_stat_statements"),
            "\"public\".\"pg_stat_statements\""
        );
        assert_eq!(quoted("we\"ird", "x"), "\"we\"\"ird\".\"x\"");
    }
}
