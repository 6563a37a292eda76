//! Aggregation of log [`Sample`]s per fingerprint: memory bounded by the number of distinct
//! fingerprints (one accumulator and one statement text each), never by the log size.
//!
//! An [`Aggregator`] is fed samples one by one ([`Aggregator::add`]) or in batches
//! fingerprinted on rayon ([`Aggregator::add_batch`]); aggregators of different chunks
//! [`merge`](Aggregator::merge) exactly (the quantile sketches add up), and
//! [`finish`](Aggregator::finish) builds the [`Workload`].

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use super::fingerprint::{analyze, shown_text, Analysis, Fingerprint, StatementKind};
use super::model::{
    Bucket, QueryStats, Share, SourceKind, Totals, Workload, WorkloadSource,
    WORKLOAD_SCHEMA_VERSION,
};
use super::profile::{shares, Mix, Profile, Window};
use super::sketch::Sketch;
use super::{Sample, SampleKind};

/// Longest `example` kept in the workload, in bytes.
const MAX_EXAMPLE_BYTES: usize = 4096;
/// Distinct databases, users or applications kept per fingerprint; the rest are `…`.
const MAX_NAMES: usize = 256;

/// Fingerprints are already well-mixed 64-bit hashes: use them as they are.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type FpMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// How to aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AggregateOptions {
    /// Length of a time bucket, in seconds (3600: per hour).
    pub bucket_seconds: i64,
}

impl Default for AggregateOptions {
    fn default() -> Self {
        AggregateOptions {
            bucket_seconds: 3600,
        }
    }
}

/// Executions and time per name (database, user or application).
type Names = Vec<(Box<str>, u64, f64)>;

fn bump(names: &mut Names, name: Option<&str>, ms: f64) {
    add_name(names, name.unwrap_or("?"), 1, ms);
}

/// Adds `calls` and `ms` to `name`, or to `…` once [`MAX_NAMES`] names are kept: the
/// one rule for samples and for merged aggregators, so memory stays bounded either way.
fn add_name(names: &mut Names, name: &str, calls: u64, ms: f64) {
    if let Some(e) = names.iter_mut().find(|e| &*e.0 == name) {
        e.1 += calls;
        e.2 += ms;
        return;
    }
    let name = if names.len() >= MAX_NAMES {
        "…"
    } else {
        name
    };
    match names.iter_mut().find(|e| &*e.0 == name) {
        Some(e) => {
            e.1 += calls;
            e.2 += ms;
        }
        None => names.push((name.into(), calls, ms)),
    }
}

fn merge_names(into: &mut Names, from: &Names) {
    for (name, calls, ms) in from {
        add_name(into, name, *calls, *ms);
    }
}

fn to_shares(names: &Names) -> Vec<Share> {
    let mut v: Vec<Share> = names
        .iter()
        .map(|(n, c, t)| Share {
            name: n.to_string(),
            calls: *c,
            total_ms: *t,
        })
        .collect();
    v.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms).then(a.name.cmp(&b.name)));
    v
}

/// One fingerprint's running statistics.
#[derive(Debug, Clone)]
struct Acc {
    kind: StatementKind,
    bulk: bool,
    ends: bool,
    /// The first statement text seen (its constants replaced at the end).
    text: String,
    calls: u64,
    total_ms: f64,
    min_ms: f64,
    max_ms: f64,
    sketch: Sketch,
    plan_ms: f64,
    plans: u64,
    databases: Names,
    users: Names,
    applications: Names,
    buckets: BTreeMap<i64, (u64, f64)>,
}

impl Acc {
    fn new(a: &Analysis, text: &str) -> Acc {
        Acc {
            kind: a.kind,
            bulk: a.bulk,
            ends: a.ends_transaction,
            text: text.to_owned(),
            calls: 0,
            total_ms: 0.0,
            min_ms: f64::INFINITY,
            max_ms: 0.0,
            sketch: Sketch::new(),
            plan_ms: 0.0,
            plans: 0,
            databases: Vec::new(),
            users: Vec::new(),
            applications: Vec::new(),
            buckets: BTreeMap::new(),
        }
    }

    fn merge(&mut self, o: &Acc) {
        self.calls += o.calls;
        self.total_ms += o.total_ms;
        self.min_ms = self.min_ms.min(o.min_ms);
        self.max_ms = self.max_ms.max(o.max_ms);
        self.sketch.merge(&o.sketch);
        self.plan_ms += o.plan_ms;
        self.plans += o.plans;
        self.bulk |= o.bulk;
        merge_names(&mut self.databases, &o.databases);
        merge_names(&mut self.users, &o.users);
        merge_names(&mut self.applications, &o.applications);
        for (b, (c, t)) in &o.buckets {
            let e = self.buckets.entry(*b).or_default();
            e.0 += c;
            e.1 += t;
        }
    }
}

/// Aggregates samples per fingerprint.
#[derive(Clone, Default)]
pub struct Aggregator {
    opts: AggregateOptions,
    queries: FpMap<Acc>,
    /// auto_explain samples, used for fingerprints no statement line timed.
    explained: FpMap<Acc>,
    windows: BTreeMap<i64, Mix>,
    undated: Mix,
    first_at: Option<DateTime<Utc>>,
    last_at: Option<DateTime<Utc>>,
    skipped: u64,
    temp_bytes: FpMap<i64>,
}

impl std::fmt::Debug for Aggregator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aggregator")
            .field("fingerprints", &self.queries.len())
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

impl Aggregator {
    /// An empty aggregator.
    pub fn new(opts: AggregateOptions) -> Self {
        Aggregator {
            opts: AggregateOptions {
                bucket_seconds: opts.bucket_seconds.max(1),
            },
            ..Aggregator::default()
        }
    }

    /// Distinct fingerprints so far.
    pub fn fingerprints(&self) -> usize {
        self.queries.len()
    }

    /// Adds one sample.
    pub fn add(&mut self, s: &Sample) {
        if s.query.trim().is_empty() {
            self.skipped += 1;
            return;
        }
        let a = analyze(&s.query);
        self.add_analyzed(s, &a);
    }

    /// Adds samples, fingerprinting them in parallel (rayon) and merging per-thread
    /// aggregators: the same result as adding them one by one.
    pub fn add_batch(&mut self, samples: &[Sample]) {
        if samples.len() < 4096 {
            samples.iter().for_each(|s| self.add(s));
            return;
        }
        let opts = self.opts;
        let part = samples
            .par_chunks(2048)
            .fold(
                || Aggregator::new(opts),
                |mut agg, chunk| {
                    chunk.iter().for_each(|s| agg.add(s));
                    agg
                },
            )
            .reduce(
                || Aggregator::new(opts),
                |mut a, b| {
                    a.merge(b);
                    a
                },
            );
        self.merge(part);
    }

    /// Adds one sample whose statement was already analyzed (e.g. on the log reader's
    /// parser threads with `log::read_paths_map`): `a` must be `analyze(&s.query)`.
    pub fn add_analyzed(&mut self, s: &Sample, a: &Analysis) {
        if s.query.trim().is_empty() {
            self.skipped += 1;
            return;
        }
        let fp = a.fingerprint.0;
        let ms = if s.duration_ms.is_finite() && s.duration_ms >= 0.0 {
            s.duration_ms
        } else {
            0.0
        };
        let map = match s.kind {
            SampleKind::AutoExplain => &mut self.explained,
            _ => &mut self.queries,
        };
        let acc = map.entry(fp).or_insert_with(|| Acc::new(a, &s.query));
        // Bulk when any sample was (a fingerprint covers single- and multi-row VALUES):
        // the same answer whatever order samples or merged chunks come in.
        acc.bulk |= a.bulk;
        if s.kind == SampleKind::ParseOrBind {
            acc.plan_ms += ms;
            acc.plans += 1;
            return;
        }
        acc.calls += 1;
        acc.total_ms += ms;
        acc.min_ms = acc.min_ms.min(ms);
        acc.max_ms = acc.max_ms.max(ms);
        acc.sketch.add(ms);
        bump(&mut acc.databases, s.database.as_deref(), ms);
        bump(&mut acc.users, s.user.as_deref(), ms);
        bump(&mut acc.applications, s.application.as_deref(), ms);
        let bucket =
            s.at.map(|at| at.timestamp().div_euclid(self.opts.bucket_seconds));
        if let Some(b) = bucket {
            let e = acc.buckets.entry(b).or_default();
            e.0 += 1;
            e.1 += ms;
        }
        if s.kind == SampleKind::AutoExplain {
            return;
        }
        let mix = match bucket {
            Some(b) => self.windows.entry(b).or_default(),
            None => &mut self.undated,
        };
        mix.add(a.kind, 1, ms, a.bulk, a.ends_transaction);
        if let Some(at) = s.at {
            self.first_at = Some(self.first_at.map_or(at, |f| f.min(at)));
            self.last_at = Some(self.last_at.map_or(at, |l| l.max(at)));
        }
    }

    /// Attributes temporary files from the log (`log_temp_files` lines with their
    /// statement) to fingerprints.
    pub fn add_temp_files(&mut self, temp: &super::log::TempFiles) {
        for u in &temp.by_statement {
            if let Some(stmt) = &u.statement {
                let fp = super::fingerprint::fingerprint(stmt).0;
                *self.temp_bytes.entry(fp).or_default() +=
                    i64::try_from(u.bytes).unwrap_or(i64::MAX);
            }
        }
    }

    /// Adds another aggregator's samples (from another chunk or thread).
    pub fn merge(&mut self, other: Aggregator) {
        for (map, from) in [
            (&mut self.queries, other.queries),
            (&mut self.explained, other.explained),
        ] {
            for (fp, acc) in from {
                match map.get_mut(&fp) {
                    Some(mine) => mine.merge(&acc),
                    None => {
                        map.insert(fp, acc);
                    }
                }
            }
        }
        for (b, mix) in other.windows {
            self.windows.entry(b).or_default().merge(&mix);
        }
        self.undated.merge(&other.undated);
        self.first_at = match (self.first_at, other.first_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_at = match (self.last_at, other.last_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.skipped += other.skipped;
        for (fp, bytes) in other.temp_bytes {
            *self.temp_bytes.entry(fp).or_default() += bytes;
        }
    }

    /// The workload of everything added; `files` names the inputs.
    pub fn finish(mut self, files: Vec<String>) -> Workload {
        // Fingerprints only auto_explain timed (log_min_duration_statement off) count
        // from their plans.
        for (fp, acc) in std::mem::take(&mut self.explained) {
            let timed = self.queries.get(&fp).is_some_and(|q| q.calls > 0);
            if !timed && acc.calls > 0 {
                let mut mix = Mix::default();
                mix.add(acc.kind, acc.calls, acc.total_ms, acc.bulk, acc.ends);
                for (b, (c, t)) in &acc.buckets {
                    let mut m = Mix::default();
                    m.add(acc.kind, *c, *t, acc.bulk, acc.ends);
                    self.windows.entry(*b).or_default().merge(&m);
                }
                if acc.buckets.is_empty() {
                    self.undated.merge(&mix);
                }
                match self.queries.get_mut(&fp) {
                    Some(q) => q.merge(&acc),
                    None => {
                        self.queries.insert(fp, acc);
                    }
                }
            }
        }
        let bucket_seconds = self.opts.bucket_seconds;
        let temp = &self.temp_bytes;
        let mut queries: Vec<QueryStats> = self
            .queries
            .par_iter()
            .filter(|(_, a)| a.calls > 0)
            .map(|(fp, a)| query_stats(*fp, a, bucket_seconds, temp.get(fp).copied()))
            .collect();
        sort_queries(&mut queries);

        let mut mix = self.undated.clone();
        for m in self.windows.values() {
            mix.merge(m);
        }
        let span = match (self.first_at, self.last_at) {
            (Some(a), Some(b)) if b > a => Some((b - a).num_milliseconds() as f64 / 1000.0),
            _ => None,
        };
        let mut windows: Vec<Window> = self
            .windows
            .iter()
            .map(|(b, m)| {
                Window::new(
                    DateTime::from_timestamp(b * bucket_seconds, 0),
                    Some(bucket_seconds as f64),
                    m.clone(),
                )
            })
            .collect();
        if windows.is_empty() && mix.read_calls + mix.write_calls + mix.other_calls > 0 {
            windows.push(Window::new(None, span, mix.clone()));
        }
        let totals = Totals {
            calls: queries.iter().map(|q| q.calls).sum(),
            total_ms: queries.iter().map(|q| q.total_ms).sum(),
            fingerprints: queries.len(),
            unattributed_calls: 0,
            unattributed_ms: 0.0,
            skipped_samples: self.skipped,
        };
        let profile = build_profile(&queries, mix, windows, span, Some(bucket_seconds));
        Workload {
            schema_version: WORKLOAD_SCHEMA_VERSION,
            source: WorkloadSource {
                kind: SourceKind::Log,
                files,
                server_version: None,
                basis: None,
                started_at: self.first_at,
                ended_at: self.last_at,
                window_seconds: span,
                track_planning: None,
            },
            totals,
            profile,
            queries,
            incidents: Vec::new(),
        }
    }
}

/// Largest total time first; ties by fingerprint, so output is deterministic.
pub(crate) fn sort_queries(queries: &mut [QueryStats]) {
    queries.sort_by(|a, b| {
        b.total_ms
            .total_cmp(&a.total_ms)
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
}

/// The profile from the queries' breakdowns and the windows.
pub(crate) fn build_profile(
    queries: &[QueryStats],
    mix: Mix,
    windows: Vec<Window>,
    span_seconds: Option<f64>,
    bucket_seconds: Option<i64>,
) -> Profile {
    let breakdown = |pick: fn(&QueryStats) -> &Vec<Share>| {
        let mut by: BTreeMap<&str, (u64, f64)> = BTreeMap::new();
        for q in queries {
            for s in pick(q) {
                let e = by.entry(&s.name).or_default();
                e.0 += s.calls;
                e.1 += s.total_ms;
            }
        }
        shares(by.into_iter().map(|(n, (c, t))| (n.to_owned(), c, t)))
    };
    let calls = mix.read_calls + mix.write_calls + mix.other_calls;
    let rate = |n: u64| span_seconds.filter(|s| *s > 0.0).map(|s| n as f64 / s);
    let peak = windows
        .iter()
        .max_by(|a, b| a.total_ms.total_cmp(&b.total_ms))
        .cloned();
    Profile {
        statements_per_second: rate(calls),
        transactions_per_second: rate(mix.transactions),
        mix,
        bucket_seconds,
        peak,
        databases: breakdown(|q| &q.databases),
        users: breakdown(|q| &q.users),
        applications: breakdown(|q| &q.applications),
        windows,
    }
}

impl Acc {
    /// The sketch's quantile clamped to the exact extremes seen.
    fn quantile_ms(&self, q: f64) -> Option<f64> {
        let min = if self.min_ms.is_finite() {
            self.min_ms
        } else {
            0.0
        };
        self.sketch
            .quantile(q)
            .map(|v| v.clamp(min, self.max_ms.max(min)))
    }
}

fn query_stats(fp: u64, a: &Acc, bucket_seconds: i64, temp_bytes: Option<i64>) -> QueryStats {
    let example = if a.text.len() > MAX_EXAMPLE_BYTES {
        let mut cut = MAX_EXAMPLE_BYTES;
        while !a.text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &a.text[..cut])
    } else {
        a.text.clone()
    };
    QueryStats {
        fingerprint: Fingerprint(fp),
        query: shown_text(&a.text),
        kind: a.kind,
        calls: a.calls,
        total_ms: a.total_ms,
        mean_ms: a.total_ms / a.calls as f64,
        min_ms: if a.min_ms.is_finite() { a.min_ms } else { 0.0 },
        max_ms: a.max_ms,
        // The sketch is within 1 % of the truth; never outside the exact min and max.
        p50_ms: a.quantile_ms(0.5),
        p95_ms: a.quantile_ms(0.95),
        p99_ms: a.quantile_ms(0.99),
        rows: None,
        toplevel: None,
        plan_ms: (a.plans > 0).then_some(a.plan_ms),
        plans: (a.plans > 0).then(|| i64::try_from(a.plans).unwrap_or(i64::MAX)),
        shared_blks_hit: None,
        shared_blks_read: None,
        temp_bytes,
        bulk: a.bulk,
        queryids: Vec::new(),
        server_text: None,
        example: Some(example),
        databases: to_shares(&a.databases),
        users: to_shares(&a.users),
        applications: to_shares(&a.applications),
        buckets: a
            .buckets
            .iter()
            .filter_map(|(b, (c, t))| {
                Some(Bucket {
                    start: DateTime::from_timestamp(b * bucket_seconds, 0)?,
                    calls: *c,
                    total_ms: *t,
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
