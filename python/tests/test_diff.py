"""``pgsage.diff``: the library's diff, as a dict, on snapshots captured from real servers
(a healthy case and its planted twin) and on their reports."""

from __future__ import annotations

from pathlib import Path

import pytest

import pgsage

REPO = Path(__file__).resolve().parents[2]
HEALTHY = REPO / "testdata" / "fixtures" / "vacuum" / "healthy.json"
PROBLEMS = REPO / "testdata" / "fixtures" / "vacuum" / "problems.json"


def test_snapshots_show_the_planted_findings_as_new_and_back_as_resolved() -> None:
    healthy, problems = pgsage.load_snapshot(HEALTHY), pgsage.load_snapshot(PROBLEMS)
    forward = pgsage.diff(healthy, problems)
    assert forward["kind"] == "snapshots"
    new = {(f["key"]["rule"], f["key"]["name"]) for f in forward["findings"]["new"]}
    assert ("VAC001", "stock_move_line") in new
    report = pgsage.audit(problems)
    assert len(new) + len(forward["findings"]["persisting"]) == len(report.findings)
    back = pgsage.diff(PROBLEMS, HEALTHY)  # paths work too
    resolved = {(f["key"]["rule"], f["key"]["name"]) for f in back["findings"]["resolved"]}
    assert resolved == new


def test_a_snapshot_against_itself_changes_nothing() -> None:
    d = pgsage.diff(PROBLEMS, PROBLEMS)
    assert d["findings"]["new"] == [] and d["findings"]["resolved"] == []
    assert d["settings"] == [] and d["statements"] == [] and d["databases"] == []


def test_reports_compare_findings_only() -> None:
    old = pgsage.audit(pgsage.load_snapshot(HEALTHY))
    new = pgsage.audit(pgsage.load_snapshot(PROBLEMS))
    d = pgsage.diff(old, new)
    assert d["kind"] == "reports"
    assert any(f["key"]["rule"] == "VAC001" for f in d["findings"]["new"])
    assert d["settings"] == [] and d["databases"] == []


def test_snapshots_of_two_clusters_are_refused_unless_allowed(tmp_path: Path) -> None:
    import json

    raw = json.loads(PROBLEMS.read_text())
    raw["server"]["cluster_name"] = "erp-main"
    a = tmp_path / "a.json"
    a.write_text(json.dumps(raw))
    raw["server"]["cluster_name"] = "erp-reporting"
    b = tmp_path / "b.json"
    b.write_text(json.dumps(raw))
    with pytest.raises(pgsage.InvalidValueError, match="not of the same server"):
        pgsage.diff(a, b)
    d = pgsage.diff(a, b, allow_different_servers=True)
    assert any("different servers" in w for w in d["warnings"])
