//! No import cycles between modules, in any crate of the workspace: under each module,
//! its children must form a DAG (`docs/architecture.md`, "Layers"). A cycle fails this
//! test with one reference per edge; `cargo run -p pgsage-testkit --example
//! module_cycles -- <crate> <module>` lists every reference between the children of a
//! module, which is what to look at when breaking one. Test code (`#[cfg(test)]`) is not
//! counted: a unit test may drive its module through a higher layer.

use std::path::Path;

use pgsage_testkit::modules::{cycles, workspace_crates, Code};

#[test]
fn no_module_cycles_in_the_workspace() {
    let crates_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("crates directory");
    let crates = workspace_crates(&crates_dir);
    let names: Vec<&str> = crates.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "pgsage",
        "pgsage-cli",
        "pgsage-core",
        "pgsage-py",
        "pgsage-testkit",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} not found in {names:?}"
        );
    }
    let mut found = String::new();
    for (name, src) in &crates {
        let cycles =
            cycles(src, Code::Shipped).unwrap_or_else(|e| panic!("reading {}: {e}", src.display()));
        for cycle in cycles {
            found.push_str(&format!("{name}: {cycle}"));
        }
    }
    assert!(found.is_empty(), "module cycles:\n{found}");
}

/// The check is not vacuous: two sibling files importing each other (the shape
/// `connect::{dsn, tls}` had) are a cycle.
#[test]
fn a_cycle_fails_the_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path();
    std::fs::create_dir_all(src.join("connect")).expect("dir");
    for (file, text) in [
        ("lib.rs", "pub mod connect;\n"),
        ("connect/mod.rs", "pub mod dsn;\npub mod tls;\n"),
        (
            "connect/dsn.rs",
            "use super::tls::SslMode;\npub struct RootCert;\n",
        ),
        (
            "connect/tls.rs",
            "use super::dsn::RootCert;\npub enum SslMode {}\n",
        ),
    ] {
        std::fs::write(src.join(file), text).expect("write");
    }
    let found = cycles(src, Code::Shipped).expect("read");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].name(), "connect::{dsn, tls}");
}
