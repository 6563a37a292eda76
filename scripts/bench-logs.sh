#!/usr/bin/env bash
# Log reading throughput on a large log, pgsage beside pgBadger -j 1 (docs/performance.md).
# Usage: scripts/bench-logs.sh [SIZE_MB] [PGBADGER_SLICE_MB]
#   SIZE_MB: size of the generated log (default 1024); it goes to $TMPDIR, not the repo.
#   PGBADGER_SLICE_MB: pgBadger reads only the first N MB (default: the whole file);
#   its throughput on a slice is the same per MB, and the whole file takes minutes.
# Needs pgbadger (apt-get install -y pgbadger) and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
slice=${2:-$size}
tmp=${TMPDIR:-/tmp}
log="$tmp/pgsage-bench-$size.log"
[ -f "$log" ] || python3 scripts/make-big-log.py "$log" "$size"
cargo build --release -p pgsage --bench logs
bin=$(ls -t target/release/deps/logs-* | grep -v '\.d$' | head -1)
for threads in 1 2; do
  for fp in 0 1; do
    /usr/bin/time -f "  cpu_user=%U cpu_sys=%S wall=%e maxrss_kb=%M" \
      env PGSAGE_LOG_BENCH_FILE="$log" PGSAGE_LOG_BENCH_THREADS=$threads \
      PGSAGE_LOG_BENCH_FINGERPRINT=$fp "$bin"
  done
done
if command -v pgbadger >/dev/null; then
  input="$log"
  if [ "$slice" != "$size" ]; then
    input="$tmp/pgsage-bench-$size-slice-$slice.log"
    head -c "${slice}M" "$log" | sed '$d' >"$input"
  fi
  echo "pgbadger -j 1 on $(du -m "$input" | cut -f1) MB:"
  /usr/bin/time -f "  cpu_user=%U cpu_sys=%S wall=%e maxrss_kb=%M" \
    pgbadger -j 1 -q -f stderr --prefix '%m [%p] ' -o "$tmp/pgsage-bench.html" "$input"
fi
