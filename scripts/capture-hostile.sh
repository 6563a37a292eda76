#!/usr/bin/env bash
# Re-captures testdata/snapshots/hostile.json from a real PostgreSQL 17 server: a table,
# its columns, indexes and sequence, a role, application names and query texts that carry
# HTML and script (crates/pgsage/tests/hostile_capture.rs), for the browser test that the
# HTML page shows them as text (crates/pgsage-cli/tests/html_browser.rs). Then stores it
# normalised and compact, as every stored snapshot (docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-postgres.sh 17
PGSAGE_CAPTURE_HOSTILE=1 cargo test -p pgsage --test hostile_capture
cargo run -q -p pgsage-core --example normalise_snapshot -- testdata/snapshots/hostile.json
