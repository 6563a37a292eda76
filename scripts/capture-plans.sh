#!/usr/bin/env bash
# Re-captures the EXPLAIN plan corpus (testdata/plans/pg<major>/<case>.{json,txt}) from real
# PostgreSQL 13–18 servers: crates/pgsage/tests/plans_capture.rs builds a small ERP
# database on each version and runs one query per plan problem (and healthy ones), in
# JSON (ANALYZE, BUFFERS, VERBOSE, SETTINGS, WAL) and text (ANALYZE, BUFFERS).
# Usage: scripts/capture-plans.sh [major ...]   (default: 13 14 15 16 17 18)
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(13 14 15 16 17 18)
scripts/fetch-postgres.sh "${majors[@]}"
filters=()
for m in "${majors[@]}"; do
  rm -rf "testdata/plans/pg$m"
  filters+=("capture_pg$m")
done
# One test per major; two at a time keeps a 2-core machine's timings meaningful.
PGSAGE_CAPTURE_PLANS=1 PGSAGE_REQUIRE_ALL_VERSIONS=1 \
  cargo test -p pgsage --test plans_capture -- --test-threads=2 "${filters[@]}"
du -sh testdata/plans
