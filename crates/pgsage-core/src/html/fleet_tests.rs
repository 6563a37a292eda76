//! The fleet page on a run of the demo snapshot (captured from a real server) twice, a
//! refused connection and a timeout: every server with its status and counts, failures
//! never shown as healthy, the actions with their servers, and hostile values as text.

use super::test_support::{assert_hostile_is_text, escaped, readable, HOSTILE};
use super::*;
use crate::fleet::{FleetSummary, Outcome};

fn summary() -> FleetSummary {
    FleetSummary::of(&crate::fleet::tests::fleet())
}

fn row<'a>(page: &'a str, server: &str) -> &'a str {
    let start = page
        .find(&format!("data-server=\"{server}\""))
        .unwrap_or_else(|| panic!("{server} is not on the page"));
    &page[start..start + page[start..].find("</tr>").expect("end of row")]
}

#[test]
fn every_server_is_on_the_page_with_its_status_and_counts() {
    let s = summary();
    let page = fleet_page(&s);
    assert!(page.starts_with("<!DOCTYPE html>"));
    for outside in ["http://", "https://", "src=\""] {
        assert!(!page.contains(outside), "the page refers to {outside}");
    }
    for server in &s.servers {
        let r = row(&page, &server.name);
        assert!(
            r.contains(&format!("data-status=\"{}\"", server.status)),
            "{r}"
        );
        match &server.error {
            Some(e) => {
                assert!(r.contains(&escaped(e)), "{r}");
                // Not audited: no count that reads as zero findings.
                assert!(r.matches(">–<").count() == 3, "{r}");
            }
            None => {
                let critical = crate::units::count(server.counts.critical);
                assert!(r.contains(&format!(">{critical}<")), "{r}");
            }
        }
    }
    assert!(
        page.contains("data-failed=\"2\""),
        "the banner counts the failures"
    );
    for a in &s.actions {
        let start = page
            .find(&format!("data-action=\"{}\"", a.id))
            .unwrap_or_else(|| panic!("{} is not on the page", a.id));
        let block = &page[start..start + page[start..].find("</div>").expect("end")];
        for server in &a.servers {
            assert!(block.contains(&format!("<code>{server}</code>")), "{block}");
        }
    }
}

#[test]
fn tags_and_errors_are_text() {
    let mut run = crate::fleet::tests::fleet();
    run.servers[0].tags.insert(HOSTILE.into(), HOSTILE.into());
    if let Outcome::Failed { message, .. } = &mut run.servers[2].outcome {
        *message = HOSTILE.into();
    }
    let page = fleet_page(&FleetSummary::of(&run));
    assert_hostile_is_text(&page);
}

#[test]
fn the_page_reads() {
    insta::assert_snapshot!("fleet_page", readable(&fleet::body(&summary())));
}
