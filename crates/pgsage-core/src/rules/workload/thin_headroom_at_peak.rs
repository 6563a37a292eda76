use crate::host::MissingFact;
use crate::questions::capacity::capacity_at_peak;
use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::units;

use super::round1;

declare_rule! {
    /// ## What it detects
    /// Little headroom at the busiest window (the most execution time): the sessions busy
    /// with queries there — statement time in the window divided by its length — are at
    /// least `max_busy_pct` of the host's cores ("at the peak, 3.1 of 4 cores are busy
    /// with queries"). Needs the host's cores (`--cpus`, `--tier`, the snapshot's host
    /// facts) and time windows (server logs, or pg_stat_statements sampled over an
    /// interval during the peak).
    ///
    /// Time in statements includes I/O and lock waits, so the figure counts sessions busy
    /// with queries, an upper bound of the cores they use: a high figure with low CPU use
    /// points at I/O or locks, which the other packs name.
    ///
    /// ## Why it matters
    /// When the busy sessions approach the cores, every new request waits for a core:
    /// response times climb steeply, not linearly, and the busiest season (month end,
    /// the sales peak) pushes the server past its capacity.
    ///
    /// ## How to fix
    /// - ERP side: move reports and batch work out of the peak (WRK001, WRK003), cache hot
    ///   reads (WRK002), cap the ERP's workers and their connection pools (Odoo: `workers`,
    ///   `db_maxconn`) so the database is not asked for more than its cores give.
    /// - Database side: tune the statements that take the most time (QRY001, the index
    ///   advisor), put a pooler in front with a pool sized to the cores, or give the
    ///   server more cores before the busiest season.
    ///
    /// ## Thresholds
    /// - `max_busy_pct` (default 70): sessions busy with queries as a share of the cores,
    ///   in %.
    ///
    /// ## References
    /// - <https://wiki.postgresql.org/wiki/Number_Of_Database_Connections>
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html>
    pub struct ThinHeadroomAtPeak {
        id: "WRK004",
        name: "thin-headroom-at-peak",
        pack: "workload",
        title: "Little headroom at the peak: sessions busy with queries approach the cores",
        params: {
            max_busy_pct: f64 = ("%", "Sessions busy with queries as a share of the cores"),
        },
    }
}

impl WorkloadRule for ThinHeadroomAtPeak {
    fn meta(&self) -> &'static crate::rules::RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        if ctx.facts.cpus.is_none() {
            return Err(Skip::missing(MissingFact::Cpus));
        }
        let c = capacity_at_peak(ctx.workload, ctx.facts).map_err(Skip)?;
        let (Some(cpus), Some(pct)) = (c.cpus, c.busy_pct) else {
            return Err(Skip::missing(MissingFact::Cpus));
        };
        if pct < p.max_busy_pct {
            return Ok(Vec::new());
        }
        let mut d = Draft::new(
            ObjectRef::server(),
            format!(
                "At the busiest window ({}), {} of {} cores are busy with queries ({}): little headroom before the busiest season",
                c.peak.label(),
                units::number(c.busy_sessions),
                units::number(cpus),
                units::percent(pct)
            ),
        )
        .evidence("peak_window", c.peak.label())
        .evidence("busy_sessions", round1(c.busy_sessions))
        .evidence("cpus", cpus)
        .evidence("busy_pct_of_cores", round1(pct))
        .evidence("source", super::super::queries::source_label(ctx.workload));
        if let Some(src) = &c.cpus_source {
            d = d.evidence("cpus_source", src.as_str());
        }
        if let Some(s) = c.peak.seconds {
            d = d.evidence("window_s", s.round());
        }
        if let Some(avg) = c.average_busy_sessions {
            d = d.evidence("average_busy_sessions", round1(avg));
        }
        if let (Some(n), Some(max)) = (c.connections, c.max_connections) {
            d = d
                .evidence("connections", n)
                .evidence("max_connections", max);
        }
        Ok(vec![d.recommend(
            "Make room before the busiest season: move reports and batch work out of the peak (WRK001, WRK003), cache hot reads (WRK002), cap the ERP's workers and pools (Odoo: workers, db_maxconn) to what the cores serve; on the database, tune the statements that take the most time (QRY001, pgsage indexes), put a pooler sized to the cores in front, or add cores",
        )])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet, case_findings};

    #[test]
    fn fires_when_the_one_core_is_busy_with_queries() {
        let found = assert_fires("WRK004", "server");
        assert!(
            found.iter().all(|f| f.message.contains("of 1 cores")),
            "{found:#?}"
        );
    }

    #[test]
    fn quiet_with_cores_to_spare() {
        assert_quiet("WRK004");
        assert!(case_findings("workload", "reports-elsewhere", "WRK004").is_empty());
    }
}
