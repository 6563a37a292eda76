#!/usr/bin/env bash
# Regenerates docs/rules/ from the rules' doc comments and rules/*.toml, docs/actions.md
# from the action themes, and docs/tiers.md from the managed-service tier tables. CI fails
# (tests generated_rule_docs_are_current, generated_actions_doc_is_current,
# generated_tiers_doc_is_current) when they are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
UPDATE_DOCS=1 cargo test -q -p pgsage-core --lib -- rules::docs::tests::generated_rule_docs_are_current
UPDATE_DOCS=1 cargo test -q -p pgsage-core --lib -- report::actions::tests::generated_actions_doc_is_current
UPDATE_DOCS=1 cargo test -q -p pgsage-core --lib -- knowledge::platform_tiers::tests::generated_tiers_doc_is_current
