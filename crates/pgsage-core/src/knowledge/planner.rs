//! Planner statistics per profile.
//!
//! Reference: <https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-DEFAULT-STATISTICS-TARGET>.

use super::Profile;

/// `default_statistics_target`: 500 for `dw` (finer statistics for large analytical
/// queries), else PostgreSQL's default 100.
pub fn default_statistics_target(profile: Profile) -> i64 {
    if profile == Profile::Dw {
        500
    } else {
        100
    }
}
