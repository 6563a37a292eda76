"""Audits: findings as typed objects, filters, configuration, frames, JSON and HTML."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

import pgsage
from pgsage import Severity


@pytest.fixture(scope="module")
def report(demo):
    return pgsage.audit(demo)


def test_findings_are_typed_and_agree_with_the_json(report):
    data = json.loads(report.to_json())
    assert len(report) == len(data["findings"]) > 0
    assert [f.rule for f in report] == [f["rule"] for f in data["findings"]]
    for f, raw in zip(report.findings, data["findings"]):
        assert isinstance(f, pgsage.Finding)
        assert isinstance(f.severity, Severity) and f.severity == raw["severity"]
        assert isinstance(f.object, pgsage.ObjectRef)
        assert f.object.kind == raw["object"]["kind"]
        assert f.evidence == raw["evidence"]
        assert f.confidence in ("high", "low")
        assert (f.fix is None) == ("fix" not in raw)
        if f.fix:
            assert f.fix.sql == raw["fix"]["sql"]
    assert report[0] is report.findings[0]
    assert report.target["source"] == "snapshot"


def test_actions_group_every_finding_once_and_agree_with_the_json(report):
    data = json.loads(report.to_json())
    assert len(report.actions) == len(data["actions"]) > 0
    assert [a.rank for a in report.actions] == list(range(1, len(report.actions) + 1))
    seen = Counter(i for a in report.actions for i in a.finding_indices)
    assert sorted(seen) == list(range(len(report.findings)))
    assert set(seen.values()) == {1}
    for a, raw in zip(report.actions, data["actions"]):
        assert isinstance(a, pgsage.Action) and a.id == raw["id"]
        assert a.severity == raw["severity"] and a.impact_class == raw["class"]
        assert all(f in report.findings for f in report.findings_of(a))
        assert (a.fix is None) == ("fix" not in raw)
        if a.fix:
            assert a.fix.sql == raw["fix"]["sql"]
            assert a.fix.requires in ("none", "reload", "restart")
    records = report.actions_to_records()
    assert [r["title"] for r in records] == [a.title for a in report.actions]


def test_filtering_rebuilds_the_actions(demo):
    only = pgsage.audit(demo, packs=["schema"])
    assert only.actions
    for a in only.actions:
        assert all(f.pack == "schema" for f in only.findings_of(a))


def test_summary_counts_the_findings(report):
    counts = Counter(f.severity.value for f in report)
    s = report.summary
    assert (s.critical, s.warning, s.info) == (counts["critical"], counts["warning"], counts["info"])
    assert s.total == len(report)
    assert report.worst == max(f.severity for f in report)


def test_findings_are_worst_first(report):
    ranks = [f.severity.rank for f in report]
    assert ranks == sorted(ranks, reverse=True)
    assert Severity.INFO < Severity.WARNING < Severity.CRITICAL


def test_min_severity_and_packs_filter(demo, report):
    warn = pgsage.audit(demo, min_severity="warning")
    assert len(warn) == sum(1 for f in report if f.severity >= Severity.WARNING)
    assert all(f.severity >= Severity.WARNING for f in warn)
    same = pgsage.audit(demo, min_severity=Severity.WARNING)
    assert [f.rule for f in same] == [f.rule for f in warn]
    packs = sorted({f.pack for f in report})
    one = pgsage.audit(demo, packs=packs[0])
    assert len(one) == sum(1 for f in report if f.pack == packs[0]) > 0
    two = pgsage.audit(demo, packs=packs[:2])
    assert {f.pack for f in two} == set(packs[:2])


def test_config_dict_and_toml_path_agree(demo, report, tmp_path: Path):
    victim = report[0].rule
    cfg = {"rules": {victim: {"enabled": False}}}
    by_dict = pgsage.audit(demo, config=cfg)
    assert victim not in {f.rule for f in by_dict}
    assert len(by_dict) == sum(1 for f in report if f.rule != victim)
    toml = tmp_path / "pgsage.toml"
    toml.write_text(f'[rules.{victim}]\nenabled = false\n')
    by_path = pgsage.audit(demo, config=toml)
    assert by_path.to_json() == by_dict.to_json()
    assert pgsage.audit(demo, config=str(toml)).to_json() == by_dict.to_json()


def test_config_severity_override(demo, report):
    info = next(f for f in report if f.severity != Severity.CRITICAL)
    bumped = pgsage.audit(demo, config={"rules": {info.rule: {"severity": "critical"}}})
    assert all(f.severity == Severity.CRITICAL for f in bumped if f.rule == info.rule)


def test_host_facts_reach_the_rules(demo):
    with_ram = pgsage.audit(demo, ram="64GiB", cpus=8, storage="ssd")
    assert with_ram.host["ram_bytes"]["value"] == 64 << 30
    assert with_ram.host["ram_bytes"]["source"] == "flag"


def test_to_pandas(report):
    df = report.to_pandas()
    assert len(df) == len(report)
    assert list(df["rule"]) == [f.rule for f in report]
    assert isinstance(df["severity"].dtype, pd.CategoricalDtype)
    assert df["severity"].cat.ordered
    assert list(df["severity"].cat.categories) == ["info", "warning", "critical"]
    assert df["evidence"].iloc[0] == report[0].evidence
    assert list(df["object"]) == [f.object.display_name for f in report]
    # ordered categorical sorts by severity
    assert df.sort_values("severity")["severity"].iloc[-1] == report.worst.value


def test_to_polars(report):
    df = report.to_polars()
    assert df.height == len(report)
    assert df["rule"].to_list() == [f.rule for f in report]
    assert isinstance(df.schema["severity"], pl.Enum)
    assert json.loads(df["evidence"][0]) == report[0].evidence


def test_to_json_is_the_library_report(report):
    d = report.to_dict()
    assert d["summary"] == {"critical": report.summary.critical,
                            "warning": report.summary.warning, "info": report.summary.info}
    assert d["schema_version"] == 1


def test_repr_html_has_every_action_and_finding_by_severity(report):
    out = report._repr_html_()
    for a in report.actions:
        assert f'data-action="{a.id}"' in out
    # The ranked actions come first, each finding under its action.
    assert out.index('id="actions"') < out.index('id="finding-0"')
    assert out.count(' data-finding="') == len(report)
    for sev in ("critical", "warning", "info"):
        n = getattr(report.summary, sev)
        assert f'data-count="{sev}">{n} {sev}<' in out


def test_repr_html_escapes_everything(demo_json, tmp_path: Path):
    evil = "<script>alert('x')</script>&\""
    snap = copy.deepcopy(demo_json)
    for t in snap["tables"]:
        t["name"] = evil + t["name"]
    for i in snap["indexes"]:
        i["table"] = evil + i["table"]
    snap["server"]["database"] = evil
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(snap))
    report = pgsage.audit(pgsage.load_snapshot(path))
    assert any(evil in f.object.display_name or evil in f.message for f in report)
    out = report._repr_html_()
    assert "<script>alert" not in out
    assert "&lt;script&gt;alert('x')&lt;/script&gt;&amp;&quot;" in out


def test_rules_catalogue(report):
    catalogue = pgsage.rules()
    ids = [r.id for r in catalogue]
    assert len(ids) == len(set(ids)) > 0
    assert {f.rule for f in report} <= set(ids)
    with_params = [r for r in catalogue if r.params]
    assert with_params and all(r.thresholds for r in with_params)
    assert all(r.doc.strip() for r in catalogue)
    # the same configuration changes the catalogue
    r = with_params[0]
    name, value = next(iter(r.thresholds.items()))
    new = (not value) if isinstance(value, bool) else (value + 1 if isinstance(value, (int, float)) else value)
    changed = {x.id: x for x in pgsage.rules({"rules": {r.id: {"params": {name: new}}}})}
    assert changed[r.id].thresholds[name] == new
    frame = pgsage.rules_frame()
    assert len(frame) == len(catalogue)


def test_tune(demo):
    t = pgsage.tune(demo, ram="16GiB", cpus=4, storage="ssd", profile="oltp")
    assert t.profile == "oltp"
    assert t.server_version == demo.server_version
    assert t.settings and all(isinstance(a, pgsage.Advice) for a in t.settings)
    for a in t.changes:
        assert f"ALTER SYSTEM SET {a.name}" in t.script
    assert len(t.to_pandas()) == len(t.settings)
    with pytest.raises(pgsage.InvalidValueError, match="profile"):
        pgsage.tune(demo, profile="nope")


def test_script_is_the_cli_fix_script(report):
    script = report.script()
    assert script.startswith("-- pgsage audit: fixes for database")
    # The groups, in order, and a destructive statement commented out with its reason.
    online = script.index("-- Online now")
    reload = script.index("-- Needs a reload")
    assert online < reload < script.index("SELECT pg_reload_conf();")
    assert "-- not run: destructive, drops index" in script
    # The costs behind it are on the typed fixes too.
    fixes = [f.fix for f in report if f.fix]
    assert {f.phase for f in fixes} >= {"online", "reload", "maintenance"}
    rewrite = next(f for f in fixes if f.rewrites_table)
    assert rewrite.phase == "maintenance"
    assert rewrite.lock is not None and rewrite.lock["mode"] == "ACCESS EXCLUSIVE"
    # Each ALTER SYSTEM it runs appears once.
    alters = [l.split("=")[0] for l in script.splitlines() if l.startswith("ALTER SYSTEM")]
    assert len(alters) == len(set(alters)) > 0


def test_managed_platform_fixes_carry_the_providers_commands(demo):
    """On Azure the actions' fixes hold az commands, not ALTER SYSTEM; the frame and the
    notebook table show them; the fix script keeps them as comments."""
    report = pgsage.audit(demo, config={"host": {"platform": "azure-flexible-server"}})
    with_commands = [a for a in report.actions if a.fix and a.fix.commands]
    assert with_commands, "the demo has setting fixes"
    for a in with_commands:
        assert "ALTER SYSTEM SET" not in a.fix.sql
        assert all(c.startswith("az postgres flexible-server ") for c in a.fix.commands)
    records = report.actions_to_records()
    assert any(r["fix_commands"] and "--server-name <server>" in r["fix_commands"] for r in records)
    finding = next(f for f in report.findings if f.fix and f.fix.commands)
    assert "az postgres flexible-server" in report._repr_html_()
    assert finding.fix.platform["platform"] == "azure-flexible-server"
    script = report.script()
    assert "--   az postgres flexible-server parameter set" in script
    # The twin: self-managed keeps ALTER SYSTEM and has no commands.
    plain = pgsage.audit(demo)
    assert all(not (a.fix and a.fix.commands) for a in plain.actions)
    assert "ALTER SYSTEM SET" in plain.script()


def test_tenants_of_a_shared_cluster():
    # Captured from a real server by the tenants scenario (testdata/scenarios/tenants.toml).
    fixture = Path(__file__).resolve().parents[2] / "testdata" / "fixtures" / "tenants" / "noisy-tenant.json"
    r = pgsage.audit(pgsage.load_snapshot(fixture))
    t = r.tenants
    assert t is not None
    assert t == json.loads(r.to_json())["tenants"]
    names = [d["database"] for d in t["databases"]]
    assert names[0] == "acme" and "postgres" not in names, names
    assert sum(d["time_share_pct"] for d in t["databases"]) == pytest.approx(100, abs=0.5)
    assert [f.object.name for f in r if f.rule == "TEN001"] == []  # default thresholds: seconds of load are too little


def test_one_database_has_no_tenants(report):
    assert report.tenants is None
