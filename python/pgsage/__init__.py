"""pgsage: a PostgreSQL tuning advisor, for notebooks.

Collect a snapshot of a server (or load one), audit it with the same rules and thresholds
as the ``pgsage`` CLI, and look at the findings as objects, data frames, or a
colour-coded table in Jupyter::

    import pgsage

    snap = pgsage.collect("host=db dbname=erp sslmode=require")   # or load_snapshot(path)
    report = pgsage.audit(snap, min_severity="warning")
    report.summary, report.to_pandas(), snap.tables()

Everything runs in the Rust library; this package is a thin layer over its native
module ``pgsage._native``. Errors are :class:`pgsage.Error` subclasses.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any, Dict, List, Optional, Union

from . import _native
from ._config import ConfigLike, config_kwargs
from .errors import (
    ConfigError,
    ConnectionError,
    Error,
    InternalError,
    InvalidValueError,
    IoError,
    MissingDependencyError,
    QueryError,
    SnapshotError,
)
from .report import Finding, Fix, ObjectRef, Report, Severity, Summary
from .rules import Param, Rule, rules, rules_frame
from .snapshot import Snapshot
from .tune import Advice, TableAdvice, TuneReport

__version__: str = _native.__version__

__all__ = [
    "collect",
    "load_snapshot",
    "audit",
    "rules",
    "rules_frame",
    "tune",
    "Snapshot",
    "Report",
    "Finding",
    "ObjectRef",
    "Fix",
    "Severity",
    "Summary",
    "Rule",
    "Param",
    "TuneReport",
    "Advice",
    "TableAdvice",
    "Error",
    "ConnectionError",
    "QueryError",
    "SnapshotError",
    "ConfigError",
    "InvalidValueError",
    "IoError",
    "MissingDependencyError",
    "InternalError",
]

Seconds = Union[int, float, timedelta]
_DURATIONS = ("connect_timeout", "statement_timeout", "lock_timeout")


def _seconds(value: Optional[Seconds]) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def collect(
    dsn: Optional[str] = None,
    *,
    interval: Optional[Seconds] = None,
    **options: Any,
) -> Snapshot:
    """Connects to a server and collects a snapshot (read-only, one connection).

    Args:
        dsn: a libpq connection string, ``postgres://user@host/db?sslmode=require`` or
            ``host=... dbname=...``. What it leaves out comes from ``PGHOST``, ``PGPORT``,
            ``PGUSER``, ``PGPASSWORD``, ``PGDATABASE``, ``PGSSLMODE``, ``PGAPPNAME`` and
            ``~/.pgpass``, as with libpq; ``None`` uses only those. TLS as in the DSN.
        interval: take two samples this far apart (seconds or a ``timedelta``), so
            usage-based rules see rates instead of lifetime counters.
        **options: ``connect_timeout``, ``statement_timeout``, ``lock_timeout`` (seconds
            or ``timedelta``), ``application_name``, ``include_query_text`` (bool),
            ``query_text_max``, ``statements_top`` (ints), host facts ``ram``
            (``"24GiB"``), ``cpus``, ``storage`` (``hdd``/``ssd``/``nvme``/``san``),
            ``probe_local_host`` (bool), ``redact`` (bool).

    The work runs without the GIL; Ctrl-C raises ``KeyboardInterrupt`` promptly even
    while the server does not answer.

    Raises:
        ConnectionError: unreachable server, timeout, login or TLS failure, bad DSN.
        QueryError: a query the collector needs failed.
        InvalidValueError: an invalid option value.
        TypeError: an unknown option.
    """
    for name in _DURATIONS:
        if name in options:
            options[name] = _seconds(options[name])
    return Snapshot(_native.collect(dsn, interval=_seconds(interval), **options))


def load_snapshot(path: Union[str, "os.PathLike[str]"]) -> Snapshot:
    """Reads a snapshot file (as written by :meth:`Snapshot.save` or ``pgsage snapshot``).

    Raises:
        SnapshotError: missing, truncated, corrupt, or from a newer pgsage.
    """
    return Snapshot(_native.load_snapshot(os.fspath(path)))


def _packs(packs: Union[str, List[str], None]) -> List[str]:
    if packs is None:
        return []
    if isinstance(packs, str):
        return [packs]
    return list(packs)


def _severity(value: Union[str, Severity, None]) -> Optional[str]:
    if value is None:
        return None
    return value.value if isinstance(value, Severity) else str(value)


def _host(ram: Optional[str], cpus: Optional[float], storage: Optional[str]) -> Dict[str, Any]:
    return {"ram": ram, "cpus": None if cpus is None else float(cpus), "storage": storage}


def audit(
    snapshot_or_dsn: Union[Snapshot, str, "os.PathLike[str]", None],
    *,
    packs: Union[str, List[str], None] = None,
    config: ConfigLike = None,
    min_severity: Union[str, Severity, None] = None,
    ram: Optional[str] = None,
    cpus: Optional[float] = None,
    storage: Optional[str] = None,
    **collect_options: Any,
) -> Report:
    """Runs the rules and returns the :class:`Report`.

    Args:
        snapshot_or_dsn: a :class:`Snapshot`; a DSN string (collected now, live);
            a ``pathlib.Path`` (or other ``os.PathLike``) to a snapshot file; or ``None``
            to connect with the libpq environment variables only.
        packs: keep only these packs' findings (a name or a list); unknown packs raise.
        config: a ``pgsage.toml`` path or a dict with the same shape
            (``{"rules": {"VAC001": {"params": {"min_dead_tuples": 50}}}}``); default
            ``./pgsage.toml`` when it exists, else the shipped packs — like the CLI's
            ``--config``.
        min_severity: keep findings at or above ``info``, ``warning`` or ``critical``.
        ram, cpus, storage: host facts SQL cannot see; they win over the configuration's.
        **collect_options: passed to :func:`collect` when auditing a DSN.

    Raises:
        ConfigError, InvalidValueError, SnapshotError, ConnectionError, QueryError.
    """
    live = False
    if isinstance(snapshot_or_dsn, Snapshot):
        snap = snapshot_or_dsn
        if collect_options:
            raise TypeError(
                "collect options given, but the snapshot is already collected: "
                + ", ".join(sorted(collect_options))
            )
    elif isinstance(snapshot_or_dsn, os.PathLike):
        snap = load_snapshot(snapshot_or_dsn)
    elif snapshot_or_dsn is None or isinstance(snapshot_or_dsn, str):
        snap = collect(snapshot_or_dsn, ram=ram, cpus=cpus, storage=storage, **collect_options)
        live = True
    else:
        raise TypeError(
            "audit() takes a Snapshot, a DSN string, a path or None, not "
            + type(snapshot_or_dsn).__name__
        )
    text = _native.audit(
        snap._native,
        packs=_packs(packs),
        min_severity=_severity(min_severity),
        live=live,
        **_host(ram, cpus, storage),
        **config_kwargs(config),
    )
    return Report.from_json(text)


def tune(
    snapshot_or_dsn: Union[Snapshot, str, "os.PathLike[str]", None],
    *,
    profile: str = "mixed",
    config: ConfigLike = None,
    ram: Optional[str] = None,
    cpus: Optional[float] = None,
    storage: Optional[str] = None,
    connections: Optional[int] = None,
    **collect_options: Any,
) -> TuneReport:
    """Recommended settings (``pgsage tune``): PGTune's hardware formulas refined by the
    measured workload.

    Args:
        snapshot_or_dsn: as for :func:`audit`.
        profile: ``oltp``, ``web``, ``mixed`` or ``dw``.
        config: a ``pgsage.toml`` path or dict (its ``[host]`` facts are used).
        ram, cpus, storage: host facts; they win over the configuration's.
        connections: plan for this ``max_connections``.

    Raises:
        InvalidValueError, ConfigError, SnapshotError, ConnectionError.
    """
    if isinstance(snapshot_or_dsn, Snapshot):
        snap = snapshot_or_dsn
    elif isinstance(snapshot_or_dsn, os.PathLike):
        snap = load_snapshot(snapshot_or_dsn)
    elif snapshot_or_dsn is None or isinstance(snapshot_or_dsn, str):
        snap = collect(snapshot_or_dsn, ram=ram, cpus=cpus, storage=storage, **collect_options)
    else:
        raise TypeError(
            "tune() takes a Snapshot, a DSN string, a path or None, not "
            + type(snapshot_or_dsn).__name__
        )
    text, script = _native.tune(
        snap._native,
        profile=profile,
        connections=connections,
        **_host(ram, cpus, storage),
        **config_kwargs(config),
    )
    return TuneReport.from_native(text, script)
