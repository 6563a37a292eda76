//! Helpers of the page tests: a value as a page shows it, and a page body laid out one
//! block per line for reviewed snapshots.

/// `text` as maud writes it into a page (escaped).
pub(super) fn escaped(text: &str) -> String {
    maud::html! { (text) }.into_string()
}

/// A value a hostile server could send: a script, an attribute break-out, quotes.
pub(super) const HOSTILE: &str = "<script>alert(1)</script>&\"'";

/// Asserts `page` shows [`HOSTILE`] only as text.
pub(super) fn assert_hostile_is_text(page: &str) {
    assert!(!page.contains("<script>alert"), "unescaped");
    assert!(!page.contains("&\"'"), "unescaped");
    assert!(page.contains(&escaped(HOSTILE)), "the value is not shown");
}

/// The markup with a line break before each block element, and the tool's version
/// replaced (it changes with every release), so that a snapshot's diff reads.
pub(super) fn readable(markup: &maud::Markup) -> String {
    let mut text = markup.0.clone();
    for tag in [
        "header", "section", "article", "h1", "h2", "h3", "p", "div", "table", "thead", "tbody",
        "tr", "ul", "li", "pre", "details", "summary", "footer", "button",
    ] {
        for open in [format!("<{tag}>"), format!("<{tag} ")] {
            text = text.replace(&open, &format!("\n{open}"));
        }
    }
    text.replace(env!("CARGO_PKG_VERSION"), "[version]")
        .trim_start()
        .to_owned()
}
