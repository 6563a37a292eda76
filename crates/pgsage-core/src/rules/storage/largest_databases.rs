use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::DatabaseStats;
use crate::units;

declare_rule! {
    /// ## What it detects
    /// The largest databases of the cluster, at most `top_n` of them and only those of at
    /// least `min_database_bytes`, with their share of the cluster (templates excluded).
    /// Informational: a small cluster produces nothing.
    ///
    /// ## Why it matters
    /// Database size drives backup, restore and replica build times and the disk the
    /// cluster needs. On clusters hosting several ERP databases (one per company, tests
    /// and copies of production), forgotten copies often take as much space as the real one.
    ///
    /// ## How to fix
    /// Nothing is wrong as such. Drop databases nobody uses any more (old copies, finished
    /// tests) after a last backup, and look at the largest tables of each large database
    /// (`pgsage` rule STO002 run against it).
    ///
    /// ## Thresholds
    /// - `min_database_bytes` (default 53687091200, 50 GB): ignore smaller databases.
    /// - `top_n` (default 3): report at most this many databases.
    ///
    /// Databases whose size the role cannot read (no `CONNECT` privilege, no
    /// `pg_read_all_stats`) are not counted: the findings then have low confidence, and
    /// with none the rule is skipped with the reason, since a hidden database may be the
    /// largest.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-DBSIZE>
    /// - <https://www.postgresql.org/docs/current/manage-ag-dropdb.html>
    pub struct LargestDatabases {
        id: "STO003",
        name: "largest-databases",
        pack: "storage",
        title: "Largest databases",
        params: {
            min_database_bytes: f64 = ("bytes", "Ignore databases smaller than this"),
            top_n: f64 = ("entries", "Report at most this many databases"),
        },
    }
}

/// Non-template databases of at least `min_bytes`, largest first, at most `top_n`.
fn largest(dbs: &[DatabaseStats], min_bytes: f64, top_n: usize) -> Vec<(&DatabaseStats, i64)> {
    let mut big: Vec<(&DatabaseStats, i64)> = dbs
        .iter()
        .filter(|d| !d.is_template)
        .filter_map(|d| d.size_bytes.map(|s| (d, s)))
        .filter(|(_, s)| *s as f64 >= min_bytes)
        .collect();
    big.sort_by_key(|(_, s)| std::cmp::Reverse(*s));
    big.truncate(top_n);
    big
}

impl SnapshotRule for LargestDatabases {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_bytes = p.min_database_bytes;
        let top_n = p.top_n.max(0.0) as usize;
        let dbs = &ctx.snapshot.databases;
        let cluster: i64 = dbs.iter().filter_map(|d| d.size_bytes).sum();
        let visible = dbs.iter().filter(|d| d.size_bytes.is_some()).count();
        // Databases the role may not CONNECT to (without pg_read_all_stats): their size is
        // unknown, and any of them may be larger than those listed.
        let hidden: Vec<&str> = dbs
            .iter()
            .filter(|d| !d.is_template && d.size_bytes.is_none())
            .map(|d| d.name.as_str())
            .collect();
        let hidden_reason = || {
            format!(
                "the size of {} database(s) ({}) is hidden from the collecting role (no CONNECT privilege on them, no pg_read_all_stats): they may be larger",
                units::count(hidden.len()),
                hidden.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            )
        };
        let mut drafts = Vec::new();
        for (rank, (d, size)) in largest(dbs, min_bytes, top_n).into_iter().enumerate() {
            let share = 100.0 * size as f64 / cluster.max(1) as f64;
            drafts.push(
                Draft::new(
                    ObjectRef::database(&d.name),
                    format!(
                        "Database `{}` takes {}, {} of the {} used by the cluster's {} database{} whose size is visible",
                        d.name,
                        units::bytes(size),
                        units::percent(share),
                        units::bytes(cluster),
                        units::count(visible),
                        if visible == 1 { "" } else { "s" }
                    ),
                )
                .evidence("rank", rank + 1)
                .evidence("size_bytes", size)
                .evidence("cluster_bytes", cluster)
                .evidence("share_of_cluster_pct", (share * 10.0).round() / 10.0)
                .evidence("numbackends", d.numbackends)
                .recommend(
                    "Check that it is still needed (old copies and test databases are often forgotten) and what its largest tables are; drop unused databases after a last backup",
                ),
            );
        }
        if !hidden.is_empty() {
            if drafts.is_empty() {
                return Err(Skip::because(hidden_reason()));
            }
            drafts = drafts
                .into_iter()
                .map(|d| {
                    d.evidence("databases_size_hidden", hidden.len())
                        .low_confidence(hidden_reason())
                })
                .collect();
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_large_database() {
        assert_fires("STO003", "scenario");
    }

    #[test]
    fn low_confidence_when_a_database_size_is_hidden() {
        use pgsage_testkit::scenario::{fixture_path, Scenario};
        // Collected by a role that may not connect to `postgres`: its size is unknown.
        let scenario = Scenario::load("privileges").expect("privileges scenario");
        let mut config = crate::RuleConfig::shipped().expect("shipped packs");
        config
            .apply_toml(&scenario.config, "scenario privileges")
            .expect("scenario config");
        for (case, low) in [("unprivileged", true), ("pg-monitor-only", false)] {
            let snapshot = crate::Snapshot::load(fixture_path("privileges", case))
                .expect("capture the fixtures with scripts/capture-fixtures.sh");
            let findings: Vec<_> = crate::audit(&snapshot, &config)
                .findings
                .into_iter()
                .filter(|f| f.rule == "STO003")
                .collect();
            assert_eq!(findings.len(), 1, "{case}: {findings:#?}");
            assert_eq!(
                findings[0].confidence == crate::report::Confidence::Low,
                low,
                "{case}: {:#?}",
                findings[0]
            );
        }
    }

    #[test]
    fn quiet_on_a_small_cluster() {
        assert_quiet("STO003");
    }
}
