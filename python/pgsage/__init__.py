"""pgsage: a PostgreSQL tuning advisor, for notebooks.

Collect a snapshot of a server (or load one), audit it with the same rules and thresholds
as the ``pgsage`` CLI, and look at the findings as objects, data frames, or a
colour-coded table in Jupyter::

    import pgsage

    snap = pgsage.collect("host=db dbname=erp sslmode=require")   # or load_snapshot(path)
    report = pgsage.audit(snap, min_severity="warning")
    report.summary, report.to_pandas(), snap.tables()

    plan = pgsage.analyze_plan(explain_json)        # EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
    plan.tree(), plan.nodes(), list(plan)

    w = pgsage.workload(["postgresql.log", "postgresql.log.1.gz"])   # or a snapshot / DSN
    w.queries(), w.profile, w.findings
    advice = pgsage.advise_indexes(snap, workload=w)
    advice.recommendations(), advice.create_statements()

Everything runs in the Rust library; this package is a thin layer over its native
module ``pgsage._native``. Errors are :class:`pgsage.Error` subclasses.
"""

from __future__ import annotations

import json
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
    PlanError,
    QueryError,
    SnapshotError,
)
from .fleet import load_fleet, load_fleet_summary
from .indexes import IndexAdvice, Validation
from .plans import PlanAnalysis, PlanInput, plan_text
from .report import Action, ActionFix, Finding, Fix, ObjectRef, Report, Severity, Summary
from .rules import Param, Rule, rules, rules_frame
from .snapshot import Snapshot
from .tune import Advice, TableAdvice, TuneReport
from .workload import Workload

__version__: str = _native.__version__

__all__ = [
    "collect",
    "load_snapshot",
    "audit",
    "diff",
    "rules",
    "rules_frame",
    "tune",
    "analyze_plan",
    "analyze_plans",
    "explain",
    "workload",
    "load_workload",
    "advise_indexes",
    "load_fleet",
    "load_fleet_summary",
    "Snapshot",
    "Report",
    "Action",
    "ActionFix",
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
    "PlanAnalysis",
    "Workload",
    "IndexAdvice",
    "Validation",
    "Error",
    "ConnectionError",
    "QueryError",
    "SnapshotError",
    "ConfigError",
    "InvalidValueError",
    "PlanError",
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
            (with its unit: ``"24GiB"``; ``"16"`` or less than 256 MB is a ``ValueError``), ``cpus``, ``storage`` (``hdd``/``ssd``/``nvme``/``san``),
            ``platform`` (``azure-flexible-server``, ``aws-rds``, ``aws-aurora``,
            ``gcp-cloud-sql``, ``gcp-alloydb``, ``self-managed``; when detection cannot see
            it), ``tier`` (the managed service's compute size, ``"Standard_D4ds_v5"``,
            ``"db.r6g.large"``, ``"db-custom-4-16384"``: its RAM, vCPUs and storage are
            recorded below ``ram``/``cpus``/``storage``), ``probe_local_host`` (bool),
            ``redact`` (bool), ``all_databases`` (bool: also read the tables and indexes
            of every other database the role may connect to, one connection each),
            ``databases`` (a list of glob patterns, e.g. ``["tenant_*"]``: only those),
            ``jobs`` (how many databases to read at once, default 4).

    The work runs without the GIL; Ctrl-C raises ``KeyboardInterrupt`` promptly even
    while the server does not answer.

    Raises:
        ConnectionError: unreachable server, timeout, login or TLS failure, bad DSN.
        QueryError: a query the collector needs failed.
        InvalidValueError: an invalid option value; an unknown ``platform`` or ``tier``,
            or a tier of another platform than the given or detected one.
        TypeError: an unknown option.
    """
    for name in _DURATIONS:
        if name in options:
            options[name] = _seconds(options[name])
    if isinstance(options.get("databases"), str):
        options["databases"] = [options["databases"]]
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


def _host(
    ram: Optional[str],
    cpus: Optional[float],
    storage: Optional[str],
    platform: Optional[str],
    tier: Optional[str],
) -> Dict[str, Any]:
    return {
        "ram": ram,
        "cpus": None if cpus is None else float(cpus),
        "storage": storage,
        "platform": platform,
        "tier": tier,
    }


def audit(
    snapshot_or_dsn: Union[Snapshot, str, "os.PathLike[str]", None],
    *,
    packs: Union[str, List[str], None] = None,
    config: ConfigLike = None,
    min_severity: Union[str, Severity, None] = None,
    ram: Optional[str] = None,
    cpus: Optional[float] = None,
    storage: Optional[str] = None,
    platform: Optional[str] = None,
    tier: Optional[str] = None,
    odoo_conf: Union[str, "os.PathLike[str]", None] = None,
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
        platform: where the server runs, when detection cannot see it
            (``"azure-flexible-server"``, ``"aws-rds"``, ``"aws-aurora"``,
            ``"gcp-cloud-sql"``, ``"gcp-alloydb"``, ``"self-managed"``).
        tier: the managed service's compute size (``"Standard_D4ds_v5"``,
            ``"db.r6g.large"``, ``"db-custom-4-16384"``; docs/tiers.md lists them): its
            RAM, vCPUs and storage are the host facts ``ram``, ``cpus`` and ``storage``
            leave out, with the source ``tier <name>``.
        odoo_conf: the Odoo server's ``odoo.conf``, for the ``erp`` pack's connection
            pools (only its pool and replica keys are read, never its passwords) — like
            the CLI's ``--odoo-conf``; ``config={"odoo": {"workers": 8, ...}}`` gives the
            same values without the file.
        **collect_options: passed to :func:`collect` when auditing a DSN.

    Raises:
        ConfigError, InvalidValueError (also for an unknown ``platform`` or ``tier``, or a
        tier of another platform than the given or detected one), SnapshotError,
        ConnectionError, QueryError.
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
        snap = collect(
            snapshot_or_dsn,
            **_host(ram, cpus, storage, platform, tier),
            **collect_options,
        )
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
        odoo_conf=None if odoo_conf is None else os.fspath(odoo_conf),
        **_host(ram, cpus, storage, platform, tier),
        **config_kwargs(config),
    )
    return Report.from_json(text, snapshot=snap)


def _diff_side(
    side: Union[Snapshot, Report, "os.PathLike[str]", str],
) -> Union[Snapshot, Report]:
    """A snapshot or a report; a path is read as whichever the file holds."""
    if isinstance(side, (Snapshot, Report)):
        return side
    if isinstance(side, (str, os.PathLike)):
        with open(side, encoding="utf-8") as f:
            text = f.read()
        try:
            probe = json.loads(text)
        except ValueError as e:
            raise SnapshotError(f"{os.fspath(side)}: not JSON: {e}") from None
        if isinstance(probe, dict) and "snapshot_version" not in probe and "findings" in probe:
            return Report.from_json(text)
        return Snapshot.from_json(text)
    raise TypeError(
        "diff() takes Snapshots, Reports or paths, not " + type(side).__name__
    )


def diff(
    old: Union[Snapshot, Report, "os.PathLike[str]", str],
    new: Union[Snapshot, Report, "os.PathLike[str]", str],
    *,
    config: ConfigLike = None,
    allow_different_servers: bool = False,
) -> Dict[str, Any]:
    """What changed between two snapshots (or two reports) of one server, as ``pgsage
    diff --format json`` gives it (docs/diff.md): ``settings``, ``findings`` and
    ``actions`` (``new``, ``resolved``, ``persisting``), ``statements`` that regressed,
    ``databases`` (growth, dead rows, bloat), ``resets`` and ``warnings``.

    Args:
        old, new: :class:`Snapshot` or :class:`Report` objects, or paths to either
            file. Two snapshots are both audited with ``config`` and compared in full;
            with a report on either side, findings and actions only.
        config: as for :func:`audit`.
        allow_different_servers: compare snapshots that look like two servers (another
            ``cluster_name``, address and database oid) instead of raising.

    Raises:
        InvalidValueError (snapshots of different servers), SnapshotError, ConfigError.
    """
    a, b = _diff_side(old), _diff_side(new)
    if isinstance(a, Snapshot) and isinstance(b, Snapshot):
        text = _native.diff_snapshots(
            a._native,
            b._native,
            allow_different_servers=allow_different_servers,
            **config_kwargs(config),
        )
    else:
        ra = a if isinstance(a, Report) else audit(a, config=config)
        rb = b if isinstance(b, Report) else audit(b, config=config)
        text = _native.diff_reports(ra.to_json(), rb.to_json())
    result: Dict[str, Any] = json.loads(text)
    return result


def tune(
    snapshot_or_dsn: Union[Snapshot, str, "os.PathLike[str]", None],
    *,
    profile: Optional[str] = None,
    config: ConfigLike = None,
    ram: Optional[str] = None,
    cpus: Optional[float] = None,
    storage: Optional[str] = None,
    platform: Optional[str] = None,
    tier: Optional[str] = None,
    connections: Optional[int] = None,
    **collect_options: Any,
) -> TuneReport:
    """Recommended settings (``pgsage tune``): PGTune's hardware formulas refined by the
    measured workload.

    Args:
        snapshot_or_dsn: as for :func:`audit`.
        profile: ``oltp``, ``web``, ``mixed`` or ``dw`` (default: the configuration's
            ``[tune] profile``, else ``mixed``).
        config: a ``pgsage.toml`` path or dict (its ``[host]`` and ``[tune]`` sections
            are used; its rules too: settings the audit's findings change are part of
            the advice, with the same values :func:`audit` gives).
        ram, cpus, storage: host facts; they win over the configuration's.
        platform, tier: as for :func:`audit`; the tier's RAM and vCPUs size the settings
            (``ram`` and ``cpus`` still win).
        connections: plan for this ``max_connections``.

    Raises:
        InvalidValueError (also for an unknown ``platform`` or ``tier``, or a tier of
        another platform), ConfigError, SnapshotError, ConnectionError.
    """
    if isinstance(snapshot_or_dsn, Snapshot):
        snap = snapshot_or_dsn
    elif isinstance(snapshot_or_dsn, os.PathLike):
        snap = load_snapshot(snapshot_or_dsn)
    elif snapshot_or_dsn is None or isinstance(snapshot_or_dsn, str):
        snap = collect(
            snapshot_or_dsn,
            **_host(ram, cpus, storage, platform, tier),
            **collect_options,
        )
    else:
        raise TypeError(
            "tune() takes a Snapshot, a DSN string, a path or None, not "
            + type(snapshot_or_dsn).__name__
        )
    text, script = _native.tune(
        snap._native,
        profile=profile,
        connections=connections,
        **_host(ram, cpus, storage, platform, tier),
        **config_kwargs(config),
    )
    return TuneReport.from_native(text, script)


# -- plans ------------------------------------------------------------------------------


def analyze_plans(
    plan: PlanInput,
    *,
    config: ConfigLike = None,
    min_severity: Union[str, Severity, None] = None,
) -> List[PlanAnalysis]:
    """Analyzes EXPLAIN output holding one plan or several (as pasted from psql, or
    ``EXPLAIN (FORMAT JSON)``'s array): one :class:`PlanAnalysis` per plan, in order.

    See :func:`analyze_plan` for the arguments.
    """
    natives = _native.analyze_plans(
        plan_text(plan), min_severity=_severity(min_severity), **config_kwargs(config)
    )
    return [PlanAnalysis(n) for n in natives]


def analyze_plan(
    plan: PlanInput,
    *,
    config: ConfigLike = None,
    min_severity: Union[str, Severity, None] = None,
) -> PlanAnalysis:
    """Runs the ``plans`` rule pack over one EXPLAIN plan, as ``pgsage plan`` does.

    Args:
        plan: ``EXPLAIN (FORMAT JSON)`` output as a string or as the list/dict
            ``json.loads`` gives, or text-format EXPLAIN output (psql's decorations,
            ``QUERY PLAN`` header and ``+`` continuations are fine). ANALYZE and BUFFERS
            give the rules the most to work with; rules that need what the plan lacks are
            listed in ``skipped``.
        config: a ``pgsage.toml`` path or dict (thresholds, severities, suppressions);
            default ``./pgsage.toml`` when it exists, else the shipped packs.
        min_severity: keep findings at or above ``info``, ``warning`` or ``critical``.

    Raises:
        PlanError: not EXPLAIN output (empty, invalid JSON with line and column, JSON
            of another shape, unreadable text), or more than one plan (use
            :func:`analyze_plans`).
        ConfigError, InvalidValueError.
    """
    plans = analyze_plans(plan, config=config, min_severity=min_severity)
    if len(plans) != 1:
        raise PlanError(
            f"expected one plan, found {len(plans)}: use pgsage.analyze_plans() for several"
        )
    return plans[0]


def explain(
    dsn: Optional[str],
    query: str,
    *,
    analyze: bool = True,
    analyze_writes: bool = False,
    timeout: Optional[Seconds] = 60,
    connect_timeout: Optional[Seconds] = 10,
    config: ConfigLike = None,
    min_severity: Union[str, Severity, None] = None,
) -> PlanAnalysis:
    """Explains ``query`` on a live server and analyzes the plan (``pgsage plan --query``).

    With ``analyze`` (the default) the statement really runs —
    ``EXPLAIN (ANALYZE, BUFFERS, VERBOSE, SETTINGS, WAL, FORMAT JSON)`` inside a
    ``READ ONLY`` transaction that is always rolled back, under ``statement_timeout``.
    A statement that writes (``INSERT``/``UPDATE``/``DELETE``/``MERGE``, data-modifying
    CTEs, ``SELECT … FOR UPDATE``) is refused unless ``analyze_writes=True`` (then it runs
    in a read-write transaction that is rolled back; it still takes locks and fires
    triggers). ``analyze=False`` only plans it.

    Args:
        dsn: a libpq connection string (``None``: the ``PG*`` environment variables).
        query: one SQL statement.
        timeout: ``statement_timeout`` for the statement (seconds or ``timedelta``).
        connect_timeout: give up connecting after this long.
        config, min_severity: as for :func:`analyze_plan`.

    Runs on a worker thread; Ctrl-C raises ``KeyboardInterrupt`` at once (the server
    stops the statement at its timeout).

    Raises:
        ConnectionError: the server cannot be reached or refuses the login.
        QueryError: the server refused the statement (``e.sqlstate``), or it did not
            finish within ``timeout`` (``57014``).
        InvalidValueError: no statement, several statements, or a write without
            ``analyze_writes``.
    """
    native = _native.explain(
        dsn,
        query,
        analyze=analyze,
        analyze_writes=analyze_writes,
        timeout=_seconds(timeout),
        connect_timeout=_seconds(connect_timeout),
        min_severity=_severity(min_severity),
        **config_kwargs(config),
    )
    return PlanAnalysis(native)


# -- workloads --------------------------------------------------------------------------

LogPaths = Union[str, "os.PathLike[str]", List[Union[str, "os.PathLike[str]"]]]


def _log_paths(source: Any) -> Optional[List[str]]:
    """The log files of ``source`` when it names files (a path or a list of paths)."""
    if isinstance(source, os.PathLike):
        return [os.fspath(source)]
    if isinstance(source, (list, tuple)):
        if not source:
            raise InvalidValueError("invalid value for logs: no log file given")
        for p in source:
            if not isinstance(p, (str, os.PathLike)):
                raise TypeError(f"log paths are str or os.PathLike, not {type(p).__name__}")
        return [os.fspath(p) for p in source]
    return None


def _is_dsn(text: str) -> bool:
    """Whether a string is a libpq connection string rather than a file name."""
    t = text.strip()
    return t.startswith(("postgres://", "postgresql://")) or (
        "=" in t and not os.path.exists(t)
    )


def workload(
    source: Union[LogPaths, Snapshot, None],
    *,
    log_line_prefix: Optional[str] = None,
    log_format: Optional[str] = None,
    utc_offset_minutes: Optional[int] = None,
    bucket: Seconds = 3600,
    threads: Optional[int] = None,
    snapshot: Optional[Snapshot] = None,
    config: ConfigLike = None,
    platform: Optional[str] = None,
    **collect_options: Any,
) -> Workload:
    """The workload: which queries run, how often and how long (``pgsage workload``).

    Args:
        source: server log file(s) — a path (``str`` or ``os.PathLike``) or a list of
            them, stderr with any ``log_line_prefix``, csvlog or jsonlog, ``.gz`` too,
            rotated files in order; or a :class:`Snapshot` (its ``pg_stat_statements``);
            or a DSN string (collected now, with ``collect_options`` such as
            ``interval=60`` for deltas between two samples); ``None``: the libpq
            environment variables.
        log_line_prefix: the server's ``log_line_prefix`` for stderr logs (default:
            detected; or taken from ``snapshot``).
        log_format: ``stderr``, ``csv``, ``json`` or ``cloud-logging`` (a Cloud Logging
            export; default: detected per file).
        utc_offset_minutes: for timestamps whose zone abbreviation is unknown.
        bucket: length of the profile's time windows (seconds or ``timedelta``).
        threads: log parser threads (default: every core).
        snapshot: a snapshot of the logging server, for its logging settings
            (``log_line_prefix``, ``log_destination``, ``log_timezone``).
        config: configuration of the ``queries`` pack for :attr:`Workload.findings`.
        platform: where the logging server runs (``azure-flexible-server``, ``aws-rds``,
            ``gcp-cloud-sql``, …): its ``log_line_prefix`` when neither
            ``log_line_prefix`` nor ``snapshot`` gives one (docs/platform-logs.md).

    Reading logs runs on a worker thread without the GIL; Ctrl-C raises
    ``KeyboardInterrupt`` at once and stops the reader.

    Raises:
        IoError: a log file cannot be opened or read.
        InvalidValueError: no statement with a duration in the logs (wrong prefix, not a
            server log, ``log_min_duration_statement`` off), or a snapshot without
            ``pg_stat_statements``.
        ConnectionError, QueryError: collecting from a DSN failed.
    """
    paths = _log_paths(source)
    if paths is None and isinstance(source, str) and not _is_dsn(source):
        paths = [source]
    if paths is not None:
        if collect_options:
            raise TypeError(
                "collect options given for log files: " + ", ".join(sorted(collect_options))
            )
        native = _native.workload_from_logs(
            paths,
            snapshot=None if snapshot is None else snapshot._native,
            log_line_prefix=log_line_prefix,
            log_format=log_format,
            utc_offset_minutes=utc_offset_minutes,
            threads=threads,
            bucket_seconds=max(1, int(round(_seconds(bucket) or 3600))),
            platform=platform,
        )
        return Workload(native, config)
    if isinstance(source, Snapshot):
        if collect_options:
            raise TypeError(
                "collect options given, but the snapshot is already collected: "
                + ", ".join(sorted(collect_options))
            )
        snap = source
    elif source is None or isinstance(source, str):
        snap = collect(source, **collect_options)
    else:
        raise TypeError(
            "workload() takes log path(s), a Snapshot, a DSN string or None, not "
            + type(source).__name__
        )
    return Workload(_native.workload_from_snapshot(snap._native), config)


def load_workload(path: Union[str, "os.PathLike[str]"]) -> Workload:
    """Reads a ``workload.json`` (:meth:`Workload.save`, ``pgsage workload -o``).

    Raises:
        IoError: the file cannot be read.
        InvalidValueError: not a workload file, or from another format version.
    """
    return Workload(_native.load_workload(os.fspath(path)))


# -- index advice -----------------------------------------------------------------------


def _workload_kwargs(workload: Any) -> Dict[str, Any]:
    """The native advisor's statement source for ``workload=``."""
    if workload is None:
        return {}
    if isinstance(workload, Workload):
        return {"workload": workload._native}
    paths = _log_paths(workload)
    if paths is None and isinstance(workload, str):
        paths = [workload]
    if paths is None:
        raise TypeError(
            "workload must be a Workload, a workload.json path or log path(s), not "
            + type(workload).__name__
        )
    if len(paths) == 1 and paths[0].endswith(".json"):
        # workload.json, unless it is a jsonlog server log.
        try:
            return {"workload": load_workload(paths[0])._native}
        except InvalidValueError:
            pass
    return {"log_paths": paths}


def advise_indexes(
    source: Union[str, Snapshot, "os.PathLike[str]", None],
    *,
    workload: Union[Workload, LogPaths, None] = None,
    max_indexes: Optional[int] = None,
    max_size: Union[int, str, None] = None,
    validate: bool = True,
    database: Optional[str] = None,
    config: ConfigLike = None,
    log_line_prefix: Optional[str] = None,
    connect_timeout: Optional[Seconds] = None,
) -> IndexAdvice:
    """The indexes worth creating (``pgsage indexes``).

    Args:
        source: the schema — a DSN string (a snapshot is collected now and, with
            ``validate``, each candidate is measured with HypoPG's hypothetical indexes
            when the extension is installed in the database; nothing is written); a
            :class:`Snapshot` or a ``pathlib.Path`` to a snapshot file (unvalidated
            advice); ``None``: the libpq environment variables.
        workload: the statements — a :class:`Workload`, a ``workload.json`` path, or
            server log path(s); default: the server's (or snapshot's)
            ``pg_stat_statements``.
        max_indexes: at most this many new indexes, at least 1 (default: rule IDX009's
            ``max_indexes``).
        max_size: at most this much new index space, bytes or a size (``"2GiB"``).
        validate: measure with HypoPG when possible (a DSN only).
        database: advise for this database's statements (default: the schema's).
        config: a ``pgsage.toml`` path or dict (IDX009's parameters are the thresholds).
        log_line_prefix: for stderr logs given as ``workload``.
        connect_timeout: give up connecting after this long.

    Runs on a worker thread without the GIL; Ctrl-C raises ``KeyboardInterrupt`` at once
    and stops the advisor.

    Raises:
        ConnectionError, QueryError: the server cannot be reached or queried.
        SnapshotError: a snapshot file cannot be read.
        InvalidValueError: a bad size, ``max_indexes`` below 1 (here or in the
            configuration), a workload file that is not one, no ``pg_stat_statements``
            to take statements from.
        IoError: a log file cannot be read.
        ConfigError: an invalid configuration.
    """
    kwargs: Dict[str, Any] = {}
    if isinstance(source, Snapshot):
        kwargs["snapshot"] = source._native
    elif isinstance(source, os.PathLike):
        kwargs["snapshot"] = load_snapshot(source)._native
    elif source is None or isinstance(source, str):
        kwargs["dsn"] = source
        kwargs["connect_timeout"] = _seconds(connect_timeout)
    else:
        raise TypeError(
            "advise_indexes() takes a DSN string, a Snapshot, a path or None, not "
            + type(source).__name__
        )
    if isinstance(max_size, bool):
        raise TypeError("max_size is a number of bytes or a size like '2GiB'")
    native = _native.advise_indexes(
        max_indexes=max_indexes,
        max_size=None if max_size is None else str(max_size),
        validate=validate,
        database=database,
        log_line_prefix=log_line_prefix,
        **kwargs,
        **_workload_kwargs(workload),
        **config_kwargs(config),
    )
    return IndexAdvice(native)
