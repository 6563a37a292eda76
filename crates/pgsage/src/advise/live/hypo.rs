//! Hypothetical indexes with HypoPG: `hypopg_create_index` (session-local: the index
//! exists only in this backend's memory, the catalogs are not touched, nothing is
//! written, and it works inside a READ ONLY transaction), `hypopg_relation_size` (the
//! estimated size) and `hypopg_reset` (drops them all).
//!
//! HypoPG's indexes are not transactional: a `ROLLBACK` keeps them. They are removed
//! with `hypopg_reset()` between evaluations and at the end, and disappear anyway when
//! the connection closes.

use super::session::{hypopg_function, AdvisorSession, Failure};
use crate::advise::candidates::Candidate;
use crate::sql::qualified;

/// A hypothetical index that exists in the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HypoIndex {
    /// Its (fake) oid; plans name it `<oid>btree_…`.
    pub oid: u32,
    /// Its name in plans.
    pub name: String,
    /// `hypopg_relation_size`, bytes.
    pub size_bytes: i64,
}

/// The `CREATE INDEX` HypoPG is given for `c`: no `CONCURRENTLY` (HypoPG does not build
/// anything), no name (HypoPG makes one up).
pub(super) fn hypo_ddl(c: &Candidate) -> String {
    // HypoPG takes a partitioned table's index as one statement.
    format!(
        "CREATE INDEX ON {} {}",
        qualified(&c.schema, &c.table),
        c.index_body()
    )
}

/// HypoPG's functions in the schema the extension was installed in.
pub(super) struct Hypo {
    schema: String,
}

impl Hypo {
    /// HypoPG installed in `schema`.
    pub fn new(schema: &str) -> Self {
        Hypo {
            schema: schema.to_owned(),
        }
    }

    /// Creates the hypothetical index `ddl` and reads its size.
    pub async fn create(&self, session: &AdvisorSession, ddl: &str) -> Result<HypoIndex, Failure> {
        let sql = format!(
            "SELECT h.indexrelid::int8, h.indexname::text, {}(h.indexrelid)::int8 FROM {}($1) h",
            hypopg_function(&self.schema, "hypopg_relation_size"),
            hypopg_function(&self.schema, "hypopg_create_index"),
        );
        let rows = session.query("hypopg_create_index", &sql, &[&ddl]).await?;
        let row = rows.first().ok_or_else(|| Failure::Statement {
            message: format!("HypoPG created no index for `{ddl}`"),
            error: Box::new(crate::Error::invalid_value(
                "hypothetical index",
                format!("HypoPG created no index for `{ddl}`"),
            )),
        })?;
        let oid: i64 = row.get(0);
        Ok(HypoIndex {
            oid: u32::try_from(oid).unwrap_or(0),
            name: row.get(1),
            size_bytes: row.get(2),
        })
    }

    /// Drops every hypothetical index of the session.
    pub async fn reset(&self, session: &AdvisorSession) -> Result<(), Failure> {
        let sql = format!("SELECT {}()", hypopg_function(&self.schema, "hypopg_reset"));
        session.query("hypopg_reset", &sql, &[]).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate() -> Candidate {
        Candidate {
            table_oid: 1,
            schema: "public".into(),
            table: "stock_move".into(),
            columns: vec!["product_id".into(), "Date".into()],
            include: vec!["qty".into()],
            predicate: Some("state = 'draft'".into()),
            queries: vec![],
            weight_ms: 0.0,
            estimated_size_bytes: 0,
            redundant_indexes: vec![],
            write_overhead: None,
            partitioning: Default::default(),
        }
    }

    #[test]
    fn ddl_has_no_concurrently_and_quotes_names() {
        assert_eq!(
            hypo_ddl(&candidate()),
            "CREATE INDEX ON public.stock_move (product_id, \"Date\") INCLUDE (qty) WHERE state = 'draft'"
        );
    }

    #[test]
    fn ddl_keeps_descending_keys_like_the_real_statement() {
        let mut c = candidate();
        c.columns = vec!["company_id".into(), "date DESC".into()];
        assert_eq!(
            hypo_ddl(&c),
            "CREATE INDEX ON public.stock_move (company_id, date DESC) INCLUDE (qty) WHERE state = 'draft'"
        );
        assert!(c
            .create_statement()
            .contains("(company_id, date DESC) INCLUDE (qty)"));
    }
}
