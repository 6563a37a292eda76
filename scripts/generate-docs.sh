#!/usr/bin/env bash
# Regenerates docs/rules/ from the rules' doc comments and rules/*.toml.
# CI fails (test rules::docs::tests::generated_rule_docs_are_current) when they are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
UPDATE_DOCS=1 cargo test -q -p pgsage-core --lib -- rules::docs::tests::generated_rule_docs_are_current
