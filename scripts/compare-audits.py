#!/usr/bin/env python3
"""Checks that rewriting the stored snapshots changes nothing the rules or the tuner compute.

    scripts/compare-audits.py record DIR [--pgsage BIN] [FILE...]
    scripts/compare-audits.py compare BEFORE_DIR AFTER_DIR

`record` runs `pgsage audit --snapshot F --format json` and `pgsage tune --snapshot F
--format json` on every stored snapshot (testdata/fixtures/*/*.json and
testdata/snapshots/demo.json, or the FILEs given) and writes the outputs and exit codes to
DIR. BIN defaults to target/debug/pgsage (build it first: `cargo build -p pgsage-cli`).

`compare` compares two recordings and exits 1 when any output differs. It ignores only
the `tool` that wrote the report; the report's `target.collected_at` gives the shift of
the snapshot's clock, and any other timestamp in the output (a finding's evidence such as
`last_failed_time`, or the same time quoted in its message) must have moved by exactly
that shift. Everything else in every
finding (message, evidence, recommendation, fix), every skip and every piece of tuning
advice must be identical.

The way to use it around a change to the stored files (docs/testing.md):

    cargo build -p pgsage-cli && scripts/compare-audits.py record /tmp/before
    ... rewrite the files, rebuild ...
    scripts/compare-audits.py record /tmp/after && scripts/compare-audits.py compare /tmp/before /tmp/after
"""

import argparse
import datetime
import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMANDS = ("audit", "tune")
# Changed by a rebuild or by a time shift by construction: paths in the report.
IGNORED = [("tool",), ("target", "collected_at")]


def stored_snapshots():
    files = sorted((REPO / "testdata" / "fixtures").glob("*/*.json"))
    return files + [REPO / "testdata" / "snapshots" / n for n in ("demo.json", "hostile.json")]


def record(out: Path, pgsage: Path, files) -> int:
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for f in files or stored_snapshots():
        f = Path(f).resolve()
        name = str(f.relative_to(REPO)).replace("/", "__")
        for cmd in COMMANDS:
            # Run from the repository root without a pgsage.toml, like the tests do.
            p = subprocess.run(
                [str(pgsage), cmd, "--snapshot", str(f), "--format", "json"],
                cwd=REPO,
                capture_output=True,
            )
            result = {"file": str(f.relative_to(REPO)), "command": cmd, "exit": p.returncode}
            try:
                result["output"] = json.loads(p.stdout)
            except ValueError:
                result["stdout"] = p.stdout.decode(errors="replace")
            result["stderr"] = p.stderr.decode(errors="replace")
            (out / f"{name}.{cmd}.json").write_text(json.dumps(result, indent=1, sort_keys=True))
        count += 1
    print(f"recorded {count} snapshots x {len(COMMANDS)} commands in {out}")
    return 0


def strip(report):
    report = json.loads(json.dumps(report))
    for path in IGNORED:
        parent = report
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
    return report


def timestamp(v):
    if not isinstance(v, str) or len(v) < 19 or v[4:5] != "-" or v[10:11] != "T":
        return None
    try:
        t = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else None


TIMESTAMP_IN_TEXT = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")


def same_text_but_shifted(a, b, shift):
    """Whether two strings are equal once the timestamps quoted in them are taken out,
    and each of those moved by the shift."""
    ta, tb = TIMESTAMP_IN_TEXT.findall(a), TIMESTAMP_IN_TEXT.findall(b)
    if not ta or len(ta) != len(tb) or shift.delta is None:
        return False
    if TIMESTAMP_IN_TEXT.sub("<time>", a) != TIMESTAMP_IN_TEXT.sub("<time>", b):
        return False
    pairs = [(timestamp(x.replace(" ", "T")), timestamp(y.replace(" ", "T"))) for x, y in zip(ta, tb)]
    if not all(x and y and y - x == shift.delta for x, y in pairs):
        return False
    shift.moved += sum(1 for x, y in pairs if x != y)
    return True


class Shift:
    """The time shift of one snapshot, and how many timestamps moved by it."""

    def __init__(self, delta):
        self.delta = delta
        self.moved = 0


def first_difference(a, b, shift, at=""):
    ta, tb = timestamp(a), timestamp(b)
    if ta and tb and a != b and shift.delta is not None and tb - ta == shift.delta:
        shift.moved += 1
        return None
    if isinstance(a, str) and isinstance(b, str) and a != b and same_text_but_shifted(a, b, shift):
        return None
    if type(a) is not type(b):
        return f"{at or '/'}: {a!r:.80} != {b!r:.80}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{at}/{k}: only in {'after' if k in b else 'before'}"
            d = first_difference(a[k], b[k], shift, f"{at}/{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{at}: {len(a)} items before, {len(b)} after"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, shift, f"{at}/{i}")
            if d:
                return d
        return None
    return None if a == b else f"{at or '/'}: {a!r:.80} != {b!r:.80}"


def compare(before: Path, after: Path) -> int:
    names = sorted(p.name for p in before.glob("*.json"))
    missing = sorted(set(names) ^ {p.name for p in after.glob("*.json")})
    differ = 0
    findings = skipped = advice = moved = 0
    records = {
        name: (json.loads((before / name).read_text()), json.loads((after / name).read_text()))
        for name in names
        if name not in missing
    }
    # The shift of each snapshot's clock, from its audit.
    shifts = {}
    for a, b in records.values():
        if a["command"] == "audit" and "output" in a and "output" in b:
            ta = timestamp(a["output"].get("target", {}).get("collected_at"))
            tb = timestamp(b["output"].get("target", {}).get("collected_at"))
            shifts[a["file"]] = tb - ta if ta and tb else None
    for name, (a, b) in records.items():
        if "output" not in a or "output" not in b:
            print(f"NOT JSON {name}: {a.get('stderr') or b.get('stderr')}".strip())
            differ += 1
            continue
        shift = Shift(shifts.get(a["file"]))
        d = first_difference(
            {"exit": a["exit"], "output": strip(a["output"])},
            {"exit": b["exit"], "output": strip(b["output"])},
            shift,
        )
        moved += shift.moved
        if d:
            print(f"DIFFERS {a['file']} ({a['command']}): {d}")
            differ += 1
        out = a["output"]
        findings += len(out.get("findings", []))
        skipped += len(out.get("skipped", []))
        advice += len(out.get("settings", [])) if a["command"] == "tune" else 0
    for name in missing:
        print(f"MISSING {name}: recorded only {'after' if (after / name).exists() else 'before'}")
    compared = len(names) - len([n for n in missing if n in names])
    print(
        f"compared {compared} outputs ({findings} findings, {skipped} skipped rules, "
        f"{advice} tuning advice rows; {moved} timestamps in findings moved by their "
        f"snapshot's shift): {differ} differ, {len(missing)} missing"
    )
    return 1 if differ or missing else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("dir", type=Path)
    r.add_argument("--pgsage", type=Path, default=REPO / "target" / "debug" / "pgsage")
    r.add_argument("files", nargs="*")
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.cmd == "record":
        return record(args.dir, args.pgsage, args.files)
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
