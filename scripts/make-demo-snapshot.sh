#!/usr/bin/env bash
# Regenerates testdata/snapshots/demo.json from a throwaway PostgreSQL 17 server with every
# rule's planted problem (testdata/scenarios/*.toml) in an ERP-like database, then stores
# it normalised and compact like the fixtures (docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-testdata/snapshots/demo.json}"
scripts/fetch-postgres.sh 17
cargo run -q -p pgsage --example make_demo -- "$out"
cargo run -q -p pgsage-core --example normalise_snapshot -- "$out"
