#!/usr/bin/env python3
"""Builds a large server log for benchmarks by replicating a real corpus log.

Usage: scripts/make-big-log.py OUT SIZE_MB [CORPUS_LOG]
(default corpus: testdata/logs/pg17/default.log, prefix '%m [%p] ').

The corpus may be any captured log of testdata/logs: stderr with any prefix (`.log`),
csvlog (`.csv`) or jsonlog (`.json`); the output has the same format. Each copy of the
corpus gets later timestamps, other backend pids and other constants in the statements
(the integers after '= ', '> ', '< ' and in parameter values), so the output has the
shape of the real log without being one text repeated. The big file is not committed;
docs/performance.md says how it was used.
"""
import random
import re
import sys
from datetime import datetime, timedelta

out_path, size_mb = sys.argv[1], int(sys.argv[2])
corpus = sys.argv[3] if len(sys.argv) > 3 else "testdata/logs/pg17/default.log"
text = open(corpus, encoding="utf-8").read()

# Slots: timestamps (%m with milliseconds, %t without, csvlog and jsonlog times), pids
# (stderr's "[1234]", jsonlog's "pid":1234, csvlog's fourth field), statement constants.
slot_re = re.compile(
    r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{3})?)"
    r"|(?P<pid>\[\d+\])"
    r'|(?P<jsonpid>"pid":\d+)'
    r"|(?P<num>(?<=[=<>] )\d+|(?<=\$\d = ')\d+(?='))"
)
# A csvlog record's start: time, user, database, then the pid.
csv_pid_re = re.compile(
    r'(?m)^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [A-Z]+,'
    r'(?:"(?:[^"]|"")*")?,(?:"(?:[^"]|"")*")?,)(\d+),'
)
if corpus.endswith(".csv"):
    # Mark each record's pid so the slot pass below finds it like stderr's "[1234]".
    text = csv_pid_re.sub(lambda m: m.group(1) + "\x00" + m.group(2) + "\x00,", text)
    slot_re = re.compile(slot_re.pattern + r"|(?P<csvpid>\x00\d+\x00)")

parts, kinds = [], []
pos = 0
for m in slot_re.finditer(text):
    parts.append(text[pos:m.start()])
    kinds.append((m.lastgroup, m.group()))
    pos = m.end()
tail = text[pos:]

t0 = datetime(2024, 5, 1)
rng = random.Random(42)
target = size_mb * 1024 * 1024
written = 0
copy = 0
with open(out_path, "w", encoding="utf-8") as out:
    while written < target:
        base = t0 + timedelta(seconds=copy)
        ts = base.strftime("%Y-%m-%d %H:%M:%S")
        pid_shift = (copy % 500) * 100
        buf = []
        for lit, (kind, val) in zip(parts, kinds):
            buf.append(lit)
            if kind == "ts":
                buf.append(ts + val[19:])
            elif kind == "pid":
                buf.append("[%d]" % (int(val[1:-1]) + pid_shift))
            elif kind == "jsonpid":
                buf.append('"pid":%d' % (int(val[6:]) + pid_shift))
            elif kind == "csvpid":
                buf.append("%d" % (int(val[1:-1]) + pid_shift))
            else:
                buf.append(str(rng.randrange(1, 100000)))
        buf.append(tail)
        chunk = "".join(buf)
        out.write(chunk)
        written += len(chunk.encode("utf-8"))
        copy += 1
print(f"{out_path}: {written / 1048576:.0f} MiB, {copy} copies of {corpus}")
