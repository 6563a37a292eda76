//! Both EXPLAIN parsers on arbitrary input: an `Ok` or an `Err`, never a panic, a hang
//! or a stack overflow; and whatever parses can be profiled, walked and serialized.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    // `parse_plans` picks JSON or text; the explicit entry points force each parser.
    for result in [
        pgsage_core::plan::parse_plans(input),
        pgsage_core::plan::parse_json(input),
        pgsage_core::plan::parse_text(input),
    ] {
        if let Ok(plans) = result {
            for plan in &plans {
                let profile = plan.profile();
                assert_eq!(profile.nodes.len(), plan.root.node_count());
                for node in &profile.nodes {
                    if let Some(e) = node.exclusive_ms {
                        assert!(e >= 0.0);
                    }
                }
                let _ = serde_json::to_string(plan);
            }
        }
    }
});
