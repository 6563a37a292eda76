"""EXPLAIN plans: :func:`pgsage.analyze_plan`, :func:`pgsage.analyze_plans`,
:func:`pgsage.explain` and the :class:`PlanAnalysis` they return."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Tuple, Union

from . import _native
from ._frames import frame_to_pandas, frame_to_records
from .report import Finding, Report, Severity, Summary

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["PlanAnalysis", "PlanInput"]

#: EXPLAIN output: JSON or text as a string, or the Python object ``json.loads`` gives
#: for ``EXPLAIN (FORMAT JSON)`` (a list of ``{"Plan": ...}``, or one such dict).
PlanInput = Union[str, bytes, List[Any], Dict[str, Any]]


def plan_text(plan: PlanInput) -> str:
    """EXPLAIN output as text for the library: strings as they are, bytes decoded as
    UTF-8, lists and dicts (parsed JSON) serialized back to JSON."""
    if isinstance(plan, str):
        return plan
    if isinstance(plan, (bytes, bytearray)):
        return bytes(plan).decode("utf-8")
    if isinstance(plan, (list, dict)):
        return json.dumps(plan)
    raise TypeError(
        "a plan is EXPLAIN output as a string, or the list/dict json.loads gives for "
        f"EXPLAIN (FORMAT JSON), not {type(plan).__name__}"
    )


class PlanAnalysis:
    """One EXPLAIN plan and what the ``plans`` rule pack found in it (the same rules,
    thresholds and configuration as ``pgsage plan``).

    ``len()``, iteration and indexing go over the findings, ranked by the share of the
    plan's time they are about. In Jupyter it renders as ``pgsage plan --format html``
    shows it.
    """

    __slots__ = ("_native", "report")

    def __init__(self, native: "_native.PlanAnalysis") -> None:
        """Wraps a native analysis; use :func:`pgsage.analyze_plan` instead."""
        self._native = native
        #: The findings as a :class:`~pgsage.Report` (``target.source`` is ``plan``, or
        #: ``live`` for :func:`pgsage.explain`).
        self.report: Report = Report.from_json(native.report_json())

    # -- findings -----------------------------------------------------------------------

    @property
    def findings(self) -> Tuple[Finding, ...]:
        """The findings, largest share of the plan's time first."""
        return self.report.findings

    @property
    def summary(self) -> Summary:
        """Findings per severity."""
        return self.report.summary

    @property
    def worst(self) -> Optional[Severity]:
        """The worst severity among the findings, ``None`` when there are none."""
        return self.report.worst

    @property
    def skipped(self) -> List[Dict[str, Any]]:
        """Rules that could not judge this plan and why (``[{"rule", "reason"}]``), e.g.
        rules needing ANALYZE or BUFFERS figures the plan lacks."""
        return self.report.skipped

    def __len__(self) -> int:
        return len(self.report)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.report)

    def __getitem__(self, i: int) -> Finding:
        return self.report[i]

    # -- the plan -----------------------------------------------------------------------

    @property
    def execution_time_ms(self) -> Optional[float]:
        """``Execution Time`` in ms (EXPLAIN ANALYZE), else ``None``."""
        return self._native.execution_time_ms

    @property
    def planning_time_ms(self) -> Optional[float]:
        """``Planning Time`` in ms, when reported."""
        return self._native.planning_time_ms

    @property
    def analyzed(self) -> bool:
        """Whether the statement ran (EXPLAIN ANALYZE); without it only estimates exist."""
        return self._native.analyzed

    @property
    def node_count(self) -> int:
        """Number of plan nodes."""
        return self._native.node_count

    @property
    def source_format(self) -> str:
        """``json`` or ``text``: the EXPLAIN format the plan was read from."""
        return self._native.source_format

    @property
    def query_text(self) -> Optional[str]:
        """The statement, when the plan came with it (live EXPLAIN, auto_explain)."""
        return self._native.query_text

    def tree(self, width: int = 100) -> str:
        """The plan as ``pgsage plan --tree`` draws it: one line per node with its own
        time, share of the total, rows actual against planned, own buffers, and
        ``[RULE]`` marks where rules found something; at most ``width`` columns."""
        return self._native.tree(width)

    def plan_dict(self) -> Dict[str, Any]:
        """The plan as pgsage reads it (typed nodes under ``root``, ``children`` lists)."""
        return json.loads(self._native.plan_json())

    def _nodes(self) -> Dict[str, Any]:
        return json.loads(self._native.nodes_json())

    def node_records(self) -> List[Dict[str, Any]]:
        """The nodes as dicts (the columns of :meth:`nodes`), no pandas needed."""
        return frame_to_records(self._nodes())

    def nodes(self) -> "pandas.DataFrame":
        """One row per plan node, in pre-order (root first): ``path`` (``0.1.0``),
        ``depth``, ``parent``, ``node_type``, ``label``, ``relation``, ``index_name``,
        costs, ``rows_estimated``/``rows_actual`` (per loop), ``loops``,
        ``rows_misestimate`` (≥ 1), ``inclusive_ms``, ``exclusive_ms`` (time in the node
        itself), ``time_share`` (0–1), ``rows_removed_by_filter``, the node's own
        ``shared_hit_blocks``/``shared_read_blocks``/``temp_written_blocks``, ``filter``,
        ``index_cond``, ``never_executed``, and ``rules`` (ids with a finding there).
        Numbers EXPLAIN did not report (no ANALYZE, no BUFFERS) are null.

        Raises:
            MissingDependencyError: pandas is not installed.
        """
        return frame_to_pandas(self._nodes(), "PlanAnalysis.nodes()")

    # -- output -------------------------------------------------------------------------

    def to_json(self) -> str:
        """The report as JSON: one element of ``pgsage plan --format json``'s array."""
        return self.report.to_json()

    def to_dict(self) -> Dict[str, Any]:
        """The report as nested dicts."""
        return self.report.to_dict()

    def to_pandas(self) -> "pandas.DataFrame":
        """The findings as a DataFrame (see :meth:`Report.to_pandas`)."""
        return self.report.to_pandas()

    def __repr__(self) -> str:
        figures = []
        if self.execution_time_ms is not None:
            figures.append(f"execution {self.execution_time_ms:.3f} ms")
        if not self.analyzed:
            figures.append("estimates only")
        figures.append(f"{self.node_count} nodes")
        return f"<pgsage.PlanAnalysis {', '.join(figures)}: {self.summary}>"

    def _repr_html_(self) -> str:
        """The plan's page section as ``pgsage plan --format html`` writes it (the same
        renderer); every value from the plan is escaped."""
        return self._native.html_fragment()
