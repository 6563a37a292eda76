use crate::plan::{NodeProfile, ParentRelationship, PlanNode};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleMeta, Skip};

use super::context::round;
use super::{filter_columns, PlanContext, PlanRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// A node whose actual row count is at least `min_factor` times off the planner's
    /// estimate (either way), at a node that matters: the node and what it ran took at
    /// least `min_inclusive_share_pct` of the plan's time and the larger of the two counts,
    /// over all loops, is at least `min_rows`, and the node with its inputs ran for at
    /// least `min_inclusive_ms`. Only the node where the error starts is
    /// reported: a node whose inputs are already off as much in the same direction
    /// inherits their error (unless it multiplies it by `min_factor` again, as a join on
    /// correlated keys does). Overestimates where execution stops early are expected and
    /// ignored: under a `Limit`, on the inner side of a semi/anti join, under a Merge
    /// Join, under a join whose other input gave no rows, and at a node one of whose
    /// inputs gave no rows.
    ///
    /// ## Why it matters
    /// Row estimates drive every choice the planner makes: join methods (a nested loop
    /// chosen for 6 rows runs 600 or 600,000 times), join order, memory for sorts and
    /// hashes, parallelism. A plan built on a 100x error is usually the reason a query
    /// is slow; fixing the estimate fixes the plan.
    ///
    /// ## How to fix
    /// - Statistics out of date: `ANALYZE table;` (and check autovacuum analyzes it).
    /// - Several columns filtered together whose values are correlated (the planner
    ///   multiplies their selectivities): extended statistics,
    ///   `CREATE STATISTICS table_stats (dependencies, ndistinct, mcv) ON col1, col2 FROM
    ///   table; ANALYZE table;` — the finding gives the statement when it can read the
    ///   columns from the filter.
    /// - Skewed columns: a larger sample, `ALTER TABLE t ALTER COLUMN c SET STATISTICS
    ///   1000; ANALYZE t;`.
    /// - Expressions (`lower(email)`, `date_trunc(…)`): statistics on the expression
    ///   (`CREATE STATISTICS … ON (lower(email)) FROM t`, 14+) or an expression index.
    /// - Functions returning rows: `ROWS n` on the function.
    ///
    /// ## Thresholds
    /// - `min_factor` (default 10): how many times off the estimate must be.
    /// - `min_rows` (default 100): the larger of estimated and actual rows (× loops) must
    ///   reach this; a 10x error on 3 rows does not matter.
    /// - `min_inclusive_share_pct` (default 10): the node and its inputs must have taken at
    ///   least this share of the plan's time.
    /// - `min_inclusive_ms` (default 1): … and at least this long, in ms: in a query
    ///   that runs in 0.2 ms no estimate matters.
    ///
    /// Needs EXPLAIN ANALYZE with timing.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/planner-stats.html>
    /// - <https://www.postgresql.org/docs/current/multivariate-statistics-examples.html>
    /// - <https://www.postgresql.org/docs/current/sql-createstatistics.html>
    pub struct RowEstimateError {
        id: "EXP001",
        name: "row-estimate-error",
        pack: "plans",
        title: "Row estimate far from the actual rows",
        params: {
            min_factor: f64 = ("×", "How many times off the estimate must be"),
            min_rows: f64 = ("rows", "Smallest row count (larger of estimated and actual, × loops) that matters"),
            min_inclusive_share_pct: f64 = ("%", "Smallest share of the plan's time taken by the node and its inputs"),
            min_inclusive_ms: f64 = ("ms", "Smallest time taken by the node and its inputs"),
        },
    }
}

/// Whether an estimate error of this direction is expected at the node: overestimates
/// where execution stops early.
fn stops_early(ctx: &PlanContext<'_>, index: usize) -> bool {
    let nodes = &ctx.profile.nodes;
    let mut child = index;
    let mut parent = nodes[index].parent;
    while let Some(p) = parent {
        let pn = nodes[p].node;
        if pn.node_type == "Limit" {
            return true;
        }
        if pn.is_join() {
            // A merge join stops reading a side when the other ends; any join stops
            // reading (or never starts) a side when the other gave no rows.
            let sibling_empty = nodes.iter().enumerate().any(|(j, n)| {
                j != child
                    && n.parent == Some(p)
                    && matches!(
                        n.node.parent_relationship,
                        Some(ParentRelationship::Outer | ParentRelationship::Inner)
                    )
                    && n.node.actual_rows == Some(0.0)
            });
            if pn.node_type == "Merge Join" || sibling_empty {
                return true;
            }
        }
        let is_inner = nodes[child].node.parent_relationship == Some(ParentRelationship::Inner);
        if is_inner
            && pn
                .join_type
                .as_deref()
                .is_some_and(|j| j.contains("Semi") || j.contains("Anti"))
        {
            return true;
        }
        child = p;
        parent = nodes[p].parent;
    }
    false
}

/// The worst error, in the node's direction, among the node's row inputs.
fn inherited_factor(ctx: &PlanContext<'_>, index: usize, under: bool) -> f64 {
    ctx.profile
        .nodes
        .iter()
        .filter(|c| c.parent == Some(index))
        .filter(|c| {
            !matches!(
                c.node.parent_relationship,
                Some(ParentRelationship::InitPlan | ParentRelationship::SubPlan)
            )
        })
        .filter_map(|c| c.node.rows_estimate())
        .filter(|e| e.underestimated == under)
        .map(|e| e.factor)
        .fold(1.0, f64::max)
}

/// Whether one of the node's row inputs gave no rows: then an overestimate here says
/// nothing new (nothing came to join or aggregate).
fn input_was_empty(ctx: &PlanContext<'_>, index: usize) -> bool {
    ctx.profile.nodes.iter().any(|c| {
        c.parent == Some(index)
            && matches!(
                c.node.parent_relationship,
                Some(ParentRelationship::Outer | ParentRelationship::Inner)
            )
            && c.node.actual_rows == Some(0.0)
    })
}

/// The condition that produced the rows: filter, index condition or join condition.
fn condition(node: &PlanNode) -> Option<(&'static str, &str)> {
    [
        ("Filter", &node.filter),
        ("Index Cond", &node.index_cond),
        ("Recheck Cond", &node.recheck_cond),
        ("Hash Cond", &node.hash_cond),
        ("Merge Cond", &node.merge_cond),
        ("Join Filter", &node.join_filter),
    ]
    .into_iter()
    .find_map(|(label, v)| v.as_deref().map(|v| (label, v)))
}

fn finding(ctx: &PlanContext<'_>, np: &NodeProfile<'_>, inherited: f64) -> Option<Draft> {
    let node = np.node;
    let est = node.rows_estimate()?;
    let loops = node.actual_loops.unwrap_or(1.0).max(1.0);
    let direction = if est.underestimated {
        "underestimated"
    } else {
        "overestimated"
    };
    let what = node_subject(node);
    let mut message = format!(
        "{what}: the planner expected {} rows, {} came ({}x {direction}){}",
        units::count(est.planned),
        units::count(est.actual),
        units::count(est.factor),
        if loops > 1.0 {
            format!(" per loop, over {} loops", units::count(loops))
        } else {
            String::new()
        }
    );
    if inherited > 1.5 {
        message.push_str(&format!(
            "; its inputs were only {}x off, so the error starts here",
            units::count(inherited)
        ));
    }
    message.push_str(&format!(
        "; this part of the plan took {} of the time",
        units::share(ctx.inclusive_share(np))
    ));
    let mut draft = ctx
        .node_draft(np, message)
        .evidence("rows_planned", est.planned)
        .evidence("rows_actual", est.actual)
        .evidence("loops", loops)
        .evidence("factor", round(est.factor, 1))
        .evidence("direction", direction)
        .evidence("inclusive_share", round(ctx.inclusive_share(np), 4));
    let cond = condition(node);
    if let Some((label, text)) = cond {
        draft = draft.evidence("condition", format!("{label}: {text}"));
    }
    let table = node.qualified_relation();
    let columns = node
        .filter
        .as_deref()
        .map(filter_columns)
        .unwrap_or_default();
    match (&table, columns.len()) {
        (Some(table), n) if n >= 2 && est.underestimated => {
            let name = node.relation_name.as_deref().unwrap_or("t");
            let cols = columns.join(", ");
            draft = draft
                .recommend(format!(
                    "The filter combines columns {cols} of `{table}` whose values are probably correlated: \
                     create extended statistics so the planner estimates them together, then re-check the plan"
                ))
                .fix(
                    format!(
                        "CREATE STATISTICS {name}_{}_stats (dependencies, ndistinct, mcv) ON {cols} FROM {table};\nANALYZE {table};",
                        columns.iter().map(|c| c.trim_matches('"')).collect::<Vec<_>>().join("_")
                    ),
                    "none",
                    "the node's estimated rows against actual rows in EXPLAIN ANALYZE",
                );
        }
        (Some(table), _) => {
            draft = draft.recommend(format!(
                "Refresh the statistics of `{table}` (`ANALYZE {table};`); if the estimate stays off, \
                 raise the statistics target of the filtered columns or add extended statistics \
                 (CREATE STATISTICS) for columns filtered together"
            ));
        }
        (None, _) => {
            draft = draft.recommend(
                "Find why the estimate is off at this node: the join or grouping columns may be \
                 correlated (extended statistics: CREATE STATISTICS … (ndistinct, mcv)), or their \
                 statistics stale (ANALYZE the joined tables)",
            );
        }
    }
    Some(draft)
}

/// `Seq Scan on stock_move`, `Hash Join on (l.order_id = o.id)`.
fn node_subject(node: &PlanNode) -> String {
    let label = super::node_label(node);
    match (node.relation_name.is_some(), condition(node)) {
        (false, Some((_, cond))) => format!("`{label}` on `{cond}`"),
        _ => format!("`{label}`"),
    }
}

impl PlanRule for RowEstimateError {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        ctx.require_timing()?;
        let min_factor = p.min_factor;
        let min_rows = p.min_rows;
        let min_share = p.min_inclusive_share_pct / 100.0;
        let min_ms = p.min_inclusive_ms;
        let mut drafts = Vec::new();
        for (i, np) in ctx.profile.nodes.iter().enumerate() {
            let Some(est) = np.node.rows_estimate() else {
                continue;
            };
            let loops = np.node.actual_loops.unwrap_or(1.0).max(1.0);
            if est.factor < min_factor
                || est.planned.max(est.actual) * loops < min_rows
                || ctx.inclusive_share(np) < min_share
                || np.inclusive_ms.unwrap_or(0.0) < min_ms
                || (!est.underestimated && stops_early(ctx, i))
            {
                continue;
            }
            if !est.underestimated && input_was_empty(ctx, i) {
                continue;
            }
            let inherited = inherited_factor(ctx, i, est.underestimated);
            if inherited >= min_factor && est.factor < inherited * min_factor {
                continue;
            }
            drafts.extend(finding(ctx, np, inherited));
        }
        Ok(drafts)
    }
}
