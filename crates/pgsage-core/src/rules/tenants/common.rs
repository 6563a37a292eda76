//! What the tenant rules share: which clusters have tenants to compare, and when a share
//! is disproportionate.

use crate::knowledge::tenants::Tenants;
use crate::report::{ObjectKind, ObjectRef};

/// The cluster's tenants, or none when there are too few to speak of neighbours: a
/// cluster of one or two databases is not shared by tenants, which is no missing fact to
/// report as a skip.
pub(super) fn tenants(snapshot: &crate::Snapshot, min_tenants: f64) -> Option<Tenants> {
    let t = Tenants::of(snapshot);
    ((t.count() as f64) >= min_tenants).then_some(t)
}

/// A share is disproportionate when it is at least `min_share_pct` and at least
/// `fair_multiple` times the share every tenant would have if the load were even.
pub(super) fn disproportionate(
    share_pct: Option<f64>,
    fair_share_pct: f64,
    min_share_pct: f64,
    fair_multiple: f64,
) -> bool {
    share_pct.is_some_and(|s| s >= min_share_pct && s >= fair_multiple * fair_share_pct)
}

/// A tenant database as a finding's object (its `database` set, as every per-database
/// finding's is).
pub(super) fn database_object(name: &str) -> ObjectRef {
    ObjectRef {
        database: Some(name.to_owned()),
        ..ObjectRef::named(ObjectKind::Database, name)
    }
}

/// One decimal, for evidence.
pub(super) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_must_be_large_and_above_its_fair_share() {
        // Four tenants: fair share 25 %.
        assert!(disproportionate(Some(60.0), 25.0, 50.0, 2.0));
        assert!(!disproportionate(Some(45.0), 25.0, 50.0, 2.0));
        // Two tenants: 60 % is not twice the fair 50 %.
        assert!(!disproportionate(Some(60.0), 50.0, 50.0, 2.0));
        assert!(!disproportionate(None, 25.0, 50.0, 2.0));
    }
}
