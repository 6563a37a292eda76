//! The EXPLAIN parsers on the captured corpus (`testdata/plans/`, see
//! `scripts/capture-plans.sh`) and on malformed and hostile input.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use pgsage::plan::{
    parse_json, parse_plan, parse_plans, parse_text, NodePath, ParentRelationship, Plan, PlanError,
    PlanFormat, MAX_PLAN_DEPTH,
};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/plans")
}

/// Every `(path, contents)` of the corpus with this extension, sorted.
fn corpus(ext: &str) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(corpus_dir()).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == ext) {
                let text = std::fs::read_to_string(&f).unwrap();
                files.push((f, text));
            }
        }
    }
    files.sort();
    assert!(
        !files.is_empty(),
        "no .{ext} files under {:?}",
        corpus_dir()
    );
    files
}

fn name(path: &Path) -> String {
    let dir = path.parent().and_then(|d| d.file_name()).unwrap();
    format!(
        "{}/{}",
        dir.to_string_lossy(),
        path.file_name().unwrap().to_string_lossy()
    )
}

fn parse_file(path: &Path, text: &str) -> Plan {
    parse_plan(text).unwrap_or_else(|e| panic!("{}: {e}", name(path)))
}

#[test]
fn every_corpus_file_parses() {
    let mut nodes = 0;
    for ext in ["json", "txt"] {
        for (path, text) in corpus(ext) {
            let plan = parse_file(&path, &text);
            let expected = if ext == "json" {
                PlanFormat::Json
            } else {
                PlanFormat::Text
            };
            assert_eq!(plan.source_format, expected);
            assert!(plan.is_analyzed(), "{}", name(&path));
            assert!(plan.execution_time_ms.is_some(), "{}", name(&path));
            assert!(plan.planning_time_ms.is_some(), "{}", name(&path));
            nodes += plan.root.node_count();
        }
    }
    assert!(nodes > 100);
}

#[test]
fn every_json_file_is_read_completely() {
    // VERBOSE + BUFFERS + SETTINGS + WAL: the typed fields are filled.
    for (path, text) in corpus("json") {
        let plan = parse_file(&path, &text);
        let n = name(&path);
        assert!(plan.root.buffers.is_some(), "{n}: buffers");
        assert!(plan.root.wal.is_some(), "{n}: WAL");
        assert!(
            !plan.root.output.is_empty() || plan.root.node_type == "ModifyTable",
            "{n}"
        );
        assert!(plan.planning_buffers.is_some(), "{n}: planning buffers");
        assert!(!plan.settings.is_empty(), "{n}: settings");
        for v in plan.nodes() {
            assert!(v.node.total_cost.is_some(), "{n} {}", v.path);
            assert!(v.node.actual_loops.is_some(), "{n} {}", v.path);
        }
    }
}

/// JSON and text of the same query: the same tree, the same rows, close times.
#[test]
fn json_and_text_of_the_same_query_agree() {
    let mut compared = 0;
    for (json_path, json) in corpus("json") {
        let txt_path = json_path.with_extension("txt");
        let text = std::fs::read_to_string(&txt_path).unwrap();
        let (j, t) = (parse_file(&json_path, &json), parse_file(&txt_path, &text));
        let n = name(&json_path);
        let jn: Vec<_> = j.nodes().collect();
        let tn: Vec<_> = t.nodes().collect();
        assert_eq!(jn.len(), tn.len(), "{n}: node count");
        for (a, b) in jn.iter().zip(&tn) {
            let at = format!("{n} node {} ({})", a.path, a.node.node_type);
            assert_eq!(a.path, b.path, "{at}");
            assert_eq!(a.node.node_type, b.node.node_type, "{at}");
            assert_eq!(a.node.relation_name, b.node.relation_name, "{at}");
            assert_eq!(a.node.index_name, b.node.index_name, "{at}");
            assert_eq!(a.node.cte_name, b.node.cte_name, "{at}");
            assert_eq!(a.node.join_type, b.node.join_type, "{at}");
            assert_eq!(a.node.strategy, b.node.strategy, "{at}");
            assert_eq!(a.node.parallel_aware, b.node.parallel_aware, "{at}");
            assert_eq!(a.node.subplan_name, b.node.subplan_name, "{at}");
            // 13 calls a ModifyTable's input a "Member"; text does not say, the text
            // parser writes what 14+ write ("Outer").
            let under_modify_table = a.path.steps().len() > 1
                && jn.iter().any(|p| {
                    p.node.node_type == "ModifyTable"
                        && p.path.steps() == &a.path.steps()[..a.path.steps().len() - 1]
                });
            if !under_modify_table {
                assert_eq!(
                    a.node.parent_relationship, b.node.parent_relationship,
                    "{at}"
                );
            }
            assert_eq!(a.node.plan_rows, b.node.plan_rows, "{at}");
            assert_eq!(a.node.sort_method, b.node.sort_method, "{at}");
            assert_eq!(a.node.hash_batches, b.node.hash_batches, "{at}");
            assert_eq!(a.node.workers_planned, b.node.workers_planned, "{at}");
            // VERBOSE (the JSON files) qualifies column names in expressions.
            assert_eq!(a.node.filter.is_some(), b.node.filter.is_some(), "{at}");
            // Parallel parts split rows between processes differently on each run.
            let parallel = a.node.parallel_aware
                || a.node.workers_planned.is_some()
                || jn.iter().any(|p| {
                    p.node.workers_launched.is_some_and(|w| w > 0)
                        && a.path.steps().starts_with(p.path.steps())
                        && a.path != p.path
                });
            if !parallel {
                assert_eq!(a.node.actual_rows, b.node.actual_rows, "{at}: rows");
                assert_eq!(a.node.actual_loops, b.node.actual_loops, "{at}: loops");
                // Text leaves out counters that are 0; JSON prints them.
                let zero = |x: Option<f64>| x.unwrap_or(0.0);
                let removed = |n: &pgsage::plan::PlanNode| zero(n.rows_removed_by_filter);
                assert_eq!(removed(a.node), removed(b.node), "{at}");
                assert_eq!(zero(a.node.heap_fetches), zero(b.node.heap_fetches), "{at}");
                let lossy = |n: &pgsage::plan::PlanNode| n.lossy_heap_blocks.unwrap_or(0);
                assert_eq!(lossy(a.node), lossy(b.node), "{at}");
            }
        }
        assert_eq!(j.triggers.len(), t.triggers.len(), "{n}: triggers");
        assert_eq!(j.jit.is_some(), t.jit.is_some(), "{n}: JIT");
        assert_eq!(
            j.jit.as_ref().and_then(|x| x.functions),
            t.jit.as_ref().and_then(|x| x.functions),
            "{n}: JIT functions"
        );
        // Two runs of the same query: the same order of magnitude, not equal (a unit
        // mistake would be 1000× off). Generous bounds: the first run of a query may read
        // a cold cache or plan from scratch, and a 2-core machine capturing six servers'
        // plans is noisy.
        let (je, te) = (j.execution_time_ms.unwrap(), t.execution_time_ms.unwrap());
        assert!(
            (je - te).abs() <= 10.0 + 10.0 * je.min(te),
            "{n}: execution times {je} ms (JSON) and {te} ms (text) are far apart"
        );
        compared += 1;
    }
    assert!(compared >= 20, "only {compared} pairs");
}

#[test]
fn exclusive_times_are_non_negative_and_add_up() {
    for ext in ["json", "txt"] {
        for (path, text) in corpus(ext) {
            let plan = parse_file(&path, &text);
            let n = name(&path);
            let profile = plan.profile();
            assert_eq!(profile.nodes.len(), plan.root.node_count());
            for p in &profile.nodes {
                let e = p.exclusive_ms.unwrap();
                assert!(e >= 0.0, "{n} {}: exclusive {e}", p.path);
                let share = p.share.unwrap();
                assert!(
                    (0.0..=1.0).contains(&share),
                    "{n} {}: share {share}",
                    p.path
                );
            }
            // The nodes' time is the execution time less trigger time and executor
            // start-up and shut-down (removing a sort's temporary files takes a few ms).
            // Per-loop times are printed to 0.001 ms, so a node run N times is only
            // known to within N × 0.0005 ms.
            let sum = profile.exclusive_sum_ms().unwrap();
            let expected = plan.execution_time_ms.unwrap() - plan.trigger_time_ms().unwrap_or(0.0);
            let rounding: f64 = plan
                .nodes()
                .map(|v| 0.0005 * v.node.actual_loops.unwrap_or(0.0))
                .sum();
            let slack = 0.5 + 2.0 * rounding;
            assert!(
                sum <= 1.15 * expected + slack && sum >= 0.7 * expected - slack,
                "{n}: exclusive times add up to {sum:.3} ms, execution time less triggers is {expected:.3} ms"
            );
        }
    }
}

#[test]
fn corpus_problems_are_visible_in_the_model() {
    let pg18 = |case: &str, ext: &str| {
        let path = corpus_dir().join(format!("pg18/{case}.{ext}"));
        parse_file(&path, &std::fs::read_to_string(&path).unwrap())
    };
    for ext in ["json", "txt"] {
        let plan = pg18("sort_spill", ext);
        assert!(plan.nodes().any(|v| v.node.spilled_to_disk()), "{ext}");
        assert!(
            plan.nodes().any(|v| v.node.temp_written_blocks() > Some(0)),
            "{ext}"
        );

        let plan = pg18("row_misestimate", ext);
        assert!(plan.nodes().any(|v| v
            .node
            .rows_estimate()
            .is_some_and(|e| e.factor >= 10.0 && e.underestimated)));

        let plan = pg18("nested_loop_many", ext);
        let profile = plan.profile();
        assert!(profile
            .nodes
            .iter()
            .any(|p| p.loops_above >= 1000.0 || p.node.actual_loops >= Some(1000.0)));

        let plan = pg18("fk_trigger_delete", ext);
        assert_eq!(plan.triggers.len(), 1, "{ext}");
        assert!(plan.triggers[0].constraint_name.is_some(), "{ext}");
        assert_eq!(plan.triggers[0].calls, Some(40.0), "{ext}");

        let plan = pg18("cte_scan", ext);
        let cte = plan
            .nodes()
            .find(|v| v.node.subplan_name.as_deref() == Some("CTE totals"))
            .unwrap();
        assert_eq!(
            cte.node.parent_relationship,
            Some(ParentRelationship::InitPlan)
        );

        let plan = pg18("parallel", ext);
        let profile = plan.profile();
        let scan = profile
            .nodes
            .iter()
            .find(|p| p.node.node_type == "Seq Scan" && p.node.parallel_aware)
            .unwrap();
        assert!(scan.processes > 1.0, "{ext}");
    }
}

/// What a user pastes from psql: header, rule, `+` continuations, `(1 row)` footer.
fn as_psql_output(plan: &str) -> String {
    let lines: Vec<&str> = plan.lines().collect();
    let width = lines.iter().map(|l| l.len()).max().unwrap_or(0);
    let mut out = format!(
        "{:^w$}\n{}\n",
        "QUERY PLAN",
        "-".repeat(width + 2),
        w = width + 2
    );
    let one_cell = plan.trim_start().starts_with('[');
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        if one_cell && !last {
            out.push_str(&format!(" {line:<width$}+\n"));
        } else {
            out.push_str(&format!(" {line}\n"));
        }
    }
    let rows = if one_cell { 1 } else { lines.len() };
    out.push_str(&format!(
        "({rows} row{})\n",
        if rows == 1 { "" } else { "s" }
    ));
    out
}

#[test]
fn psql_decorations_are_ignored() {
    for ext in ["json", "txt"] {
        for (path, text) in corpus(ext) {
            let plain = parse_file(&path, &text);
            let pasted = parse_plan(&as_psql_output(&text))
                .unwrap_or_else(|e| panic!("{} pasted from psql: {e}", name(&path)));
            assert_eq!(plain.root, pasted.root, "{}", name(&path));
            assert_eq!(plain.execution_time_ms, pasted.execution_time_ms);
        }
    }
}

#[test]
fn psql_prompt_and_timing_lines_are_ignored() {
    for ext in ["json", "txt"] {
        for (path, text) in corpus(ext).into_iter().take(6) {
            let plain = parse_file(&path, &text);
            let session = format!(
                "erp=# \\timing on\nTiming is on.\nerp=# EXPLAIN (ANALYZE, BUFFERS) SELECT 1;\n{}Time: 12.345 ms\n",
                as_psql_output(&text)
            );
            let pasted = parse_plan(&session)
                .unwrap_or_else(|e| panic!("{} in a psql session: {e}", name(&path)));
            assert_eq!(plain.root, pasted.root, "{}", name(&path));
        }
    }
    // An error in JSON after a prompt still points at the right line.
    let e =
        parse_plans("erp=# EXPLAIN (FORMAT JSON) SELECT 1;\n[\n  {\"Plan\": x}\n]\n").unwrap_err();
    assert!(matches!(e, PlanError::Json { line: 3, .. }), "{e}");
}

#[test]
fn several_plans_in_one_input() {
    let (_, a) = &corpus("json")[0];
    let (_, b) = &corpus("json")[1];
    let joined = format!(
        "[{}, {}]",
        a.trim().trim_start_matches('[').trim_end_matches(']'),
        b.trim().trim_start_matches('[').trim_end_matches(']')
    );
    assert_eq!(parse_json(&joined).unwrap().len(), 2);
    assert!(parse_plan(&joined).is_err());
    // Two EXPLAIN outputs one after the other.
    assert_eq!(parse_json(&format!("{a}\n{b}")).unwrap().len(), 2);

    let (_, a) = &corpus("txt")[0];
    let (_, b) = &corpus("txt")[1];
    assert_eq!(parse_text(&format!("{a}\n{b}")).unwrap().len(), 2);
}

#[test]
fn node_paths_find_nodes() {
    let (path, text) = &corpus("json")[0];
    let plan = parse_file(path, text);
    for v in plan.nodes() {
        let parsed: NodePath = v.path.to_string().parse().unwrap();
        assert!(std::ptr::eq(plan.node_at(&parsed).unwrap(), v.node));
    }
    assert!("1.0".parse::<NodePath>().is_err());
    assert!("0.x".parse::<NodePath>().is_err());
}

#[test]
fn explain_without_analyze_and_with_timing_off() {
    // Built from corpus plans by dropping what EXPLAIN would not print.
    let (path, text) = corpus("txt")
        .into_iter()
        .find(|(p, _)| p.ends_with("pg18/hash_batches.txt"))
        .unwrap();
    let no_timing = text.replace("actual time=", "actual TIME=");
    let no_timing: String = no_timing
        .lines()
        .map(|l| match l.find("actual TIME=") {
            Some(i) => {
                let end = l[i + 12..].find(' ').map_or(l.len(), |e| i + 12 + e + 1);
                format!("{}{}", &l[..i + 7], &l[end..])
            }
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let plan = parse_plan(&no_timing).unwrap_or_else(|e| panic!("{}: {e}", name(&path)));
    assert!(plan.root.actual_total_time_ms.is_none());
    assert!(plan.root.actual_loops.is_some());
    assert!(plan
        .profile()
        .nodes
        .iter()
        .all(|p| p.exclusive_ms.is_none()));

    let plain: String = text
        .lines()
        .take_while(|l| !l.starts_with("Planning"))
        .filter(|l| !l.trim_start().starts_with("Buffers:") && !l.contains("Memory Usage"))
        .map(|l| match l.find(" (actual") {
            Some(i) => l[..i].to_string(),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let plan = parse_plan(&plain).unwrap();
    assert!(!plan.is_analyzed());
    assert!(plan.root.total_cost.is_some());
}

// --- malformed and hostile input: an error, never a panic ---

fn assert_err(input: &str, what: &str) -> PlanError {
    match parse_plans(input) {
        Ok(_) => panic!("{what}: parsed"),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            e
        }
    }
}

#[test]
fn empty_and_non_plans_are_errors() {
    assert_eq!(assert_err("", "empty"), PlanError::Empty);
    assert_eq!(assert_err("  \n\n ", "blank"), PlanError::Empty);
    assert_eq!(
        assert_err("QUERY PLAN\n----\n(0 rows)\n", "no rows"),
        PlanError::Empty
    );
    let readme = std::fs::read_to_string(corpus_dir().join("../../README.md")).unwrap();
    assert!(matches!(
        assert_err(&readme, "README"),
        PlanError::Text { line: 1, .. }
    ));
    let manifest = std::fs::read_to_string(corpus_dir().join("../../Cargo.toml")).unwrap();
    assert!(matches!(
        assert_err(&manifest, "Cargo.toml"),
        PlanError::Json { .. }
    ));
    assert_err("{}", "empty object");
    assert_err("[]", "empty array");
    assert_err("[1, 2]", "numbers");
    assert_err("\"Plan\"", "a string");
    assert_err("[{\"Plan\": 3}]", "Plan is a number");
    assert_err("[{\"Plan\": {\"Plans\": []}}]", "no Node Type");
}

#[test]
fn wrong_types_are_errors_naming_the_key() {
    let (_, json) = corpus("json")
        .into_iter()
        .find(|(p, _)| p.ends_with("pg18/hash_batches.json"))
        .unwrap();
    for (from, to) in [
        ("\"Actual Rows\": ", "\"Actual Rows\": \"many\", \"x\": "),
        ("\"Plan Rows\": ", "\"Plan Rows\": [1], \"x\": "),
        ("\"Node Type\": \"Hash\"", "\"Node Type\": 7"),
        ("\"Plans\": [", "\"Plans\": [3, "),
        ("\"Hash Batches\": ", "\"Hash Batches\": -1, \"x\": "),
        (
            "\"Shared Hit Blocks\": ",
            "\"Shared Hit Blocks\": 99999999999999999999999, \"x\": ",
        ),
        (
            "\"Execution Time\": ",
            "\"Execution Time\": null, \"x\": \"\", \"Execution Time\": true, \"y\": ",
        ),
    ] {
        let broken = json.replacen(from, to, 1);
        assert_ne!(broken, json, "{from}");
        let e = assert_err(&broken, from);
        assert!(matches!(e, PlanError::Shape { .. }), "{from}: {e}");
    }
    let e = assert_err(
        &json.replacen("\"Actual Rows\": ", "\"Actual Rows\": 1e999, \"x\": ", 1),
        "1e999",
    );
    assert!(matches!(e, PlanError::Json { .. }), "{e}");
}

#[test]
fn truncated_input_is_an_error_or_a_smaller_plan_never_a_panic() {
    for ext in ["json", "txt"] {
        for (path, text) in corpus(ext).into_iter().take(12) {
            let mut cut = 0;
            while cut < text.len() {
                let piece = &text[..cut];
                let result = parse_plans(piece);
                if ext == "json" {
                    assert!(result.is_err(), "{} cut at {cut} parsed", name(&path));
                }
                cut += 1 + cut / 7;
                while cut < text.len() && !text.is_char_boundary(cut) {
                    cut += 1;
                }
            }
        }
    }
}

/// Deterministic byte mutations of every corpus file: whatever comes out, no panic.
#[test]
fn mutated_corpus_never_panics() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = b"{}[]\":,.0123456789-+e ()=\n\tabcxyz->";
    for ext in ["json", "txt"] {
        for (_, text) in corpus(ext) {
            for _ in 0..20 {
                let mut bytes = text.clone().into_bytes();
                for _ in 0..1 + next() % 8 {
                    let at = (next() as usize) % bytes.len();
                    match next() % 3 {
                        0 => bytes[at] = alphabet[(next() as usize) % alphabet.len()],
                        1 => {
                            bytes.remove(at);
                        }
                        _ => bytes.insert(at, alphabet[(next() as usize) % alphabet.len()]),
                    }
                }
                let mutated = String::from_utf8_lossy(&bytes);
                if let Ok(plans) = parse_plans(&mutated) {
                    for plan in &plans {
                        let _ = plan.profile();
                    }
                }
            }
        }
    }
}

/// A JSON plan `depth` nodes deep: Limit → Limit → … → Result.
fn deep_json(depth: usize) -> String {
    let node =
        "{\"Node Type\": \"Limit\", \"Actual Total Time\": 1.0, \"Actual Loops\": 1, \"Plans\": [";
    let mut s = String::with_capacity(depth * (node.len() + 4) + 64);
    s.push_str("[{\"Plan\": ");
    for _ in 1..depth {
        s.push_str(node);
    }
    s.push_str("{\"Node Type\": \"Result\", \"Actual Total Time\": 1.0, \"Actual Loops\": 1}");
    for _ in 1..depth {
        s.push_str("]}");
    }
    s.push_str(", \"Execution Time\": 1.0}]");
    s
}

/// A text plan `depth` nodes deep, each child three columns right of its parent (the
/// least indentation the format allows; size grows with depth²).
fn deep_text(depth: usize) -> String {
    let mut s = String::from(
        "Limit  (cost=0.00..1.00 rows=1 width=4) (actual time=0.1..1.0 rows=1 loops=1)\n",
    );
    for level in 1..depth {
        s.push_str(&" ".repeat(3 * level - 1));
        s.push_str(
            "->Limit  (cost=0.00..1.00 rows=1 width=4) (actual time=0.1..1.0 rows=1 loops=1)\n",
        );
    }
    s.push_str("Execution Time: 1.0 ms\n");
    s
}

#[test]
fn ten_thousand_levels_are_refused_not_overflowed() {
    let e = assert_err(&deep_json(10_000), "deep JSON");
    assert!(matches!(e, PlanError::TooDeep { .. }), "{e}");
    let brackets = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(
        assert_err(&brackets, "brackets"),
        PlanError::TooDeep { .. }
    ));
    let objects = "{\"a\":".repeat(10_000);
    assert!(matches!(
        assert_err(&objects, "objects"),
        PlanError::TooDeep { .. }
    ));
    // Text nesting costs depth² bytes (10,000 levels would be 150 MB of indentation);
    // 5,000 levels (37 MB) are refused at line MAX_PLAN_DEPTH + 1 without reading on.
    let e = assert_err(&deep_text(5_000), "deep text");
    assert_eq!(
        e,
        PlanError::TooDeep {
            limit: MAX_PLAN_DEPTH,
            line: Some(MAX_PLAN_DEPTH + 1)
        }
    );
}

#[test]
fn the_deepest_accepted_plan_works_on_a_small_stack() {
    // Everything a caller does with a plan at the depth limit fits a 2 MiB stack (the
    // default for spawned threads), in this unoptimized build.
    let json = deep_json(MAX_PLAN_DEPTH);
    let text = deep_text(MAX_PLAN_DEPTH);
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            for input in [json, text] {
                let plan = parse_plan(&input).unwrap();
                assert_eq!(plan.root.node_count(), MAX_PLAN_DEPTH);
                let profile = plan.profile();
                let sum = profile.exclusive_sum_ms().unwrap();
                assert!((sum - 1.0).abs() < 1e-9, "{sum}");
                let copy = plan.clone();
                assert_eq!(copy, plan);
                let serialized = serde_json::to_string(&plan).unwrap();
                assert!(serialized.len() > 1000);
                drop(copy);
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn hand_built_deep_trees_drop_without_recursion() {
    let mut node = pgsage::plan::PlanNode {
        node_type: "Result".into(),
        ..Default::default()
    };
    for _ in 0..200_000 {
        node = pgsage::plan::PlanNode {
            node_type: "Limit".into(),
            children: vec![node].into(),
            ..Default::default()
        };
    }
    assert_eq!(node.walk().count(), 200_001);
    drop(node);
}

#[test]
fn huge_numbers_in_text_are_errors_or_kept() {
    let line =
        "Seq Scan on t  (cost=0.00..1e999 rows=1 width=4) (actual time=0.1..1.0 rows=1 loops=1)";
    assert!(parse_plans(line).is_err());
    let line = "Seq Scan on t  (cost=0.00..1.00 rows=99999999999999999999999999 width=4)";
    let plan = parse_plan(line).unwrap();
    assert!(plan.root.plan_rows.unwrap() > 1e25);
    let buffers = "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n  Buffers: shared hit=99999999999999999999999999\n";
    assert!(parse_plans(buffers).is_err());
}
