//! A mergeable quantile sketch for durations: a log-bucket histogram (the DDSketch idea)
//! with at most 1 % relative error on every quantile.
//!
//! Bucket `i` holds values in `(γ^(i-1), γ^i]` with `γ = (1 + α) / (1 − α)`, `α = 0.01`;
//! a bucket is reported as `2γ^i / (γ + 1)`, which is within `α` of every value in it.
//! Buckets are a dense vector from the lowest to the highest index seen: a query whose
//! durations span two decades uses about 230 counters. Merging adds counters, so chunks
//! aggregated on different threads merge exactly.

use serde::{Deserialize, Serialize};

/// The relative accuracy of reported quantiles.
pub const RELATIVE_ERROR: f64 = 0.01;

/// Values at or below this (ms) are counted as zero: 1 µs, below any timing resolution.
const MIN_MS: f64 = 0.001;

fn gamma() -> f64 {
    (1.0 + RELATIVE_ERROR) / (1.0 - RELATIVE_ERROR)
}

/// The sketch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sketch {
    /// Index of `counts[0]`.
    offset: i32,
    /// Counts per bucket from `offset` up.
    counts: Vec<u32>,
    /// Values ≤ 1 µs (and negative or NaN ones).
    zeros: u64,
    /// All values.
    count: u64,
}

impl Sketch {
    /// An empty sketch.
    pub fn new() -> Self {
        Sketch::default()
    }

    /// Number of values added.
    pub fn count(&self) -> u64 {
        self.count
    }

    fn index(ms: f64) -> i32 {
        (ms.ln() / gamma().ln()).ceil() as i32
    }

    /// Adds one duration in ms.
    pub fn add(&mut self, ms: f64) {
        self.count += 1;
        if ms.is_nan() || ms <= MIN_MS {
            self.zeros += 1;
            return;
        }
        let i = Self::index(ms.min(1e12));
        self.bump(i, 1);
    }

    fn bump(&mut self, i: i32, n: u32) {
        if self.counts.is_empty() {
            self.offset = i;
            self.counts.push(0);
        } else if i < self.offset {
            let grow = (self.offset - i) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = i;
        } else if (i - self.offset) as usize >= self.counts.len() {
            self.counts.resize((i - self.offset) as usize + 1, 0);
        }
        let slot = &mut self.counts[(i - self.offset) as usize];
        *slot = slot.saturating_add(n);
    }

    /// Adds another sketch's values.
    pub fn merge(&mut self, other: &Sketch) {
        self.count += other.count;
        self.zeros += other.zeros;
        for (k, &n) in other.counts.iter().enumerate() {
            if n > 0 {
                self.bump(other.offset + k as i32, n);
            }
        }
    }

    /// The `q` quantile (0 ≤ q ≤ 1) in ms, within 1 % of the true value; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        // Nearest rank: the smallest value with at least q of the values at or below it.
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1) - 1;
        if rank < self.zeros {
            return Some(0.0);
        }
        let mut seen = self.zeros;
        let g = gamma();
        for (k, &n) in self.counts.iter().enumerate() {
            seen += u64::from(n);
            if seen > rank {
                let i = self.offset + k as i32;
                return Some(2.0 * g.powi(i) / (g + 1.0));
            }
        }
        // Counters saturated: the top bucket.
        let i = self.offset + self.counts.len() as i32 - 1;
        Some(2.0 * g.powi(i) / (g + 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::Sketch;

    fn exact(sorted: &[f64], q: f64) -> f64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1) - 1;
        sorted[rank]
    }

    #[test]
    fn quantiles_are_within_one_percent() {
        let mut values: Vec<f64> = (1..=20_000u64)
            .map(|i| {
                let x = (i.wrapping_mul(2_654_435_761) % 1_000_003) as f64;
                0.01 + x * x / 1e7
            })
            .collect();
        let mut s = Sketch::new();
        for v in &values {
            s.add(*v);
        }
        values.sort_by(f64::total_cmp);
        for q in [0.0, 0.5, 0.9, 0.95, 0.99, 1.0] {
            let want = exact(&values, q);
            let got = s.quantile(q).expect("values");
            assert!(
                (got - want).abs() <= 0.01 * want + 1e-9,
                "q{q}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn merging_equals_adding_everything_to_one() {
        let mut a = Sketch::new();
        let mut b = Sketch::new();
        let mut all = Sketch::new();
        for i in 0..1000 {
            let v = 0.5 + f64::from(i) * 0.37;
            if i % 3 == 0 {
                a.add(v)
            } else {
                b.add(v * 100.0)
            }
            all.add(if i % 3 == 0 { v } else { v * 100.0 });
        }
        a.merge(&b);
        assert_eq!(a.count(), all.count());
        for q in [0.1, 0.5, 0.99] {
            assert_eq!(a.quantile(q), all.quantile(q));
        }
    }

    #[test]
    fn zero_nan_and_huge_values_are_safe() {
        let mut s = Sketch::new();
        assert_eq!(s.quantile(0.5), None);
        for v in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e300, 0.0005] {
            s.add(v);
        }
        assert_eq!(s.quantile(0.0), Some(0.0));
        assert!(s.quantile(1.0).is_some_and(|v| v.is_finite()));
    }
}
