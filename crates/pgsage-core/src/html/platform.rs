//! A managed platform's way of applying setting changes, as the audit's actions and the
//! tune page show it: the provider's shell commands with a copy button and what to know
//! before running them, then the changes the platform refuses.

use maud::{html, Markup};

use crate::knowledge::server_parameters::PlatformFix;

/// The provider's commands (`pre` named `id` for its copy button) with their notes, and
/// the refused changes; nothing for a part that is empty.
pub fn commands(p: &PlatformFix, id: &str) -> Markup {
    html! {
        @if !p.commands.is_empty() {
            p class="cost" { strong { (p.heading()) } }
            (super::layout::code_block(id, &p.commands.join("\n")))
            ul class="muted" { @for n in &p.notes { li { (n) } } }
        }
        @if !p.not_allowed.is_empty() {
            p { strong { "Not allowed on " (p.platform.service_name()) ":" } }
            ul {
                @for (n, line) in p.not_allowed.iter().zip(p.refusal_lines()) {
                    li data-not-allowed=(n.name) { (line) }
                }
            }
        }
    }
}
