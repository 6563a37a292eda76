"""The `erp` pack from Python: odoo_conf= and config={"odoo": ...} on a snapshot captured
from a real server (testdata/fixtures/erp, scripts/capture-fixtures.sh)."""

from __future__ import annotations

from pathlib import Path

import pytest

import pgsage

REPO = Path(__file__).resolve().parents[2]
HEALTHY = REPO / "testdata" / "fixtures" / "erp" / "odoo-healthy.json"
CONFS = REPO / "testdata" / "odoo"


def _pool_findings(report: pgsage.Report) -> list:
    return [f for f in report.findings if f.rule == "ERP004"]


def test_odoo_conf_with_pools_beyond_the_server_is_reported() -> None:
    report = pgsage.audit(HEALTHY, odoo_conf=CONFS / "odoo-crowded.conf", packs="erp")
    found = _pool_findings(report)
    assert len(found) == 1
    # 8 HTTP workers, 2 cron workers and the websocket process, 64 connections each.
    assert found[0].evidence["odoo_pool_connections"] == 11 * 64
    assert "db_maxconn" in found[0].recommendation


def test_pools_that_fit_are_quiet_from_a_file_or_the_config() -> None:
    assert not _pool_findings(
        pgsage.audit(HEALTHY, odoo_conf=CONFS / "odoo-sized.conf", packs="erp")
    )
    config = {"odoo": {"workers": 2, "max_cron_threads": 1, "db_maxconn": 4}}
    assert not _pool_findings(pgsage.audit(HEALTHY, config=config, packs="erp"))


def test_a_file_that_is_not_an_odoo_conf_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "odoo.conf"
    bad.write_text("[options]\nworkers = many\n")
    with pytest.raises(pgsage.errors.ConfigError, match="whole number"):
        pgsage.audit(HEALTHY, odoo_conf=bad)


def test_the_demo_snapshot_knows_its_odoo() -> None:
    demo = pgsage.load_snapshot(REPO / "testdata" / "snapshots" / "demo.json")
    erp = demo.erp
    assert erp is not None and erp["product"] == "odoo"
    assert erp["version"].startswith("17.0")
    assert "ir_attachment.location" in erp["parameters"]
    assert "database.secret" not in erp["parameters"]
    not_odoo = pgsage.load_snapshot(REPO / "testdata" / "fixtures" / "erp" / "not-odoo.json")
    assert not_odoo.erp is None
