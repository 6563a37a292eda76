#!/usr/bin/env bash
# Runs every test: fetches the PostgreSQL 13–18 binaries the live tests need (cached in
# .pg-cache/), checks formatting, lints, and runs the whole workspace's tests.
# This is the README's test command and what CI (.ci/run) calls.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/fetch-postgres.sh 13 14 15 16 17 18
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Live tests must never skip silently: with every version fetched, a missing one fails.
PGSAGE_REQUIRE_ALL_VERSIONS=1 cargo test --workspace --locked
