"""Workloads: :func:`pgsage.workload`, :func:`pgsage.load_workload` and the
:class:`Workload` they return."""

from __future__ import annotations

import copy
import json
import os
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

from . import _native
from ._config import ConfigLike, config_kwargs
from ._frames import frame_to_pandas, frame_to_records
from .report import Report, Severity

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["Workload"]

PathLike = Union[str, "os.PathLike[str]"]


def _severity(value: Union[str, Severity, None]) -> Optional[str]:
    if value is None:
        return None
    return value.value if isinstance(value, Severity) else str(value)


class Workload:
    """What queries ran, how often and how long — from server logs or from
    ``pg_stat_statements``, fingerprinted so one query with different constants is one
    entry (the ``workload.json`` of ``pgsage workload -o``).

    ``len(workload)`` is the number of distinct queries. :meth:`queries` gives them as a
    DataFrame; :attr:`findings` is the ``queries`` rule pack's :class:`~pgsage.Report`.
    """

    __slots__ = ("_native", "_config", "_findings", "_dict")

    def __init__(self, native: "_native.Workload", config: ConfigLike = None) -> None:
        """Wraps a native workload; use :func:`pgsage.workload` instead."""
        self._native = native
        self._config = config
        self._findings: Optional[Report] = None
        self._dict: Optional[Dict[str, Any]] = None

    @classmethod
    def from_json(cls, text: str) -> "Workload":
        """Parses ``workload.json`` text.

        Raises:
            InvalidValueError: not a workload file.
        """
        return cls(_native.Workload.from_json(text))

    # -- facts --------------------------------------------------------------------------

    def _data(self) -> Dict[str, Any]:
        """The parsed workload, parsed once (the workload is immutable)."""
        if self._dict is None:
            self._dict = json.loads(self.to_json())
        return self._dict

    def to_dict(self) -> Dict[str, Any]:
        """The workload as nested dicts (parsed :meth:`to_json`; a fresh copy)."""
        return json.loads(self.to_json())

    @property
    def source(self) -> Dict[str, Any]:
        """Where it came from: ``kind`` (``log`` or ``pg_stat_statements``), ``files``,
        ``server_version``, ``basis``, ``started_at``, ``ended_at``, ``window_seconds``."""
        return copy.deepcopy(self._data()["source"])

    @property
    def totals(self) -> Dict[str, Any]:
        """Sums over the capture: ``calls``, ``total_ms``, ``fingerprints``,
        ``unattributed_calls``, ``unattributed_ms``, ``skipped_samples``."""
        return copy.deepcopy(self._data()["totals"])

    @property
    def profile(self) -> Dict[str, Any]:
        """The capture's profile: read/write ``mix``, ``statements_per_second``,
        ``transactions_per_second``, the ``peak`` window, per-database/user/application
        shares and per-window classification (see ``docs/workload.md``)."""
        return copy.deepcopy(self._data()["profile"])

    @property
    def log(self) -> Optional[Dict[str, Any]]:
        """What the log reader saw (log captures read in this session): ``lines``,
        ``samples``, ``unparsed_lines`` with examples, message counts, ``input_errors``,
        the detected format and prefix per input. ``None`` otherwise."""
        text = self._native.log_stats_json()
        return None if text is None else json.loads(text)

    def __len__(self) -> int:
        return len(self._native)

    # -- tables -------------------------------------------------------------------------

    def _queries(self) -> Dict[str, Any]:
        return json.loads(self._native.queries_json())

    def query_records(self) -> List[Dict[str, Any]]:
        """The queries as dicts (the columns of :meth:`queries`), no pandas needed."""
        return frame_to_records(self._queries())

    def queries(self) -> "pandas.DataFrame":
        """One row per fingerprint, by total time: ``fingerprint``, ``query``
        (normalized), ``kind``, ``calls``, ``total_ms``, ``share_pct``, ``mean_ms``,
        ``min_ms``, ``max_ms``, ``p50_ms``/``p95_ms``/``p99_ms`` (logs only), ``rows``
        (pg_stat_statements only), ``plan_ms``, ``plans``, ``shared_blks_hit``,
        ``shared_blks_read``, ``temp_bytes``, ``toplevel``, ``bulk``, ``databases``,
        ``users``, ``applications`` (lists of names), ``example``. Dtypes as for
        snapshot sections (``Int64``/``Float64`` nulls where the source lacks a figure).

        Raises:
            MissingDependencyError: pandas is not installed.
        """
        return frame_to_pandas(self._queries(), "Workload.queries()")

    def windows(self) -> "pandas.DataFrame":
        """The profile's time windows (log captures with timestamps): ``start``,
        ``seconds``, ``calls``, ``total_ms``, ``statements_per_second``, ``class`` and
        ``why``, one row per window.

        Raises:
            MissingDependencyError: pandas is not installed.
        """
        from ._deps import require

        pd = require("pandas", "Workload.windows()")
        rows = self.profile.get("windows") or []
        df = pd.DataFrame(
            {
                "start": pd.to_datetime(
                    pd.Series([w.get("start") for w in rows], dtype="object"), utc=True
                ),
                "seconds": pd.Series([w.get("seconds") for w in rows], dtype="float64"),
                "calls": pd.Series([w.get("calls") for w in rows], dtype="int64"),
                "total_ms": pd.Series([w.get("total_ms") for w in rows], dtype="float64"),
                "statements_per_second": pd.Series(
                    [w.get("statements_per_second") for w in rows], dtype="float64"
                ),
                "class": pd.Series([w.get("class") for w in rows], dtype="string"),
                "why": pd.Series([w.get("why") for w in rows], dtype="string"),
            }
        )
        return df

    # -- findings -----------------------------------------------------------------------

    @property
    def findings(self) -> Report:
        """The ``queries`` pack's findings (with the configuration given to
        :func:`pgsage.workload`; by default ``./pgsage.toml`` or the shipped packs)."""
        if self._findings is None:
            self._findings = self.check(self._config)
        return self._findings

    def check(
        self,
        config: ConfigLike = None,
        *,
        min_severity: Union[str, Severity, None] = None,
    ) -> Report:
        """Runs the ``queries`` pack with this configuration (a ``pgsage.toml`` path or
        dict) and returns its :class:`~pgsage.Report` (``target.source`` is
        ``workload``).

        Raises:
            ConfigError, InvalidValueError.
        """
        text = self._native.report_json(
            min_severity=_severity(min_severity), **config_kwargs(config)
        )
        return Report.from_json(text)

    # -- files --------------------------------------------------------------------------

    def save(self, path: PathLike) -> None:
        """Writes ``workload.json`` (what ``pgsage workload -o`` writes; ``pgsage indexes
        --workload`` and :func:`pgsage.advise_indexes` read it).

        Raises:
            IoError: the file cannot be written.
        """
        self._native.save(os.fspath(path))

    def to_json(self) -> str:
        """The workload as pretty JSON (``workload.json``)."""
        return self._native.to_json()

    # -- display ------------------------------------------------------------------------

    def __repr__(self) -> str:
        t = self.totals
        return (
            f"<pgsage.Workload from {self.source.get('kind')}: {len(self)} queries, "
            f"{t.get('calls')} calls, {t.get('total_ms', 0.0):.1f} ms>"
        )

    def _repr_html_(self) -> str:
        """The workload's page section as ``pgsage workload --format html`` writes it
        (the same renderer), with the findings under this workload's configuration; every
        value (query texts included) is escaped."""
        return self._native.html_fragment(**config_kwargs(self._config))
