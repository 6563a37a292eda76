//! What every `erp` rule starts from: the Odoo database it judges, or the skip.

use crate::knowledge::odoo::{self, Recognition};
use crate::rules::{RuleContext, Skip};
use crate::snapshot::ErpFacts;

/// The Odoo database of this view: where its catalog is, and what was read of it.
pub(crate) struct Odoo<'a> {
    /// Where the catalog tables are.
    pub recognition: Recognition,
    /// The facts the collector read (none in a snapshot taken by an older pgsage).
    pub facts: Option<&'a ErpFacts>,
}

impl Odoo<'_> {
    /// `Odoo 17.0` (or `Odoo`).
    pub fn label(&self) -> String {
        self.facts
            .map_or_else(|| "Odoo".to_owned(), ErpFacts::label)
    }
}

/// The view's Odoo database, or a skip naming why the pack does not apply.
pub(crate) fn odoo<'a>(ctx: &RuleContext<'a>) -> Result<Odoo<'a>, Skip> {
    let snap = ctx.snapshot;
    match odoo::recognise(&snap.tables) {
        Some(recognition) => Ok(Odoo {
            recognition,
            facts: snap.erp.as_ref(),
        }),
        None => Err(Skip(odoo::not_recognised_reason(&snap.server.database))),
    }
}

/// The facts the collector read, or a skip saying they were not.
pub(crate) fn facts<'a>(ctx: &RuleContext<'a>, o: &Odoo<'a>) -> Result<&'a ErpFacts, Skip> {
    o.facts.ok_or_else(|| {
        Skip(format!(
            "the snapshot of Odoo database {} has no application facts (collected by an older pgsage)",
            ctx.snapshot.server.database
        ))
    })
}
