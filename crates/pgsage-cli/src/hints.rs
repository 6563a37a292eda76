//! How to give what the library found missing, in this front end's words. The library's
//! messages name facts ("host RAM unknown"), and its reports say which ones were missing
//! (`SkippedRule::missing_fact`, `TuneReport::missing_facts`); the flags that supply them
//! are the CLI's business, so the hint lines are written here.

use std::collections::BTreeSet;

use pgsage::host::MissingFact;

/// The flag that gives a fact.
fn flag(fact: MissingFact) -> &'static str {
    match fact {
        MissingFact::Ram => "--ram SIZE",
        MissingFact::Cpus => "--cpus N",
        MissingFact::Storage => "--storage KIND",
        MissingFact::Interval => "--interval DURATION",
    }
}

/// One hint line per kind of missing fact (host facts, the sampled interval), or none:
/// `hint: pass --ram SIZE --cpus N (or --tier NAME on a managed service), or set [host] in
/// pgsage.toml`. The report's skip reasons and notes already say what is unknown.
pub fn missing_facts(facts: impl IntoIterator<Item = MissingFact>) -> Vec<String> {
    let facts: BTreeSet<MissingFact> = facts.into_iter().collect();
    let host: Vec<MissingFact> = facts.iter().copied().filter(|f| f.is_host_fact()).collect();
    let mut lines = Vec::new();
    if !host.is_empty() {
        let flags: Vec<&str> = host.iter().map(|f| flag(*f)).collect();
        // On a managed service the compute size gives RAM, CPUs and storage at once.
        lines.push(format!(
            "hint: pass {} (or --tier NAME on a managed service), or set [host] in pgsage.toml",
            flags.join(" ")
        ));
    }
    if facts.contains(&MissingFact::Interval) {
        lines.push(format!(
            "hint: collect with {} (e.g. 5m) to measure rates over a window",
            flag(MissingFact::Interval)
        ));
    }
    lines
}

/// A hint line when the report's statistics window is too short for usage verdicts or
/// rates: the `--interval` that gives a confident window (the report's banner says what is
/// unsure, in the library's words).
pub fn short_window(counters: &pgsage::report::Counters) -> Option<String> {
    if !counters.too_short() {
        return None;
    }
    let minutes = (counters.min_interval_seconds / 60.0).ceil().max(1.0);
    Some(format!(
        "hint: pgsage audit --dsn DSN --interval {minutes}min measures rates over a long enough window"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_names_every_missing_host_fact_and_its_flag() {
        let lines = missing_facts([MissingFact::Storage, MissingFact::Ram, MissingFact::Ram]);
        assert_eq!(
            lines,
            [
                "hint: pass --ram SIZE --storage KIND (or --tier NAME on a managed service), \
              or set [host] in pgsage.toml"
            ]
        );
        let lines = missing_facts([MissingFact::Interval]);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("--interval"), "{lines:?}");
        assert!(missing_facts([]).is_empty());
    }
}
