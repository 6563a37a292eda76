//! `pgsage diff --format html`: what changed between two snapshots as one page. Its
//! sections and lines are the text renderer's ([`crate::diff::render::sections`]), so
//! the page says what the terminal says; identifiers in backticks become code.

use maud::{html, Markup};

use super::audit::prose;
use crate::diff::render::{sections, title};
use crate::diff::SnapshotDiff;

/// The page's sections.
pub fn body(diff: &SnapshotDiff) -> Markup {
    html! {
        header {
            h1 { (prose(&title(diff))) }
        }
        @for s in sections(diff) {
            section {
                h2 { (s.heading) }
                ul { @for line in &s.lines { li { (prose(line)) } } }
            }
        }
        footer class="muted" {
            "Made by pgsage " (env!("CARGO_PKG_VERSION")) ". Every value from the server is shown as text."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_hostile_is_text, HOSTILE};
    use crate::diff::{snapshots, DiffOptions};
    use crate::snapshot::Snapshot;
    use crate::RuleConfig;

    fn fixture(case: &str) -> Snapshot {
        Snapshot::load(pgsage_testkit::scenario::fixture_path("vacuum", case)).expect("fixture")
    }

    #[test]
    fn the_page_holds_every_section_and_shows_server_values_as_text() {
        let config = RuleConfig::shipped().expect("packs");
        let mut d = snapshots(
            &fixture("healthy"),
            &fixture("problems"),
            &config,
            &DiffOptions::default(),
        )
        .expect("one server");
        let page = crate::html::diff_page(&d);
        for s in crate::diff::render::sections(&d) {
            assert!(
                page.contains(&format!("<h2>{}</h2>", s.heading)),
                "{}",
                s.heading
            );
        }
        assert!(page.contains("<code>scenario.public.stock_move_line</code>"));
        d.findings.new[0].message = HOSTILE.into();
        assert_hostile_is_text(&crate::html::diff_page(&d));
    }
}
