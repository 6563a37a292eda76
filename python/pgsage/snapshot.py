"""The :class:`Snapshot`: what pgsage collected from one server at one moment."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

from . import _native
from ._frames import frame_to_pandas, frame_to_records

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from ._config import ConfigLike
    from .report import Report

PathLike = Union[str, "os.PathLike[str]"]


class Snapshot:
    """Everything pgsage read from one server: settings, statistics, catalogs and
    ``pg_stat_statements``, in one shape for PostgreSQL 13–18. Immutable.

    Get one with :func:`pgsage.collect` or :func:`pgsage.load_snapshot`. Each section is
    available as a pandas DataFrame (:meth:`tables`, :meth:`indexes`, :meth:`settings`,
    :meth:`activity`, :meth:`statements`, :meth:`databases`, ... or :meth:`frame` by name)
    and as plain dicts (:meth:`records`).
    """

    __slots__ = ("_native",)

    def __init__(self, native: "_native.Snapshot") -> None:
        """Wraps a native snapshot; use :func:`pgsage.collect` or
        :func:`pgsage.load_snapshot` instead of calling this."""
        self._native = native

    # -- identity ---------------------------------------------------------------------

    @classmethod
    def from_json(cls, text: str) -> "Snapshot":
        """Parses a snapshot from JSON text (the snapshot file format).

        Raises:
            SnapshotError: the text is not a valid snapshot.
        """
        return cls(_native.Snapshot.from_json(text))

    @property
    def server_version(self) -> str:
        """The server's version, e.g. ``"16.4"``."""
        return self._native.server_version

    @property
    def server_version_num(self) -> int:
        """The server's version number, e.g. ``160004``."""
        return self._native.server_version_num

    @property
    def server_major(self) -> int:
        """The major version, e.g. ``16``."""
        return self._native.server_version_num // 10000

    @property
    def database(self) -> str:
        """The database the snapshot was collected in."""
        return self._native.database

    @property
    def collected_at(self) -> datetime:
        """When collection finished (timezone-aware, UTC)."""
        return datetime.fromisoformat(self._native.collected_at)

    @property
    def redacted(self) -> bool:
        """Whether names were hashed and literals removed (see :meth:`redact`)."""
        return self._native.redacted

    @property
    def erp(self) -> Optional[Dict[str, Any]]:
        """The ERP application recognised in the connected database (Odoo: version,
        modules, attachments, queue tables, scheduled jobs; docs/erp.md), or ``None``.
        Other databases' are in ``to_dict()["other_databases"][i]["erp"]``."""
        return self.to_dict().get("erp")

    # -- files and JSON ---------------------------------------------------------------

    def save(self, path: PathLike) -> None:
        """Writes the snapshot file atomically (a temporary file, then a rename).

        Raises:
            SnapshotError: the file cannot be written.
        """
        self._native.save(os.fspath(path))

    def to_json(self) -> str:
        """The snapshot as pretty JSON (the snapshot file format)."""
        return self._native.to_json()

    def to_dict(self) -> Dict[str, Any]:
        """The snapshot as nested dicts and lists (parsed :meth:`to_json`)."""
        return json.loads(self.to_json())

    def redact(self) -> "Snapshot":
        """A copy safe to share: host, user and application names hashed, literals removed."""
        return Snapshot(self._native.redact())

    # -- sections ---------------------------------------------------------------------

    @staticmethod
    def sections() -> List[str]:
        """The section names :meth:`frame` and :meth:`records` accept."""
        return list(_native.Snapshot.sections())

    def _frame(self, name: str) -> Dict[str, Any]:
        return json.loads(self._native.section_json(name))

    def records(self, name: str) -> List[Dict[str, Any]]:
        """Section ``name`` as a list of dicts (no pandas needed).

        Raises:
            InvalidValueError: unknown section.
        """
        return frame_to_records(self._frame(name))

    def frame(self, name: str) -> "pandas.DataFrame":
        """Section ``name`` as a pandas DataFrame, one row per item, one column per field,
        with dtypes from the snapshot model: ``int64``/``Int64``, ``float64``,
        ``bool``/``boolean``, ``datetime64[..., UTC]``, ``string``, ``object`` for lists.

        Raises:
            InvalidValueError: unknown section.
            MissingDependencyError: pandas is not installed.
        """
        return frame_to_pandas(self._frame(name), f"Snapshot.frame({name!r})")

    def settings(self) -> "pandas.DataFrame":
        """``pg_settings``: name, setting, unit, vartype, source, context, ..."""
        return self.frame("settings")

    def databases(self) -> "pandas.DataFrame":
        """Every database with ``pg_stat_database`` counters (blks_hit, blks_read, ...)."""
        return self.frame("databases")

    def activity(self) -> "pandas.DataFrame":
        """``pg_stat_activity``: one row per backend, with state and timestamps."""
        return self.frame("activity")

    def lock_waits(self) -> "pandas.DataFrame":
        """Sessions waiting for locks, and the sessions blocking them."""
        return self.frame("lock_waits")

    def io(self) -> "pandas.DataFrame":
        """``pg_stat_io`` (PostgreSQL 16+; empty before)."""
        return self.frame("io")

    def replication(self) -> "pandas.DataFrame":
        """Connected standbys and subscribers."""
        return self.frame("replication")

    def replication_slots(self) -> "pandas.DataFrame":
        """Replication slots with retained WAL."""
        return self.frame("replication_slots")

    def prepared_xacts(self) -> "pandas.DataFrame":
        """Prepared transactions."""
        return self.frame("prepared_xacts")

    def roles(self) -> "pandas.DataFrame":
        """Roles that can log in."""
        return self.frame("roles")

    def tables(self) -> "pandas.DataFrame":
        """Tables of the connected database: sizes, tuple counts, vacuum times, scans."""
        return self.frame("tables")

    def indexes(self) -> "pandas.DataFrame":
        """Indexes of the connected database: definition, size, scans, validity."""
        return self.frame("indexes")

    def foreign_keys(self) -> "pandas.DataFrame":
        """Foreign keys of the connected database."""
        return self.frame("foreign_keys")

    def sequences(self) -> "pandas.DataFrame":
        """Sequences of the connected database, with how much of their range is used."""
        return self.frame("sequences")

    def extensions(self) -> "pandas.DataFrame":
        """Extensions installed in the connected database."""
        return self.frame("extensions")

    def columns(self) -> "pandas.DataFrame":
        """Columns of the connected database's tables, with planner statistics."""
        return self.frame("columns")

    def constraints(self) -> "pandas.DataFrame":
        """Primary key, unique, check and exclusion constraints."""
        return self.frame("constraints")

    def triggers(self) -> "pandas.DataFrame":
        """User triggers."""
        return self.frame("triggers")

    def statements(self) -> "pandas.DataFrame":
        """The ``pg_stat_statements`` top list (by total execution time); empty when the
        extension was not installed or readable (see :meth:`gaps`)."""
        return self.frame("statements")

    def gaps(self) -> "pandas.DataFrame":
        """What the collector could not see, and why."""
        return self.frame("gaps")

    # -- convenience ------------------------------------------------------------------

    def audit(
        self,
        *,
        packs: Optional[Union[str, List[str]]] = None,
        config: "ConfigLike" = None,
        min_severity: Optional[str] = None,
    ) -> "Report":
        """Same as :func:`pgsage.audit` on this snapshot."""
        from . import audit

        return audit(self, packs=packs, config=config, min_severity=min_severity)

    def __repr__(self) -> str:
        return (
            f"<pgsage.Snapshot PostgreSQL {self.server_version} "
            f"database {self.database!r} collected {self._native.collected_at}>"
        )
