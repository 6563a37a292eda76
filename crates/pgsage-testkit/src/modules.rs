//! Import cycles between a crate's modules, found from its source.
//!
//! A crate's modules form a tree; this reads every file of the tree (from `src/lib.rs` or
//! `src/main.rs`, following `mod` declarations, `#[path]` and inline `mod … { }` blocks)
//! and records, for each module, the modules its paths name: `use` trees and paths in code
//! starting with `crate::`, `super::`, `self::` or a child module, resolved through
//! `use` re-exports (`pub use model::Workload` in `workload/mod.rs` makes
//! `crate::workload::Workload` a reference to `workload::model`) and glob imports.
//!
//! Cycles are looked for between **siblings**: under each module, a graph with one node
//! per child module, and an edge `a → b` when anything inside `a` names anything inside
//! `b`. A strongly connected component of more than one child is a cycle. References
//! from a child to its parent's own items, or from a parent to its children, are the
//! tree's shape and not cycles. Test code (`mod tests`) counts like any other code: a
//! lower module's tests that need a higher module are an upward edge too.
//!
//! The reader is a tokenizer, not a Rust parser: macro bodies are read like code, and a
//! name that cannot be resolved (an external crate, a local variable's field, a macro's
//! own syntax) adds no edge.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

/// One reference from a module to another, kept as evidence for a cycle.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reference {
    /// The file holding it.
    pub file: PathBuf,
    /// Its line, from 1.
    pub line: usize,
    /// The path as written (`crate::workload::Workload`, `super::predicates::Atom`).
    pub text: String,
    /// The module it resolved to (`workload::model`; empty for the crate root).
    pub target: String,
}

/// Children of one module that reach each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// The parent module (`advise::candidates`; empty for the crate root).
    pub parent: String,
    /// The children in the cycle, sorted (`parse`, `predicates`).
    pub members: Vec<String>,
    /// For each edge between members (`from`, `to`), the first reference found.
    pub edges: Vec<(String, String, Reference)>,
}

impl Cycle {
    /// `advise::candidates::{parse, predicates}`.
    pub fn name(&self) -> String {
        let members = self.members.join(", ");
        if self.parent.is_empty() {
            format!("{{{members}}}")
        } else {
            format!("{}::{{{members}}}", self.parent)
        }
    }
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.name())?;
        for (from, to, r) in &self.edges {
            writeln!(
                f,
                "    {from} → {to}: {}:{} `{}`",
                r.file.display(),
                r.line,
                r.text
            )?;
        }
        Ok(())
    }
}

/// Which code counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The code that ships: everything but `#[cfg(test)]` modules and items.
    Shipped,
    /// Test code too: a unit test that drives its module through a higher one (a rule's
    /// test running the whole audit) is an edge upward.
    WithTests,
}

/// Every cycle between sibling modules of the crate whose sources are under `src` (the
/// directory holding `lib.rs` or `main.rs`), parents in tree order.
pub fn cycles(src: &Path, code: Code) -> std::io::Result<Vec<Cycle>> {
    Ok(Crate::read(src)?.cycles(code))
}

/// Every reference between the children of module `parent` (`advise::candidates`, or
/// `""` for the crate root) of the crate under `src`, by (from child, to child): what to
/// look at when breaking a cycle. Empty when there is no such module.
pub fn sibling_edges(
    src: &Path,
    parent: &str,
    code: Code,
) -> std::io::Result<BTreeMap<(String, String), Vec<Reference>>> {
    let krate = Crate::read(src)?;
    let path: Vec<String> = parent
        .split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(match krate.find(&path) {
        Some(id) => krate.sibling_edges(id, &krate.references(code)),
        None => BTreeMap::new(),
    })
}

/// The crates under `crates` (the workspace's `crates/` directory) with a `src/lib.rs` or
/// `src/main.rs`: (directory name, its `src`), sorted by name.
pub fn workspace_crates(crates: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(crates)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path().join("src"))
                .filter(|src| src.join("lib.rs").is_file() || src.join("main.rs").is_file())
                .filter_map(|src| {
                    let name = src.parent()?.file_name()?.to_string_lossy().into_owned();
                    Some((name, src))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

// -- Tokens ------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    /// `::`
    Sep,
    Punct(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

/// Identifiers, `::`, string literals and single punctuation; comments, other literals
/// and lifetimes are dropped.
fn tokenize(src: &str) -> Vec<Token> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let n = chars.len();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < n {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < n && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < n {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if c == '"' || ((c == 'b' || c == 'c') && at(i + 1) == '"') {
            let start_line = line;
            i += if c == '"' { 1 } else { 2 };
            let mut value = String::new();
            while i < n && chars[i] != '"' {
                if chars[i] == '\\' {
                    value.push(chars[i]);
                    i += 1;
                }
                if i < n {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    value.push(chars[i]);
                }
                i += 1;
            }
            i += 1;
            out.push(Token {
                tok: Tok::Str(value),
                line: start_line,
            });
        } else if let Some(hashes) = raw_string_start(&chars, i) {
            // r"…", r#"…"#, br#"…"#
            let start_line = line;
            let prefix = if c == 'r' { 1 } else { 2 };
            i += prefix + hashes + 1;
            let mut value = String::new();
            while i < n {
                if chars[i] == '"' && (0..hashes).all(|k| at(i + 1 + k) == '#') {
                    i += 1 + hashes;
                    break;
                }
                if chars[i] == '\n' {
                    line += 1;
                }
                value.push(chars[i]);
                i += 1;
            }
            out.push(Token {
                tok: Tok::Str(value),
                line: start_line,
            });
        } else if c == '\'' {
            // A char literal ('a', '\n', '\u{1F600}', b'x' is caught below) or a lifetime.
            if at(i + 1) == '\\' {
                i += 2;
                while i < n && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                // A lifetime or label: skip the quote and the identifier.
                i += 1;
                while i < n && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
        } else if c == 'b' && at(i + 1) == '\'' {
            i += 1; // the char literal branch takes the rest
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < n && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let mut ident: String = chars[start..i].iter().collect();
            if ident == "r" && at(i) == '#' && (at(i + 1).is_alphabetic() || at(i + 1) == '_') {
                // r#ident
                i += 1;
                let start = i;
                while i < n && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                ident = chars[start..i].iter().collect();
            }
            out.push(Token {
                tok: Tok::Ident(ident),
                line,
            });
        } else if c.is_ascii_digit() {
            while i < n && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                // 1..2 is a range, not a float
                if chars[i] == '.' && at(i + 1) == '.' {
                    break;
                }
                i += 1;
            }
        } else if c == ':' && at(i + 1) == ':' {
            out.push(Token {
                tok: Tok::Sep,
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                tok: Tok::Punct(c),
                line,
            });
            i += 1;
        }
    }
    out
}

/// The number of `#`s when a raw string (`r"`, `r#"`, `br#"`) starts at `i`.
fn raw_string_start(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    if chars.get(j) == Some(&'b') || chars.get(j) == Some(&'c') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    // Not the tail of an identifier (`bar"` cannot happen; `for r in` has no quote).
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (chars.get(j) == Some(&'"')).then_some(hashes)
}

// -- Modules -----------------------------------------------------------------------------

/// A path as written in a module, before resolution.
#[derive(Debug, Clone)]
struct RawPath {
    segments: Vec<String>,
    line: usize,
    /// Inside `#[cfg(test)]` code.
    test: bool,
}

/// One `use` leaf: `alias` names `path` in the module (`*` for a glob).
#[derive(Debug, Clone)]
struct UseLeaf {
    path: Vec<String>,
    alias: String,
    line: usize,
    /// Inside `#[cfg(test)]` code.
    test: bool,
}

#[derive(Debug, Default)]
struct Module {
    /// Segments from the crate root.
    path: Vec<String>,
    file: PathBuf,
    /// Declared under `#[cfg(test)]` (or inside such a module).
    test: bool,
    children: BTreeMap<String, usize>,
    /// Names of items defined here (functions, types, constants, macros, …).
    items: BTreeSet<String>,
    uses: Vec<UseLeaf>,
    paths: Vec<RawPath>,
}

struct Crate {
    modules: Vec<Module>,
}

impl Crate {
    fn read(src: &Path) -> std::io::Result<Crate> {
        let root = ["lib.rs", "main.rs"]
            .iter()
            .map(|f| src.join(f))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("no lib.rs or main.rs in {}", src.display()),
                )
            })?;
        let mut krate = Crate {
            modules: Vec::new(),
        };
        krate.read_file(&root, Vec::new(), src.to_path_buf(), false)?;
        Ok(krate)
    }

    fn new_module(&mut self, path: Vec<String>, file: &Path, test: bool) -> usize {
        let id = self.modules.len();
        if let Some((name, parent)) = path.split_last() {
            let parent_id = self.find(parent).expect("parent is read first");
            self.modules[parent_id].children.insert(name.clone(), id);
        }
        self.modules.push(Module {
            path,
            file: file.to_path_buf(),
            test,
            ..Module::default()
        });
        id
    }

    fn find(&self, path: &[String]) -> Option<usize> {
        let mut id = 0;
        for seg in path {
            id = *self.modules.get(id)?.children.get(seg)?;
        }
        (!self.modules.is_empty()).then_some(id)
    }

    /// Reads `file` as module `path`; `dir` is where its `mod x;` children live.
    fn read_file(
        &mut self,
        file: &Path,
        path: Vec<String>,
        dir: PathBuf,
        test: bool,
    ) -> std::io::Result<()> {
        let text = std::fs::read_to_string(file)?;
        let toks = tokenize(&text);
        let file_id = self.new_module(path, file, test);
        let ident = |i: usize| match toks.get(i).map(|t| &t.tok) {
            Some(Tok::Ident(s)) => Some(s.as_str()),
            _ => None,
        };
        let punct = |i: usize, c: char| matches!(toks.get(i).map(|t| &t.tok), Some(Tok::Punct(p)) if *p == c);
        // Inline modules: (module id, brace depth at which it closes, its children's dir).
        let mut stack: Vec<(usize, usize, PathBuf)> = vec![(file_id, 0, dir)];
        let mut depth = 0usize;
        let mut pending_path_attr: Option<String> = None;
        // The item after `#[cfg(test)]`: the depth it is at, and whether its `{` opened.
        let mut test_item: Option<(usize, bool)> = None;
        let mut files_to_read: Vec<(PathBuf, Vec<String>, PathBuf, bool)> = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            let (cur, _, cur_dir) = stack.last().cloned().expect("file module");
            let in_test = self.modules[cur].test || test_item.is_some();
            // A path at the start of a name (not after `::` or a `.`): `crate::x`, `super::y`.
            let after_sep = i > 0 && matches!(toks[i - 1].tok, Tok::Sep | Tok::Punct('.'));
            match &toks[i].tok {
                Tok::Punct('{') => {
                    if let Some((d, opened)) = &mut test_item {
                        if *d == depth {
                            *opened = true;
                        }
                    }
                    depth += 1;
                    i += 1;
                }
                Tok::Punct('}') => {
                    depth = depth.saturating_sub(1);
                    if stack.len() > 1 && stack.last().is_some_and(|s| s.1 == depth) {
                        stack.pop();
                    }
                    if test_item == Some((depth, true)) {
                        test_item = None;
                    }
                    i += 1;
                }
                Tok::Punct(';') => {
                    if test_item == Some((depth, false)) {
                        test_item = None;
                    }
                    i += 1;
                }
                Tok::Punct('#') if punct(i + 1, '[') => {
                    // `#[path = "…"]` and `#[cfg(test)]`; other attributes read as code.
                    if ident(i + 2) == Some("path") && punct(i + 3, '=') {
                        if let Some(Tok::Str(p)) = toks.get(i + 4).map(|t| &t.tok) {
                            pending_path_attr = Some(p.clone());
                        }
                        i += 5;
                    } else if ident(i + 2) == Some("cfg")
                        && punct(i + 3, '(')
                        && ident(i + 4) == Some("test")
                        && punct(i + 5, ')')
                        && punct(i + 6, ']')
                    {
                        if test_item.is_none() {
                            test_item = Some((depth, false));
                        }
                        i += 7;
                    } else {
                        i += 2;
                    }
                }
                Tok::Ident(kw) if kw == "mod" && !after_sep => {
                    let Some(name) = ident(i + 1).map(str::to_owned) else {
                        i += 1;
                        continue;
                    };
                    let mut child_path = self.modules[cur].path.clone();
                    child_path.push(name.clone());
                    if punct(i + 2, ';') {
                        let (child_file, child_dir) = match pending_path_attr.take() {
                            Some(p) => {
                                // Relative to the directory of the file declaring it.
                                let f = file.parent().unwrap_or(Path::new(".")).join(&p);
                                let d = f.with_extension("");
                                (f, d)
                            }
                            None => {
                                let flat = cur_dir.join(format!("{name}.rs"));
                                if flat.is_file() {
                                    (flat, cur_dir.join(&name))
                                } else {
                                    (cur_dir.join(&name).join("mod.rs"), cur_dir.join(&name))
                                }
                            }
                        };
                        files_to_read.push((child_file, child_path, child_dir, in_test));
                        i += 2; // the `;` ends a `#[cfg(test)]` item
                    } else if punct(i + 2, '{') {
                        pending_path_attr = None;
                        let id = self.new_module(child_path, file, in_test);
                        stack.push((id, depth, cur_dir.join(&name)));
                        i += 2; // the `{` is counted above
                    } else {
                        i += 1;
                    }
                }
                Tok::Ident(kw) if kw == "use" && !after_sep => {
                    let line = toks[i].line;
                    let mut j = i + 1;
                    let mut leaves = Vec::new();
                    parse_use_tree(&toks, &mut j, Vec::new(), &mut leaves);
                    for (path, alias) in leaves {
                        self.modules[cur].uses.push(UseLeaf {
                            path,
                            alias,
                            line,
                            test: in_test,
                        });
                    }
                    i = j;
                }
                Tok::Ident(kw)
                    if matches!(
                        kw.as_str(),
                        "fn" | "struct" | "enum" | "trait" | "type" | "const" | "static" | "union"
                    ) && !after_sep =>
                {
                    if let Some(name) = ident(i + 1) {
                        if !matches!(name, "fn" | "unsafe" | "async" | "extern" | "mut" | "_") {
                            self.modules[cur].items.insert(name.to_owned());
                        }
                    }
                    i += 1;
                }
                Tok::Ident(kw) if kw == "macro_rules" && punct(i + 1, '!') => {
                    if let Some(name) = ident(i + 2) {
                        self.modules[cur].items.insert(name.to_owned());
                    }
                    i += 3;
                }
                Tok::Ident(first)
                    if !after_sep && matches!(toks.get(i + 1).map(|t| &t.tok), Some(Tok::Sep)) =>
                {
                    let line = toks[i].line;
                    let mut segments = vec![first.clone()];
                    let mut j = i + 1;
                    while matches!(toks.get(j).map(|t| &t.tok), Some(Tok::Sep)) {
                        match ident(j + 1) {
                            Some(s) => {
                                segments.push(s.to_owned());
                                j += 2;
                            }
                            None => break, // `::<` or `::{`
                        }
                    }
                    self.modules[cur].paths.push(RawPath {
                        segments,
                        line,
                        test: in_test,
                    });
                    i = j;
                }
                _ => i += 1,
            }
        }
        for (child_file, child_path, child_dir, test) in files_to_read {
            if child_file.is_file() {
                self.read_file(&child_file, child_path, child_dir, test)?;
            }
        }
        Ok(())
    }

    /// The module a path written in module `from` names, and whether the name was found
    /// (a module, an item, or an import that resolves).
    fn resolve(&self, from: usize, segments: &[String], budget: usize) -> Option<usize> {
        if budget == 0 || segments.is_empty() {
            return None;
        }
        let module = &self.modules[from];
        let (start, rest): (usize, &[String]) = match segments[0].as_str() {
            "crate" => (0, &segments[1..]),
            "self" => (from, &segments[1..]),
            "super" => {
                let mut path = module.path.clone();
                let mut k = 0;
                while segments.get(k).map(String::as_str) == Some("super") {
                    path.pop()?;
                    k += 1;
                }
                (self.find(&path)?, &segments[k..])
            }
            _ => (from, segments),
        };
        self.walk(start, rest, budget)
    }

    /// Follows `rest` down from module `at`: child modules, then imports (re-exports and
    /// globs), then items. `None` when the first name is unknown there.
    fn walk(&self, at: usize, rest: &[String], budget: usize) -> Option<usize> {
        let Some((name, tail)) = rest.split_first() else {
            return Some(at);
        };
        let module = &self.modules[at];
        if let Some(&child) = module.children.get(name) {
            return self.walk(child, tail, budget).or(Some(child));
        }
        for leaf in module.uses.iter().filter(|u| &u.alias == name) {
            let mut target = leaf.path.clone();
            target.extend(tail.iter().cloned());
            if let Some(found) = self.resolve_import(at, &target, budget - 1) {
                return Some(found);
            }
        }
        if module.items.contains(name) {
            return Some(at);
        }
        for leaf in module.uses.iter().filter(|u| u.alias == "*") {
            let Some(glob) = self.resolve_import(at, &leaf.path, budget - 1) else {
                continue;
            };
            if glob == at {
                continue;
            }
            if let Some(found) = self.walk_defined(glob, rest, budget - 1) {
                return Some(found);
            }
        }
        None
    }

    /// Like [`Crate::walk`], but only when the first name is really there (for globs).
    fn walk_defined(&self, at: usize, rest: &[String], budget: usize) -> Option<usize> {
        if budget == 0 {
            return None;
        }
        let name = rest.first()?;
        let module = &self.modules[at];
        let known = module.children.contains_key(name)
            || module.items.contains(name)
            || module
                .uses
                .iter()
                .any(|u| &u.alias == name || u.alias == "*");
        if known {
            self.walk(at, rest, budget)
        } else {
            None
        }
    }

    /// A `use` path of module `from`: `crate::`, `super::`, `self::`, or a child module
    /// (2018 paths); anything else is an external crate.
    fn resolve_import(&self, from: usize, path: &[String], budget: usize) -> Option<usize> {
        if budget == 0 {
            return None;
        }
        let first = path.first()?;
        match first.as_str() {
            "crate" | "super" | "self" => self.resolve(from, path, budget),
            _ if self.modules[from].children.contains_key(first) => {
                self.resolve(from, path, budget)
            }
            _ => None,
        }
    }

    /// Every reference of every module, resolved: (from module, reference).
    fn references(&self, code: Code) -> Vec<(usize, usize, Reference)> {
        const BUDGET: usize = 24;
        let with_tests = code == Code::WithTests;
        let mut out = Vec::new();
        for (id, module) in self.modules.iter().enumerate() {
            if module.test && !with_tests {
                continue;
            }
            let mut push = |target: usize, line: usize, segments: &[String]| {
                if target != id {
                    out.push((
                        id,
                        target,
                        Reference {
                            file: module.file.clone(),
                            line,
                            text: segments.join("::"),
                            target: self.modules[target].path.join("::"),
                        },
                    ));
                }
            };
            for leaf in module.uses.iter().filter(|u| with_tests || !u.test) {
                if let Some(t) = self.resolve_import(id, &leaf.path, BUDGET) {
                    push(t, leaf.line, &leaf.path);
                }
            }
            for p in module.paths.iter().filter(|p| with_tests || !p.test) {
                let first = p.segments[0].as_str();
                let resolvable = matches!(first, "crate" | "super" | "self")
                    || module.children.contains_key(first);
                if resolvable {
                    if let Some(t) = self.resolve(id, &p.segments, BUDGET) {
                        push(t, p.line, &p.segments);
                    }
                }
            }
        }
        out
    }

    /// For the children of module `parent`: every reference from inside one child to
    /// inside another, by (from child, to child). `None` when there is no such module.
    fn sibling_edges(
        &self,
        parent: usize,
        refs: &[(usize, usize, Reference)],
    ) -> BTreeMap<(String, String), Vec<Reference>> {
        let p = &self.modules[parent];
        let depth = p.path.len();
        // Which child of `parent` a module is inside, if any.
        let child_of = |m: usize| -> Option<&String> {
            let path = &self.modules[m].path;
            (path.len() > depth && path[..depth] == p.path[..]).then(|| &path[depth])
        };
        let mut edges: BTreeMap<(String, String), Vec<Reference>> = BTreeMap::new();
        for (from, to, r) in refs {
            if let (Some(a), Some(b)) = (child_of(*from), child_of(*to)) {
                if a != b {
                    edges
                        .entry((a.clone(), b.clone()))
                        .or_default()
                        .push(r.clone());
                }
            }
        }
        for refs in edges.values_mut() {
            refs.sort();
        }
        edges
    }

    fn cycles(&self, code: Code) -> Vec<Cycle> {
        let refs = self.references(code);
        let mut out = Vec::new();
        // Parents in tree order.
        let mut order: Vec<usize> = (0..self.modules.len()).collect();
        order.sort_by(|a, b| self.modules[*a].path.cmp(&self.modules[*b].path));
        for parent in order {
            let p = &self.modules[parent];
            if p.children.len() < 2 {
                continue;
            }
            let names: Vec<&String> = p.children.keys().collect();
            let index: HashMap<&String, usize> =
                names.iter().enumerate().map(|(k, n)| (*n, k)).collect();
            let edges = self.sibling_edges(parent, &refs);
            let mut adjacency = vec![Vec::new(); names.len()];
            for (a, b) in edges.keys() {
                adjacency[index[a]].push(index[b]);
            }
            for component in strongly_connected(&adjacency) {
                if component.len() < 2 {
                    continue;
                }
                let members: BTreeSet<&String> = component.iter().map(|k| names[*k]).collect();
                out.push(Cycle {
                    parent: p.path.join("::"),
                    members: members.iter().map(|m| (*m).clone()).collect(),
                    edges: edges
                        .iter()
                        .filter(|((a, b), _)| members.contains(a) && members.contains(b))
                        .map(|((a, b), r)| (a.clone(), b.clone(), r[0].clone()))
                        .collect(),
                });
            }
        }
        out
    }
}

/// Reads a use tree starting at `toks[*j]` up to its `;` (or the `,`/`}` ending a group
/// member); each leaf is (full path, name it binds).
fn parse_use_tree(
    toks: &[Token],
    j: &mut usize,
    prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, String)>,
) {
    let mut path = prefix;
    loop {
        match toks.get(*j).map(|t| &t.tok) {
            Some(Tok::Ident(s)) if s == "as" => {
                *j += 1;
                if let Some(Tok::Ident(alias)) = toks.get(*j).map(|t| &t.tok) {
                    out.push((path.clone(), alias.clone()));
                    *j += 1;
                }
                return;
            }
            Some(Tok::Ident(s)) => {
                path.push(s.clone());
                *j += 1;
            }
            Some(Tok::Sep) => *j += 1,
            Some(Tok::Punct('*')) => {
                *j += 1;
                out.push((path, "*".into()));
                return;
            }
            Some(Tok::Punct('{')) => {
                *j += 1;
                loop {
                    match toks.get(*j).map(|t| &t.tok) {
                        Some(Tok::Punct('}')) => {
                            *j += 1;
                            return;
                        }
                        Some(Tok::Punct(',')) => *j += 1,
                        None => return,
                        _ => {
                            let before = *j;
                            parse_use_tree(toks, j, path.clone(), out);
                            if *j == before {
                                *j += 1;
                            }
                        }
                    }
                }
            }
            _ => {
                // `;`, `,` or `}`: the path ends here.
                if let Some(last) = path.last().cloned() {
                    if last == "self" {
                        path.pop();
                        if let Some(name) = path.last().cloned() {
                            out.push((path, name));
                        }
                    } else {
                        out.push((path, last));
                    }
                }
                return;
            }
        }
    }
}

/// Tarjan's strongly connected components (iterative).
fn strongly_connected(adjacency: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = adjacency.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&mut (v, ref mut k)) = work.last_mut() {
            if *k == 0 {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = adjacency[v].get(*k) {
                *k += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(u, _)) = work.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(component);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
            std::fs::write(path, text).expect("write");
        }
    }

    fn names(dir: &Path, code: Code) -> Vec<String> {
        cycles(dir, code)
            .expect("read")
            .iter()
            .map(Cycle::name)
            .collect()
    }

    #[test]
    fn sibling_files_that_use_each_other_are_a_cycle() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            &[
                ("lib.rs", "mod a;\nmod b;\nmod c;\n"),
                ("a.rs", "use crate::b::B;\npub struct A;\n"),
                ("b.rs", "pub struct B;\nfn f() { let _ = super::a::A; }\n"),
                ("c.rs", "use crate::{a::A, b::B};\n"),
            ],
        );
        let found = cycles(dir.path(), Code::Shipped).expect("read");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].name(), "{a, b}");
        assert_eq!(found[0].edges.len(), 2);
        assert_eq!(found[0].edges[1].2.line, 2);
    }

    #[test]
    fn re_exports_and_globs_lead_to_the_defining_module() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            &[
                ("lib.rs", "pub mod w;\nmod r;\n"),
                // `w::Workload` lives in `w::model`; `w::log` reaches `model` through the
                // parent's re-export, and `model` reaches `log` through a glob.
                (
                    "w/mod.rs",
                    "mod log;\nmod model;\npub use model::Workload;\npub use log::*;\n",
                ),
                (
                    "w/model.rs",
                    "pub struct Workload;\nfn f() { super::parse_line(); }\n",
                ),
                ("w/log.rs", "use super::Workload;\npub fn parse_line() {}\n"),
                ("r.rs", "use crate::w::Workload;\n"),
            ],
        );
        assert_eq!(
            names(dir.path(), Code::Shipped),
            vec!["w::{log, model}".to_owned()]
        );
    }

    #[test]
    fn tree_edges_strings_comments_and_inline_tests() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            &[
                ("lib.rs", "mod a;\nmod b;\npub use a::A;\n"),
                (
                    "a.rs",
                    "pub struct A;\n// crate::b::B in a comment\nconst S: &str = \"crate::b::B\";\n\
                     const R: &str = r#\"crate::b::B\"#;\nfn f<'a>(x: &'a str) -> char { 'b' }\n\
                     #[cfg(test)]\nmod tests { use super::*; fn t() { let _ = A; } }\n",
                ),
                ("b.rs", "use crate::A;\n#[path = \"b_tests.rs\"]\nmod tests;\n"),
                ("b_tests.rs", "use super::super::a::A;\n"),
            ],
        );
        assert!(names(dir.path(), Code::WithTests).is_empty());
        // `a`'s tests needing `b` close a loop in test code only.
        write(
            dir.path(),
            &[(
                "a.rs",
                "pub struct A;\n#[cfg(test)]\nmod tests { use crate::b; }\n\
                 #[cfg(test)]\npub fn helper() { crate::b::f(); }\nfn after() { }\n",
            )],
        );
        assert!(names(dir.path(), Code::Shipped).is_empty());
        assert_eq!(
            names(dir.path(), Code::WithTests),
            vec!["{a, b}".to_owned()]
        );
        let edges = sibling_edges(dir.path(), "", Code::WithTests).expect("read");
        let lines: Vec<usize> = edges[&("a".to_owned(), "b".to_owned())]
            .iter()
            .map(|r| r.line)
            .collect();
        assert_eq!(lines, vec![3, 5]);
    }
}
