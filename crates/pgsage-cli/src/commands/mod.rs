//! The subcommands, one module each holding its arguments and its `run`. Only `main`'s
//! dispatch uses them; what they share lives in `shared_args` and `output`.

pub mod audit;
pub mod fleet;
pub mod indexes;
pub mod plan;
pub mod redact;
pub mod rules;
pub mod snapshot;
pub mod tune;
pub mod workload;
