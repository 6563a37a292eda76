"""Snapshots: loading, saving, properties and sections as DataFrames with real dtypes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

import pgsage

SECTION_METHODS = [
    "settings", "databases", "activity", "lock_waits", "io", "replication",
    "replication_slots", "prepared_xacts", "roles", "tables", "indexes", "foreign_keys",
    "sequences", "extensions", "columns", "constraints", "triggers", "statements", "gaps",
]


def expected_rows(demo_json, name):
    if name == "statements":
        return (demo_json.get("statements") or {}).get("top", [])
    return demo_json[name]


def test_properties_match_the_file(demo, demo_json):
    server = demo_json["server"]
    assert demo.server_version == server["version"]
    assert demo.server_version_num == server["version_num"]
    assert demo.server_major == server["version_num"] // 10000
    assert demo.database == server["database"]
    assert demo.redacted == demo_json["redacted"]
    collected = dt.datetime.fromisoformat(demo_json["collected_at"].replace("Z", "+00:00"))
    assert demo.collected_at == collected
    assert demo.collected_at.tzinfo is not None


def test_save_and_load_round_trip(demo, tmp_path: Path):
    path = tmp_path / "copy.json"
    demo.save(path)
    again = pgsage.load_snapshot(path)
    assert again.to_dict() == demo.to_dict()
    assert pgsage.Snapshot.from_json(path.read_text()).to_dict() == demo.to_dict()
    # str paths work as well as Path objects
    demo.save(str(tmp_path / "copy2.json"))
    assert (tmp_path / "copy2.json").exists()


def test_every_section_has_a_method(demo):
    assert sorted(pgsage.Snapshot.sections()) == sorted(SECTION_METHODS)


@pytest.mark.parametrize("name", SECTION_METHODS)
def test_section_shapes_follow_the_snapshot(demo, demo_json, name):
    df = getattr(demo, name)()
    rows = expected_rows(demo_json, name)
    assert isinstance(df, pd.DataFrame)
    assert len(df) == len(rows)
    if rows:
        fields = []
        for r in rows:
            fields += [k for k in r if k not in fields]
        # Every field of the file is a column, in the file's order; fields the model added
        # since the file was written (defaults on load) come as extra columns.
        assert [c for c in df.columns if c in fields] == fields
        # Values survive: compare a few cells against the independently parsed JSON.
        for i in (0, len(rows) - 1):
            for col in fields:
                raw = rows[i].get(col)
                got = df[col].iloc[i]
                if raw is None:
                    assert pd.isna(got), (name, col, got)
                elif isinstance(raw, bool) or isinstance(raw, (int, float)):
                    assert got == pytest.approx(raw), (name, col)
                elif isinstance(raw, str) and pd.api.types.is_datetime64_any_dtype(df[col]):
                    expect = pd.Timestamp(raw)
                    assert got == expect, (name, col)
                elif isinstance(raw, str):
                    assert got == raw, (name, col)
                else:
                    assert got == raw, (name, col)
    records = demo.records(name)
    assert len(records) == len(rows)
    for rec, raw in zip(records, rows):
        assert set(rec) == set(df.columns)
        assert {k: rec[k] for k in raw} == raw


def test_dtypes_are_typed_not_object(demo):
    t = demo.tables()
    assert t["oid"].dtype == "int64"
    assert t["n_dead_tup"].dtype == "int64"
    assert t["reltuples"].dtype == "float64"
    assert t["idx_scan"].dtype == "Int64"  # nullable integer
    assert t["has_primary_key"].dtype == bool
    assert str(t["name"].dtype) in ("string", "str")
    for col in ("last_vacuum", "last_autovacuum", "last_analyze", "last_autoanalyze"):
        assert isinstance(t[col].dtype, pd.DatetimeTZDtype), col
        assert str(t[col].dt.tz) == "UTC"
    # one resolution per frame, whatever the values look like
    units = {t[c].dtype.unit for c in t.columns if isinstance(t[c].dtype, pd.DatetimeTZDtype)}
    assert len(units) == 1
    a = demo.activity()
    for col in ("backend_start", "xact_start", "query_start", "state_change"):
        assert isinstance(a[col].dtype, pd.DatetimeTZDtype), col
    assert a["pid"].dtype == "int64"
    d = demo.databases()
    assert d["blks_hit"].dtype == "int64"
    assert d["blk_read_time_ms"].dtype == "float64"
    s = demo.statements()
    assert s["total_exec_time_ms"].dtype == "float64"
    assert s["calls"].dtype == "int64"
    # numeric work needs no conversion
    assert t["n_dead_tup"].sum() == sum(r for r in t["n_dead_tup"])


def test_redact_hashes_names(demo):
    red = demo.redact()
    assert red.redacted and not demo.redacted
    assert red.server_version == demo.server_version


def test_unknown_section_is_an_invalid_value(demo):
    with pytest.raises(pgsage.InvalidValueError, match="unknown section `nope`"):
        demo.frame("nope")
    with pytest.raises(ValueError):
        demo.records("nope")


def test_missing_pandas_is_a_clear_error(demo, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(pgsage.MissingDependencyError, match="pip install pandas"):
        demo.tables()
    with pytest.raises(ImportError):
        pgsage.audit(demo).to_pandas()
    # records need no pandas
    assert len(demo.records("tables")) > 0
