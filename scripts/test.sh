#!/usr/bin/env bash
# Runs every test: fetches the PostgreSQL 13–18 binaries the live tests need (cached in
# .pg-cache/), checks formatting, lints, and runs the whole workspace's tests.
# This is the README's test command and what CI (.ci/run) calls.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/fetch-postgres.sh 13 14 15 16 17 18
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The providers' CLIs (awscli, azure-cli from PyPI) parse the commands pgsage renders for
# managed platforms (crates/pgsage/tests/platform_fixes.rs).
cli_venv="$PWD/target/cli-venv"
[ -x "$cli_venv/bin/python" ] || python3 -m venv "$cli_venv"
"$cli_venv/bin/python" -m pip install -q --disable-pip-version-check -r scripts/provider-cli-requirements.txt
export PGSAGE_PROVIDER_CLI_PYTHON="$cli_venv/bin/python"
# Live tests must never skip silently: with every version fetched, a missing one fails.
PGSAGE_REQUIRE_ALL_VERSIONS=1 cargo test --workspace --locked

# The Python package (python/): build its wheel with maturin, install it into a virtualenv
# and run its pytest suite (demo snapshot, error mapping, Ctrl-C, a live server, the
# notebook) against the installed package, as a user would have it.
venv="$PWD/target/py-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r python/requirements-dev.txt
rm -rf target/py-wheel
(cd python && "$venv/bin/maturin" build -q --locked --auditwheel skip -i "$venv/bin/python" -o ../target/py-wheel)
"$venv/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps target/py-wheel/pgsage-*.whl
PGSAGE_REQUIRE_ALL_VERSIONS=1 "$venv/bin/pytest" -q -p no:cacheprovider python/tests
