use std::collections::BTreeMap;

use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Snapshot;

declare_rule! {
    /// ## What it detects
    /// Clear misconfigurations of parallel query, not matters of taste:
    /// - `max_parallel_workers` above `max_worker_processes` (the pool parallel workers
    ///   are taken from), or `max_parallel_workers_per_gather` /
    ///   `max_parallel_maintenance_workers` above `max_parallel_workers`: the higher value
    ///   can never be reached and hides the real limit;
    /// - with the host's CPU count: `max_parallel_workers_per_gather` raised above its
    ///   default and above the CPUs (one query can occupy every core), or
    ///   `max_parallel_workers` raised above its default and above
    ///   `max_workers_per_cpu` × CPUs.
    ///
    /// Defaults are never flagged against the CPU count: only values someone raised.
    ///
    /// ## Why it matters
    /// Parallel workers are whole processes competing for the same cores as the other
    /// sessions. Beyond the CPUs, a parallel query does not finish faster: it steals time
    /// from every other query, and OLTP latency suffers during reports. Limits that cannot
    /// be reached mislead whoever tunes the server next.
    ///
    /// ## How to fix
    /// Keep `max_parallel_workers_per_gather` at about half the CPUs at most and
    /// `max_parallel_workers` at most the CPUs, and `max_worker_processes` at least
    /// `max_parallel_workers` plus the workers of logical replication and extensions:
    /// `ALTER SYSTEM SET … ;` then reload (`max_worker_processes` needs a restart). On
    /// managed services change them in the server parameters of the portal. Watch CPU
    /// use and the run time of reports afterwards.
    ///
    /// ## Thresholds
    /// - `max_workers_per_cpu` (default 2): `max_parallel_workers` above this many per CPU
    ///   warns (when raised above its default).
    ///
    /// The CPU checks need the CPU count (`--cpus`, `[host] cpus`); without it only the
    /// consistency checks run, and the rule is skipped when they find nothing.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#RUNTIME-CONFIG-RESOURCE-ASYNC-BEHAVIOR>
    /// - <https://www.postgresql.org/docs/current/how-parallel-query-works.html>
    pub struct ParallelSettingsInconsistent {
        id: "PLN005",
        name: "parallel-settings-inconsistent",
        pack: "planner",
        title: "Parallel query settings out of line with each other or the CPUs",
        params: {
            max_workers_per_cpu: f64 = ("workers per CPU", "max_parallel_workers per CPU above which a raised value warns"),
        },
    }
}

/// The problems found, by setting name: (message, recommended value).
type Problems = BTreeMap<&'static str, Vec<(String, f64)>>;

fn value(snap: &Snapshot, name: &str) -> Option<f64> {
    snap.setting(name).and_then(|s| s.as_f64())
}

/// Whether a setting was raised above its built-in default.
fn raised(snap: &Snapshot, name: &str) -> bool {
    let Some(s) = snap.setting(name) else {
        return false;
    };
    match (
        s.as_f64(),
        s.boot_val.as_deref().and_then(|b| b.parse::<f64>().ok()),
    ) {
        (Some(v), Some(boot)) => v > boot,
        _ => s.source != "default",
    }
}

fn consistency(snap: &Snapshot, problems: &mut Problems) {
    let (Some(mwp), Some(mpw)) = (
        value(snap, "max_worker_processes"),
        value(snap, "max_parallel_workers"),
    ) else {
        return;
    };
    if mpw > mwp {
        problems.entry("max_parallel_workers").or_default().push((
            format!("`max_parallel_workers` ({mpw}) is above `max_worker_processes` ({mwp}), the pool parallel workers come from: at most {mwp} can ever run"),
            mwp,
        ));
    }
    let limit = mpw.min(mwp);
    for name in [
        "max_parallel_workers_per_gather",
        "max_parallel_maintenance_workers",
    ] {
        if let Some(v) = value(snap, name).filter(|v| *v > limit) {
            problems.entry(name).or_default().push((
                format!("`{name}` ({v}) is above the {limit} parallel workers the server can run at once"),
                limit,
            ));
        }
    }
}

fn against_cpus(snap: &Snapshot, cpus: f64, per_cpu: f64, problems: &mut Problems) {
    if let Some(v) = value(snap, "max_parallel_workers_per_gather")
        .filter(|v| *v > cpus && raised(snap, "max_parallel_workers_per_gather"))
    {
        problems
            .entry("max_parallel_workers_per_gather")
            .or_default()
            .push((
                format!("`max_parallel_workers_per_gather` ({v}) lets one query use more workers than the host's {cpus} CPUs"),
                (cpus / 2.0).floor().max(1.0),
            ));
    }
    if let Some(v) = value(snap, "max_parallel_workers")
        .filter(|v| *v > per_cpu * cpus && raised(snap, "max_parallel_workers"))
    {
        problems.entry("max_parallel_workers").or_default().push((
            format!("`max_parallel_workers` ({v}) is more than {per_cpu} per CPU on a host with {cpus} CPUs"),
            cpus,
        ));
    }
}

impl SnapshotRule for ParallelSettingsInconsistent {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let per_cpu = p.max_workers_per_cpu;
        let snap = ctx.snapshot;
        let mut problems = Problems::new();
        consistency(snap, &mut problems);
        match ctx.cpus() {
            Ok(cpus) => against_cpus(snap, cpus, per_cpu, &mut problems),
            Err(skip) if problems.is_empty() => return Err(skip),
            Err(_) => {}
        }
        let cpus = ctx.cpus().ok();
        let mut drafts = Vec::new();
        for (name, found) in problems {
            let own = found.iter().map(|(_, r)| *r).fold(f64::INFINITY, f64::min);
            // The recommended configuration's value when it sizes the setting (4+ CPUs).
            let Some(recommended) = ctx.value_for(name, || own.to_string()) else {
                continue;
            };
            let mut draft = Draft::new(
                ObjectRef::setting(name),
                found
                    .iter()
                    .map(|(m, _)| m.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            );
            for n in [
                "max_worker_processes",
                "max_parallel_workers",
                "max_parallel_workers_per_gather",
                "max_parallel_maintenance_workers",
            ] {
                if let Some(v) = value(snap, n) {
                    draft = draft.evidence(n, v);
                }
            }
            if let Some(c) = cpus {
                draft = draft.evidence("cpus", c);
            }
            drafts.push(
                draft
                    .evidence("recommended", recommended.clone())
                    .recommend(format!(
                        "Set {name} to {recommended} (or raise max_worker_processes, with a restart, if more parallel workers are really wanted and the CPUs allow it)"
                    ))
                    .with_fix(ctx.settings_fix(
                        &[(name, recommended.clone())],
                        "",
                        "CPU use and the run time of reports and large queries",
                    )),
            );
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_workers_above_the_pool_and_the_cpus() {
        assert_fires("PLN005", "max_parallel_workers");
        assert_fires("PLN005", "max_parallel_workers_per_gather");
    }

    #[test]
    fn quiet_with_defaults() {
        assert_quiet("PLN005");
    }
}
