"""Workloads from the captured server logs (testdata/logs, real servers with known
log_line_prefix settings), from the demo snapshot's pg_stat_statements and from a live
server; the same queries and findings as `pgsage workload --format json`."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pandas as pd
import pytest
from conftest import DEMO, REPO, html_prose, html_text, run_cli

import pgsage

LOGS = REPO / "testdata" / "logs"


def _captures() -> List[Tuple[str, Path, str]]:
    """(id, file, prefix) of every captured log file, from the manifests."""
    out = []
    for manifest in sorted(LOGS.glob("pg*/manifest.json")):
        m = json.loads(manifest.read_text())
        for config in m["configs"]:
            for kind, name in config["files"].items():
                out.append((f"{manifest.parent.name}/{name}", manifest.parent / name,
                            config["prefix"]))
    return out


CAPTURES = _captures()
DEFAULT_LOG = LOGS / "pg17" / "default.log"


def _comparable_queries(w: Dict[str, Any]) -> List[Dict[str, Any]]:
    return sorted(w["queries"], key=lambda q: q["fingerprint"])


def test_the_corpus_is_there():
    assert len(CAPTURES) >= 50, len(CAPTURES)


@pytest.mark.parametrize("name, path, prefix", CAPTURES, ids=[c[0] for c in CAPTURES])
def test_logs_give_the_same_workload_and_findings_as_the_cli(cli, name, path, prefix):
    detected = subprocess.run(
        [str(cli), "workload", str(path), "--quiet", "--format", "json"],
        capture_output=True,
        text=True,
    )
    if detected.returncode == 2:
        # A prefix the reader cannot detect: the CLI and the package both say no statement
        # was found (naming the prefix they read with); both read it with the server's.
        assert "no statement with a duration" in detected.stderr, detected.stderr
        with pytest.raises(pgsage.InvalidValueError, match="no statement with a duration"):
            pgsage.workload(path)
        expected = run_cli(cli, "workload", str(path), "--quiet", "--log-line-prefix", prefix)
        assert expected["log"]["samples"] > 0
        w = pgsage.workload(path, log_line_prefix=prefix)
    else:
        assert detected.returncode == 0, detected.stderr
        expected = json.loads(detected.stdout)
        w = pgsage.workload(path)
    got = w.to_dict()
    assert got["source"] == expected["workload"]["source"]
    assert got["totals"] == expected["workload"]["totals"]
    assert _comparable_queries(got) == _comparable_queries(expected["workload"])
    assert got["profile"] == expected["workload"]["profile"]
    report = w.findings
    assert [f.to_row()["rule"] for f in report] == [f["rule"] for f in expected["findings"]]
    assert report.to_dict()["findings"] == expected["findings"]
    assert report.to_dict()["skipped"] == expected["skipped"]
    assert w.log is not None and w.log["samples"] > 0
    assert w.log == expected["log"]
    # the prefix the reader detected is the server's (stderr logs)
    if path.suffix == ".log":
        assert w.log["inputs"][0]["prefix"] == prefix
        given = pgsage.workload(path, log_line_prefix=prefix)
        assert _comparable_queries(given.to_dict()) == _comparable_queries(got)


def test_queries_frame_shapes_and_dtypes():
    w = pgsage.workload(str(DEFAULT_LOG))
    raw = w.to_dict()
    q = w.queries()
    assert len(q) == len(w) == len(raw["queries"]) == raw["totals"]["fingerprints"]
    assert list(q["fingerprint"]) == [x["fingerprint"] for x in raw["queries"]]
    assert q["calls"].sum() == raw["totals"]["calls"]
    dtypes = q.dtypes.astype(str).to_dict()
    for c in ("fingerprint", "query", "kind", "example"):
        assert dtypes[c] == "string", c
    assert dtypes["calls"] == "int64"
    for c in ("total_ms", "mean_ms", "min_ms", "max_ms", "share_pct", "p50_ms", "p95_ms",
              "p99_ms", "plan_ms"):
        assert dtypes[c] == "float64", c
    for c in ("rows", "plans", "shared_blks_hit", "temp_bytes"):
        assert dtypes[c] == "Int64", c
    assert dtypes["bulk"] == "bool"
    assert dtypes["toplevel"] == "boolean"
    assert dtypes["databases"] == "object"
    # logs have percentiles and no row counts
    assert q["p95_ms"].notna().all() and q["rows"].isna().all()
    assert (q["p50_ms"] <= q["p99_ms"] + 1e-9).all()
    assert q["share_pct"].sum() == pytest.approx(100.0, abs=0.01)
    assert q["total_ms"].is_monotonic_decreasing
    assert all(isinstance(d, list) for d in q["databases"])
    assert w.query_records()[0]["fingerprint"] == raw["queries"][0]["fingerprint"]
    windows = w.windows()
    assert len(windows) == len(w.profile["windows"]) > 0
    assert str(windows["start"].dtype).startswith("datetime64")


def test_several_files_and_gzip(tmp_path: Path):
    gz = tmp_path / "postgresql.log.1.gz"
    gz.write_bytes(gzip.compress(DEFAULT_LOG.read_bytes()))
    plain = pgsage.workload(DEFAULT_LOG)
    from_gz = pgsage.workload(gz)
    assert _comparable_queries(from_gz.to_dict()) == _comparable_queries(plain.to_dict())
    assert from_gz.log["inputs"][0]["gzip"] is True
    both = pgsage.workload([DEFAULT_LOG, gz])
    assert both.totals["calls"] == 2 * plain.totals["calls"]
    assert len(both) == len(plain)
    assert both.source["files"] == [str(DEFAULT_LOG), str(gz)]


def test_save_and_load_round_trip(tmp_path: Path):
    w = pgsage.workload(DEFAULT_LOG)
    path = tmp_path / "workload.json"
    w.save(path)
    back = pgsage.load_workload(path)
    assert back.to_dict() == w.to_dict()
    assert pgsage.load_workload(str(path)).to_json() == w.to_json()
    assert pgsage.Workload.from_json(w.to_json()).to_dict() == w.to_dict()
    assert back.log is None
    assert [f.rule for f in back.findings] == [f.rule for f in w.findings]


def test_snapshot_statements_like_the_cli(cli, demo):
    expected = run_cli(cli, "workload", "--snapshot", str(DEMO))
    w = pgsage.workload(demo)
    got = w.to_dict()
    assert got["source"]["kind"] == "pg_stat_statements"
    assert _comparable_queries(got) == _comparable_queries(expected["workload"])
    assert got["totals"] == expected["workload"]["totals"]
    assert w.findings.to_dict()["findings"] == expected["findings"]
    q = w.queries()
    assert q["rows"].notna().all() and q["p95_ms"].isna().all()
    assert w.findings.target["source"] == "workload"


def test_findings_follow_the_configuration_like_the_cli(cli, demo, tmp_path: Path):
    w = pgsage.workload(demo)
    shipped = run_cli(cli, "workload", "--snapshot", str(DEMO))
    assert w.findings.to_dict()["findings"] == shipped["findings"]
    low = {"rules": {"QRY001": {"params": {"min_share_pct": 1, "min_total_ms": 1}}}}
    toml = tmp_path / "pgsage.toml"
    toml.write_text("[rules.QRY001.params]\nmin_share_pct = 1\nmin_total_ms = 1\n")
    expected = run_cli(cli, "workload", "--snapshot", str(DEMO), "--config", str(toml))

    def qry001(report):
        return [f for f in report if f.rule == "QRY001"]

    for config in (low, toml):
        found = w.check(config)
        assert len(qry001(found)) > len(qry001(w.findings))
        assert found.to_dict()["findings"] == expected["findings"]
    configured = pgsage.workload(demo, config=low)
    assert len(configured.findings) == len(expected["findings"])
    assert all(f.object.kind == "query" for f in configured.findings)
    off = dict(low, rules={"QRY001": dict(low["rules"]["QRY001"], enabled=False)})
    assert not qry001(w.check(off))
    assert all(f.severity != "info" for f in w.check(low, min_severity="warning"))
    # The notebook shows the findings of the workload's own configuration.
    html = configured._repr_html_()
    for f in configured.findings:
        assert html_prose(f.message) in html
    assert any(html_prose(f.message) not in w._repr_html_() for f in configured.findings)
    assert "pg_stat_statements" in repr(w)
    with pytest.raises(pgsage.ConfigError, match="unknown rule"):
        w.check({"rules": {"QRY999": {}}})


def _evil_workload(tmp_path: Path) -> pgsage.Workload:
    line = ("2024-05-01 10:00:00.123 UTC [42] LOG:  duration: 1.500 ms  statement: "
            'SELECT x FROM "<script>alert(1)</script>" WHERE id = 7\n')
    log = tmp_path / "evil.log"
    log.write_text(line * 3)
    w = pgsage.workload(log)
    assert w.totals["calls"] == 3
    return w


def test_repr_html_escapes_query_text(tmp_path: Path):
    out = _evil_workload(tmp_path)._repr_html_()
    assert "<script>alert" not in out


def test_repr_html_shows_the_queries_escaped(tmp_path: Path):
    out = _evil_workload(tmp_path)._repr_html_()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out


def test_bad_inputs(tmp_path: Path, demo_json):
    missing = tmp_path / "nope.log"
    with pytest.raises(pgsage.IoError, match="opening log file .*nope.log") as e:
        pgsage.workload(missing)
    assert isinstance(e.value, OSError)
    junk = tmp_path / "junk.log"
    junk.write_text("".join(f"this is line {i} of something else entirely\n" for i in range(500)))
    with pytest.raises(pgsage.InvalidValueError, match=r"no statement with a duration .*500 lines"):
        pgsage.workload(junk)
    with pytest.raises(pgsage.InvalidValueError, match="unknown log format"):
        pgsage.workload(DEFAULT_LOG, log_format="syslog")
    with pytest.raises(pgsage.InvalidValueError, match="no log file"):
        pgsage.workload([])
    not_workload = tmp_path / "x.json"
    not_workload.write_text('{"hello": 1}')
    with pytest.raises(pgsage.InvalidValueError, match="not a workload file"):
        pgsage.load_workload(not_workload)
    with pytest.raises(pgsage.IoError):
        pgsage.load_workload(tmp_path / "missing.json")
    no_statements = dict(demo_json, statements=None)
    snap = pgsage.Snapshot.from_json(json.dumps(no_statements))
    with pytest.raises(pgsage.InvalidValueError, match="pg_stat_statements"):
        pgsage.workload(snap)
    with pytest.raises(TypeError):
        pgsage.workload(42)
    with pytest.raises(TypeError):
        pgsage.workload(DEFAULT_LOG, interval=5)


# -- interrupting a long ingestion --------------------------------------------------------


@pytest.fixture
def stalled_log(tmp_path: Path) -> Iterator[Tuple[Path, int]]:
    """A named pipe holding a few log lines and then nothing: a reader waits on it
    forever, like a log on a stalled network share. Yields (path, write end); closing
    the write end lets the reader finish."""
    path = tmp_path / "stalled.log"
    os.mkfifo(path)
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    os.write(fd, DEFAULT_LOG.read_bytes()[:4096])
    try:
        yield path, fd
    finally:
        try:
            os.close(fd)
        except OSError:
            pass


def _reader_threads() -> int:
    """Threads of this process in the log reader's parser pool (`pgsage-log-N`), which
    lives as long as one reading does."""
    n = 0
    for comm in Path("/proc/self/task").glob("*/comm"):
        try:
            n += comm.read_text().strip().startswith("pgsage-log-")
        except OSError:
            pass
    return n


def test_ctrl_c_interrupts_a_stalled_log_ingestion(stalled_log, assert_interrupts):
    path, fd = stalled_log
    assert_interrupts(lambda: pgsage.workload(path, threads=1))
    # the worker still waits on the pipe; at end of input it ends by itself, and the
    # package works on meanwhile
    os.close(fd)
    assert pgsage.workload(DEFAULT_LOG).totals["calls"] > 0


def test_log_ingestion_releases_the_gil(stalled_log):
    path, fd = stalled_log
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.01)

    def finish() -> None:
        time.sleep(1.0)
        os.close(fd)  # end of input: the ingestion completes

    counter = threading.Thread(target=count)
    closer = threading.Thread(target=finish)
    counter.start()
    closer.start()
    started = time.monotonic()
    try:
        w = pgsage.workload(path, threads=1, log_line_prefix="%m [%p] ")
    finally:
        done.set()
        counter.join()
        closer.join()
    elapsed = time.monotonic() - started
    assert w.totals["calls"] > 0
    assert 0.9 < elapsed < 5.0, elapsed
    assert ticks > 40 * elapsed, (ticks, elapsed)


def test_ctrl_c_stops_the_reader_of_a_large_log(tmp_path: Path):
    """Cancelling stops the library's reader too, not only the wait: on a log that takes
    seconds to read, the reader's threads are gone long before it would have finished.
    (What is already read ahead, up to 2 × threads + 1 chunks of 4 MiB, is parsed first.)"""
    lines = [
        f"2024-05-01 10:{(i // 60) % 60:02d}:{i % 60:02d}.123 UTC [{100 + i % 50}] LOG:  "
        f"duration: 0.{i % 1000:03d} ms  statement: SELECT * FROM t{i % 7} WHERE id = {i}\n"
        for i in range(20000)
    ]
    block = "".join(lines)
    big = tmp_path / "big.log"
    with big.open("w") as f:
        for _ in range(40):  # 800,000 statements, 80 MB
            f.write(block)
    started = time.monotonic()
    full = pgsage.workload(big, threads=2)
    full_s = time.monotonic() - started
    assert full.totals["calls"] == 800_000
    if full_s < 1.0:
        pytest.skip(f"reading took only {full_s:.2f} s here: too fast to interrupt midway")
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            pgsage.workload(big, threads=2)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 0.2 + 0.5
    assert _reader_threads() > 0, "the reader still finishes what it read ahead"
    while _reader_threads() and time.monotonic() - started < full_s:
        time.sleep(0.01)
    stopped_after = time.monotonic() - started
    assert _reader_threads() == 0
    assert stopped_after < 0.2 + 0.6 * full_s, (stopped_after, full_s)


# -- live -------------------------------------------------------------------------------


def test_workload_from_a_live_server(pg_server):
    w = pgsage.workload(pg_server["monitor_dsn"])
    assert w.source["kind"] == "pg_stat_statements"
    q = w.queries()
    orders = q[q["query"].str.contains("orders", na=False)]
    assert len(orders) > 0
    assert orders["calls"].min() >= 1 and orders["rows"].notna().all()
    assert q["calls"].dtype == "int64"
    assert w.findings.target["source"] == "workload"
    again = pgsage.workload(pg_server["monitor_dsn"], interval=0.3)
    assert again.source["basis"] == "interval"


def test_a_platform_names_its_log_line_prefix():
    """``platform=`` reads the log with the platform's prefix, as ``pgsage workload
    --platform``: RDS's log with RDS's, and not with Azure's."""
    path = REPO / "testdata" / "logs" / "pg17" / "rds.log"
    w = pgsage.workload(path, platform="aws-rds")
    assert w.log["samples"] > 0
    assert w.log["inputs"][0]["prefix"] == "%t:%r:%u@%d:[%p]:"
    with pytest.raises(pgsage.InvalidValueError, match="no statement with a duration"):
        pgsage.workload(path, platform="azure-flexible-server")
    with pytest.raises(pgsage.InvalidValueError, match="platform"):
        pgsage.workload(path, platform="on-prem")
