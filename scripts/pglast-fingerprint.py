#!/usr/bin/env python3
"""libpg_query's fingerprint (through pglast) on the statement corpus of
benches/fingerprint.rs, for the comparison in docs/performance.md.

    pip install pglast
    python3 scripts/pglast-fingerprint.py [seconds]

Runs on one core: the same 20 constant variants of each corpus statement as the Rust
benchmark, fingerprinted in a loop for a few seconds; prints statements per second.
Statements libpg_query cannot parse are counted and left out of the timing.
"""

import pathlib
import sys
import time

from pglast import parser

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "testdata" / "workload" / "statements.sql"


def corpus():
    base = [
        line
        for line in CORPUS.read_text().splitlines()
        if line.strip() and not line.startswith("--")
    ]
    shift = lambda s, k: "".join(
        str((int(c) + k) % 10) if c.isdigit() else c for c in s
    )
    return [shift(s, k) for k in range(20) for s in base]


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    stmts, failed = [], 0
    for s in corpus():
        try:
            parser.fingerprint(s)
            stmts.append(s)
        except Exception:  # noqa: BLE001 - a statement libpg_query rejects
            failed += 1
    total_bytes = sum(len(s) for s in stmts)
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for s in stmts:
            parser.fingerprint(s)
        done += 1
    elapsed = time.perf_counter() - start
    n = done * len(stmts)
    print(f"pglast {getattr(parser, 'LIBPG_QUERY_VERSION', '')}".strip())
    print(f"statements: {len(stmts)} ({failed} rejected), {total_bytes / len(stmts):.0f} bytes each")
    print(f"fingerprint: {n / elapsed:,.0f} statements/s ({elapsed / n * 1e6:.2f} us each), one core")


if __name__ == "__main__":
    main()
