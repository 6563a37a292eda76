//! EXPLAIN plans: everything of [`pgsage_core::plan`] (the typed tree, both parsers,
//! profiles and analysis), and [`analyze_live`], which runs EXPLAIN on a server.

pub use pgsage_core::plan::*;

pub mod analyze_live;
