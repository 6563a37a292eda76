"""Against a real temporary PostgreSQL server (started by the testkit)."""

from __future__ import annotations

import pandas as pd
import pytest

import pgsage


@pytest.fixture(scope="module")
def live(pg_server):
    return pgsage.collect(pg_server["monitor_dsn"])


def test_collect_reads_the_server(live, pg_server):
    assert live.server_major == pg_server["major"]
    assert live.database == "app"
    tables = live.tables()
    orders = tables[tables["name"] == "orders"]
    assert len(orders) == 1
    assert orders["schema"].iloc[0] == "public"
    assert orders["heap_bytes"].iloc[0] > 0
    assert orders["has_primary_key"].iloc[0]
    indexes = live.indexes()
    assert {"orders_pkey", "orders_note"} <= set(indexes["name"])
    settings = live.settings().set_index("name")
    assert settings.loc["max_connections", "setting"] == "50"
    activity = live.activity()
    assert (activity["application_name"] == "pgsage").any()
    assert isinstance(activity["backend_start"].dtype, pd.DatetimeTZDtype)
    statements = live.statements()
    assert len(statements) > 0
    assert statements["query"].str.contains("orders", na=False).any()
    databases = live.databases()
    assert "app" in set(databases["name"])


def test_libpq_environment_is_honoured(pg_server, monkeypatch):
    for k, v in {"PGHOST": "127.0.0.1", "PGPORT": str(pg_server["port"]),
                 "PGUSER": "monitor", "PGPASSWORD": "monitor", "PGDATABASE": "app",
                 "PGSSLMODE": "disable", "PGAPPNAME": "from-env"}.items():
        monkeypatch.setenv(k, v)
    snap = pgsage.collect()
    assert snap.database == "app"
    assert (snap.activity()["application_name"] == "from-env").any()


def test_wrong_password_is_a_connection_error_with_sqlstate(pg_server):
    dsn = pg_server["monitor_dsn"].replace("password=monitor", "password=wrong")
    with pytest.raises(pgsage.ConnectionError) as e:
        pgsage.collect(dsn)
    assert e.value.sqlstate == "28P01"
    assert "wrong" not in str(e.value)  # never the password


def test_live_audit_and_interval(pg_server, live):
    report = pgsage.audit(pg_server["monitor_dsn"], interval=0.3)
    assert report.target["source"] == "live"
    assert report.target["database"] == "app"
    assert report.counters["basis"] == "interval"
    offline = pgsage.audit(live)
    assert offline.target["source"] == "snapshot"
    # the live server runs with fsync = off, which the rules flag
    assert any(f.object.name == "fsync" for f in offline)


def test_snapshot_round_trip_from_live(live, tmp_path):
    path = tmp_path / "live.json"
    live.save(path)
    assert pgsage.load_snapshot(path).to_dict() == live.to_dict()


def test_all_databases_adds_every_database_s_tables(pg_server):
    snap = pgsage.collect(pg_server["monitor_dsn"], all_databases=True, jobs=2)
    others = [d["name"] for d in snap.to_dict()["other_databases"]]
    assert "postgres" in others and "app" not in others
    tables = snap.tables()
    assert list(tables.columns)[0] == "database"
    assert set(tables[tables["name"] == "orders"]["database"]) == {"app"}
    report = pgsage.audit(snap)
    assert report.to_dict()["target"]["databases"][0] == "app"
    only = pgsage.collect(pg_server["monitor_dsn"], databases=["nothing_*"])
    assert "other_databases" not in only.to_dict()
    assert "database" not in only.tables().columns
    with pytest.raises(pgsage.InvalidValueError):
        pgsage.collect(pg_server["monitor_dsn"], all_databases=True, databases=["x"])
