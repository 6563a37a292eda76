//! Helpers of the page tests: a value as a page shows it, and a page body laid out one
//! block per line for reviewed snapshots.

/// `text` as maud writes it into a page (escaped).
pub(super) fn escaped(text: &str) -> String {
    maud::html! { (text) }.into_string()
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
