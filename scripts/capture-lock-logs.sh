#!/usr/bin/env bash
# Re-captures the lock-incident log corpus (testdata/logs/locks/pg<major>/) from real
# PostgreSQL 13–18 servers: crates/pgsage/tests/locks.rs starts one server per capture
# with log_lock_waits = on, deadlock_timeout = 100ms, a log_line_prefix with %e and %a,
# csvlog (and jsonlog on 15+), and plants ERP-like conflicts — an Odoo-style cron worker
# and order entry deadlocking on stock_quant / account_move_line, REPEATABLE READ and
# SERIALIZABLE serialization failures, lock waits past deadlock_timeout, lock_timeout
# cancels — then its healthy twin (the same statements, one transaction after the
# other). manifest.json records the settings and what was planted.
# Usage: scripts/capture-lock-logs.sh [major ...]   (default: 13 14 15 16 17 18)
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(13 14 15 16 17 18)
scripts/fetch-postgres.sh "${majors[@]}"
filters=()
for m in "${majors[@]}"; do
  rm -rf "testdata/logs/locks/pg$m"
  filters+=("capture_pg$m")
done
PGSAGE_CAPTURE_LOCK_LOGS=1 PGSAGE_REQUIRE_ALL_VERSIONS=1 \
  cargo test -p pgsage --test locks -- --test-threads=1 "${filters[@]}"
du -sh testdata/logs/locks
