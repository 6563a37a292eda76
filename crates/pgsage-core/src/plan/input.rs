//! Cleaning pasted EXPLAIN output: psql's `QUERY PLAN` header, dashed rule, `(N rows)`
//! footer, expanded-mode record headers and `+` line continuations.

/// The input with psql decorations blanked out. Line numbers are kept (removed lines
/// become empty) so that error positions point into the original text.
pub(crate) fn strip_psql_decorations(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for line in input.lines() {
        let line = line.trim_end_matches('\r');
        let trimmed = line.trim();
        let keep = if is_decoration(trimmed) {
            ""
        } else {
            // psql marks a cell's wrapped lines with a `+` in the right border. No line
            // of EXPLAIN output ends with `+` itself (JSON lines end with punctuation or
            // a value, text lines with a value or `)`).
            let line = strip_expanded_prefix(line).trim_end();
            line.strip_suffix('+').unwrap_or(line)
        };
        out.push_str(keep);
        out.push('\n');
    }
    out
}

fn is_decoration(trimmed: &str) -> bool {
    if trimmed == "QUERY PLAN" {
        return true;
    }
    if !trimmed.is_empty() && trimmed.chars().all(|c| c == '-' || c == '+') {
        return true;
    }
    if trimmed.starts_with("-[ RECORD ") {
        return true;
    }
    // "(1 row)", "(12 rows)"
    if let Some(inner) = trimmed.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
        let mut words = inner.split(' ');
        if let (Some(n), Some(w), None) = (words.next(), words.next(), words.next()) {
            return n.chars().all(|c| c.is_ascii_digit()) && (w == "row" || w == "rows");
        }
    }
    false
}

/// `\x` mode prints `QUERY PLAN | <line>`.
fn strip_expanded_prefix(line: &str) -> &str {
    match line.trim_start().strip_prefix("QUERY PLAN") {
        Some(rest) => match rest.trim_start().strip_prefix('|') {
            Some(rest) => rest.strip_prefix(' ').unwrap_or(rest),
            None => line,
        },
        None => line,
    }
}

/// The deepest nesting of `[`/`{` outside strings, and the line where a limit is first
/// exceeded. Runs in one pass without recursion.
pub(crate) fn json_depth_exceeds(text: &str, limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut line = 1usize;
    for b in text.bytes() {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(line);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn strips_psql_aligned_output() {
        let pasted = [
            "                 QUERY PLAN                  ",
            "---------------------------------------------",
            " [                                          +",
            "   {                                        +",
            "   }                                        +",
            " ]",
            "(1 row)",
        ]
        .join("\n");
        let clean = strip_psql_decorations(&pasted);
        assert_eq!(clean.lines().filter(|l| !l.trim().is_empty()).count(), 4);
        assert!(!clean.contains('+'));
        assert!(!clean.contains("row"));
    }

    #[test]
    fn measures_depth_outside_strings() {
        assert_eq!(json_depth_exceeds("[[\"[[[[\"]]", 2), None);
        assert_eq!(json_depth_exceeds("[\n[[]]]", 2), Some(2));
    }
}
