use super::*;

fn demo() -> (Snapshot, Report) {
    let p =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/snapshots/demo.json");
    let snap = Snapshot::load(&p).expect("demo");
    let report = crate::audit(&snap, &crate::RuleConfig::shipped().expect("packs"));
    (snap, report)
}

#[test]
fn the_page_is_one_file_that_requests_nothing() {
    let (snap, report) = demo();
    let page = audit_page(&report, Some(&snap));
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains(layout::CONTENT_SECURITY_POLICY));
    for outside in [
        "http://",
        "https://",
        "src=\"",
        "href=\"http",
        "@import",
        "url(",
    ] {
        assert!(!page.contains(outside), "the page refers to {outside}");
    }
}

#[test]
fn every_action_and_finding_is_on_the_page() {
    let (snap, report) = demo();
    let page = audit_page(&report, Some(&snap));
    for a in &report.actions {
        assert!(
            page.contains(&format!("id=\"action-{}\"", a.id)),
            "{}",
            a.id
        );
    }
    for i in 0..report.findings.len() {
        assert!(page.contains(&format!("id=\"finding-{i}\"")), "finding {i}");
    }
}

#[test]
fn server_values_are_text() {
    let (snap, mut report) = demo();
    report.findings[0].message = "<script>alert(1)</script> & \"quoted\"".into();
    report.target.database = "<img src=x onerror=alert(1)>".into();
    let page = audit_page(&report, Some(&snap));
    assert!(!page.contains("<script>alert(1)"));
    assert!(!page.contains("<img src=x"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;"));
}
