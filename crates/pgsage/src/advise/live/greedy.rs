//! The greedy choice, as plain arithmetic over measured planner costs (the EXPLAINs are
//! [`super::validate`]'s business).
//!
//! A candidate's marginal benefit, given the indexes already chosen, is
//! `Σ time_now × (cost_now − cost_with_it) / cost_now` over the statements whose plan
//! uses it and whose cost drops by at least `min_cost_drop_pct`, where `time_now` is the
//! statement's execution time scaled by its cost now over its cost without new indexes:
//! the execution time the workload would save if time followed the planner's cost. A
//! statement the chosen indexes already made fast (`time_now` 0, see
//! [`time_now`]) counts for nothing: a second index for it is not worth its writes. Each round takes the
//! candidate with the largest benefit per byte of index that still fits the budget.

/// One candidate's effect on one statement: the plan with the chosen indexes plus it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Effect {
    /// The statement (index into the validated statements).
    pub query: usize,
    /// The plan's root cost.
    pub cost: f64,
    /// Whether the plan uses the candidate.
    pub uses: bool,
}

/// What a candidate would bring now.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Gain {
    /// Saves `benefit_ms` on the statements `helped`.
    Helps {
        /// Σ total_ms × relative cost drop.
        benefit_ms: f64,
        /// The statements counted.
        helped: Vec<usize>,
    },
    /// No plan uses it.
    NotUsed,
    /// Plans use it, but the cost does not drop enough; the largest statement's figures.
    TooSmall {
        /// Cost now.
        before: f64,
        /// Cost with it.
        after: f64,
    },
    /// None of its statements could be planned.
    Unmeasured,
    /// Its statements are already fast with the indexes chosen before it.
    AlreadyFast,
}

impl Gain {
    /// The benefit, 0 unless it helps.
    pub fn benefit_ms(&self) -> f64 {
        match self {
            Gain::Helps { benefit_ms, .. } => *benefit_ms,
            _ => 0.0,
        }
    }

    /// The rejection reason when it does not help.
    pub fn reason(&self, min_cost_drop_pct: f64) -> Option<String> {
        match self {
            Gain::Helps { .. } => None,
            Gain::NotUsed => Some("plan does not use it".into()),
            Gain::TooSmall { before, after } => Some(format!(
                "no cost gain: {} → {} (less than the {} drop required)",
                pgsage_core::units::number(*before),
                pgsage_core::units::number(*after),
                pgsage_core::units::percent(min_cost_drop_pct)
            )),
            Gain::Unmeasured => Some("its statements could not be planned".into()),
            Gain::AlreadyFast => {
                Some("its statements are already fast with the indexes chosen before it".into())
            }
        }
    }
}

/// The marginal gain of a candidate from its `effects`, given each statement's cost now
/// (`current`, None: not planned) and execution time (`total_ms`).
pub(super) fn marginal(
    effects: &[Effect],
    current: &[Option<f64>],
    total_ms: &[f64],
    min_cost_drop_pct: f64,
) -> Gain {
    let mut benefit_ms = 0.0;
    let mut helped = Vec::new();
    let mut measured = false;
    let mut fast = false;
    // The statement with the most time among those whose plan uses it without gain.
    let mut weakest: Option<(f64, f64, f64)> = None;
    for e in effects {
        let Some(now) = current.get(e.query).copied().flatten() else {
            continue;
        };
        measured = true;
        if !e.uses || now <= 0.0 {
            continue;
        }
        let drop = (now - e.cost) / now;
        let time = total_ms.get(e.query).copied().unwrap_or(0.0);
        if time <= 0.0 {
            fast = true;
            continue;
        }
        if drop * 100.0 >= min_cost_drop_pct {
            benefit_ms += time * drop;
            helped.push(e.query);
        } else if weakest.is_none_or(|(t, _, _)| time > t) {
            weakest = Some((time, now, e.cost));
        }
    }
    if !helped.is_empty() {
        Gain::Helps { benefit_ms, helped }
    } else if let Some((_, before, after)) = weakest {
        Gain::TooSmall { before, after }
    } else if fast {
        Gain::AlreadyFast
    } else if measured {
        Gain::NotUsed
    } else {
        Gain::Unmeasured
    }
}

/// Each statement's execution time now, with the indexes chosen so far: its time in the
/// workload scaled by its plan's cost now over its cost without new indexes; 0 when a
/// chosen index brought its mean per call under `min_mean_ms` (already fast) or it was
/// not planned.
pub(super) fn time_now(
    total_ms: &[f64],
    calls: &[u64],
    base: &[Option<f64>],
    current: &[Option<f64>],
    min_mean_ms: f64,
) -> Vec<f64> {
    total_ms
        .iter()
        .enumerate()
        .map(|(q, &total)| {
            let (Some(Some(b)), Some(Some(now))) = (base.get(q), current.get(q)) else {
                return 0.0;
            };
            if now >= b || *b <= 0.0 {
                // No chosen index changed its plan: its time as captured (whether it is
                // slow enough to index was the candidates' gate).
                return total;
            }
            let time = total * now / b;
            let calls = calls.get(q).copied().unwrap_or(0).max(1) as f64;
            if time / calls < min_mean_ms {
                0.0
            } else {
                time
            }
        })
        .collect()
}

/// A candidate in the running, with its current gain and its size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Scored {
    /// The candidate (index into the candidates).
    pub candidate: usize,
    /// Its marginal benefit, ms.
    pub benefit_ms: f64,
    /// Its size, bytes.
    pub size_bytes: i64,
}

/// The round's pick: the best benefit per byte among those that fit.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pick {
    /// The chosen candidate, if any helps and fits.
    pub chosen: Option<usize>,
    /// Candidates that help but do not fit the size budget.
    pub over_budget: Vec<usize>,
}

/// Chooses among `scored` with `used_bytes` of the budget `max_size_bytes` spent.
pub(super) fn pick(scored: &[Scored], used_bytes: i64, max_size_bytes: Option<i64>) -> Pick {
    let mut best: Option<(f64, f64, usize)> = None;
    let mut over_budget = Vec::new();
    for s in scored.iter().filter(|s| s.benefit_ms > 0.0) {
        if max_size_bytes.is_some_and(|max| used_bytes.saturating_add(s.size_bytes) > max) {
            over_budget.push(s.candidate);
            continue;
        }
        let per_byte = s.benefit_ms / s.size_bytes.max(1) as f64;
        // Ties (equal benefit per byte) go to the larger benefit, then the earlier rank.
        let better =
            best.is_none_or(|(bp, bb, _)| per_byte > bp || (per_byte == bp && s.benefit_ms > bb));
        if better {
            best = Some((per_byte, s.benefit_ms, s.candidate));
        }
    }
    Pick {
        chosen: best.map(|(_, _, c)| c),
        over_budget,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effect(query: usize, cost: f64, uses: bool) -> Effect {
        Effect { query, cost, uses }
    }

    #[test]
    fn benefit_is_time_times_relative_drop_of_plans_that_use_it() {
        let current = [Some(1000.0), Some(200.0), None];
        let total = [500.0, 100.0, 900.0];
        let gain = marginal(
            &[
                effect(0, 100.0, true), // 90 % drop: 450 ms
                effect(1, 150.0, true), // 25 %: below 50 %, not counted
                effect(2, 1.0, true),   // not planned before: ignored
            ],
            &current,
            &total,
            50.0,
        );
        assert_eq!(
            gain,
            Gain::Helps {
                benefit_ms: 450.0,
                helped: vec![0]
            }
        );
    }

    #[test]
    fn rejections_say_why() {
        let current = [Some(1234.0), Some(10.0)];
        let total = [100.0, 1.0];
        let unused = marginal(&[effect(0, 1234.0, false)], &current, &total, 50.0);
        assert_eq!(unused, Gain::NotUsed);
        assert_eq!(unused.reason(50.0).as_deref(), Some("plan does not use it"));
        let weak = marginal(
            &[effect(0, 1220.0, true), effect(1, 9.0, true)],
            &current,
            &total,
            50.0,
        );
        assert_eq!(
            weak,
            Gain::TooSmall {
                before: 1234.0,
                after: 1220.0
            }
        );
        assert!(weak.reason(50.0).is_some_and(|r| r.starts_with(&format!(
            "no cost gain: {} → {}",
            pgsage_core::units::number(1234.0),
            pgsage_core::units::number(1220.0)
        ))));
        assert_eq!(
            marginal(&[effect(0, 1.0, true)], &[None], &[1.0], 50.0),
            Gain::Unmeasured
        );
    }

    #[test]
    fn a_statement_made_fast_by_a_chosen_index_counts_for_nothing() {
        // 923 calls, 15 s: 16 ms each at cost 4437. A first index brings the cost to 5
        // (0.02 ms each): a covering variant that takes it to 1 saves nothing that
        // matters.
        let base = [Some(4437.0), Some(1000.0)];
        let total = [15035.0, 5000.0];
        let calls = [923, 100];
        let first = time_now(&total, &calls, &base, &base, 1.0);
        assert_eq!(first, vec![15035.0, 5000.0]);
        let current = [Some(5.0), Some(400.0)];
        let now = time_now(&total, &calls, &base, &current, 1.0);
        assert_eq!(now[0], 0.0);
        assert!((now[1] - 2000.0).abs() < 1e-9, "{now:?}");
        assert_eq!(
            marginal(&[effect(0, 1.0, true)], &current, &now, 50.0),
            Gain::AlreadyFast
        );
        // The second statement, still slow, counts at its time now.
        match marginal(&[effect(1, 100.0, true)], &current, &now, 50.0) {
            Gain::Helps { benefit_ms, .. } => assert!((benefit_ms - 1500.0).abs() < 1e-9),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pick_prefers_benefit_per_byte_within_budget() {
        let scored = [
            Scored {
                candidate: 0,
                benefit_ms: 1000.0,
                size_bytes: 10_000_000,
            },
            Scored {
                candidate: 1,
                benefit_ms: 600.0,
                size_bytes: 1_000_000,
            },
            Scored {
                candidate: 2,
                benefit_ms: 0.0,
                size_bytes: 1,
            },
        ];
        assert_eq!(
            pick(&scored, 0, None),
            Pick {
                chosen: Some(1),
                over_budget: vec![]
            }
        );
        // 9 MB spent of 12 MB: only the small one fits.
        assert_eq!(
            pick(&scored, 9_000_000, Some(12_000_000)),
            Pick {
                chosen: Some(1),
                over_budget: vec![0]
            }
        );
        assert_eq!(
            pick(&scored, 11_500_000, Some(12_000_000)),
            Pick {
                chosen: None,
                over_budget: vec![0, 1]
            }
        );
    }
}
