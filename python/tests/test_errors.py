"""Library errors map to pgsage's exception hierarchy with the library's message."""

from __future__ import annotations

import builtins
import json
import socket
from pathlib import Path

import pytest

import pgsage


def test_hierarchy():
    for cls in (pgsage.ConnectionError, pgsage.QueryError, pgsage.SnapshotError,
                pgsage.ConfigError, pgsage.InvalidValueError, pgsage.IoError,
                pgsage.MissingDependencyError, pgsage.InternalError):
        assert issubclass(cls, pgsage.Error)
    assert issubclass(pgsage.ConnectionError, builtins.ConnectionError)
    assert issubclass(pgsage.InvalidValueError, ValueError)


@pytest.mark.parametrize(
    "content, expected",
    [
        ("", "empty"),
        ('{"snapshot_version": 1, "tool": ', "truncated"),
        ("{nope", "corrupt"),
        ('{"hello": 1}', "no `snapshot_version`"),
        ('{"snapshot_version": 999}', "newer pgsage"),
    ],
)
def test_bad_snapshot_files(tmp_path: Path, content, expected):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(pgsage.SnapshotError, match=expected) as e:
        pgsage.load_snapshot(path)
    assert str(path) in str(e.value)
    assert e.value.sqlstate is None


def test_missing_snapshot_file(tmp_path: Path):
    with pytest.raises(pgsage.SnapshotError, match="cannot read"):
        pgsage.load_snapshot(tmp_path / "nope.json")


def test_corrupt_fields_are_snapshot_errors(demo_json, tmp_path: Path):
    broken = dict(demo_json, tables="not a list")
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(pgsage.SnapshotError, match="does not match the snapshot format"):
        pgsage.load_snapshot(path)


def test_save_to_missing_directory(demo, tmp_path: Path):
    with pytest.raises(pgsage.SnapshotError, match="cannot write"):
        demo.save(tmp_path / "no" / "such" / "dir.json")


@pytest.mark.parametrize(
    "config, expected",
    [
        ({"rules": {"XYZ999": {"enabled": False}}}, "unknown rule `XYZ999`"),
        ({"rules": {"VAC001": {"params": {"nope": 1}}}}, "has no parameter `nope`"),
        ({"packs": {"disabled": ["nopack"]}}, "unknown pack `nopack`"),
        ({"bogus": 1}, "unknown field `bogus`"),
        ({"host": {"ram": "lots"}}, "host.ram"),
        ({"rules": {"VAC001": {"enabled": object()}}}, "not JSON serializable"),
    ],
)
def test_bad_config_dicts(demo, config, expected):
    with pytest.raises(pgsage.ConfigError, match=expected) as e:
        pgsage.audit(demo, config=config)
    assert "<dict>" in str(e.value)


def test_bad_config_files(demo, tmp_path: Path):
    path = tmp_path / "pgsage.toml"
    path.write_text("[rules.VAC001\n")
    with pytest.raises(pgsage.ConfigError, match="TOML parse error") as e:
        pgsage.audit(demo, config=path)
    assert str(path) in str(e.value)
    with pytest.raises(pgsage.ConfigError, match="cannot read"):
        pgsage.audit(demo, config=tmp_path / "missing.toml")
    with pytest.raises(TypeError):
        pgsage.audit(demo, config=42)


def test_bad_values(demo):
    with pytest.raises(pgsage.InvalidValueError, match="unknown severity `loud`"):
        pgsage.audit(demo, min_severity="loud")
    with pytest.raises(pgsage.InvalidValueError, match="unknown pack `nopack`"):
        pgsage.audit(demo, packs=["nopack"])
    with pytest.raises(ValueError, match="ram"):
        pgsage.audit(demo, ram="lots")
    # 16 GiB meant, 16 bytes read: a RAM without a unit, or too small to tune, is refused.
    for ram in ["16", "64MB"]:
        with pytest.raises(ValueError, match="16GiB"):
            pgsage.audit(demo, ram=ram)
        with pytest.raises(ValueError, match="16GiB"):
            pgsage.tune(demo, ram=ram)
    with pytest.raises(pgsage.InvalidValueError, match="connect_timeout"):
        pgsage.collect("host=127.0.0.1", connect_timeout=-1)
    with pytest.raises(TypeError):
        pgsage.collect("host=127.0.0.1", no_such_option=1)
    with pytest.raises(TypeError):
        pgsage.audit(12)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_is_a_connection_error():
    port = _closed_port()
    with pytest.raises(pgsage.ConnectionError) as e:
        pgsage.collect(f"host=127.0.0.1 port={port} user=x dbname=x sslmode=disable",
                       connect_timeout=5)
    assert f"127.0.0.1:{port}" in str(e.value)
    # the built-in name catches it too
    with pytest.raises(builtins.ConnectionError):
        pgsage.audit(f"postgres://x@127.0.0.1:{port}/x?sslmode=disable", connect_timeout=5)


def test_invalid_dsn_is_a_connection_error():
    with pytest.raises(pgsage.ConnectionError, match="invalid connection options"):
        pgsage.collect("host=127.0.0.1 sslmode=bogus")


def test_panics_become_internal_errors():
    from pgsage import _native

    with pytest.raises(pgsage.InternalError, match="deliberate panic"):
        _native._panic_for_tests()
    # and the module still works afterwards
    assert pgsage.rules()
