//! The findings table as one Parquet file (`DIR/findings.parquet`), written with the
//! `parquet` crate's low-level column writer (no arrow): one row group, snappy pages.
//!
//! Types readers see: timestamps as `TIMESTAMP(MICROS, UTC)`; `tags` as a
//! `MAP<STRING, STRING>` (DuckDB: `tags['env']`); `evidence` as a `JSON` string; optional
//! columns (`database`, `object_schema`, `action_id`) as nulls where the finding has none.

use std::io::Write;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use super::findings::{kind_name, FindingRow};

/// The file's schema, in column order. Readers get these names and types.
pub const SCHEMA: &str = "
message finding {
  required int64 run_at (TIMESTAMP(MICROS,true));
  required binary server (UTF8);
  required int64 collected_at (TIMESTAMP(MICROS,true));
  optional binary database (UTF8);
  required group tags (MAP) {
    repeated group key_value {
      required binary key (UTF8);
      required binary value (UTF8);
    }
  }
  required binary rule (UTF8);
  required binary pack (UTF8);
  required binary severity (UTF8);
  required binary title (UTF8);
  required binary object_kind (UTF8);
  optional binary object_schema (UTF8);
  required binary object_name (UTF8);
  required binary message (UTF8);
  required binary evidence (JSON);
  optional binary action_id (UTF8);
}
";

/// What one column holds for the rows: values plus, for optional and repeated columns,
/// their definition and repetition levels.
enum Column {
    Int64(Vec<i64>),
    Bytes(Vec<ByteArray>),
    Optional(Vec<ByteArray>, Vec<i16>),
    Repeated(Vec<ByteArray>, Vec<i16>, Vec<i16>),
}

fn required(rows: &[FindingRow], f: impl Fn(&FindingRow) -> String) -> Column {
    Column::Bytes(
        rows.iter()
            .map(|r| ByteArray::from(f(r).as_str()))
            .collect(),
    )
}

fn optional(rows: &[FindingRow], f: impl Fn(&FindingRow) -> Option<&str>) -> Column {
    let mut values = Vec::new();
    let mut def = Vec::with_capacity(rows.len());
    for r in rows {
        match f(r) {
            Some(v) => {
                values.push(ByteArray::from(v));
                def.push(1);
            }
            None => def.push(0),
        }
    }
    Column::Optional(values, def)
}

/// A leaf of the `tags` map: one entry per tag; an empty map is one level entry at
/// definition level 0 (the map is there, its repeated group is not).
fn tag_leaf(rows: &[FindingRow], key: bool) -> Column {
    let (mut values, mut def, mut rep) = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        if r.tags.is_empty() {
            def.push(0);
            rep.push(0);
        }
        for (i, (k, v)) in r.tags.iter().enumerate() {
            values.push(ByteArray::from(if key { k.as_str() } else { v.as_str() }));
            def.push(1);
            rep.push(if i == 0 { 0 } else { 1 });
        }
    }
    Column::Repeated(values, def, rep)
}

fn micros(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_micros()
}

/// The columns in [`SCHEMA`]'s leaf order.
fn columns(rows: &[FindingRow]) -> Vec<Column> {
    vec![
        Column::Int64(rows.iter().map(|r| micros(r.run_at)).collect()),
        required(rows, |r| r.server.clone()),
        Column::Int64(rows.iter().map(|r| micros(r.collected_at)).collect()),
        optional(rows, |r| r.database.as_deref()),
        tag_leaf(rows, true),
        tag_leaf(rows, false),
        required(rows, |r| r.rule.clone()),
        required(rows, |r| r.pack.clone()),
        required(rows, |r| r.severity.as_str().to_owned()),
        required(rows, |r| r.title.clone()),
        required(rows, |r| kind_name(r.object_kind)),
        optional(rows, |r| r.object_schema.as_deref()),
        required(rows, |r| r.object_name.clone()),
        required(rows, |r| r.message.clone()),
        // A map of JSON values with string keys: serializing cannot fail.
        required(rows, |r| {
            serde_json::to_string(&r.evidence).unwrap_or_else(|_| "{}".to_owned())
        }),
        optional(rows, |r| r.action_id.as_deref()),
    ]
}

/// Writes the rows as a Parquet file into `out` (an empty table is a valid file with
/// the schema and no rows).
pub fn write_parquet<W: Write + Send>(rows: &[FindingRow], out: W) -> std::io::Result<()> {
    write(rows, out).map_err(std::io::Error::other)
}

fn write<W: Write + Send>(rows: &[FindingRow], out: W) -> parquet::errors::Result<()> {
    let schema = Arc::new(parse_message_type(SCHEMA)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("pgsage {}", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let mut writer = SerializedFileWriter::new(out, schema, props)?;
    let mut group = writer.next_row_group()?;
    let mut data = columns(rows).into_iter();
    while let Some(mut column) = group.next_column()? {
        let Some(values) = data.next() else {
            return Err(parquet::errors::ParquetError::General(
                "the schema has more columns than the writer fills".into(),
            ));
        };
        match values {
            Column::Int64(v) => {
                column.typed::<Int64Type>().write_batch(&v, None, None)?;
            }
            Column::Bytes(v) => {
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&v, None, None)?;
            }
            Column::Optional(v, def) => {
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&v, Some(&def), None)?;
            }
            Column::Repeated(v, def, rep) => {
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&v, Some(&def), Some(&rep))?;
            }
        }
        column.close()?;
    }
    group.close()?;
    writer.close()?;
    Ok(())
}
