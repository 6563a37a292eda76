//! The validation run: each statement's cost without new indexes, each candidate's
//! effect with a hypothetical index, then greedy rounds (see [`super::greedy`]) that
//! re-plan, with the chosen indexes present, only the statements those indexes changed.
//! A final pass plans the helped statements with the whole chosen set for the
//! before/after figures, and drops a chosen index no final plan uses any more (a wider
//! one chosen later serves its statements).
//!
//! The work is capped ([`Limits::max_explains`]): candidates left unevaluated are
//! rejected with that reason and a note says so.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use super::explain::{Planned, Planner, QueryMethod};
use super::greedy::{marginal, pick, time_now, Effect, Gain, Scored};
use super::hypo::{hypo_ddl, Hypo, HypoIndex};
use super::scan::{scan_of, uses_index};
use super::session::{cancelled, is_cancelled, AdvisorSession, Failure};
use crate::advise::candidates::{Candidate, Candidates};
use crate::advise::model::{HelpedQuery, Recommendation, Rejected};
use crate::{Error, Result};

/// Most EXPLAINs one run sends (about a minute on a remote server at 50 ms a round
/// trip, a few seconds locally).
pub(super) const MAX_EXPLAINS: usize = 1000;

/// At most this many distinct planning errors are quoted in the notes.
const QUOTED_ERRORS: usize = 3;

/// What bounds a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Limits {
    /// New indexes at most.
    pub max_indexes: usize,
    /// Bytes of new indexes at most.
    pub max_size_bytes: Option<i64>,
    /// A statement counts as helped when its cost drops by this much (%).
    pub min_cost_drop_pct: f64,
    /// A statement whose mean time, scaled by its cost with the chosen indexes, is under
    /// this (ms) is already fast: it counts for no further index.
    pub min_mean_ms: f64,
    /// EXPLAINs at most.
    pub max_explains: usize,
}

/// What a validation run found.
#[derive(Debug, Clone, Default)]
pub(super) struct Outcome {
    /// The chosen indexes, most valuable first.
    pub recommendations: Vec<Recommendation>,
    /// Candidates not chosen, with the reason.
    pub rejected: Vec<Rejected>,
    /// EXPLAINs sent.
    pub explains: usize,
    /// Statements that could not be planned.
    pub unplannable: usize,
    /// What limited the run.
    pub notes: Vec<String>,
    /// Whether some statement was planned from its logged example.
    pub used_examples: bool,
}

/// One statement under validation.
struct Stmt {
    method: QueryMethod,
    base: Planned,
}

/// The run's state.
struct Run<'a> {
    session: &'a AdvisorSession,
    hypo: &'a Hypo,
    planner: &'a mut Planner,
    cands: &'a Candidates,
    limits: Limits,
    cancel: Option<&'a AtomicBool>,
    /// Per statement of `cands.queries`: its method and baseline plan, when planned.
    stmts: Vec<Option<Stmt>>,
    /// Per candidate: its statements (indexes into `cands.queries`).
    cand_queries: Vec<Vec<usize>>,
    unplannable: usize,
    errors: Vec<String>,
    cap_hit: bool,
}

/// Validates `cands` on the session; `hypo` is HypoPG in the database.
pub(super) async fn validate(
    session: &AdvisorSession,
    hypo: &Hypo,
    planner: &mut Planner,
    cands: &Candidates,
    limits: Limits,
    cancel: Option<&AtomicBool>,
) -> Result<Outcome> {
    let by_fingerprint: HashMap<_, _> = cands
        .queries
        .iter()
        .enumerate()
        .map(|(i, q)| (q.fingerprint, i))
        .collect();
    let cand_queries = cands
        .candidates
        .iter()
        .map(|c| {
            let mut qs: Vec<usize> = c
                .queries
                .iter()
                .filter_map(|f| by_fingerprint.get(f).copied())
                .collect();
            qs.sort_unstable();
            qs.dedup();
            qs
        })
        .collect();
    let mut run = Run {
        session,
        hypo,
        planner,
        cands,
        limits,
        cancel,
        stmts: (0..cands.queries.len()).map(|_| None).collect(),
        cand_queries,
        unplannable: 0,
        errors: Vec::new(),
        cap_hit: false,
    };
    run.hypo.reset(session).await.map_err(statement_is_fatal)?;
    run.baseline().await?;
    let outcome = run.choose().await;
    // Whatever happened, no hypothetical index is left behind (the caller resets again
    // before closing, in case this fails).
    let reset = run.hypo.reset(session).await;
    let mut outcome = outcome?;
    reset.map_err(statement_is_fatal)?;
    outcome.explains = run.planner.explains;
    outcome.unplannable = run.unplannable;
    outcome.used_examples = run
        .stmts
        .iter()
        .flatten()
        .any(|s| s.method == QueryMethod::Example);
    if run.unplannable > 0 {
        outcome.notes.push(format!(
            "{} statement(s) could not be planned and were left out: {}",
            run.unplannable,
            run.errors.join("; ")
        ));
    }
    if run.cap_hit {
        outcome.notes.push(format!(
            "the work cap of {} EXPLAINs was reached: candidates not evaluated are listed as rejected",
            limits.max_explains
        ));
    }
    Ok(outcome)
}

/// Setup and cleanup statements must work.
fn statement_is_fatal(f: Failure) -> Error {
    super::session::fatal(f)
}

impl Run<'_> {
    fn check_cancel(&self) -> Result<()> {
        if is_cancelled(self.cancel) {
            Err(cancelled())
        } else {
            Ok(())
        }
    }

    fn note_error(&mut self, message: String) {
        self.unplannable += 1;
        if self.errors.len() < QUOTED_ERRORS && !self.errors.contains(&message) {
            self.errors.push(message);
        }
    }

    /// Whether `n` more EXPLAINs fit the cap (and notes it when not).
    fn fits(&mut self, n: usize) -> bool {
        let fits = self.planner.explains + n <= self.limits.max_explains;
        if !fits {
            self.cap_hit = true;
        }
        fits
    }

    /// Plans every statement some candidate serves, without new indexes.
    async fn baseline(&mut self) -> Result<()> {
        let mut wanted: Vec<usize> = self.cand_queries.iter().flatten().copied().collect();
        wanted.sort_unstable();
        wanted.dedup();
        for q in wanted {
            self.check_cancel()?;
            if !self.fits(1) {
                break;
            }
            let query = &self.cands.queries[q];
            match self.planner.plan_first(self.session, query).await {
                Ok((method, base)) => self.stmts[q] = Some(Stmt { method, base }),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Statement { message, .. }) => {
                    let short: String = query.query.chars().take(60).collect();
                    self.note_error(format!("`{short}`: {message}"));
                }
            }
        }
        Ok(())
    }

    /// Creates `set` (candidate indexes) as hypothetical indexes, plans `queries` and
    /// resets. Returns the hypothetical indexes (same order as `set`) and, per planned
    /// statement, its plan. `Ok(None)` when HypoPG refused the last index of `set`.
    async fn plan_with(
        &mut self,
        set: &[usize],
        queries: &[usize],
    ) -> Result<std::result::Result<(Vec<HypoIndex>, Vec<(usize, Planned)>), String>> {
        let mut indexes = Vec::with_capacity(set.len());
        for &c in set {
            let ddl = hypo_ddl(&self.cands.candidates[c]);
            match self.hypo.create(self.session, &ddl).await {
                Ok(index) => indexes.push(index),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Statement { message, .. }) => {
                    self.hypo
                        .reset(self.session)
                        .await
                        .map_err(statement_is_fatal)?;
                    return Ok(Err(format!("HypoPG could not create it: {message}")));
                }
            }
        }
        let mut plans = Vec::with_capacity(queries.len());
        for &q in queries {
            self.check_cancel()?;
            let Some(stmt) = &self.stmts[q] else { continue };
            let method = stmt.method;
            match self
                .planner
                .plan(self.session, &self.cands.queries[q], method)
                .await
            {
                Ok(planned) => plans.push((q, planned)),
                Err(Failure::Fatal(e)) => return Err(e),
                // Planned before, not now (a timeout under load): this statement
                // simply gives no evidence for this set.
                Err(Failure::Statement { .. }) => {}
            }
        }
        self.hypo
            .reset(self.session)
            .await
            .map_err(statement_is_fatal)?;
        Ok(Ok((indexes, plans)))
    }

    fn planned_count(&self, queries: &[usize]) -> usize {
        queries.iter().filter(|&&q| self.stmts[q].is_some()).count()
    }

    /// The single-candidate evaluations, the greedy rounds and the final pass.
    async fn choose(&mut self) -> Result<Outcome> {
        let n = self.cands.candidates.len();
        let total_ms: Vec<f64> = self.cands.queries.iter().map(|q| q.total_ms).collect();
        let mut current: Vec<Option<f64>> = self
            .stmts
            .iter()
            .map(|s| s.as_ref().map(|s| s.base.cost))
            .collect();
        // Whether a statement's current plan uses a chosen index (its effects must then
        // be re-measured with the chosen set present).
        let mut affected = vec![false; self.cands.queries.len()];
        let mut effects: Vec<Vec<Effect>> = vec![Vec::new(); n];
        let mut sizes: Vec<i64> = vec![0; n];
        // None: still in the running; Some(reason): rejected.
        let mut verdict: Vec<Option<String>> = vec![None; n];
        let cap_reason = format!(
            "not evaluated: the work cap of {} EXPLAINs was reached",
            self.limits.max_explains
        );

        for c in 0..n {
            self.check_cancel()?;
            let queries = self.cand_queries[c].clone();
            if self.planned_count(&queries) == 0 {
                verdict[c] = Some(Gain::Unmeasured.reason(0.0).unwrap_or_default());
                continue;
            }
            if !self.fits(self.planned_count(&queries)) {
                verdict[c] = Some(cap_reason.clone());
                continue;
            }
            match self.plan_with(&[c], &queries).await? {
                Err(reason) => verdict[c] = Some(reason),
                Ok((indexes, plans)) => {
                    let Some(index) = indexes.first() else {
                        continue;
                    };
                    sizes[c] = index.size_bytes;
                    effects[c] = plans
                        .iter()
                        .map(|(q, p)| Effect {
                            query: *q,
                            cost: p.cost,
                            uses: uses_index(&p.plan, index.oid),
                        })
                        .collect();
                }
            }
        }

        let mut chosen: Vec<usize> = Vec::new();
        let mut chosen_gain: Vec<Gain> = Vec::new();
        let mut used_bytes = 0i64;
        let base = current.clone();
        let calls: Vec<u64> = self.cands.queries.iter().map(|q| q.calls).collect();
        loop {
            self.check_cancel()?;
            let time = time_now(&total_ms, &calls, &base, &current, self.limits.min_mean_ms);
            let gains: Vec<(usize, Gain)> = (0..n)
                .filter(|&c| verdict[c].is_none() && !chosen.contains(&c))
                .map(|c| {
                    let g = marginal(&effects[c], &current, &time, self.limits.min_cost_drop_pct);
                    (c, g)
                })
                .collect();
            let scored: Vec<Scored> = gains
                .iter()
                .map(|(c, g)| Scored {
                    candidate: *c,
                    benefit_ms: g.benefit_ms(),
                    size_bytes: sizes[*c],
                })
                .collect();
            let full = chosen.len() >= self.limits.max_indexes;
            let round = pick(&scored, used_bytes, self.limits.max_size_bytes);
            for c in &round.over_budget {
                verdict[*c] = Some(format!(
                    "over budget: {} would exceed the size budget of {} (max_size; {} already chosen)",
                    pgsage_core::units::bytes(sizes[*c]),
                    pgsage_core::units::bytes(self.limits.max_size_bytes.unwrap_or(0)),
                    pgsage_core::units::bytes(used_bytes)
                ));
            }
            let Some(best) = round.chosen.filter(|_| !full) else {
                for (c, g) in gains {
                    if verdict[c].is_some() {
                        continue;
                    }
                    verdict[c] = Some(match g.reason(self.limits.min_cost_drop_pct) {
                        Some(reason) => reason,
                        None => format!(
                            "over budget: the limit of {} (max_indexes) is reached",
                            crate::units::counted(self.limits.max_indexes, "index", "indexes")
                        ),
                    });
                }
                break;
            };
            let gain = gains
                .into_iter()
                .find(|(c, _)| *c == best)
                .map(|(_, g)| g)
                .unwrap_or(Gain::Unmeasured);
            chosen.push(best);
            chosen_gain.push(gain);
            used_bytes = used_bytes.saturating_add(sizes[best]);
            for e in &effects[best] {
                current[e.query] = Some(e.cost);
                affected[e.query] |= e.uses;
            }
            // Re-measure, with the chosen set present, the remaining candidates'
            // statements whose plans the chosen indexes changed.
            for c in 0..n {
                if verdict[c].is_some() || chosen.contains(&c) {
                    continue;
                }
                let stale: Vec<usize> = self.cand_queries[c]
                    .iter()
                    .copied()
                    .filter(|&q| affected[q] && self.stmts[q].is_some())
                    .collect();
                if stale.is_empty() {
                    continue;
                }
                self.check_cancel()?;
                if !self.fits(stale.len()) {
                    verdict[c] = Some(cap_reason.clone());
                    continue;
                }
                let mut set = chosen.clone();
                set.push(c);
                match self.plan_with(&set, &stale).await? {
                    Err(reason) => verdict[c] = Some(reason),
                    Ok((indexes, plans)) => {
                        let Some(index) = indexes.last() else {
                            continue;
                        };
                        for (q, p) in plans {
                            let effect = Effect {
                                query: q,
                                cost: p.cost,
                                uses: uses_index(&p.plan, index.oid),
                            };
                            match effects[c].iter_mut().find(|e| e.query == q) {
                                Some(e) => *e = effect,
                                None => effects[c].push(effect),
                            }
                        }
                    }
                }
            }
        }

        let mut outcome = Outcome::default();
        let recommendations = self.final_pass(&chosen, &chosen_gain, &sizes).await?;
        for (c, reason) in verdict.into_iter().enumerate() {
            if let Some(reason) = reason {
                outcome
                    .rejected
                    .push(rejected(&self.cands.candidates[c], reason));
            }
        }
        for (rec, superseded) in recommendations {
            match superseded {
                None => outcome.recommendations.push(rec),
                Some(reason) => outcome.rejected.push(Rejected {
                    create_statement: rec.create_statement,
                    reason,
                }),
            }
        }
        outcome.recommendations.sort_by(|a, b| {
            b.benefit_ms
                .partial_cmp(&a.benefit_ms)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        Ok(outcome)
    }

    /// Plans the helped statements with the whole chosen set; builds the
    /// recommendations, each with `Some(reason)` when no final plan uses it.
    async fn final_pass(
        &mut self,
        chosen: &[usize],
        gains: &[Gain],
        sizes: &[i64],
    ) -> Result<Vec<(Recommendation, Option<String>)>> {
        if chosen.is_empty() {
            return Ok(Vec::new());
        }
        let mut helped_all: Vec<usize> = gains
            .iter()
            .flat_map(|g| match g {
                Gain::Helps { helped, .. } => helped.clone(),
                _ => Vec::new(),
            })
            .collect();
        helped_all.sort_unstable();
        helped_all.dedup();
        // The final figures are worth a few EXPLAINs over the cap.
        let (indexes, plans) = match self.plan_with(chosen, &helped_all).await? {
            Ok(result) => result,
            Err(reason) => return Err(Error::invalid_value("hypothetical index set", reason)),
        };
        let final_plans: HashMap<usize, Planned> = plans.into_iter().collect();
        let mut out = Vec::new();
        for (i, &c) in chosen.iter().enumerate() {
            let cand = &self.cands.candidates[c];
            let index = &indexes[i];
            // The statements whose final plan uses it: those it was chosen for, and
            // those of a chosen index it superseded.
            let used_by: Vec<usize> = helped_all
                .iter()
                .copied()
                .filter(|q| {
                    final_plans
                        .get(q)
                        .is_some_and(|p| uses_index(&p.plan, index.oid))
                })
                .collect();
            let mut benefit_ms = 0.0;
            let mut queries = Vec::with_capacity(used_by.len());
            for &q in &used_by {
                let aq = &self.cands.queries[q];
                let base = self.stmts[q].as_ref().map(|s| &s.base);
                let after = final_plans.get(&q);
                if let (Some(b), Some(a)) = (base, after) {
                    if b.cost > 0.0 {
                        benefit_ms += aq.total_ms * ((b.cost - a.cost) / b.cost).max(0.0);
                    }
                }
                queries.push(HelpedQuery {
                    fingerprint: aq.fingerprint,
                    query: aq.query.clone(),
                    calls: aq.calls,
                    total_ms: aq.total_ms,
                    cost_before: base.map(|b| b.cost),
                    cost_after: after.map(|a| a.cost),
                    scan_before: base.and_then(|b| scan_of(&b.plan, &cand.schema, &cand.table)),
                    scan_after: after.and_then(|a| scan_of(&a.plan, &cand.schema, &cand.table)),
                });
            }
            let rec = Recommendation {
                schema: cand.schema.clone(),
                table: cand.table.clone(),
                columns: cand.columns.clone(),
                include: cand.include.clone(),
                predicate: cand.predicate.clone(),
                create_statement: cand.create_statement(),
                estimated_size_bytes: sizes[c],
                size_source: "hypopg".into(),
                benefit_ms,
                queries,
                redundant_indexes: cand.redundant_indexes.clone(),
                write_overhead: cand.write_overhead.clone(),
                validated: true,
            };
            let superseded = used_by.is_empty().then(|| {
                "superseded: with the chosen set, its statements' plans use another chosen index"
                    .to_owned()
            });
            out.push((rec, superseded));
        }
        Ok(out)
    }
}

fn rejected(c: &Candidate, reason: String) -> Rejected {
    Rejected {
        create_statement: c.create_statement(),
        reason,
    }
}
