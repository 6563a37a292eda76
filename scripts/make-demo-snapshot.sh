#!/usr/bin/env bash
# Regenerates testdata/snapshots/demo.json from a throwaway PostgreSQL 17 server with every
# rule's planted problem (testdata/scenarios/*.toml) in an ERP-like database.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-postgres.sh 17
cargo run -q -p pgsage --example make_demo -- "${1:-testdata/snapshots/demo.json}"
