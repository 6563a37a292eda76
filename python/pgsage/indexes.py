"""The index advisor: :func:`pgsage.advise_indexes` and the :class:`IndexAdvice` it
returns."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from . import _native
from ._deps import require
from ._frames import frame_to_pandas

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["IndexAdvice", "Validation"]


@dataclass(frozen=True)
class Validation:
    """Whether the advice was checked on a server with hypothetical indexes (HypoPG)."""

    #: ``hypopg`` (costs measured on the server) or ``unvalidated``.
    status: str
    #: Why it is unvalidated, and what to do about it (``None`` when validated).
    reason: Optional[str] = None
    #: The server's version, when validated.
    server_version: Optional[str] = None
    #: HypoPG's version, when validated.
    hypopg_version: Optional[str] = None
    #: How statements with ``$n`` were planned: ``generic_plan``, ``prepared_generic``
    #: or ``examples``, when validated.
    method: Optional[str] = None

    @property
    def validated(self) -> bool:
        """Whether the costs were measured with HypoPG."""
        return self.status == "hypopg"

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Validation":
        """From the advice JSON's ``validation`` object."""
        return cls(
            status=d["status"],
            reason=d.get("reason"),
            server_version=d.get("server_version"),
            hypopg_version=d.get("hypopg_version"),
            method=d.get("method"),
        )


class IndexAdvice:
    """The indexes worth creating for a workload on a schema (``pgsage indexes``),
    most valuable first, with what they cost and which queries they help — validated
    with HypoPG on a live server when the extension is installed, else ranked by
    statement time and statistics (:attr:`validation` says which and why).

    ``len()`` is the number of recommendations; :meth:`recommendations` gives them as a
    DataFrame and :meth:`create_statements` as SQL.
    """

    __slots__ = ("_native", "_dict")

    def __init__(self, native: "_native.IndexAdvice") -> None:
        """Wraps a native result; use :func:`pgsage.advise_indexes` instead."""
        self._native = native
        self._dict: Dict[str, Any] = json.loads(native.to_json())

    @property
    def database(self) -> Optional[str]:
        """The database the advice is for."""
        return self._dict.get("database")

    @property
    def validation(self) -> Validation:
        """How (and whether) the advice was validated."""
        return Validation.from_dict(self._dict["validation"])

    @property
    def budget(self) -> Dict[str, Any]:
        """The budget the set was chosen under: ``max_indexes``, ``max_size_bytes``."""
        return dict(self._dict["budget"])

    @property
    def statements(self) -> Dict[str, int]:
        """What happened to the workload's statements: ``total``, ``analyzed``,
        ``unparsable``, ``unknown_tables``, ``not_indexable``, ``other_databases``."""
        return dict(self._dict["statements"])

    def __len__(self) -> int:
        return len(self._dict["recommendations"])

    def recommendation_records(self) -> List[Dict[str, Any]]:
        """The recommendations as full dicts (with the helped ``queries``, their costs
        and scans before/after when validated), no pandas needed."""
        return [dict(r) for r in self._dict["recommendations"]]

    def recommendations(self) -> "pandas.DataFrame":
        """One row per recommended index, most valuable first: ``schema``, ``table``,
        ``columns`` and ``include`` (lists), ``predicate``, ``create_statement``,
        ``estimated_size_bytes``, ``size_source``, ``benefit_ms``, ``validated``,
        ``queries`` (how many it helps), ``fingerprints``, ``redundant_indexes``,
        ``index_writes_per_hour``, ``write_overhead``.

        Raises:
            MissingDependencyError: pandas is not installed.
        """
        frame = json.loads(self._native.recommendations_json())
        return frame_to_pandas(frame, "IndexAdvice.recommendations()")

    def rejected(self) -> "pandas.DataFrame":
        """Candidates considered and not recommended: ``create_statement``, ``reason``.

        Raises:
            MissingDependencyError: pandas is not installed.
        """
        pd = require("pandas", "IndexAdvice.rejected()")
        rows = self._dict.get("rejected") or []
        return pd.DataFrame(
            {
                "create_statement": pd.Series(
                    [r["create_statement"] for r in rows], dtype="string"
                ),
                "reason": pd.Series([r["reason"] for r in rows], dtype="string"),
            }
        )

    def create_statements(self) -> List[str]:
        """The ``CREATE INDEX CONCURRENTLY`` statements, most valuable first."""
        return [r["create_statement"] for r in self._dict["recommendations"]]

    def to_json(self) -> str:
        """The advice as JSON (the ``pgsage indexes --format json`` fields)."""
        return self._native.to_json()

    def to_dict(self) -> Dict[str, Any]:
        """The advice as nested dicts."""
        return json.loads(self.to_json())

    def __repr__(self) -> str:
        v = self.validation
        return (
            f"<pgsage.IndexAdvice database {self.database!r}: {len(self)} indexes, "
            f"{v.status}>"
        )

    def _repr_html_(self) -> str:
        """The advice as ``pgsage indexes --format html`` shows it (the same renderer):
        the validation, each recommended index with its statement and the queries it
        helps, the rejected candidates; every value is escaped."""
        return self._native.html_fragment()
