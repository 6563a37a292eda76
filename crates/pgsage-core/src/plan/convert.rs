//! From EXPLAIN's JSON objects to the typed model. The text parser produces the same
//! JSON objects (with EXPLAIN's JSON key names), so both formats share this code.

use serde_json::{Map, Value};

use super::model::{
    Buffers, Children, IoTimings, Jit, Plan, PlanFormat, PlanNode, Serialization, TriggerTime,
    WalUsage, WorkerStats,
};
use super::{NodePath, PlanError, MAX_PLAN_DEPTH};

/// Reads typed values out of one JSON object, naming the place in errors.
struct Fields<'a> {
    map: Map<String, Value>,
    at: &'a dyn Fn() -> String,
}

impl Fields<'_> {
    fn wrong(&self, key: &str, expected: &str, got: &Value) -> PlanError {
        let got = match got {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        };
        PlanError::shape(
            format!("{}, \"{key}\"", (self.at)()),
            format!("expected {expected}, found {got}"),
        )
    }

    fn string(&mut self, key: &str) -> Result<Option<String>, PlanError> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.wrong(key, "a string", &v)),
        }
    }

    fn f64(&mut self, key: &str) -> Result<Option<f64>, PlanError> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(self.wrong(key, "a finite number", &Value::Number(n))),
            },
            Some(v) => Err(self.wrong(key, "a number", &v)),
        }
    }

    fn u64(&mut self, key: &str) -> Result<Option<u64>, PlanError> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(x) => Ok(Some(x)),
                None => match n.as_f64() {
                    // 18 prints some counters with decimals; accept whole values.
                    Some(x) if x >= 0.0 && x.fract() == 0.0 && x < u64::MAX as f64 => {
                        Ok(Some(x as u64))
                    }
                    _ => {
                        Err(self.wrong(key, "a non-negative integer below 2^64", &Value::Number(n)))
                    }
                },
            },
            Some(v) => Err(self.wrong(key, "an integer", &v)),
        }
    }

    fn bool(&mut self, key: &str) -> Result<Option<bool>, PlanError> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(v) => Err(self.wrong(key, "true or false", &v)),
        }
    }

    fn strings(&mut self, key: &str) -> Result<Vec<String>, PlanError> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => out.push(s),
                        other => return Err(self.wrong(key, "an array of strings", &other)),
                    }
                }
                Ok(out)
            }
            Some(Value::String(s)) => Ok(vec![s]),
            Some(v) => Err(self.wrong(key, "an array of strings", &v)),
        }
    }

    fn object(&mut self, key: &str) -> Result<Option<Map<String, Value>>, PlanError> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(v) => Err(self.wrong(key, "an object", &v)),
        }
    }

    fn array(&mut self, key: &str) -> Result<Vec<Value>, PlanError> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => Ok(a),
            Some(v) => Err(self.wrong(key, "an array", &v)),
        }
    }

    /// The block counters, `None` when none of their keys is present.
    fn buffers(&mut self) -> Result<Option<Buffers>, PlanError> {
        const KEYS: [&str; 10] = [
            "Shared Hit Blocks",
            "Shared Read Blocks",
            "Shared Dirtied Blocks",
            "Shared Written Blocks",
            "Local Hit Blocks",
            "Local Read Blocks",
            "Local Dirtied Blocks",
            "Local Written Blocks",
            "Temp Read Blocks",
            "Temp Written Blocks",
        ];
        if !KEYS.iter().any(|k| self.map.contains_key(*k)) {
            return Ok(None);
        }
        let mut v = [0u64; 10];
        for (slot, key) in v.iter_mut().zip(KEYS) {
            *slot = self.u64(key)?.unwrap_or(0);
        }
        Ok(Some(Buffers {
            shared_hit: v[0],
            shared_read: v[1],
            shared_dirtied: v[2],
            shared_written: v[3],
            local_hit: v[4],
            local_read: v[5],
            local_dirtied: v[6],
            local_written: v[7],
            temp_read: v[8],
            temp_written: v[9],
        }))
    }

    fn io_timings(&mut self) -> Result<Option<IoTimings>, PlanError> {
        let shared_read = match self.f64("Shared I/O Read Time")? {
            Some(x) => Some(x),
            None => self.f64("I/O Read Time")?,
        };
        let shared_write = match self.f64("Shared I/O Write Time")? {
            Some(x) => Some(x),
            None => self.f64("I/O Write Time")?,
        };
        let t = IoTimings {
            shared_read_ms: shared_read,
            shared_write_ms: shared_write,
            local_read_ms: self.f64("Local I/O Read Time")?,
            local_write_ms: self.f64("Local I/O Write Time")?,
            temp_read_ms: self.f64("Temp I/O Read Time")?,
            temp_write_ms: self.f64("Temp I/O Write Time")?,
        };
        Ok((t != IoTimings::default()).then_some(t))
    }

    fn wal(&mut self) -> Result<Option<WalUsage>, PlanError> {
        let w = WalUsage {
            records: self.u64("WAL Records")?,
            fpi: self.u64("WAL FPI")?,
            bytes: self.u64("WAL Bytes")?,
            buffers_full: self.u64("WAL Buffers Full")?,
        };
        Ok((w != WalUsage::default()).then_some(w))
    }

    fn into_extra(self) -> Map<String, Value> {
        self.map
    }
}

/// A plan object (`{"Plan": …, "Planning Time": …}`) to a [`Plan`]. `index` is the
/// plan's 0-based position in the input, for error messages.
pub(crate) fn plan_from_object(
    object: Map<String, Value>,
    index: usize,
    format: PlanFormat,
) -> Result<Plan, PlanError> {
    let at = || format!("plan {}", index + 1);
    let mut f = Fields {
        map: object,
        at: &at,
    };
    let root = match f.map.remove("Plan") {
        Some(Value::Object(root)) => root,
        Some(other) => return Err(f.wrong("Plan", "an object", &other)),
        None => return Err(PlanError::shape(at(), "no \"Plan\" key")),
    };
    let planning_time_ms = f.f64("Planning Time")?;
    let execution_time_ms = f.f64("Execution Time")?;
    let planning_buffers = match f.object("Planning")? {
        None => None,
        Some(planning) => {
            let at_planning = || format!("plan {}, \"Planning\"", index + 1);
            let mut p = Fields {
                map: planning,
                at: &at_planning,
            };
            let buffers = p.buffers()?;
            let rest = p.into_extra();
            if !rest.is_empty() {
                f.map.insert("Planning".into(), Value::Object(rest));
            }
            buffers
        }
    };
    let mut triggers = Vec::new();
    for (i, t) in f.array("Triggers")?.into_iter().enumerate() {
        let at_trigger = || format!("plan {}, trigger {}", index + 1, i + 1);
        let Value::Object(t) = t else {
            return Err(PlanError::shape(at_trigger(), "expected an object"));
        };
        let mut t = Fields {
            map: t,
            at: &at_trigger,
        };
        triggers.push(TriggerTime {
            name: t.string("Trigger Name")?,
            constraint_name: t.string("Constraint Name")?,
            relation: t.string("Relation")?,
            time_ms: t.f64("Time")?,
            calls: t.f64("Calls")?,
        });
    }
    let jit = match f.object("JIT")? {
        None => None,
        Some(j) => Some(jit_from_object(j, index)?),
    };
    let mut settings = std::collections::BTreeMap::new();
    if let Some(s) = f.object("Settings")? {
        for (name, value) in s {
            let value = match value {
                Value::String(v) => v,
                other => other.to_string(),
            };
            settings.insert(name, value);
        }
    }
    let serialization = match f.object("Serialization")? {
        None => None,
        Some(s) => {
            let at_ser = || format!("plan {}, \"Serialization\"", index + 1);
            let mut s = Fields {
                map: s,
                at: &at_ser,
            };
            Some(Serialization {
                time_ms: s.f64("Time")?,
                output_kb: s.f64("Output Volume")?,
                format: s.string("Format")?,
                buffers: s.buffers()?,
            })
        }
    };
    let query_text = f.string("Query Text")?;
    let root = tree_from_object(root, index)?;
    Ok(Plan {
        root,
        planning_time_ms,
        execution_time_ms,
        planning_buffers,
        triggers,
        jit,
        settings,
        serialization,
        query_text,
        source_format: format,
        extra: f.into_extra(),
    })
}

fn jit_from_object(j: Map<String, Value>, index: usize) -> Result<Jit, PlanError> {
    let at = || format!("plan {}, \"JIT\"", index + 1);
    let mut j = Fields { map: j, at: &at };
    let mut jit = Jit {
        functions: j.u64("Functions")?,
        ..Jit::default()
    };
    if let Some(options) = j.object("Options")? {
        let mut o = Fields {
            map: options,
            at: &at,
        };
        jit.inlining = o.bool("Inlining")?;
        jit.optimization = o.bool("Optimization")?;
        jit.expressions = o.bool("Expressions")?;
        jit.deforming = o.bool("Deforming")?;
    }
    if let Some(timing) = j.object("Timing")? {
        let mut t = Fields {
            map: timing,
            at: &at,
        };
        // 17+: "Generation": {"Deform": …, "Total": …}; before: a number.
        jit.generation_ms = match t.map.remove("Generation") {
            Some(Value::Object(g)) => {
                let mut g = Fields { map: g, at: &at };
                jit.deform_ms = g.f64("Deform")?;
                g.f64("Total")?
            }
            Some(other) => {
                t.map.insert("Generation".into(), other);
                t.f64("Generation")?
            }
            None => None,
        };
        jit.inlining_ms = t.f64("Inlining")?;
        jit.optimization_ms = t.f64("Optimization")?;
        jit.emission_ms = t.f64("Emission")?;
        jit.total_ms = t.f64("Total")?;
    }
    Ok(jit)
}

/// One node object to a [`PlanNode`] without children, and its `Plans` array.
fn node_from_object(
    object: Map<String, Value>,
    at: &dyn Fn() -> String,
) -> Result<(PlanNode, Vec<Value>), PlanError> {
    let mut f = Fields { map: object, at };
    let node_type = f
        .string("Node Type")?
        .ok_or_else(|| PlanError::shape(at(), "no \"Node Type\" key: not a plan node"))?;
    let children = f.array("Plans")?;
    let mut workers = Vec::new();
    for w in f.array("Workers")? {
        let Value::Object(w) = w else {
            return Err(PlanError::shape(
                format!("{}, \"Workers\"", at()),
                "expected objects",
            ));
        };
        let mut w = Fields { map: w, at };
        workers.push(WorkerStats {
            worker_number: w.u64("Worker Number")?,
            actual_startup_time_ms: w.f64("Actual Startup Time")?,
            actual_total_time_ms: w.f64("Actual Total Time")?,
            actual_rows: w.f64("Actual Rows")?,
            actual_loops: w.f64("Actual Loops")?,
            sort_method: w.string("Sort Method")?,
            sort_space_type: w.string("Sort Space Type")?,
            sort_space_used_kb: w.f64("Sort Space Used")?,
            buffers: w.buffers()?,
            extra: w.into_extra(),
        });
    }
    let node = PlanNode {
        node_type,
        parent_relationship: f.string("Parent Relationship")?.map(Into::into),
        subplan_name: f.string("Subplan Name")?,
        parallel_aware: f.bool("Parallel Aware")?.unwrap_or(false),
        async_capable: f.bool("Async Capable")?,
        operation: f.string("Operation")?,
        relation_name: f.string("Relation Name")?,
        schema: f.string("Schema")?,
        alias: f.string("Alias")?,
        index_name: f.string("Index Name")?,
        cte_name: f.string("CTE Name")?,
        function_name: f.string("Function Name")?,
        scan_direction: f.string("Scan Direction")?,
        join_type: f.string("Join Type")?,
        inner_unique: f.bool("Inner Unique")?,
        strategy: f.string("Strategy")?,
        partial_mode: f.string("Partial Mode")?,
        startup_cost: f.f64("Startup Cost")?,
        total_cost: f.f64("Total Cost")?,
        plan_rows: f.f64("Plan Rows")?,
        plan_width: f.f64("Plan Width")?,
        actual_startup_time_ms: f.f64("Actual Startup Time")?,
        actual_total_time_ms: f.f64("Actual Total Time")?,
        actual_rows: f.f64("Actual Rows")?,
        actual_loops: f.f64("Actual Loops")?,
        output: f.strings("Output")?,
        filter: f.string("Filter")?,
        index_cond: f.string("Index Cond")?,
        recheck_cond: f.string("Recheck Cond")?,
        join_filter: f.string("Join Filter")?,
        hash_cond: f.string("Hash Cond")?,
        merge_cond: f.string("Merge Cond")?,
        one_time_filter: f.string("One-Time Filter")?,
        rows_removed_by_filter: f.f64("Rows Removed by Filter")?,
        rows_removed_by_join_filter: f.f64("Rows Removed by Join Filter")?,
        rows_removed_by_index_recheck: f.f64("Rows Removed by Index Recheck")?,
        heap_fetches: f.f64("Heap Fetches")?,
        sort_key: f.strings("Sort Key")?,
        sort_method: f.string("Sort Method")?,
        sort_space_type: f.string("Sort Space Type")?,
        sort_space_used_kb: f.f64("Sort Space Used")?,
        hash_buckets: f.u64("Hash Buckets")?,
        original_hash_buckets: f.u64("Original Hash Buckets")?,
        hash_batches: f.u64("Hash Batches")?,
        original_hash_batches: f.u64("Original Hash Batches")?,
        peak_memory_kb: f.f64("Peak Memory Usage")?,
        hash_agg_batches: f.u64("HashAgg Batches")?,
        disk_usage_kb: f.f64("Disk Usage")?,
        exact_heap_blocks: f.u64("Exact Heap Blocks")?,
        lossy_heap_blocks: f.u64("Lossy Heap Blocks")?,
        workers_planned: f.u64("Workers Planned")?,
        workers_launched: f.u64("Workers Launched")?,
        workers,
        buffers: f.buffers()?,
        io_timings: f.io_timings()?,
        wal: f.wal()?,
        disabled: f.bool("Disabled")?,
        extra: Map::new(),
        children: Children::default(),
    };
    let mut node = node;
    node.extra = f.into_extra();
    Ok((node, children))
}

/// Builds the tree without recursion: a stack of nodes whose children are still being
/// converted. Refuses trees deeper than [`MAX_PLAN_DEPTH`].
pub(crate) fn tree_from_object(
    root: Map<String, Value>,
    plan_index: usize,
) -> Result<PlanNode, PlanError> {
    struct Frame {
        node: PlanNode,
        pending: std::vec::IntoIter<Value>,
        path: NodePath,
        next_child: usize,
    }
    let describe = |path: &NodePath| format!("plan {}, node {path}", plan_index + 1);
    let root_path = NodePath::root();
    let (node, children) = node_from_object(root, &|| describe(&root_path))?;
    let mut stack = vec![Frame {
        node,
        pending: children.into_iter(),
        path: root_path.clone(),
        next_child: 0,
    }];
    loop {
        let Some(top) = stack.last_mut() else {
            return Err(PlanError::shape(
                describe(&root_path),
                "internal: empty stack",
            ));
        };
        match top.pending.next() {
            Some(child) => {
                let path = top.path.child(top.next_child);
                top.next_child += 1;
                let Value::Object(child) = child else {
                    return Err(PlanError::shape(
                        describe(&path),
                        "expected an object in \"Plans\"",
                    ));
                };
                if stack.len() >= MAX_PLAN_DEPTH {
                    return Err(PlanError::TooDeep {
                        limit: MAX_PLAN_DEPTH,
                        line: None,
                    });
                }
                let (node, children) = node_from_object(child, &|| describe(&path))?;
                stack.push(Frame {
                    node,
                    pending: children.into_iter(),
                    path,
                    next_child: 0,
                });
            }
            None => {
                let Some(done) = stack.pop() else {
                    return Err(PlanError::shape(
                        describe(&root_path),
                        "internal: empty stack",
                    ));
                };
                match stack.last_mut() {
                    Some(parent) => parent.node.children.push(done.node),
                    None => return Ok(done.node),
                }
            }
        }
    }
}
