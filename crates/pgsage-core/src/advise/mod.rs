//! The index advisor: from a workload's statements and a schema, the indexes worth
//! creating — validated with HypoPG on a live server when the extension is installed,
//! ranked by statement time and statistics otherwise.
//!
//! The flow:
//! 1. [`candidates::generate`] parses each statement (sqlparser, PostgreSQL dialect),
//!    resolves its tables and columns against the snapshot's catalog, and extracts per
//!    table the equality/range/join/ORDER BY/GROUP BY columns, weighted by the statement's
//!    total time; it builds candidate indexes (equality columns before range columns,
//!    INCLUDE for index-only scans, partial indexes for constant predicates), drops those
//!    an existing index already serves (left prefix) and ranks the rest.
//! 2. [`advise`] chooses a set from the ranking without a server (unvalidated); the
//!    `pgsage` crate's `advise::live::advise_live` measures each candidate's effect on
//!    the statements' planner cost with hypothetical indexes and chooses greedily by
//!    benefit per byte under the budget.
//! 3. The `pgsage` crate's `advise::request::run` is the front ends' entry point (CLI
//!    `pgsage indexes`, Python `pgsage.advise_indexes`): it gathers the schema and the
//!    workload from a server, a snapshot, a `workload.json` or server logs, and calls the
//!    above.

pub mod candidates;
mod frame;
pub mod model;
pub mod options;
pub mod render;
mod unvalidated;

pub use candidates::{generate, Candidate, Candidates};
pub use frame::{recommendations_frame, RecommendationRow};
pub use model::*;
pub use options::AdvisorOptions;
pub use unvalidated::advise;
