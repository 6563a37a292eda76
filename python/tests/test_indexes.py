"""The index advisor: on the demo snapshot (unvalidated), with workloads from logs and
files, and on a live server; the same advice as `pgsage indexes --format json`."""

from __future__ import annotations


import subprocess
from pathlib import Path
from typing import Any, Dict

import pytest
from conftest import DEMO, REPO, html_text, run_cli

import pgsage

DEFAULT_LOG = REPO / "testdata" / "logs" / "pg17" / "default.log"


def _advice(cli_json: Any) -> Dict[str, Any]:
    """The IndexAdvice object in the CLI's JSON output (without the IDX009 findings the
    CLI adds)."""
    if "recommendations" in cli_json:
        return {k: v for k, v in cli_json.items() if k != "findings"}
    for v in cli_json.values():
        if isinstance(v, dict) and "recommendations" in v:
            return v
    raise AssertionError(f"no advice in {sorted(cli_json)}")


#: IDX009 thresholds low enough that the demo's small tables get a recommendation.
SMALL_TABLES = {"rules": {"IDX009": {"params": {
    "min_table_rows": 1, "min_workload_share_pct": 0, "min_mean_ms": 0}}}}


@pytest.fixture(scope="module")
def demo_advice(demo):
    return pgsage.advise_indexes(demo)


@pytest.fixture(scope="module")
def small_tables_advice(demo):
    advice = pgsage.advise_indexes(demo, config=SMALL_TABLES)
    assert len(advice) > 0
    return advice


def test_demo_snapshot_like_the_cli(cli, demo_advice, small_tables_advice, tmp_path: Path):
    expected = _advice(run_cli(cli, "indexes", "--snapshot", str(DEMO), "--quiet"))
    assert demo_advice.to_dict() == expected
    toml = tmp_path / "pgsage.toml"
    toml.write_text("[rules.IDX009.params]\nmin_table_rows = 1\nmin_workload_share_pct = 0\n"
                    "min_mean_ms = 0\n")
    expected = _advice(run_cli(cli, "indexes", "--snapshot", str(DEMO), "--quiet",
                               "--config", str(toml)))
    assert small_tables_advice.to_dict() == expected
    assert len(demo_advice) < len(small_tables_advice)
    # the demo's small tables (res_users, ir_cron) are rejected by the shipped thresholds, saying why
    assert any("min_table_rows" in r["reason"] for r in demo_advice.to_dict()["rejected"])


def test_demo_snapshot_is_unvalidated_with_a_reason(demo_advice, demo):
    v = demo_advice.validation
    assert v.status == "unvalidated" and not v.validated
    assert v.reason
    assert demo_advice.database == demo.database
    st = demo_advice.statements
    assert st["total"] > 0 and st["analyzed"] <= st["total"]
    assert demo_advice.budget["max_indexes"] >= len(demo_advice)


@pytest.mark.parametrize("which", ["demo_advice", "small_tables_advice"])
def test_recommendations_frame(which, request):
    demo_advice = request.getfixturevalue(which)
    df = demo_advice.recommendations()
    records = demo_advice.recommendation_records()
    assert len(df) == len(records) == len(demo_advice)
    dtypes = df.dtypes.astype(str).to_dict()
    for c in ("schema", "table", "create_statement", "size_source", "predicate",
              "write_overhead"):
        assert dtypes[c] == "string", c
    assert dtypes["estimated_size_bytes"] == "int64"
    assert dtypes["benefit_ms"] == "float64"
    assert dtypes["validated"] == "bool"
    assert dtypes["queries"] == "int64"
    assert dtypes["columns"] == "object"
    assert list(df["create_statement"]) == demo_advice.create_statements()
    assert all(s.startswith("CREATE INDEX") for s in demo_advice.create_statements())
    for row, rec in zip(df.itertuples(), records):
        assert list(row.columns) == rec["columns"]
        assert row.queries == len(rec["queries"])
        assert not row.validated
    rejected = demo_advice.rejected()
    assert list(rejected.columns) == ["create_statement", "reason"]
    assert len(rejected) == len(demo_advice.to_dict()["rejected"])


def test_workload_sources_agree(demo, demo_advice, tmp_path: Path):
    w = pgsage.workload(demo)
    from_object = pgsage.advise_indexes(demo, workload=w)
    assert from_object.to_dict() == demo_advice.to_dict()
    path = tmp_path / "workload.json"
    w.save(path)
    from_file = pgsage.advise_indexes(DEMO, workload=path)
    assert from_file.to_dict() == demo_advice.to_dict()
    assert pgsage.advise_indexes(demo, workload=str(path)).to_dict() == demo_advice.to_dict()


def test_logs_as_workload_like_the_cli(cli, demo):
    expected = _advice(run_cli(cli, "indexes", str(DEFAULT_LOG), "--snapshot", str(DEMO),
                               "--quiet"))
    got = pgsage.advise_indexes(demo, workload=DEFAULT_LOG)
    assert got.to_dict() == expected
    assert got.to_dict()["statements"]["total"] > 0


def test_budget(demo, small_tables_advice):
    one = pgsage.advise_indexes(demo, config=SMALL_TABLES, max_indexes=1)
    assert len(one) == 1 and one.budget["max_indexes"] == 1
    smallest = min(r["estimated_size_bytes"]
                   for r in small_tables_advice.recommendation_records())
    tight = pgsage.advise_indexes(demo, config=SMALL_TABLES, max_size=smallest - 1)
    assert tight.budget["max_size_bytes"] == smallest - 1
    assert len(tight) < len(small_tables_advice)
    assert sum(r["estimated_size_bytes"] for r in tight.recommendation_records()) < smallest
    big = pgsage.advise_indexes(demo, config=SMALL_TABLES, max_size="1GiB")
    assert big.budget["max_size_bytes"] == 1 << 30
    assert big.create_statements() == small_tables_advice.create_statements()


def test_a_budget_of_no_index_is_refused_like_the_cli(cli, demo):
    """The library refuses it, so both front ends do (``pgsage indexes --max-indexes 0``
    exits 2 with the same message)."""
    with pytest.raises(pgsage.InvalidValueError, match="max_indexes: must be at least 1"):
        pgsage.advise_indexes(demo, max_indexes=0)
    with pytest.raises(pgsage.InvalidValueError, match="max_indexes: must be at least 1"):
        pgsage.advise_indexes(demo, config={"rules": {"IDX009": {"params": {"max_indexes": 0}}}})
    out = subprocess.run([str(cli), "indexes", "--snapshot", str(DEMO), "--max-indexes", "0"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "max_indexes: must be at least 1" in out.stderr



def test_bad_inputs(demo, tmp_path: Path):
    with pytest.raises(pgsage.InvalidValueError, match="max_size"):
        pgsage.advise_indexes(demo, max_size="lots")
    with pytest.raises(TypeError):
        pgsage.advise_indexes(demo, workload=42)
    with pytest.raises(TypeError):
        pgsage.advise_indexes(12)
    with pytest.raises(pgsage.IoError):
        pgsage.advise_indexes(demo, workload=[tmp_path / "missing.log"])
    with pytest.raises(pgsage.SnapshotError):
        pgsage.advise_indexes(tmp_path / "missing.json")
    with pytest.raises(pgsage.ConfigError):
        pgsage.advise_indexes(demo, config={"rules": {"IDX009": {"params": {"nope": 1}}}})


def test_repr_html(demo_advice, small_tables_advice):
    out = demo_advice._repr_html_()
    assert "Index advice" in out and 'data-validation="unvalidated"' in out
    assert html_text(demo_advice.validation.reason or "") in out
    if len(demo_advice) == 0:
        assert "No index to recommend" in out
    else:
        assert out.count("data-recommendation=") == len(demo_advice)
        for statement in demo_advice.create_statements():
            assert html_text(statement) in out
    out = small_tables_advice._repr_html_()
    assert out.count("data-recommendation=") == len(small_tables_advice) > 0
    assert "CREATE INDEX CONCURRENTLY" in out


# -- interrupting --------------------------------------------------------------------------


def test_ctrl_c_interrupts_advice_from_a_silent_server(silent_server: int, assert_interrupts):
    dsn = f"host=127.0.0.1 port={silent_server} user=x dbname=x sslmode=disable"
    assert_interrupts(lambda: pgsage.advise_indexes(dsn, connect_timeout=120))


# -- live -------------------------------------------------------------------------------


def test_live_advice(pg_server):
    advice = pgsage.advise_indexes(pg_server["monitor_dsn"])
    assert advice.database == "app"
    v = advice.validation
    if v.validated:
        assert v.hypopg_version and v.server_version
    else:
        assert "hypopg" in (v.reason or "").lower()
    unvalidated = pgsage.advise_indexes(pg_server["monitor_dsn"], validate=False)
    assert unvalidated.validation.status == "unvalidated"
    assert unvalidated.statements["total"] > 0
