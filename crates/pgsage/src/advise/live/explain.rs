//! Planning the workload's statements on the server (EXPLAIN without ANALYZE: nothing
//! runs), per version and per statement:
//!
//! - a logged **example** with its constants is planned as is (a custom plan, as the
//!   statement really ran): it matches partial-index predicates (`state = 'draft'`) and
//!   reflects skewed values, which a generic plan averages away. Used when the workload
//!   has one that is complete (not cut at 4 KiB) and holds no `$n` (an extended-protocol
//!   statement whose values were logged apart);
//! - else the text with `$n` gets a **generic plan**: `EXPLAIN (GENERIC_PLAN)` on 16+;
//!   before 16 `PREPARE` under `plan_cache_mode = force_generic_plan`, then `EXPLAIN
//!   EXECUTE` with `NULL` arguments (a generic plan never looks at the values) and
//!   `DEALLOCATE`. A text without `$n` is planned as is.
//!
//! A statement's method is fixed by its first (baseline) plan, so that its costs with
//! and without hypothetical indexes compare like with like. A statement the server
//! cannot plan (parameter types it cannot infer, a text cut short, an error, a
//! statement_timeout) is a [`Failure::Statement`]: counted, never fatal.
//!
//! The texts come from logs and pg_stat_statements, so they are checked to hold exactly
//! one statement before being sent with the simple protocol (which the unbound `$n`
//! require); the session's READ ONLY transactions stay the real guard.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::session::{AdvisorSession, Failure};
use crate::advise::candidates::AnalyzedQuery;
use crate::advise::model::PlanMethod;
use crate::plan::analyze_live::classify;
use crate::plan::{parse_plan, Plan};
use crate::sql::quote_ident;
use crate::Error;

/// How one statement is planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum QueryMethod {
    /// The logged example, constants and all (custom plan).
    Example,
    /// `EXPLAIN (GENERIC_PLAN)` of the text with `$n` (16+).
    GenericPlan,
    /// `PREPARE` + `EXPLAIN EXECUTE (NULL, …)` under `force_generic_plan` (before 16).
    PreparedGeneric,
    /// The text has no `$n`: planned as is.
    Plain,
}

/// A plan and its root cost.
#[derive(Debug, Clone)]
pub(super) struct Planned {
    /// The root node's total cost.
    pub cost: f64,
    /// The plan.
    pub plan: Plan,
}

/// Plans statements on one session.
#[derive(Debug)]
pub(super) struct Planner {
    version_num: i32,
    next_prepared: u64,
    generic_mode_set: bool,
    /// EXPLAINs sent so far.
    pub explains: usize,
}

/// `Ok(plan)`, `Err(Failure::Statement)` for a statement that cannot be planned, or
/// `Err(Failure::Fatal)`.
pub(super) type PlanResult = Result<Planned, Failure>;

impl Planner {
    /// A planner for a server of `server_version_num`.
    pub fn new(version_num: i32) -> Self {
        Planner {
            version_num,
            next_prepared: 0,
            generic_mode_set: false,
            explains: 0,
        }
    }

    /// The method for parameterized texts on this server.
    pub fn generic_method(&self) -> PlanMethod {
        if self.version_num >= 160000 {
            PlanMethod::GenericPlan
        } else {
            PlanMethod::PreparedGeneric
        }
    }

    /// Plans `q` for the first time: the example when usable (falling back to the text
    /// when the example fails), else the text. Returns the method to keep using.
    pub async fn plan_first(
        &mut self,
        session: &AdvisorSession,
        q: &AnalyzedQuery,
    ) -> Result<(QueryMethod, Planned), Failure> {
        if q.example.as_deref().is_some_and(usable_example) {
            match self.plan(session, q, QueryMethod::Example).await {
                Ok(planned) => return Ok((QueryMethod::Example, planned)),
                Err(Failure::Fatal(e)) => return Err(Failure::Fatal(e)),
                Err(Failure::Statement { .. }) => {}
            }
        }
        let method = match placeholders(&q.explain_text) {
            Ok(0) => QueryMethod::Plain,
            Ok(_) if self.version_num >= 160000 => QueryMethod::GenericPlan,
            Ok(_) => QueryMethod::PreparedGeneric,
            Err(problem) => return Err(not_plannable(problem)),
        };
        let planned = self.plan(session, q, method).await?;
        Ok((method, planned))
    }

    /// Plans `q` with `method`.
    pub async fn plan(
        &mut self,
        session: &AdvisorSession,
        q: &AnalyzedQuery,
        method: QueryMethod,
    ) -> PlanResult {
        let text = match method {
            QueryMethod::Example => q.example.as_deref().unwrap_or(&q.explain_text),
            _ => &q.explain_text,
        };
        let text = statement_text(text).map_err(not_plannable)?;
        let path = search_path_prefix(q);
        self.explains += 1;
        let output = match method {
            QueryMethod::Example | QueryMethod::Plain => {
                session
                    .simple("EXPLAIN", &format!("{path}EXPLAIN (FORMAT JSON) {text}"))
                    .await?
            }
            QueryMethod::GenericPlan => {
                session
                    .simple(
                        "EXPLAIN (GENERIC_PLAN)",
                        &format!("{path}EXPLAIN (GENERIC_PLAN, FORMAT JSON) {text}"),
                    )
                    .await?
            }
            QueryMethod::PreparedGeneric => self.explain_prepared(session, &path, text).await?,
        };
        planned(&output.join("\n"))
    }

    /// `PREPARE`, `EXPLAIN EXECUTE` with NULLs, `DEALLOCATE`, in one round trip; the
    /// `DEALLOCATE` is sent again on its own when the batch failed part way (prepared
    /// statements outlive a failed transaction).
    async fn explain_prepared(
        &mut self,
        session: &AdvisorSession,
        path: &str,
        text: &str,
    ) -> Result<Vec<String>, Failure> {
        let params = placeholders(text).map_err(not_plannable)?;
        if !self.generic_mode_set {
            // Session-level, our session only: NULL arguments must never get a custom
            // plan (`x = NULL` would be planned as a constant false).
            session
                .simple(
                    "plan_cache_mode",
                    "SET plan_cache_mode = force_generic_plan",
                )
                .await?;
            self.generic_mode_set = true;
        }
        self.next_prepared += 1;
        let name = format!("pgsage_adv_{}", self.next_prepared);
        let nulls = vec!["NULL"; params].join(", ");
        let batch = format!(
            "{path}PREPARE {name} AS {text};\nEXPLAIN (FORMAT JSON) EXECUTE {name}({nulls});\nDEALLOCATE {name}"
        );
        let result = session.simple("PREPARE + EXPLAIN EXECUTE", &batch).await;
        if let Err(Failure::Statement { .. }) = &result {
            // Harmless when PREPARE itself failed (nothing to deallocate).
            let _ = session
                .simple("DEALLOCATE", &format!("DEALLOCATE {name}"))
                .await;
        }
        result
    }
}

/// `SET LOCAL search_path TO …;` for a statement whose roles resolve unqualified names
/// in other schemas than the advisor's session would (a schema per tenant): the batch
/// is one implicit transaction, so the setting ends with it.
fn search_path_prefix(q: &AnalyzedQuery) -> String {
    match &q.search_path {
        Some(path) if !path.is_empty() => {
            let schemas: Vec<String> = path.iter().map(|s| quote_ident(s)).collect();
            format!("SET LOCAL search_path TO {};\n", schemas.join(", "))
        }
        _ => String::new(),
    }
}

/// The plan in EXPLAIN's JSON output, with its root cost.
fn planned(output: &str) -> PlanResult {
    let plan = parse_plan(output).map_err(|e| not_plannable(format!("EXPLAIN output: {e}")))?;
    let cost = plan
        .root
        .total_cost
        .ok_or_else(|| not_plannable("the plan has no total cost".into()))?;
    Ok(Planned { cost, plan })
}

fn not_plannable(message: String) -> Failure {
    Failure::Statement {
        error: Box::new(Error::invalid_value("statement", message.clone())),
        message,
    }
}

/// Whether a logged example can be planned as is.
pub(super) fn usable_example(example: &str) -> bool {
    // The workload cuts examples at 4 KiB and marks the cut with `…`.
    !example.trim_end().ends_with('…') && placeholders(example) == Ok(0)
}

/// `text` without its trailing `;`, when it is exactly one statement.
pub(super) fn statement_text(text: &str) -> Result<&str, String> {
    let text = text.trim().trim_end_matches(';').trim_end();
    classify(text).map_err(|e| e.to_string())?;
    Ok(text)
}

/// The highest `$n` in `text` (the number of arguments `EXECUTE` needs), 0 for none.
/// Placeholders inside strings, quoted identifiers and comments do not count.
pub(super) fn placeholders(text: &str) -> Result<usize, String> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, text)
        .tokenize()
        .map_err(|e| format!("cannot tokenize the statement: {e}"))?;
    let mut max = 0;
    for token in tokens {
        if let Token::Placeholder(p) = token {
            if let Some(n) = p.strip_prefix('$').and_then(|d| d.parse::<usize>().ok()) {
                max = max.max(n);
            }
        }
    }
    Ok(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_counted_outside_strings() {
        assert_eq!(placeholders("SELECT 1"), Ok(0));
        assert_eq!(
            placeholders("SELECT * FROM t WHERE a = $1 AND b > $3 LIMIT $2"),
            Ok(3)
        );
        assert_eq!(placeholders("SELECT '$1', \"$2\" FROM t -- $3"), Ok(0));
        assert_eq!(placeholders("SELECT $$ $1 $$"), Ok(0));
    }

    #[test]
    fn examples_are_used_only_when_complete_and_constant() {
        assert!(usable_example(
            "SELECT * FROM stock_move WHERE state = 'draft'"
        ));
        assert!(!usable_example("SELECT * FROM stock_move WHERE id = $1"));
        assert!(!usable_example(
            "SELECT * FROM stock_move WHERE name IN ('a', 'b…"
        ));
    }

    #[test]
    fn only_single_statements_are_sent() {
        assert_eq!(statement_text(" SELECT 1 ; "), Ok("SELECT 1"));
        assert!(statement_text("SELECT 1; DROP TABLE t").is_err());
        assert!(statement_text("  ; ").is_err());
    }
}
