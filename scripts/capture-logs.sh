#!/usr/bin/env bash
# Re-captures the server log corpus (testdata/logs/pg<major>/) from real PostgreSQL 13–18
# servers: crates/pgsage/tests/logs_capture.rs starts one server per logging
# configuration (log_line_prefix variants, csvlog/jsonlog, log_statement + log_duration,
# verbose errors), runs the same small marked workload on each and writes the log files
# and manifest.json (settings, files, expected samples per marker).
# Usage: scripts/capture-logs.sh [major ...]   (default: 13 14 15 16 17 18)
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(13 14 15 16 17 18)
scripts/fetch-postgres.sh "${majors[@]}"
filters=()
for m in "${majors[@]}"; do
  rm -rf "testdata/logs/pg$m"
  filters+=("capture_pg$m")
done
PGSAGE_CAPTURE_LOGS=1 PGSAGE_REQUIRE_ALL_VERSIONS=1 \
  cargo test -p pgsage --test logs_capture -- --test-threads=2 "${filters[@]}"
du -sh testdata/logs
