"""`platform=` and `tier=`: a managed service's compute size gives the host facts (as the
CLI's `--platform`/`--tier`), `ram`/`cpus`/`storage` still win, and unknown values or a
tier of another platform raise `InvalidValueError`."""

from __future__ import annotations

import pytest

import pgsage

GIB = 1 << 30


def _recommended(t: pgsage.TuneReport):
    return [(a.name, a.recommended) for a in t.settings]


def _fact(t: pgsage.TuneReport, name: str):
    f = next(f for f in t.facts if f["name"] == name)
    return f["value"], f["source"]


def test_audit_takes_the_tiers_facts(demo):
    report = pgsage.audit(demo, platform="azure-flexible-server", tier="Standard_D4ds_v5")
    host = report.host
    assert host["ram_bytes"] == {"value": 16 * GIB, "source": "tier Standard_D4ds_v5"}
    assert host["cpus"] == {"value": 4.0, "source": "tier Standard_D4ds_v5"}
    assert host["storage"] == {"value": "san", "source": "tier Standard_D4ds_v5"}
    assert host["tier"] == {"value": "Standard_D4ds_v5", "source": "flag"}
    assert report.target["platform"]["value"] == "azure-flexible-server"


def test_tune_sizes_from_the_tier_as_from_the_same_facts_given_one_by_one(demo):
    tier = pgsage.tune(demo, platform="azure-flexible-server", tier="d4ds_v5")
    assert _fact(tier, "ram")[1] == "tier Standard_D4ds_v5"
    explicit = pgsage.tune(
        demo, platform="azure-flexible-server", ram="16GiB", cpus=4, storage="san"
    )
    assert _recommended(tier) == _recommended(explicit)
    recorded = pgsage.tune(demo, platform="azure-flexible-server")
    assert _recommended(tier) != _recommended(recorded), "the demo recorded 24 GiB"


def test_explicit_facts_win_over_the_tier(demo):
    report = pgsage.audit(demo, platform="aws-rds", tier="db.r6g.xlarge", ram="8GiB")
    assert report.host["ram_bytes"] == {"value": 8 * GIB, "source": "flag"}
    assert report.host["cpus"] == {"value": 4.0, "source": "tier db.r6g.xlarge"}


def test_the_configurations_tier(demo):
    config = {"host": {"platform": "gcp-cloud-sql", "tier": "db-custom-8-32768"}}
    report = pgsage.audit(demo, config=config)
    assert report.host["ram_bytes"] == {"value": 32 * GIB, "source": "tier db-custom-8-32768"}
    assert report.host["tier"] == {"value": "db-custom-8-32768", "source": "config"}
    with pytest.raises(pgsage.ConfigError, match="host.tier"):
        pgsage.audit(demo, config={"host": {"tier": "db-custom-3-12288"}})


@pytest.mark.parametrize(
    "kwargs, says",
    [
        ({"tier": "Standard_D4ds_v9", "platform": "azure-flexible-server"}, "unknown tier"),
        ({"tier": "db-custom-4-16000", "platform": "gcp-cloud-sql"}, "multiple of 256"),
        ({"platform": "heroku"}, "unknown platform"),
        ({"tier": "Standard_D4ds_v5", "platform": "aws-rds"}, "Amazon RDS"),
        # The demo server shows no provider: an Azure tier needs the platform named.
        ({"tier": "Standard_D4ds_v5"}, "self-managed"),
    ],
)
def test_bad_platforms_and_tiers_raise(demo, kwargs, says):
    for call in (pgsage.audit, pgsage.tune):
        with pytest.raises(pgsage.InvalidValueError, match=says) as info:
            call(demo, **kwargs)
        assert isinstance(info.value, ValueError)


def test_collect_records_the_tiers_facts(pg_server):
    snap = pgsage.collect(
        pg_server["monitor_dsn"],
        platform="azure-flexible-server",
        tier="Standard_E4ds_v5",
        probe_local_host=False,
    )
    report = pgsage.audit(snap)
    assert report.host["ram_bytes"] == {"value": 32 * GIB, "source": "tier Standard_E4ds_v5"}
    assert report.host["tier"]["value"] == "Standard_E4ds_v5"
    # The test server is a plain one: without the platform named, the tier contradicts it.
    with pytest.raises(pgsage.InvalidValueError, match="self-managed"):
        pgsage.collect(pg_server["monitor_dsn"], tier="Standard_E4ds_v5")
