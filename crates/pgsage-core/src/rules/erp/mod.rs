//! The `erp` pack: Odoo's own PostgreSQL problems, named in Odoo's terms with the fix on
//! both sides (the application's setting or job, and the database's statement).
//!
//! The pack runs on a database recognised as Odoo's
//! ([`crate::knowledge::odoo::recognise`]); on any other database every rule is skipped
//! with the reason. What the collector read of the application is in
//! [`crate::snapshot::ErpFacts`]; what pgsage knows of Odoo in [`crate::knowledge::odoo`].

mod attachments_in_database;
mod common;
mod odoo_connection_pools;
mod polymorphic_reference_index;
mod queue_backlog;
mod queue_table_autovacuum;

pub use attachments_in_database::AttachmentsInDatabase;
pub use odoo_connection_pools::OdooConnectionPools;
pub use polymorphic_reference_index::PolymorphicReferenceIndex;
pub use queue_backlog::QueueBacklogRule;
pub use queue_table_autovacuum::QueueTableAutovacuum;

/// This pack's rules.
pub(crate) static RULES: &[super::Rule] = &[
    super::Rule::Snapshot(&AttachmentsInDatabase),
    super::Rule::Snapshot(&QueueBacklogRule),
    super::Rule::Snapshot(&PolymorphicReferenceIndex),
    super::Rule::Snapshot(&OdooConnectionPools),
    super::Rule::Snapshot(&QueueTableAutovacuum),
];
