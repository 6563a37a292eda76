//! The index advisor: everything of [`pgsage_core::advise`] (candidates, the unvalidated
//! choice, the advice's model and rendering), and the parts that need a server:
//! [`live::advise_live`] validates candidates with HypoPG, and [`request::run`] is the
//! front ends' entry point (CLI `pgsage indexes`, Python `pgsage.advise_indexes`), which
//! gathers the schema and the workload from a server, a snapshot, a `workload.json` or
//! server logs.

pub use pgsage_core::advise::*;

pub mod live;
pub mod request;
