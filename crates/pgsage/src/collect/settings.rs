//! `pg_settings`.

use tokio_postgres::{Error as PgError, Row};

use crate::snapshot::Setting;

pub(super) const SQL: &str = "\
SELECT name::text, setting::text, unit::text, vartype::text, source::text, context::text,
       boot_val::text, reset_val::text, pending_restart
FROM pg_catalog.pg_settings
ORDER BY name";

pub(super) fn decode(rows: &[Row]) -> Result<Vec<Setting>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(Setting {
                name: r.try_get("name")?,
                setting: r
                    .try_get::<_, Option<String>>("setting")?
                    .unwrap_or_default(),
                unit: r.try_get("unit")?,
                vartype: r.try_get("vartype")?,
                source: r.try_get("source")?,
                context: r.try_get("context")?,
                boot_val: r.try_get("boot_val")?,
                reset_val: r.try_get("reset_val")?,
                pending_restart: r.try_get("pending_restart")?,
            })
        })
        .collect()
}
