use crate::knowledge::tenants::figure;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

use super::common::{database_object, disproportionate, round1};

declare_rule! {
    /// ## What it detects
    /// A tenant database whose size or growth crowds the others: on a cluster holding at
    /// least `min_tenants` tenant databases, its share of the tenants' total size is at
    /// least `min_share_pct` and `fair_share_multiple` times the even share, and it holds
    /// at least `min_size_bytes`; or, over a sampled window (`pgsage audit --interval`, or
    /// two snapshots compared), its share of the tenants' growth is disproportionate in the
    /// same way and it grew at least `min_growth_bytes`.
    ///
    /// ## Why it matters
    /// The tenants share one disk, one WAL stream, one backup and one replica. A tenant
    /// that holds most of the data sets the backup and restore time, the replica rebuild
    /// time and the disk size for everyone, and one that grows fast fills the disk that
    /// the others need. Both are the usual reasons to give a customer a server of its own.
    ///
    /// ## How to fix
    /// Look at what grows (`pgsage audit` on its database: the largest tables, bloat,
    /// attachments stored in the database); archive or purge old data; when its size is
    /// the customer's real data, move it to a dedicated server (a logical replica, then a
    /// switch-over) so the shared cluster's backups, restores and disk stay sized for the
    /// others. The finding gives its size, its share and its growth per unit of time.
    ///
    /// ## Thresholds
    /// - `min_share_pct` (default 50): share of the tenants' size or growth, in %.
    /// - `fair_share_multiple` (default 2): times the even share (100 % / tenants).
    /// - `min_tenants` (default 3): tenant databases needed to speak of neighbours.
    /// - `min_size_bytes` (default 10 GB): a smaller tenant crowds nobody.
    /// - `min_growth_bytes` (default 1 GB): growth over the window before it is judged.
    ///
    /// Rule STO003 lists the cluster's largest databases (50 GB and more) for information;
    /// this rule judges a tenant's size against its neighbours'.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-DBSIZE>
    /// - <https://www.postgresql.org/docs/current/logical-replication.html>
    pub struct TenantCrowdsStorage {
        id: "TEN002",
        name: "tenant-crowds-storage",
        pack: "tenants",
        title: "One tenant database's size or growth crowds the others",
        params: {
            min_share_pct: f64 = ("%", "Share of the tenants' size or growth that is disproportionate"),
            fair_share_multiple: f64 = ("×", "Times the even share (100% / tenants)"),
            min_tenants: f64 = ("databases", "Tenant databases needed to judge"),
            min_size_bytes: f64 = ("bytes", "Size below which a tenant crowds nobody"),
            min_growth_bytes: f64 = ("bytes", "Growth over the window before it is judged"),
        },
    }
}

impl SnapshotRule for TenantCrowdsStorage {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let Some(tenants) = super::common::tenants(ctx.snapshot, p.min_tenants) else {
            return Ok(vec![]);
        };
        if tenants.total(figure::size).is_none() {
            return Err(Skip::because(
                "no database sizes: the role may not read them (grant pg_read_all_stats or CONNECT)",
            ));
        }
        let fair = tenants.fair_share_pct();
        let window = ctx.stats_window();
        let per_day = |bytes: f64| window.per(bytes, 86_400.0);
        let mut drafts = Vec::new();
        for t in &tenants.databases {
            let size = figure::size(t).unwrap_or(0.0);
            let size_share = tenants.share(t, figure::size);
            let big = size >= p.min_size_bytes
                && disproportionate(size_share, fair, p.min_share_pct, p.fair_share_multiple);
            let growth = figure::growth(t).unwrap_or(0.0);
            let growth_share = tenants.share(t, figure::growth);
            let growing = t.growth_bytes.is_some()
                && growth >= p.min_growth_bytes
                && disproportionate(growth_share, fair, p.min_share_pct, p.fair_share_multiple);
            if !big && !growing {
                continue;
            }
            let mut parts = Vec::new();
            if big {
                parts.push(format!(
                    "holds {} of the tenants' data ({} of {})",
                    units::percent(size_share.unwrap_or(0.0)),
                    units::bytes(size),
                    units::bytes(tenants.total(figure::size).unwrap_or(0.0))
                ));
            }
            if growing {
                parts.push(format!(
                    "took {} of their growth {} ({}, about {} a day)",
                    units::percent(growth_share.unwrap_or(0.0)),
                    tenants.describe_database_window(),
                    units::bytes(growth),
                    units::bytes(per_day(growth))
                ));
            }
            let mut d = Draft::new(
                database_object(&t.name),
                format!(
                    "tenant database `{}` {}; {} tenant databases share the cluster (an even share is {})",
                    t.name,
                    parts.join(" and "),
                    units::count(tenants.count()),
                    units::percent(fair)
                ),
            )
            .evidence("tenants", tenants.count())
            .evidence("fair_share_pct", round1(fair))
            .evidence("size_bytes", size as i64);
            if let Some(s) = size_share {
                d = d.evidence("size_share_pct", round1(s));
            }
            if let Some(g) = t.growth_bytes {
                d = d
                    .evidence("growth_bytes", g)
                    .evidence("growth_bytes_per_day", per_day(g.max(0) as f64).round())
                    .evidence("window_s", tenants.database_basis.seconds().round());
            }
            if let Some(s) = growth_share.filter(|_| t.growth_bytes.is_some()) {
                d = d.evidence("growth_share_pct", round1(s));
            }
            drafts.push(d.recommend(
                "Find what grows in it (pgsage audit on its database: largest tables, bloat, files stored in the database); archive or purge old data; when the size is the customer's real data, move it to a dedicated server (logical replication, then a switch-over) so the shared cluster's backups, restores and disk stay sized for the others",
            ));
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_the_tenant_holding_most_data() {
        assert_fires("TEN002", "acme");
    }

    #[test]
    fn quiet_on_balanced_tenants() {
        assert_quiet("TEN002");
    }
}
