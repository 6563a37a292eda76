//! The "Workload questions" section of the audit and workload pages: the same paragraphs
//! as the text report (`report::render::workload_questions`).

use maud::{html, Markup};

use crate::report::render::workload_questions::sections;
use crate::report::workload_questions::WorkloadAnswers;

/// The section, when there are answers.
pub(crate) fn section(answers: Option<&WorkloadAnswers>) -> Markup {
    let Some(a) = answers else {
        return html! {};
    };
    html! {
        section id="workload-questions" {
            h2 { "Workload questions" }
            @for (title, lines) in sections(a) {
                p { strong { (title) ": " } (lines[0]) }
                @if lines.len() > 1 {
                    ul { @for l in &lines[1..] { li { (l) } } }
                }
            }
        }
    }
}
