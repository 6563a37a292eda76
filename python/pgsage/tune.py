"""Configuration advice: :func:`pgsage.tune`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from ._deps import require

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["Advice", "TableAdvice", "TuneReport"]


@dataclass(frozen=True)
class Advice:
    """The advice for one setting."""

    #: Parameter name.
    name: str
    #: Current value (``None`` when the snapshot lacks it).
    current: Optional[str]
    #: Recommended value, as ``ALTER SYSTEM`` takes it.
    recommended: str
    #: Whether it differs from the current value.
    change: bool
    #: ``reload`` or ``restart``.
    apply: str
    #: ``hardware``, ``workload``, ``request`` or ``audit`` (a setting an audit finding changes).
    basis: str
    #: Why this value.
    why: str
    #: The numbers used, with units.
    evidence: List[str]


@dataclass(frozen=True)
class TableAdvice:
    """Per-table autovacuum settings for a large table."""

    #: ``schema.table``.
    table: str
    #: Storage parameters to set, ``(name, value)``.
    settings: List[Tuple[str, str]]
    #: Why.
    why: str
    #: The ``ALTER TABLE`` statement.
    sql: str


@dataclass(frozen=True)
class TuneReport:
    """Recommended settings for one server (``pgsage tune``)."""

    #: The workload profile tuned for.
    profile: str
    #: Server version.
    server_version: str
    #: Host facts used: ``[{"name", "value", "source"}]``.
    facts: List[Dict[str, Any]]
    #: Managed service detected from the settings, if any.
    managed_service: Optional[str]
    #: What was not advised and why. A note about a missing fact names the fact
    #: (``host RAM unknown: …``, ``no sampled interval: …``), not a flag; the JSON
    #: (:meth:`to_json`) lists them under ``missing_facts``. Give host facts with
    #: ``pgsage.tune(snapshot, ram="24GiB", cpus=8, storage="ssd")`` and a sampled
    #: interval with ``pgsage.collect(dsn, interval=300)``.
    notes: List[str]
    #: Per-setting advice, including settings already right (``change`` false).
    settings: List[Advice]
    #: Per-table autovacuum advice.
    tables: List[TableAdvice]
    #: Server connections per pool for a pooler, when the CPUs are known.
    pool_size: Optional[int]
    #: The ``ALTER SYSTEM`` script applying the changes.
    script: str
    _json: str = field(repr=False, compare=False)

    @classmethod
    def from_native(cls, text: str, script: str) -> "TuneReport":
        """Builds the report from the library's JSON and script."""
        d = json.loads(text)
        return cls(
            profile=d["profile"],
            server_version=d["server_version"],
            facts=d.get("facts", []),
            managed_service=d.get("managed_service"),
            notes=d.get("notes", []),
            settings=[Advice(**a) for a in d.get("settings", [])],
            tables=[
                TableAdvice(t["table"], [tuple(s) for s in t["settings"]], t["why"], t["sql"])
                for t in d.get("tables", [])
            ],
            pool_size=d.get("pool_size"),
            script=script,
            _json=text,
        )

    @property
    def changes(self) -> List[Advice]:
        """The settings to change."""
        return [a for a in self.settings if a.change]

    def to_json(self) -> str:
        """The advice as JSON (the ``pgsage tune --format json`` fields)."""
        return self._json

    def _repr_html_(self) -> str:
        """The advice as ``pgsage tune --format html`` shows it (the same renderer): the
        facts used, the settings with their reasons, the per-table settings, the notes,
        the provider's commands on a managed platform and the script."""
        from . import _native

        return _native.tune_html(self._json)

    def to_pandas(self) -> "pandas.DataFrame":
        """The per-setting advice as a pandas DataFrame."""
        pd = require("pandas", "TuneReport.to_pandas()")
        return pd.DataFrame([a.__dict__ for a in self.settings],
                            columns=list(Advice.__dataclass_fields__))
