//! `declare_rule!`: one place for a rule's id, name, pack, title, parameters and doc,
//! where the doc is the rule struct's own doc comment (as clippy's `declare_clippy_lint!`).

/// Declares a rule struct, its [`RuleMeta`](super::RuleMeta) from its doc comment, and
/// its typed parameters as a `Params` struct in the rule's module:
///
/// ```text
/// params: {
///     min_dead_tuples: f64 = ("rows", "Ignore tables with fewer dead rows than this"),
/// }
/// ```
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub struct $ty:ident {
            id: $id:literal,
            name: $name:literal,
            pack: $pack:literal,
            title: $title:literal,
            params: {$($pname:ident: $pty:ty = ($punit:literal, $pdoc:literal)),* $(,)?} $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $ty;

        /// The rule's parameters, read from its pack file and the user's `pgsage.toml`.
        #[derive(Debug, Clone, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        pub(crate) struct Params {
            $(
                #[doc = $pdoc]
                pub(crate) $pname: $pty,
            )*
        }

        impl $ty {
            /// This rule's description.
            pub const META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                id: $id,
                name: $name,
                pack: $pack,
                title: $title,
                doc: concat!($($doc, "\n"),*),
                params: &[$($crate::rules::ParamSpec {
                    name: stringify!($pname),
                    unit: $punit,
                    doc: $pdoc,
                }),*],
                check_params: $crate::rules::params::check::<Params>,
                source_file: file!(),
            };
        }
    };
}

pub(crate) use declare_rule;
