"""The notebook's HTML (``_repr_html_``) is the CLI's ``--format html`` page, section for
section: one renderer for both. Every value from the server is escaped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pgsage
from conftest import html_prose, html_text, page_sections, run_cli_html


def test_a_report_is_the_audit_page_with_its_charts(cli, demo, demo_path: Path, tmp_path: Path):
    report = pgsage.audit(demo)
    out = report._repr_html_()
    assert out.startswith('<div class="pgsage">')
    page = run_cli_html(cli, "audit", "--snapshot", str(demo_path), cwd=tmp_path)
    assert page_sections(out) == page_sections(page)
    for a in report.actions:
        assert f'id="action-{a.id}"' in out
    for i, f in enumerate(report.findings):
        assert f'id="finding-{i}"' in out
        assert html_prose(f.message) in out


def test_a_report_from_json_has_no_charts_but_the_same_sections(demo):
    report = pgsage.audit(demo)
    again = pgsage.Report.from_json(report.to_json())
    out = again._repr_html_()
    for a in report.actions:
        assert f'id="action-{a.id}"' in out


def test_tune_advice_is_the_tune_page(cli, demo, demo_path: Path, tmp_path: Path):
    advice = pgsage.tune(demo)
    out = advice._repr_html_()
    page = run_cli_html(cli, "tune", "--snapshot", str(demo_path), cwd=tmp_path)
    assert page_sections(out) == page_sections(page)
    for a in advice.settings:
        assert f'data-setting="{html_text(a.name)}"' in out
        assert html_text(a.recommended) in out
    assert html_text(advice.script) in out


def test_tune_advice_on_a_managed_platform_shows_the_providers_commands(demo):
    advice = pgsage.tune(demo, platform="azure-flexible-server")
    out = advice._repr_html_()
    platform = json.loads(advice.to_json())["platform"]
    assert platform["commands"]
    for c in platform["commands"]:
        assert c.startswith("az postgres flexible-server")
        assert html_text(c) in out
    for n in platform["not_allowed"]:
        assert f'data-not-allowed="{n["name"]}"' in out
    assert ">not allowed<" in out


def test_tune_advice_values_are_escaped(demo):
    advice = pgsage.tune(demo)
    evil = "<script>alert('x')</script>&\""
    d = json.loads(advice.to_json())
    d["tables"][0]["table"] = evil
    d["notes"].append(evil)
    d["facts"][0]["source"] = evil
    hostile = pgsage.TuneReport.from_native(json.dumps(d), advice.script)
    out = hostile._repr_html_()
    assert "<script>alert" not in out
    # The table (named twice: as text and in its row's data-table), the note, the fact.
    assert out.count("&lt;script&gt;alert('x')&lt;/script&gt;&amp;&quot;") == 4


def test_index_advice_is_the_indexes_page(cli, demo, demo_path: Path, tmp_path: Path):
    advice = pgsage.advise_indexes(demo)
    assert len(advice) > 0, "the demo has advice"
    out = advice._repr_html_()
    page = run_cli_html(cli, "indexes", "--snapshot", str(demo_path), cwd=tmp_path)
    assert page_sections(out) == page_sections(page)
    assert out.count("data-recommendation=") == len(advice)
    for statement in advice.create_statements():
        assert html_text(statement) in out
    assert html_text(advice.validation.reason or "") in out


@pytest.mark.parametrize("kind", ["plan", "workload"])
def test_plans_and_workloads_show_their_findings(kind, demo):
    # TODO(issue 14): compare with the CLI's page, section for section, once the plan and
    # workload pages have their fragments (html::plan_fragment, html::workload_fragment).
    if kind == "plan":
        plan = Path(__file__).resolve().parents[2] / "testdata/plans/pg17/row_misestimate.json"
        shown = pgsage.analyze_plan(plan.read_text())
        report = shown.report
    else:
        shown = pgsage.workload(demo)
        report = shown.findings
    assert len(report) > 0
    out = shown._repr_html_()
    assert out.startswith('<div class="pgsage">')
    for f in report:
        assert html_prose(f.message) in out
