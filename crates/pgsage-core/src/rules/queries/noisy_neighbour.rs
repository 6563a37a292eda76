use crate::report::{ObjectKind, ObjectRef};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::units;
use crate::workload::profile::LoadShare;

use super::{round1, source_label};

declare_rule! {
    /// ## What it detects
    /// A noisy neighbour: on a server shared by at least `min_tenants` databases (or
    /// users) with load, one of them takes at least `min_share_pct` of the execution time,
    /// when the capture holds at least `min_total_ms` of execution time in all. Databases
    /// and users are judged separately (a tenant is a database in database-per-tenant
    /// setups, a role in role-per-tenant ones).
    ///
    /// ## Why it matters
    /// Tenants share CPUs, the buffer cache, I/O and connections: one tenant's batch job
    /// or runaway report makes every other tenant slow, and their users see it as "the
    /// database is slow". Knowing who takes the load is the first step to a fair share.
    ///
    /// ## How to fix
    /// Look at the tenant's top queries (`pgsage workload`, filtered to its database) and
    /// tune them; limit it with a connection limit (`ALTER DATABASE … CONNECTION LIMIT`),
    /// its own pool size in the pooler, `statement_timeout` for its role, or move it to
    /// its own server or a replica for its reporting.
    ///
    /// ## Thresholds
    /// - `min_share_pct` (default 60): share of the execution time, in %.
    /// - `min_tenants` (default 3): named databases (or users) with load needed to speak of
    ///   neighbours.
    /// - `min_total_ms` (default 60000): execution time of the whole capture, in ms.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/pgstatstatements.html>
    /// - <https://www.postgresql.org/docs/current/sql-alterdatabase.html>
    pub struct NoisyNeighbour {
        id: "QRY007",
        name: "noisy-neighbour",
        pack: "queries",
        title: "One tenant takes a disproportionate share of the load",
        params: {
            min_share_pct: f64 = ("%", "Share of the execution time"),
            min_tenants: f64 = ("tenants", "Named databases (or users) with load needed to judge"),
            min_total_ms: f64 = ("ms", "Execution time of the whole capture"),
        },
    }
}

/// The tenant taking at least `min_share` % among at least `min_tenants` named ones.
fn noisy(shares: &[LoadShare], min_share: f64, min_tenants: f64) -> Option<&LoadShare> {
    let named: Vec<&LoadShare> = shares
        .iter()
        .filter(|s| s.name != "?" && s.name != "…" && s.calls > 0)
        .collect();
    if (named.len() as f64) < min_tenants {
        return None;
    }
    named.into_iter().find(|s| s.time_pct >= min_share)
}

impl WorkloadRule for NoisyNeighbour {
    fn meta(&self) -> &'static crate::rules::RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip> {
        let w = ctx.workload;
        let p: Params = ctx.params()?;
        let min_share = p.min_share_pct;
        let min_tenants = p.min_tenants;
        let min_total = p.min_total_ms;
        let total: f64 = w.profile.databases.iter().map(|s| s.total_ms).sum();
        if total < min_total {
            return Ok(vec![]);
        }
        let mut out = Vec::new();
        for (label, shares, kind) in [
            ("database", &w.profile.databases, ObjectKind::Database),
            ("user", &w.profile.users, ObjectKind::Role),
        ] {
            let Some(s) = noisy(shares, min_share, min_tenants) else {
                continue;
            };
            let others = shares.iter().filter(|o| o.name != s.name).count();
            let next = shares.iter().find(|o| o.name != s.name);
            let mut d = Draft::new(
                ObjectRef::named(kind, &s.name),
                format!(
                    "{label} `{}` takes {} of the execution time ({} in {} calls) among {} {label}s with load",
                    s.name,
                    units::percent(s.time_pct),
                    units::millis(s.total_ms),
                    units::count(s.calls),
                    units::count(others + 1)
                ),
            )
            .evidence("time_share_pct", round1(s.time_pct))
            .evidence("calls_share_pct", round1(s.calls_pct))
            .evidence("total_time_ms", round1(s.total_ms))
            .evidence("tenants", others + 1)
            .evidence("source", source_label(w));
            if let Some(n) = next {
                d = d.evidence("next_share_pct", round1(n.time_pct));
            }
            if let Some(secs) = w.source.window_seconds {
                d = d.evidence("window_s", secs.round());
            }
            out.push(d.recommend(format!(
                "Tune this {label}'s top queries (pgsage workload), and cap it so others keep their share: its own pool size in the pooler, a connection limit, statement_timeout for its role, or move its reporting to a replica or the tenant to its own server"
            )));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_the_busy_tenant() {
        assert_fires("QRY007", "tenant_b");
    }

    #[test]
    fn quiet_on_balanced_tenants() {
        assert_quiet("QRY007");
    }
}
