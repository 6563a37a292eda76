//! Validation of index advice with HypoPG on a live server.
//!
//! - `session`: the read-only connection, bounded round trips, HypoPG detection;
//! - `explain`: planning a statement (example, `GENERIC_PLAN` on 16+, `PREPARE` +
//!   `EXPLAIN EXECUTE` before);
//! - `hypo`: hypothetical indexes; `scan`: what a plan does with a table;
//! - `greedy`: the choice by benefit per byte; `validate`: the run.
//!
//! How it works and what it never does to the server: `docs/index-validation.md`.

mod explain;
mod greedy;
mod hypo;
mod scan;
mod session;
mod validate;

use std::sync::atomic::AtomicBool;

use crate::snapshot::Snapshot;
use crate::workload::Workload;
use crate::{ConnectOptions, Result};

use super::model::{Budget, IndexAdvice, PlanMethod, Validation, ADVICE_SCHEMA_VERSION};
use super::options::AdvisorOptions;
use explain::Planner;
use hypo::Hypo;
use session::{cancelled, is_cancelled, AdvisorSession, Hypopg};
use validate::{validate, Limits, MAX_EXPLAINS};

/// Advice validated on the server `connect` reaches (the database `schema` was collected
/// from): hypothetical indexes, planner costs before/after, greedy choice by benefit per
/// byte under the budget. When HypoPG is not installed in the database, the unvalidated
/// advice with the reason. Never writes to the database. `cancel` stops it between
/// statements.
pub fn advise_live(
    workload: &Workload,
    schema: &Snapshot,
    connect: &ConnectOptions,
    opts: &AdvisorOptions,
    cancel: Option<&AtomicBool>,
) -> Result<IndexAdvice> {
    advise_live_with(workload, schema, connect, opts, cancel, MAX_EXPLAINS)
}

/// [`advise_live`] with a cap on the EXPLAINs sent.
fn advise_live_with(
    workload: &Workload,
    schema: &Snapshot,
    connect: &ConnectOptions,
    opts: &AdvisorOptions,
    cancel: Option<&AtomicBool>,
    max_explains: usize,
) -> Result<IndexAdvice> {
    if is_cancelled(cancel) {
        return Err(cancelled());
    }
    let runtime = crate::collect::blocking_runtime()?;
    runtime.block_on(async {
        let session = AdvisorSession::open(connect, opts.statement_timeout).await?;
        let result = run(&session, workload, schema, opts, cancel, max_explains).await;
        // Leave nothing in the backend, even after an error (all of it also goes when
        // the connection closes; these are for poolers that keep server connections).
        // Not after a timeout: the server does not answer, each would wait again.
        if !matches!(result, Err(crate::Error::Timeout { .. })) {
            let _ = session.simple("DEALLOCATE", "DEALLOCATE ALL").await;
            if let Ok(Hypopg::Installed { schema, .. }) = session.hypopg().await {
                let _ = Hypo::new(&schema).reset(&session).await;
            }
        }
        session.close().await;
        result
    })
}

async fn run(
    session: &AdvisorSession,
    workload: &Workload,
    schema: &Snapshot,
    opts: &AdvisorOptions,
    cancel: Option<&AtomicBool>,
    max_explains: usize,
) -> Result<IndexAdvice> {
    let (hypopg_schema, hypopg_version) = match session.hypopg().await? {
        Hypopg::Installed { schema, version } => (schema, version),
        other => {
            let platform = crate::knowledge::platform::of(schema, &schema.host).value;
            let reason = unvalidated_reason(&other, &session.facts.database, platform, schema);
            return Ok(super::advise(workload, schema, opts, &reason));
        }
    };
    if !session.read_only().await? {
        // The session setup makes every transaction read-only; refuse to go on if the
        // server (a pooler, a role setting) undid it.
        return Err(crate::Error::invalid_value(
            "the advisor's session",
            "transactions are not read-only (default_transaction_read_only did not \
             take): refusing to go on",
        ));
    }
    if session.backend_pid().await? != session.backend_pid().await? {
        // A transaction-mode pooler: hypothetical indexes live in one backend, and the
        // next statement may reach another one.
        let reason = format!(
            "HypoPG is installed in database {}, but consecutive statements reached \
             different server processes (a transaction-mode pooler?): hypothetical indexes \
             live in one backend, so connect directly or through a session-mode pool",
            session.facts.database
        );
        return Ok(super::advise(workload, schema, opts, &reason));
    }
    let hypo = Hypo::new(&hypopg_schema);
    // HypoPG installed is not HypoPG usable: a role without EXECUTE on its functions
    // gets unvalidated advice that says so.
    match hypo.reset(session).await {
        Ok(()) => {}
        Err(session::Failure::Fatal(e)) => return Err(e),
        Err(session::Failure::Statement { message, .. }) => {
            let reason = format!(
                "HypoPG {hypopg_version} is installed in database {} but this role cannot use \
                 it ({message}): grant EXECUTE on its functions (hypopg_create_index, \
                 hypopg_relation_size, hypopg_reset) or connect as a role that has it",
                session.facts.database
            );
            return Ok(super::advise(workload, schema, opts, &reason));
        }
    }
    let cands = super::generate(workload, schema, opts);
    let mut planner = Planner::new(session.facts.version_num);
    let limits = Limits {
        max_indexes: opts.max_indexes,
        max_size_bytes: opts.max_size_bytes,
        min_cost_drop_pct: opts.min_cost_drop_pct,
        min_mean_ms: opts.min_mean_ms,
        max_explains,
    };
    let outcome = validate(session, &hypo, &mut planner, &cands, limits, cancel).await?;
    let method = if outcome.used_examples {
        PlanMethod::Examples
    } else {
        planner.generic_method()
    };
    let mut notes = outcome.notes;
    let mut recommendations = outcome.recommendations;
    let mut validated_rejected = outcome.rejected;
    if let Some(note) = unplannable_fallback(
        workload,
        schema,
        opts,
        &mut recommendations,
        &mut validated_rejected,
    ) {
        notes.push(note);
    }
    let mut rejected = cands.rejected.clone();
    rejected.extend(validated_rejected);
    Ok(IndexAdvice {
        schema_version: ADVICE_SCHEMA_VERSION,
        database: cands
            .database
            .clone()
            .or_else(|| Some(session.facts.database.clone())),
        validation: Validation::Hypopg {
            server_version: session.facts.version.clone(),
            hypopg_version,
            method,
            explains: outcome.explains,
            unplannable: outcome.unplannable,
            notes,
        },
        budget: Budget {
            max_indexes: opts.max_indexes,
            max_size_bytes: opts.max_size_bytes,
        },
        statements: cands.statements.clone(),
        recommendations,
        rejected,
    })
}

/// Candidates whose statements the server could not plan (parameter types it cannot
/// infer from pg_stat_statements' text, such as `$1 || ($2 + $3)`) get the unvalidated
/// verdict instead of none: those the unvalidated advice recommends (its gates on table
/// size, selectivity and statement time) join the recommendations, marked unvalidated,
/// within the budget left and when no chosen index already serves their statements.
/// Returns a note for the report when it added some.
fn unplannable_fallback(
    workload: &Workload,
    schema: &Snapshot,
    opts: &AdvisorOptions,
    recommendations: &mut Vec<super::Recommendation>,
    rejected: &mut Vec<super::Rejected>,
) -> Option<String> {
    let unmeasured = greedy::Gain::Unmeasured.reason(0.0)?;
    if !rejected.iter().any(|r| r.reason == unmeasured) {
        return None;
    }
    // The whole unvalidated ranking: the budget left is applied below.
    let wide = AdvisorOptions {
        max_indexes: usize::MAX,
        max_size_bytes: None,
        ..opts.clone()
    };
    let fallback = super::advise(workload, schema, &wide, "");
    let mut used: i64 = recommendations.iter().map(|r| r.estimated_size_bytes).sum();
    let mut added = 0;
    for r in fallback.recommendations {
        let Some(at) = rejected
            .iter()
            .position(|x| x.create_statement == r.create_statement && x.reason == unmeasured)
        else {
            continue;
        };
        let served = recommendations.iter().any(|chosen| {
            chosen
                .queries
                .iter()
                .any(|q| r.queries.iter().any(|o| o.fingerprint == q.fingerprint))
        });
        let fits = recommendations.len() < opts.max_indexes
            && opts
                .max_size_bytes
                .is_none_or(|max| used + r.estimated_size_bytes <= max);
        if served || !fits {
            continue;
        }
        used += r.estimated_size_bytes;
        rejected.remove(at);
        recommendations.push(r);
        added += 1;
    }
    (added > 0).then(|| {
        format!(
            "{added} recommendation(s) are unvalidated: the server could not plan their \
             statements, so they are ranked by statement time and statistics as without HypoPG"
        )
    })
}

/// Why the advice is unvalidated, and what to do about it on the server's platform (the
/// provider's allow-list first where it has one).
fn unvalidated_reason(
    hypopg: &Hypopg,
    database: &str,
    platform: crate::snapshot::Platform,
    schema: &Snapshot,
) -> String {
    let steps = crate::knowledge::server_parameters::enable_extension_steps(
        platform,
        Some(schema),
        "hypopg",
    )
    .iter()
    .map(|s| format!("`{s}`"))
    .collect::<Vec<_>>()
    .join(", then ");
    match (hypopg, platform.is_managed()) {
        (Hypopg::Available { version }, _) => format!(
            "HypoPG is not installed in database {database} (the server has version {version} \
             available): run {steps} in {database} to validate the advice with hypothetical \
             indexes — pgsage never installs anything"
        ),
        (_, true) => format!(
            "HypoPG is not available on this server (not in pg_available_extensions): where \
             {} offers it, run {steps} in {database} to validate the advice with hypothetical \
             indexes",
            platform.service_name()
        ),
        (_, false) => format!(
            "HypoPG is not available on this server (not in pg_available_extensions): install \
             it (Debian/Ubuntu package postgresql-<major>-hypopg), then run {steps} in \
             {database} to validate the advice with hypothetical indexes"
        ),
    }
}

#[cfg(test)]
mod tests;
