//! Sending the collector's queries with few round trips.
//!
//! Every section runs in its own subtransaction, sent as three statements:
//!
//! ```sql
//! SAVEPOINT pgsage;
//! <the section's query>;
//! ROLLBACK TO SAVEPOINT pgsage; RELEASE SAVEPOINT pgsage;
//! ```
//!
//! Rolling back a read-only subtransaction loses nothing (its rows have been sent),
//! but it contains a failure (missing privilege, missing extension, a timeout), which
//! becomes a [`Gap`] instead of aborting the transaction, and it releases the locks
//! the section took: `pg_sequence_last_value` keeps a lock per sequence until the end
//! of the (sub)transaction, enough to exhaust the shared lock table on a database with
//! thousands of sequences. The transaction's snapshot and statistics snapshot are
//! unaffected.
//!
//! Because no failure can leak past its section, a whole [`Plan`] is *pipelined*:
//! sent at once, answered at once, in one round trip — whatever the number of tables
//! and whatever fails.
//!
//! Queries go through `query_typed` (parse, bind, execute in one message), so no
//! separate prepare round trip, and every column is cast to a built-in type in SQL,
//! so the driver never needs to look a type up mid-pipeline.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use futures_util::future::{join3, maybe_done, poll_fn, MaybeDone};
use tokio_postgres::{Client, Error as PgError, Row};

use super::CollectStats;
use crate::snapshot::Gap;
use crate::{Error, Result};

/// One connection's worth of collection: the client and what it has cost so far.
pub(super) struct Conn<'a> {
    client: &'a Client,
    pub(super) stats: CollectStats,
}

/// Queries to pipeline, each with the gap name used when it fails.
#[derive(Default)]
pub(super) struct Plan {
    queries: Vec<(&'static str, String)>,
}

/// A query's place in a [`Plan`] and its [`Results`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot(usize);

impl Plan {
    /// Adds a query; `what` names the section in a gap if it fails.
    pub(super) fn add(&mut self, what: &'static str, sql: String) -> Slot {
        self.queries.push((what, sql));
        Slot(self.queries.len() - 1)
    }
}

enum Outcome {
    Rows(Vec<Row>),
    Failed(String),
}

/// The answers to a [`Plan`].
pub(super) struct Results {
    whats: Vec<&'static str>,
    outcomes: Vec<Option<Outcome>>,
}

impl Results {
    /// Decodes a query's rows. A failed query or undecodable rows become a gap named
    /// after the query's section, and `None`.
    pub(super) fn take<T>(
        &mut self,
        slot: Slot,
        gaps: &mut Vec<Gap>,
        decode: impl FnOnce(&[Row]) -> Result<T, PgError>,
    ) -> Option<T> {
        let what = self.whats[slot.0];
        match self.outcomes[slot.0].take() {
            Some(Outcome::Rows(rows)) => match decode(&rows) {
                Ok(v) => Some(v),
                Err(e) => {
                    gaps.push(gap(what, format!("unexpected result: {e}")));
                    None
                }
            },
            Some(Outcome::Failed(why)) => {
                gaps.push(gap(what, why));
                None
            }
            // Taken twice: a bug, reported rather than hidden.
            None => {
                gaps.push(gap(what, "internal error: result already used".into()));
                None
            }
        }
    }

    /// Whether a query failed (without consuming its result).
    pub(super) fn failed(&self, slot: Slot) -> bool {
        matches!(self.outcomes[slot.0], Some(Outcome::Failed(_)))
    }

    /// Drops a query's result without recording anything.
    pub(super) fn discard(&mut self, slot: Slot) {
        self.outcomes[slot.0] = None;
    }
}

/// A gap.
pub(super) fn gap(what: &str, why: String) -> Gap {
    Gap {
        what: what.to_owned(),
        why,
    }
}

impl<'a> Conn<'a> {
    pub(super) fn new(client: &'a Client) -> Self {
        Conn {
            client,
            stats: CollectStats::default(),
        }
    }

    /// Runs one statement (no result rows) in one round trip; any failure is fatal.
    pub(super) async fn execute(&mut self, what: &str, sql: &str) -> Result<()> {
        self.stats.round_trips += 1;
        self.stats.statements += 1;
        self.client
            .batch_execute(sql)
            .await
            .map_err(|source| fatal(what, source))
    }

    /// Runs `first` (a simple statement such as `BEGIN`), a one-row query `a` and a
    /// query `b` in one round trip; any failure is fatal.
    pub(super) async fn open(
        &mut self,
        first: &str,
        a: (&str, &str),
        b: (&str, &str),
    ) -> Result<(Row, Vec<Row>)> {
        self.stats.round_trips += 1;
        self.stats.statements += 3;
        // join3 polls in order, and each future sends its request on its first poll,
        // so the server receives them in this order.
        let (r0, ra, rb) = join3(
            self.client.batch_execute(first),
            self.client.query_typed_one(a.1, &[]),
            self.client.query_typed(b.1, &[]),
        )
        .await;
        r0.map_err(|e| fatal(first, e))?;
        let ra = ra.map_err(|e| fatal(a.0, e))?;
        let rb = rb.map_err(|e| fatal(b.0, e))?;
        Ok((ra, rb))
    }

    /// Runs a plan inside the current transaction, each query in its own
    /// subtransaction, in one round trip. Server-side failures become [`Results`]
    /// entries (gaps); client-side ones (the connection closed) are errors.
    pub(super) async fn run(&mut self, plan: Plan) -> Result<Results> {
        self.stats.round_trips += 1;
        self.stats.statements += 3 * plan.queries.len() as u32;
        let answers = join_in_order(
            plan.queries
                .iter()
                .map(|(_, sql)| {
                    // join3 polls in order, and each future sends its request on its
                    // first poll, so the server receives them in this order.
                    join3(
                        self.client.batch_execute("SAVEPOINT pgsage"),
                        self.client.query_typed(sql, &[]),
                        self.client.batch_execute(
                            "ROLLBACK TO SAVEPOINT pgsage; RELEASE SAVEPOINT pgsage",
                        ),
                    )
                })
                .collect(),
        )
        .await;
        let mut outcomes = Vec::with_capacity(answers.len());
        for ((what, _), (savepoint, answer, rollback)) in plan.queries.iter().zip(answers) {
            savepoint.map_err(|e| fatal(what, e))?;
            rollback.map_err(|e| fatal(what, e))?;
            outcomes.push(Some(match answer {
                Ok(rows) => Outcome::Rows(rows),
                Err(e) => match server_error(&e) {
                    Some(why) => Outcome::Failed(why),
                    None => return Err(fatal(what, e)),
                },
            }));
        }
        Ok(Results {
            whats: plan.queries.iter().map(|(w, _)| *w).collect(),
            outcomes,
        })
    }
}

impl Conn<'_> {
    /// Runs a plan over several connections at once, each in its own transaction: the
    /// queries whose section is in `lanes[k]` on `helpers[k]`, the rest on `self`; the
    /// results come back in the plan's order. Every transaction must already be open on
    /// the same exported snapshot, so the data is one consistent picture.
    pub(super) async fn run_split(
        &mut self,
        helpers: &mut [Conn<'_>],
        plan: Plan,
        lanes: &[&[&str]],
    ) -> Result<Results> {
        let mut plans: Vec<Plan> = (0..=helpers.len()).map(|_| Plan::default()).collect();
        // Where each query of `plan` went: (lane, 0 being `self`; index in that lane).
        let mut placed = Vec::with_capacity(plan.queries.len());
        for (what, sql) in plan.queries {
            let lane = lanes
                .iter()
                .take(helpers.len())
                .position(|sections| sections.contains(&what))
                .map_or(0, |k| k + 1);
            placed.push((lane, plans[lane].queries.len()));
            plans[lane].queries.push((what, sql));
        }
        let mut plans = plans.into_iter();
        let mine = plans.next().unwrap_or_default();
        let theirs = futures_util::future::try_join_all(
            helpers.iter_mut().zip(plans).map(|(h, p)| h.run(p)),
        );
        let (mine, theirs) = futures_util::future::try_join(self.run(mine), theirs).await?;
        let mut answers: Vec<Results> = std::iter::once(mine).chain(theirs).collect();
        let mut whats = Vec::with_capacity(placed.len());
        let mut outcomes = Vec::with_capacity(placed.len());
        for (lane, i) in placed {
            let from = &mut answers[lane];
            whats.push(from.whats[i]);
            outcomes.push(from.outcomes[i].take());
        }
        Ok(Results { whats, outcomes })
    }
}

/// The server's message for an error the server reported (privilege, missing object,
/// timeout); `None` for client-side errors (closed connection, I/O, decoding).
fn server_error(e: &PgError) -> Option<String> {
    e.as_db_error()
        .map(|db| format!("{} (SQLSTATE {})", db.message(), db.code().code()))
}

fn fatal(what: &str, source: PgError) -> Error {
    Error::query(what, source)
}

/// Awaits futures together, first-polling them in order, so that requests they send on
/// their first poll reach the connection in that order (`join_all` may reorder large sets).
async fn join_in_order<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<MaybeDone<F>>>> = futures
        .into_iter()
        .map(|f| Box::pin(maybe_done(f)))
        .collect();
    poll_fn(|cx| {
        let mut all_done = true;
        for f in futures.iter_mut() {
            all_done &= f.as_mut().poll(cx).is_ready();
        }
        if all_done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    futures
        .iter_mut()
        .filter_map(|f| f.as_mut().take_output())
        .collect()
}
