use crate::plan::PlanNode;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleMeta, Skip};

use super::context::{round, work_mem_text};
use super::{PlanContext, PlanRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// A sort, hash join or hashed aggregate that did not fit in `work_mem` and spilled
    /// to temporary files: `Sort Method: external merge/sort` (`Sort Space Type: Disk`,
    /// in the leader or a worker), a Hash with more than one batch, a HashAggregate with
    /// more than one batch or disk usage — when the spilling node (with the hash join it
    /// feeds) took at least `min_share_pct` of the plan's time and spilled at least
    /// `min_spill_kb`.
    ///
    /// ## Why it matters
    /// Spilling writes the data to temporary files and reads it back, often several
    /// times (merge passes, batches): a sort that takes 5 ms in memory takes 30 ms on
    /// disk, and under concurrency the temp I/O competes with everything else. The
    /// `pgsage audit` rule MEM003 sees spills server-wide; this one says which node of
    /// which query spilled, and how much memory would have kept it in memory.
    ///
    /// ## How to fix
    /// Give this query more memory, not the whole server: `SET LOCAL work_mem = '…'` in
    /// the transaction that runs it, or `ALTER ROLE reporting SET work_mem = '…'` for
    /// the role that runs such queries. The finding estimates the work_mem that would
    /// have avoided the spill, rounded up to a power of two:
    /// - sort: about twice the `Disk` space (rows take more room in memory than in the
    ///   temp file);
    /// - hash join: peak memory per batch × batches (hashes may use
    ///   `work_mem × hash_mem_multiplier`, 13+);
    /// - hashed aggregate: peak memory + disk usage.
    ///
    /// Raising the server-wide `work_mem` multiplies by connections × memory-hungry
    /// nodes per query: check `max_connections` first. Alternatively make the data
    /// smaller: sort fewer/narrower columns, filter before joining, or use an index that
    /// returns rows in order.
    ///
    /// ## Thresholds
    /// - `min_share_pct` (default 5): share of the plan's time taken by the
    ///   spilling node (and, for a Hash, the Hash Join reading its batches).
    /// - `min_spill_kb` (default 0): smallest spill worth reporting, in kB (disk space,
    ///   temp blocks written × 8).
    ///
    /// Needs EXPLAIN ANALYZE with timing.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-WORK-MEM>
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-HASH-MEM-MULTIPLIER>
    /// - <https://www.postgresql.org/docs/current/using-explain.html#USING-EXPLAIN-ANALYZE>
    pub struct SpillToDisk {
        id: "EXP003",
        name: "spill-to-disk",
        pack: "plans",
        title: "Sort or hash spilled to disk",
        params: {
            min_share_pct: f64 = ("%", "Smallest share of the plan's time taken by the spilling node"),
            min_spill_kb: f64 = ("kB", "Smallest spill worth reporting"),
        },
    }
}

/// What spilled, how much (kB) and the memory that would have kept it in memory (kB).
struct Spill {
    what: String,
    spilled_kb: f64,
    needed_kb: f64,
    hash: bool,
}

fn spill(node: &PlanNode) -> Option<Spill> {
    let temp_kb = node.temp_written_blocks().unwrap_or(0) as f64 * 8.0;
    let disk_sort = node.sort_space_type.as_deref() == Some("Disk");
    let worker_disk: f64 = node
        .workers
        .iter()
        .filter(|w| w.sort_space_type.as_deref() == Some("Disk"))
        .filter_map(|w| w.sort_space_used_kb)
        .fold(0.0, f64::max);
    if disk_sort || worker_disk > 0.0 {
        let disk = if disk_sort {
            node.sort_space_used_kb.unwrap_or(temp_kb).max(worker_disk)
        } else {
            worker_disk
        };
        return Some(Spill {
            what: format!(
                "`{}` sorted on disk ({}, {})",
                super::node_label(node),
                node.sort_method.as_deref().unwrap_or("external sort"),
                units::bytes(disk * 1024.0)
            ),
            spilled_kb: disk,
            needed_kb: disk * 2.0,
            hash: false,
        });
    }
    if let Some(batches) = node.hash_batches.filter(|b| *b > 1) {
        let peak = node.peak_memory_kb.unwrap_or(0.0);
        let needed = if peak > 0.0 {
            peak * batches as f64
        } else {
            temp_kb
        };
        return Some(Spill {
            what: format!(
                "`{}` split its hash table into {} batches (planned {}), {} in memory per batch",
                super::node_label(node),
                units::count(batches),
                units::count(node.original_hash_batches.unwrap_or(1)),
                units::bytes(peak * 1024.0)
            ),
            spilled_kb: temp_kb.max(needed - peak),
            needed_kb: needed,
            hash: true,
        });
    }
    let agg_batches = node.hash_agg_batches.unwrap_or(0);
    let disk = node.disk_usage_kb.unwrap_or(0.0);
    if agg_batches > 1 || disk > 0.0 {
        let peak = node.peak_memory_kb.unwrap_or(0.0);
        return Some(Spill {
            what: format!(
                "`{}` spilled in {} batches ({} on disk, {} in memory)",
                super::node_label(node),
                units::count(agg_batches),
                units::bytes(disk * 1024.0),
                units::bytes(peak * 1024.0)
            ),
            spilled_kb: disk.max(temp_kb),
            needed_kb: peak + disk.max(temp_kb),
            hash: true,
        });
    }
    None
}

impl PlanRule for SpillToDisk {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        ctx.require_timing()?;
        let min_share = p.min_share_pct / 100.0;
        let min_kb = p.min_spill_kb;
        let nodes = &ctx.profile.nodes;
        let mut drafts = Vec::new();
        for np in nodes {
            let Some(s) = spill(np.node) else {
                continue;
            };
            let mut share = PlanContext::share(np);
            if np.node.node_type == "Hash" {
                if let Some(parent) = np.parent.map(|p| &nodes[p]) {
                    share += PlanContext::share(parent);
                }
            }
            if share < min_share || s.spilled_kb < min_kb {
                continue;
            }
            let current = ctx.setting("work_mem");
            let multiplier = ctx
                .setting("hash_mem_multiplier")
                .and_then(|m| m.parse::<f64>().ok())
                .filter(|m| *m >= 1.0)
                .unwrap_or(1.0);
            let needed = if s.hash {
                s.needed_kb / multiplier
            } else {
                s.needed_kb
            };
            let target = work_mem_text(needed);
            drafts.push(
                ctx.node_draft(
                    np,
                    format!(
                        "{}; with what it caused this took {} of the plan's time ({})",
                        s.what,
                        units::share(share),
                        match current {
                            // EXPLAIN (SETTINGS) writes it as a setting; read as a size.
                            Some(w) => format!(
                                "work_mem {}",
                                crate::host::parse_size(w).map_or_else(|_| w.to_string(), units::bytes)
                            ),
                            None => "work_mem is not in the plan; EXPLAIN (SETTINGS) shows it when changed".to_owned(),
                        }
                    ),
                )
                .evidence("spilled_kb", round(s.spilled_kb, 0))
                .evidence("memory_needed_kb", round(s.needed_kb, 0))
                .evidence("work_mem", current.unwrap_or("unknown"))
                .evidence("suggested_work_mem", target.clone())
                .evidence("spill_share", round(share, 4))
                .recommend(format!(
                    "Run this query with work_mem = '{target}' (SET LOCAL in its transaction, or ALTER ROLE \
                     for the role that runs it) rather than raising it server-wide; or sort/hash less data"
                ))
                .fix(
                    format!("SET LOCAL work_mem = '{target}';  -- in the transaction that runs the query"),
                    "none",
                    "the node's Sort Method / Batches in EXPLAIN ANALYZE; temp_files in pg_stat_database",
                ),
            );
        }
        Ok(drafts)
    }
}
