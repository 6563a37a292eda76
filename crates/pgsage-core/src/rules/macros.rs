//! `declare_rule!`: one place for a rule's id, name, pack, title, parameters and doc,
//! where the doc is the rule struct's own doc comment (as clippy's `declare_clippy_lint!`).

/// Declares a rule struct and its [`RuleMeta`](super::RuleMeta) from its doc comment.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub struct $ty:ident {
            id: $id:literal,
            name: $name:literal,
            pack: $pack:literal,
            title: $title:literal,
            params: [$(($pname:literal, $pdoc:literal)),* $(,)?] $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $ty;

        impl $ty {
            /// This rule's description.
            pub const META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                id: $id,
                name: $name,
                pack: $pack,
                title: $title,
                doc: concat!($($doc, "\n"),*),
                params: &[$($crate::rules::ParamSpec { name: $pname, doc: $pdoc }),*],
            };
        }
    };
}

pub(crate) use declare_rule;
