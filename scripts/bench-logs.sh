#!/usr/bin/env bash
# End-to-end speed of `pgsage workload` on large server logs, pgBadger -j 1 beside it on
# the same files (docs/performance.md, "Log reading").
#
# Usage: scripts/bench-logs.sh [SIZE_MB] [PGBADGER_SLICE_MB] [SHAPE...]
#   SIZE_MB: size of each generated log (default 1024); logs go to $TMPDIR, not the repo,
#     and are kept for the next run.
#   PGBADGER_SLICE_MB: pgBadger reads only the first N MB of each log (default 256; 0
#     skips pgBadger; SIZE_MB reads the whole file). Its throughput per MB is the same on
#     a slice, and a whole GiB takes it minutes.
#   SHAPE: stderr (prefix '%m [%p] '), rich (prefix
#     '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h '), csvlog, jsonlog; default all.
#     Each log replicates a captured corpus log of testdata/logs/pg17
#     (scripts/make-big-log.py).
#   RUNS (environment): runs per pgsage measurement, the fastest wall time is kept
#     (default 2). READERS (environment): "pgsage pgbadger" (default), or one of them.
#
# pgsage runs as a user runs it: the release binary, `pgsage workload LOG --threads N
# --format json -q > /dev/null` (reading, fingerprints, aggregation, rules, the JSON
# report), the format and prefix detected from the log. Each line gives wall and CPU
# seconds (GNU time), MB/s of wall time, MB per CPU-second, parallel efficiency against
# one thread ((CPU s at 1 thread) / (CPU s at N threads)) and peak RSS. The load average
# is printed with every measurement: on a shared machine wall times only mean something
# when it is below the core count; CPU seconds hold either way.
#
# Needs GNU time (/usr/bin/time) and pgbadger (apt-get install -y pgbadger).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
slice=${2:-256}
shift $(($# < 2 ? $# : 2))
shapes=("$@")
[ ${#shapes[@]} -gt 0 ] || shapes=(stderr rich csvlog jsonlog)
runs=${RUNS:-2}
readers=${READERS:-pgsage pgbadger}
tmp=${TMPDIR:-/tmp}

corpus_of() {
  case $1 in
    stderr) echo testdata/logs/pg17/default.log ;;
    rich) echo testdata/logs/pg17/pgbadger.log ;;
    csvlog) echo testdata/logs/pg17/default.csv ;;
    jsonlog) echo testdata/logs/pg17/default.json ;;
    *) echo "unknown shape $1 (stderr, rich, csvlog, jsonlog)" >&2; exit 2 ;;
  esac
}

pgbadger_args() {
  case $1 in
    stderr) printf '%s\n' -f stderr --prefix '%m [%p] ' ;;
    rich) printf '%s\n' -f stderr --prefix '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ' ;;
    csvlog) printf '%s\n' -f csv ;;
    jsonlog) printf '%s\n' -f jsonlog ;;
  esac
}

load() { cut -d' ' -f1 /proc/loadavg; }

# measure CMD...: one run of CMD, its output discarded; prints "wall cpu rss_kb".
measure() {
  local f
  f=$(mktemp)
  if ! /usr/bin/time -o "$f" -f "%e %U %S %M" "$@" >/dev/null 2>"$f.err"; then
    echo "failed: $* ($(tail -3 "$f.err"))" >&2
  fi
  tail -1 "$f" | awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}'
  rm -f "$f" "$f.err"
}

[[ " $readers " != *" pgsage "* ]] || cargo build --release -q -p pgsage-cli
bin=target/release/pgsage
printf '%-8s %-22s %8s %7s %7s %9s %12s %6s %9s %5s\n' \
  shape reader MB wall_s cpu_s MB/s_wall MB/cpu_s eff peak_RSS load
for shape in "${shapes[@]}"; do
  corpus=$(corpus_of "$shape")
  log="$tmp/pgsage-bench-$shape-$size.${corpus##*.}"
  [ -f "$log" ] || python3 scripts/make-big-log.py "$log" "$size" "$corpus" >&2
  mb=$(awk -v b="$(stat -c %s "$log")" 'BEGIN{printf "%.0f", b/1048576}')
  cpu1=""
  for threads in 1 2; do
    [[ " $readers " == *" pgsage "* ]] || break
    best=""
    for _ in $(seq "$runs"); do
      l=$(load)
      r=$(measure "$bin" workload "$log" --threads "$threads" --format json -q)
      if [ -z "$best" ] || awk -v a="${r%% *}" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then
        best="$r $l"
      fi
    done
    read -r wall cpu rss l <<<"$best"
    [ "$threads" = 1 ] && cpu1=$cpu
    awk -v s="$shape" -v t="$threads" -v mb="$mb" -v w="$wall" -v c="$cpu" -v c1="$cpu1" \
      -v r="$rss" -v l="$l" 'BEGIN{
        printf "%-8s %-22s %8d %7.2f %7.2f %9.0f %12.0f %5.0f%% %6.0f MiB %5s\n",
          s, "pgsage --threads " t, mb, w, c, mb / w, mb / c, 100 * c1 / c, r / 1024, l }'
  done
  if [[ " $readers " == *" pgbadger "* ]] && [ "$slice" != 0 ] && command -v pgbadger >/dev/null; then
    input="$log"
    if [ "$slice" != "$size" ]; then
      input="$tmp/pgsage-bench-$shape-$size-slice-$slice.${corpus##*.}"
      # Whole lines only (a csvlog record cut mid-way is one unparsed line at most).
      [ -f "$input" ] || head -c "${slice}M" "$log" | sed '$d' >"$input"
    fi
    smb=$(awk -v b="$(stat -c %s "$input")" 'BEGIN{printf "%.0f", b/1048576}')
    mapfile -t args < <(pgbadger_args "$shape")
    l=$(load)
    r=$(measure pgbadger -j 1 -q "${args[@]}" -o "$tmp/pgsage-bench-pgbadger.html" "$input")
    read -r wall cpu rss <<<"$r"
    awk -v s="$shape" -v mb="$smb" -v w="$wall" -v c="$cpu" -v r="$rss" -v l="$l" 'BEGIN{
      printf "%-8s %-22s %8d %7.2f %7.2f %9.1f %12.1f %6s %6.0f MiB %5s\n",
        s, "pgbadger -j 1", mb, w, c, mb / w, mb / c, "", r / 1024, l }'
  fi
done
