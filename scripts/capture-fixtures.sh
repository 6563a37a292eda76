#!/usr/bin/env bash
# Re-captures the rules' fixtures (testdata/fixtures/<RULE>/{fires,quiet}.json) from a real
# PostgreSQL 15 server by running the live scenarios with PGSAGE_UPDATE_FIXTURES=1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-postgres.sh 15
PGSAGE_UPDATE_FIXTURES=1 cargo test -p pgsage --test scenarios -- scenarios_pg15
