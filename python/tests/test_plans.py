"""EXPLAIN plans: the captured corpus (testdata/plans, real servers 13–18) gives the same
findings through the package as through `pgsage plan --format json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pandas as pd
import pytest
from conftest import REPO, html_prose, html_text, run_cli

import pgsage

PLANS = sorted((REPO / "testdata" / "plans").glob("pg*/*.*"))
EXTRA = sorted((REPO / "testdata" / "plans-extra").glob("*/*.*"))
ROW_MISESTIMATE = REPO / "testdata" / "plans" / "pg17" / "row_misestimate.json"
ESTIMATE_ONLY = REPO / "testdata" / "plans-extra" / "estimate_only" / "pg18.json"


def _comparable(report: Dict[str, Any]) -> Dict[str, Any]:
    """A report without what differs between two runs (the time it was made)."""
    r = dict(report)
    r["target"] = {k: v for k, v in r["target"].items() if k != "collected_at"}
    return r


def _json_nodes(node: Dict[str, Any]) -> int:
    """Counts EXPLAIN JSON nodes independently of pgsage."""
    return 1 + sum(_json_nodes(c) for c in node.get("Plans", []))


def test_the_corpus_is_there():
    assert len(PLANS) >= 150, len(PLANS)


@pytest.mark.parametrize("path", PLANS + EXTRA, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_findings_as_the_cli(cli, path: Path):
    expected = run_cli(cli, "plan", str(path))
    got = pgsage.analyze_plans(path.read_text())
    assert len(got) == len(expected)
    for analysis, report in zip(got, expected):
        assert _comparable(analysis.to_dict()) == _comparable(report)
        assert [f.rule for f in analysis] == [f["rule"] for f in report["findings"]]


def test_config_and_min_severity_act_like_the_cli(cli, tmp_path: Path):
    toml = tmp_path / "pgsage.toml"
    toml.write_text('[rules.EXP002]\nenabled = false\n[rules.EXP001]\nseverity = "critical"\n')
    expected = run_cli(cli, "plan", str(ROW_MISESTIMATE), "--config", str(toml))[0]
    as_dict = {"rules": {"EXP002": {"enabled": False}, "EXP001": {"severity": "critical"}}}
    for config in (toml, str(toml), as_dict):
        got = pgsage.analyze_plan(ROW_MISESTIMATE.read_text(), config=config)
        assert _comparable(got.to_dict()) == _comparable(expected)
    assert [f.rule for f in got] == ["EXP001"]
    assert got.worst == pgsage.Severity.CRITICAL
    plain = pgsage.analyze_plan(ROW_MISESTIMATE.read_text())
    assert {f.rule for f in plain} == {"EXP001", "EXP002"}
    only_critical = pgsage.analyze_plan(ROW_MISESTIMATE.read_text(), min_severity="critical")
    assert len(only_critical) == 0 and len(plain) == 2


def test_parsed_json_and_bytes_are_accepted():
    text = ROW_MISESTIMATE.read_text()
    by_text = pgsage.analyze_plan(text)
    for form in (json.loads(text), json.loads(text)[0], text.encode()):
        other = pgsage.analyze_plan(form)
        assert [(f.rule, f.object.name, f.evidence) for f in other] == [
            (f.rule, f.object.name, f.evidence) for f in by_text
        ]


def test_text_and_json_of_one_capture_agree_on_findings():
    j = pgsage.analyze_plan(ROW_MISESTIMATE.read_text())
    t = pgsage.analyze_plan(ROW_MISESTIMATE.with_suffix(".txt").read_text())
    assert j.source_format == "json" and t.source_format == "text"
    assert {f.rule for f in j} == {f.rule for f in t} == {"EXP001", "EXP002"}


def test_nodes_frame_shape_and_dtypes():
    raw = json.loads(ROW_MISESTIMATE.read_text())[0]
    a = pgsage.analyze_plan(raw)
    nodes = a.nodes()
    assert len(nodes) == _json_nodes(raw["Plan"]) == a.node_count
    assert nodes["path"].iloc[0] == "0" and pd.isna(nodes["parent"].iloc[0])
    assert nodes["node_type"].iloc[0] == raw["Plan"]["Node Type"]
    assert nodes["rows_estimated"].iloc[0] == raw["Plan"]["Plan Rows"]
    assert nodes["rows_actual"].iloc[0] == raw["Plan"]["Actual Rows"]
    dtypes = nodes.dtypes.astype(str).to_dict()
    for c in ("path", "node_type", "label", "relation", "index_name", "filter"):
        assert dtypes[c] == "string", c
    for c in ("rows_estimated", "rows_actual", "loops", "exclusive_ms", "inclusive_ms",
              "time_share", "total_cost", "rows_misestimate"):
        assert dtypes[c] == "float64", c
    assert dtypes["depth"] == "int64"
    for c in ("shared_hit_blocks", "shared_read_blocks", "temp_written_blocks"):
        assert dtypes[c] == "Int64", c
    assert dtypes["never_executed"] == "bool"
    assert dtypes["rules"] == "object"
    # the time shares add up to the whole plan, and the finding marks its node
    assert nodes["time_share"].sum() == pytest.approx(1.0, abs=0.01)
    flagged = nodes[nodes["rules"].map(len) > 0]
    assert len(flagged) == 1
    assert set(flagged["rules"].iloc[0]) == {"EXP001", "EXP002"}
    assert flagged["relation"].iloc[0] == "stock_move"
    assert flagged["time_share"].iloc[0] > 0.5
    paths = {f.evidence.get("node_path") for f in a}
    assert paths == {flagged["path"].iloc[0]}
    assert a.node_records()[0]["path"] == "0"


def test_tree_marks_the_nodes_with_findings():
    a = pgsage.analyze_plan(ROW_MISESTIMATE.read_text())
    tree = a.tree(120)
    lines = tree.splitlines()
    assert lines[0].lstrip().startswith("self ms")
    marked = [line for line in lines if line.startswith("!")]
    assert len(marked) == 1 and "[EXP001 EXP002]" in marked[0]
    assert len(lines) == a.node_count + 2
    assert max(len(line) for line in a.tree(70).splitlines()) <= 70


def test_estimate_only_plans_say_what_they_lack():
    a = pgsage.analyze_plan(ESTIMATE_ONLY.read_text())
    assert not a.analyzed
    assert a.execution_time_ms is None
    nodes = a.nodes()
    assert nodes["rows_actual"].isna().all() and nodes["exclusive_ms"].isna().all()
    assert nodes["rows_estimated"].notna().all()
    assert a.skipped, "rules needing ANALYZE are listed as skipped"
    assert "estimates only" in repr(a)


def test_several_plans():
    one = json.loads(ROW_MISESTIMATE.read_text())
    two = one + json.loads((ROW_MISESTIMATE.parent / "sort_spill.json").read_text())
    both = pgsage.analyze_plans(two)
    assert [{f.rule for f in a} for a in both] == [{"EXP001", "EXP002"}, {"EXP003"}]
    with pytest.raises(pgsage.PlanError, match="found 2: use pgsage.analyze_plans"):
        pgsage.analyze_plan(two)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "empty"),
        ("   \n  ", "empty"),
        ('[{"Plan": {"Node Type": "Seq Scan", }]', r"invalid EXPLAIN JSON at line 1, column \d+"),
        ('{"hello": 1}', "EXPLAIN JSON, plan 1"),
        ('[{"Plan": {"Node Type": "Seq Scan", "Plan Rows": "many"}}]', "Plan Rows"),
        ("this is not a plan\nat all\n", "EXPLAIN text, line 1"),
    ],
)
def test_bad_plans_are_plan_errors(text, expected):
    with pytest.raises(pgsage.PlanError, match=expected) as e:
        pgsage.analyze_plan(text)
    assert isinstance(e.value, ValueError) and isinstance(e.value, pgsage.Error)


def test_bad_arguments():
    with pytest.raises(TypeError):
        pgsage.analyze_plan(42)
    with pytest.raises(pgsage.InvalidValueError, match="unknown severity"):
        pgsage.analyze_plan(ROW_MISESTIMATE.read_text(), min_severity="loud")
    with pytest.raises(pgsage.ConfigError, match="unknown rule `EXP999`"):
        pgsage.analyze_plan(ROW_MISESTIMATE.read_text(), config={"rules": {"EXP999": {}}})


def test_repr_html_escapes_names_from_the_plan():
    evil = "<script>alert('x')</script>"
    raw = json.loads(ROW_MISESTIMATE.read_text())

    def rename(node: Dict[str, Any]) -> None:
        if "Relation Name" in node:
            node["Relation Name"] = evil + node["Relation Name"]
        for c in node.get("Plans", []):
            rename(c)

    rename(raw[0]["Plan"])
    a = pgsage.analyze_plan(raw)
    assert any(evil in f.message or evil in f.object.name for f in a)
    out = a._repr_html_()
    assert "<script>alert" not in out
    assert "&lt;script&gt;" in out
    assert a.summary.warning == 2
    for f in a:
        assert html_prose(f.message) in out


# -- live -------------------------------------------------------------------------------


def test_live_explain(pg_server):
    a = pgsage.explain(
        pg_server["dsn"], "SELECT count(*) FROM orders WHERE note LIKE 'note 1%'"
    )
    assert a.analyzed and a.execution_time_ms is not None
    t = a.report.target
    assert t["source"] == "live" and t["database"] == "app"
    assert t["server_version_num"] // 10000 == pg_server["major"]
    nodes = a.nodes()
    assert "orders" in set(nodes["relation"].dropna())
    assert nodes["shared_hit_blocks"].notna().any()  # BUFFERS was on
    assert a.query_text is None or "orders" in a.query_text
    planned = pgsage.explain(pg_server["dsn"], "SELECT * FROM orders", analyze=False)
    assert not planned.analyzed


def test_live_explain_errors(pg_server):
    dsn = pg_server["monitor_dsn"]
    with pytest.raises(pgsage.InvalidValueError, match="refusing to EXPLAIN ANALYZE"):
        pgsage.explain(dsn, "DELETE FROM orders")
    with pytest.raises(pgsage.InvalidValueError, match="one statement at a time"):
        pgsage.explain(dsn, "SELECT 1; SELECT 2")
    with pytest.raises(pgsage.QueryError) as e:
        pgsage.explain(dsn, "SELECT * FROM no_such_table")
    assert e.value.sqlstate == "42P01"
    with pytest.raises(pgsage.QueryError) as e:
        pgsage.explain(dsn, "SELECT * FROM orders")  # monitor may not read the table
    assert e.value.sqlstate == "42501"
    with pytest.raises(pgsage.QueryError) as e:
        pgsage.explain(dsn, "SELECT pg_sleep(5)", timeout=0.3)
    assert e.value.sqlstate == "57014"
