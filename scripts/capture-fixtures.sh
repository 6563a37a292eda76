#!/usr/bin/env bash
# Re-captures the rules' fixtures (testdata/fixtures/<scenario>/<case>.json) from a real
# PostgreSQL 17 server by running the live scenarios with PGSAGE_UPDATE_FIXTURES=1, then
# stores them normalised and compact (docs/testing.md, "How fixtures are stored").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-postgres.sh 17
PGSAGE_UPDATE_FIXTURES=1 cargo test -p pgsage --test scenarios -- scenarios_pg17
# PGSAGE_SCENARIOS=vacuum,indexing limits it to some scenarios.
cargo run -q -p pgsage-core --example normalise_snapshot -- testdata/fixtures/*/*.json
