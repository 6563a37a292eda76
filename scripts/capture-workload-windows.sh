#!/usr/bin/env bash
# Re-captures the workload-window logs (testdata/logs/workload-windows/) from a real
# PostgreSQL server: crates/pgsage/tests/workload_windows.rs runs order entry with a
# report and a cron import in its busiest 10-second window (batch-at-peak.log.gz) and the
# same report and import in a quiet window of their own (batch-at-night.log.gz), and writes
# the two logs and manifest.json. The WRK001/WRK003 fixture tests read them.
# Usage: scripts/capture-workload-windows.sh [major]   (default: 17)
set -euo pipefail
cd "$(dirname "$0")/.."
major="${1:-17}"
scripts/fetch-postgres.sh "$major"
PGSAGE_CAPTURE_WORKLOAD_WINDOWS=1 PGSAGE_TEST_MAJORS="$major" PGSAGE_REQUIRE_ALL_VERSIONS=1 \
  cargo test -p pgsage --test workload_windows -- --nocapture
ls -la testdata/logs/workload-windows
