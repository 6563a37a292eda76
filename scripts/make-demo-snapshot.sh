#!/usr/bin/env bash
# Regenerates testdata/snapshots/demo.json: builds the demo ERP database
# (testdata/demo/erp/, an Odoo-like installation with its problems planted; its README
# tells the story) on a throwaway PostgreSQL 17 server, replays its workload with
# pgbench, collects a snapshot and stores it normalised and compact like the fixtures
# (docs/testing.md). Six to eight minutes; needs psql and pgbench (postgresql-client).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-testdata/snapshots/demo.json}"
scripts/fetch-postgres.sh 17
cargo run -q -p pgsage --example make_demo -- "$out"
cargo run -q -p pgsage-core --example normalise_snapshot -- "$out"
