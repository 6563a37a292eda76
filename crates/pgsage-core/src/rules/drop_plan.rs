//! The index-drop plan: which of the indexes that rules IDX001 (duplicate), IDX002
//! (redundant prefix), IDX003 (unused) and IDX007 (low cardinality) would drop the audit
//! does propose to drop, and which it keeps instead, and why. One decision per index, made
//! once per audit ([`super::Views`]) by `indexing::index_drops`, so that no two findings
//! contradict each other: no plan drops every index a foreign key or the workload needs,
//! no finding keeps an index another one drops, and one index is dropped by one finding.
//!
//! This module holds the plan's data only (the rules and the view depend on it); the
//! decisions are made in `rules::indexing::index_drops`.

use std::collections::BTreeMap;

/// Why a rule drops an index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DropReason {
    /// IDX001: an exact copy of the index `keep` (an oid).
    Duplicate {
        /// The copy of the group that the duplicate rule keeps.
        keep: u32,
    },
    /// IDX002: its keys lead `cover` (an oid), which stays.
    Prefix {
        /// The smallest covering index that stays.
        cover: u32,
    },
    /// IDX003: no query used it.
    Unused,
    /// IDX007: rarely used, on a low-cardinality leading column.
    LowCardinality,
}

/// Why an index a rule would drop is kept.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum KeepReason {
    /// It is the index left to serve these foreign keys once the other indexes that
    /// served them are dropped (or it was the only one).
    ForeignKey {
        /// The foreign keys' names.
        constraints: Vec<String>,
        /// The referenced table of the first one, `schema.table`.
        referenced: String,
        /// The other indexes that served them and are dropped (oids).
        dropped_beside: Vec<u32>,
    },
    /// The workload's statements need it: without it, the index advisor (IDX009) would
    /// recommend an index on `columns` for them.
    Workload {
        /// The key columns the advisor would recommend without it.
        columns: Vec<String>,
        /// Calls of the statements that index would help.
        calls: u64,
        /// The most frequent of those statements (normalised text).
        query: String,
    },
}

/// A drop the plan proposes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dropped {
    /// The rule whose finding carries the `DROP INDEX` (IDX001 before IDX002 before IDX003
    /// before IDX007 when several would drop it).
    pub rule: &'static str,
    /// Why.
    pub reason: DropReason,
    /// Indexes that stay beside this drop, with why, for the message: the index kept for
    /// a foreign key or the workload once this one is dropped, or a shorter index that was
    /// redundant only with this one.
    pub siblings_kept: Vec<(u32, String)>,
}

/// A drop a rule would propose and the plan vetoes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Kept {
    /// The rule whose finding says it stays: the first (IDX001, IDX002, IDX003, IDX007)
    /// that would drop it without the veto.
    pub rule: &'static str,
    /// Why it stays.
    pub reason: KeepReason,
}

/// The plan's decision on one index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Dropped by one rule's finding.
    Drop(Dropped),
    /// A rule would drop it; it stays.
    Keep(Kept),
}

/// The index-drop plan of an audit: a decision for every index a rule would drop.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DropPlan {
    /// Decisions by index oid.
    pub decisions: BTreeMap<u32, Decision>,
}

/// What the plan says to the rule that asks about an index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict<'a> {
    /// This rule's finding drops it.
    Drop(&'a Dropped),
    /// Another rule's finding drops it, or says it stays (that rule's id): one index, one
    /// finding.
    OtherRule(&'static str),
    /// It stays: this rule says why instead of dropping it.
    Keep(&'a Kept),
    /// The plan has no drop of this index by this rule (for IDX002: the index it was
    /// redundant with is dropped, so it is not redundant).
    NoDrop,
}

impl DropPlan {
    /// The verdict on index `oid` for rule `rule`.
    pub(crate) fn verdict(&self, oid: u32, rule: &str) -> Verdict<'_> {
        match self.decisions.get(&oid) {
            Some(Decision::Drop(d)) if d.rule == rule => Verdict::Drop(d),
            Some(Decision::Drop(d)) => Verdict::OtherRule(d.rule),
            Some(Decision::Keep(k)) if k.rule == rule => Verdict::Keep(k),
            Some(Decision::Keep(k)) => Verdict::OtherRule(k.rule),
            None => Verdict::NoDrop,
        }
    }

    /// The index that serves what `oid` served once the plan is applied: `oid` itself when
    /// it stays, the index it is a prefix of when IDX002 drops it (that one stays), `None`
    /// when it is dropped for being unused or rarely used.
    pub(crate) fn survivor(&self, oid: u32) -> Option<u32> {
        match self.decisions.get(&oid) {
            Some(Decision::Drop(d)) => match d.reason {
                DropReason::Prefix { cover } => Some(cover),
                DropReason::Duplicate { keep } if keep != oid => self.survivor(keep),
                _ => None,
            },
            _ => Some(oid),
        }
    }
}
