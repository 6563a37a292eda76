//! Lists the import cycles between sibling modules of every crate under `crates/`, with
//! one reference per edge: `cargo run -p pgsage-testkit --example module_cycles`. Cycles
//! in the code that ships make it exit 1 (the core's `module_cycles` test fails on the
//! same); cycles that only test code closes are listed after them.
//!
//! `… --example module_cycles -- pgsage-core advise` prints every reference between the
//! children of `advise` in `pgsage-core` instead (`""` for the crate root; add `--tests`
//! to count test code): what to look at when breaking a cycle.

use std::path::{Path, PathBuf};

use pgsage_testkit::modules::{cycles, sibling_edges, workspace_crates, Code};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root");
    let relative = |p: &Path| -> PathBuf { p.strip_prefix(&root).unwrap_or(p).to_path_buf() };
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let code = if args.iter().any(|a| a == "--tests") {
        args.retain(|a| a != "--tests");
        Code::WithTests
    } else {
        Code::Shipped
    };
    if let [krate, parent] = args.as_slice() {
        let src = root.join("crates").join(krate).join("src");
        let edges = sibling_edges(&src, parent, code)
            .unwrap_or_else(|e| panic!("reading {}: {e}", src.display()));
        for ((from, to), refs) in edges {
            println!("{from} → {to}");
            for r in refs {
                let (file, line, text) = (relative(&r.file), r.line, &r.text);
                println!("    {}:{line} `{text}` ({})", file.display(), r.target);
            }
        }
        return;
    }
    let mut shipped = 0;
    for (label, code) in [("", Code::Shipped), (" (test code only)", Code::WithTests)] {
        for (name, src) in workspace_crates(&root.join("crates")) {
            let read = |code| {
                cycles(&src, code).unwrap_or_else(|e| panic!("reading {}: {e}", src.display()))
            };
            let found = read(code);
            let before = if code == Code::WithTests {
                read(Code::Shipped)
            } else {
                Vec::new()
            };
            for cycle in found.iter().filter(|c| !before.contains(c)) {
                println!("{name}: {}{label}", cycle.name());
                for (from, to, r) in &cycle.edges {
                    let (file, line, text) = (relative(&r.file), r.line, &r.text);
                    println!("    {from} → {to}: {}:{line} `{text}`", file.display());
                }
                if code == Code::Shipped {
                    shipped += 1;
                }
            }
        }
    }
    if shipped == 0 {
        println!("no module cycles in the code that ships");
    } else {
        std::process::exit(1);
    }
}
