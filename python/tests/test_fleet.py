"""`pgsage.load_fleet`: a fleet directory written by the CLI (`pgsage fleet`), read back
with pyarrow and polars, readers other than the Rust writer, and checked against the
NDJSON copy of the same rows and the per-server reports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest

import pgsage


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def fleet_dir(pg_server: Dict[str, Any], cli: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real server reached twice (as the superuser, and as `monitor` with its
    password from PGPASSWORD), plus a closed port."""
    base = tmp_path_factory.mktemp("fleet")
    monitor = pg_server["monitor_dsn"].replace("password=monitor", "")
    assert "password" not in monitor
    inventory = base / "fleet.toml"
    inventory.write_text(
        f"""
[[server]]
name = "app-super"
dsn = "{pg_server['dsn']}"
tags = {{ env = "prod", customer = "acme" }}

[[server]]
name = "app-monitor"
dsn = "{monitor}"
tags = {{ env = "test" }}

[[server]]
name = "dead"
dsn = "host=127.0.0.1 port={_closed_port()} user=postgres sslmode=disable"
"""
    )
    out = base / "out"
    env = dict(os.environ, PGPASSWORD="monitor", NO_COLOR="1")
    done = subprocess.run(
        [str(cli), "fleet", "--inventory", str(inventory), "-o", str(out), "--timeout", "60s"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return out


def _ndjson(out: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in (out / "findings.ndjson").read_text().splitlines()]


def test_pandas_frame_matches_the_ndjson_rows_and_the_reports(fleet_dir: Path) -> None:
    import pandas as pd

    frame = pgsage.load_fleet(fleet_dir)
    rows = _ndjson(fleet_dir)
    assert len(frame) == len(rows) > 0
    reports = {
        name: json.loads((fleet_dir / name / "report.json").read_text())
        for name in ("app-super", "app-monitor")
    }
    assert len(frame) == sum(len(r["findings"]) for r in reports.values())
    assert set(frame["server"]) == {"app-super", "app-monitor"}
    # Row by row, the Parquet file says what the NDJSON says.
    for i, row in enumerate(rows):
        got = frame.iloc[i]
        for column in ("server", "rule", "pack", "severity", "title", "object_kind",
                       "object_name", "message"):
            assert got[column] == row[column], (i, column)
        assert got["tags"] == row["tags"]
        assert json.loads(got["evidence"]) == row["evidence"]
        assert (None if pd.isna(got["database"]) else got["database"]) == row["database"]
        assert (None if pd.isna(got["action_id"]) else got["action_id"]) == row["action_id"]
        assert got["run_at"] == pd.Timestamp(row["run_at"]).floor("us")
    assert str(frame["run_at"].dt.tz) == "UTC"
    assert frame["run_at"].nunique() == 1
    assert set(frame["severity"]) <= {"info", "warning", "critical"}
    # Each server's rows are its report's findings, rule for rule.
    for name, report in reports.items():
        assert list(frame[frame["server"] == name]["rule"]) == [
            f["rule"] for f in report["findings"]
        ]
    prod = frame[[t.get("env") == "prod" for t in frame["tags"]]]
    assert set(prod["server"]) == {"app-super"}


def test_polars_reads_the_same_table(fleet_dir: Path) -> None:
    frame = pgsage.load_fleet(fleet_dir, engine="polars")
    rows = _ndjson(fleet_dir)
    assert frame.height == len(rows)
    assert frame["rule"].to_list() == [r["rule"] for r in rows]


def test_the_summary_reports_the_dead_server(fleet_dir: Path) -> None:
    summary = pgsage.load_fleet_summary(fleet_dir)
    status = {s["name"]: s["status"] for s in summary["servers"]}
    assert status == {"app-super": "ok", "app-monitor": "ok", "dead": "error"}
    assert not (fleet_dir / "dead" / "report.json").exists()


def test_a_missing_reader_names_the_extra(fleet_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pgsage.fleet as fleet

    real = fleet.importlib.import_module

    def no_pyarrow(name: str, *args: Any) -> Any:
        if name.startswith("pyarrow"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args)

    monkeypatch.setattr(fleet.importlib, "import_module", no_pyarrow)
    with pytest.raises(pgsage.MissingDependencyError, match=r"pgsage\[fleet\]"):
        pgsage.load_fleet(fleet_dir)
    with pytest.raises(ImportError):
        pgsage.load_fleet(fleet_dir)


def test_a_directory_without_findings_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="pgsage fleet"):
        pgsage.load_fleet(tmp_path)
    with pytest.raises(ValueError, match="engine"):
        pgsage.load_fleet(tmp_path, engine="spark")

