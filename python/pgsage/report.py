"""The :class:`Report` of an audit and its :class:`Finding` objects."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Tuple

from ._deps import require

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import polars

    from .snapshot import Snapshot

__all__ = ["Severity", "ObjectRef", "Fix", "Finding", "Summary", "ActionFix", "Action", "Report"]

_RANK = {"info": 0, "warning": 1, "critical": 2}


class Severity(str, Enum):
    """How bad a finding is; ordered ``INFO < WARNING < CRITICAL``. Compares equal to
    its name (``Severity.WARNING == "warning"``)."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for critical."""
        return _RANK[self.value]

    def __lt__(self, other: object) -> bool:
        if isinstance(other, Severity):
            return self.rank < other.rank
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, Severity):
            return self.rank <= other.rank
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, Severity):
            return self.rank > other.rank
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, Severity):
            return self.rank >= other.rank
        return NotImplemented

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ObjectRef:
    """The object a finding is about."""

    #: ``server``, ``database``, ``setting``, ``table``, ``index``, ``column``,
    #: ``sequence``, ``constraint``, ``session``, ``query`` or ``role``.
    kind: str
    #: Bare name: the GUC for settings, the queryid for queries, the pid for sessions.
    name: str
    #: Database, when the object lives in one.
    database: Optional[str] = None
    #: Schema, for schema objects.
    schema: Optional[str] = None
    #: Normalized query text, for query objects.
    query: Optional[str] = None

    @property
    def display_name(self) -> str:
        """``schema.name`` (or ``name``), as in the CLI's reports."""
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def __str__(self) -> str:
        return self.display_name


@dataclass(frozen=True)
class Fix:
    """The exact change a finding recommends, and what applying it costs."""

    #: SQL to run.
    sql: str
    #: ``none``, ``reload`` or ``restart``: what applying it needs.
    requires: Optional[str] = None
    #: What to watch afterwards.
    watch: Optional[str] = None
    #: When it can be applied: ``online``, ``reload``, ``restart`` or ``maintenance``.
    phase: str = "online"
    #: The strongest table lock it takes: ``{"mode", "relation", "blocks"}``, or ``None``.
    lock: Optional[Dict[str, str]] = None
    #: Whether it writes a new copy of a table and its indexes.
    rewrites_table: bool = False
    #: Why applying it destroys something (scripts leave it commented out).
    destructive: Optional[str] = None
    #: How long it may take: ``{"seconds", "bytes", "text"}``, or ``None``.
    duration: Optional[Dict[str, Any]] = None
    #: On a managed platform: ``{"platform", "settings", "commands", "notes",
    #: "not_allowed", "keep_flags"}`` (the provider's commands; ``sql`` then has no
    #: ``ALTER SYSTEM``), else ``None``. See docs/managed-platforms.md.
    platform: Optional[Dict[str, Any]] = None

    @property
    def commands(self) -> List[str]:
        """The provider's shell commands (``az …``, ``aws rds …``, ``gcloud …``); empty
        on a self-managed server."""
        return list((self.platform or {}).get("commands", []))

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Fix":
        """Builds a fix from its JSON form (the report format)."""
        return cls(
            sql=d["sql"],
            requires=d.get("requires"),
            watch=d.get("watch"),
            phase=d.get("phase", "online"),
            lock=d.get("lock"),
            rewrites_table=bool(d.get("rewrites_table", False)),
            destructive=d.get("destructive"),
            duration=d.get("duration"),
            platform=d.get("platform"),
        )


def _object_ref(o: Dict[str, Any]) -> ObjectRef:
    return ObjectRef(
        kind=o["kind"],
        name=o["name"],
        database=o.get("database"),
        schema=o.get("schema"),
        query=o.get("query"),
    )


@dataclass(frozen=True)
class Finding:
    """One problem found by a rule."""

    #: Rule id, e.g. ``VAC001``.
    rule: str
    #: Pack, e.g. ``vacuum``.
    pack: str
    #: Severity after configuration.
    severity: Severity
    #: The rule's title.
    title: str
    #: The object it is about.
    object: ObjectRef
    #: What is wrong, identifiers in backticks.
    message: str
    #: The numbers the rule used (units in the names: ``_bytes``, ``_s``, ``_pct``).
    evidence: Dict[str, Any]
    #: What to do.
    recommendation: str
    #: ``high`` or ``low``.
    confidence: str
    #: The exact change, when there is one.
    fix: Optional[Fix] = None
    #: Why confidence is low.
    confidence_reason: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Finding":
        """Builds a finding from its JSON form (the report format)."""
        o = d["object"]
        fix = d.get("fix")
        return cls(
            rule=d["rule"],
            pack=d["pack"],
            severity=Severity(d["severity"]),
            title=d["title"],
            object=_object_ref(o),
            message=d["message"],
            evidence=dict(d.get("evidence") or {}),
            recommendation=d["recommendation"],
            confidence=d["confidence"],
            fix=Fix.from_dict(fix) if fix else None,
            confidence_reason=d.get("confidence_reason"),
        )

    def to_row(self) -> Dict[str, Any]:
        """The finding as one flat row (the columns of :meth:`Report.to_pandas`)."""
        return {
            "severity": self.severity.value,
            "rule": self.rule,
            "pack": self.pack,
            "title": self.title,
            "object_kind": self.object.kind,
            "database": self.object.database,
            "object": self.object.display_name,
            "message": self.message,
            "recommendation": self.recommendation,
            "fix_sql": self.fix.sql if self.fix else None,
            "fix_requires": self.fix.requires if self.fix else None,
            "confidence": self.confidence,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class ActionFix:
    """An action's fix: its findings' fixes merged, each statement and setting once, with
    what applying it costs."""

    #: The statements to run, in order.
    sql: str
    #: ``none``, ``reload`` or ``restart``: the most any statement needs.
    requires: str
    #: The latest phase a statement needs: ``online``, ``reload``, ``restart`` or
    #: ``maintenance``.
    phase: str = "online"
    #: The strongest table lock: ``{"mode", "relation", "blocks"}``, when one is taken.
    lock: Optional[Dict[str, Any]] = None
    #: Whether a statement rewrites a table.
    rewrites_table: bool = False
    #: Why some statement is destructive (left commented out by the fix script).
    destructive: Optional[str] = None
    #: How long applying it may take: ``{"seconds", "bytes", "text"}``.
    duration: Optional[Dict[str, Any]] = None
    #: On a managed platform: its findings' provider commands merged (see
    #: :attr:`Fix.platform`), else ``None``.
    platform: Optional[Dict[str, Any]] = None

    @property
    def commands(self) -> List[str]:
        """The provider's shell commands; empty on a self-managed server."""
        return list((self.platform or {}).get("commands", []))

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "ActionFix":
        """Builds it from its JSON form."""
        return cls(
            sql=d["sql"],
            requires=d["requires"],
            phase=d.get("phase", "online"),
            lock=d.get("lock"),
            rewrites_table=bool(d.get("rewrites_table", False)),
            destructive=d.get("destructive"),
            duration=d.get("duration"),
            platform=d.get("platform"),
        )


@dataclass(frozen=True)
class Action:
    """One thing to do: a root cause, every object it affects, and the fix. Every finding
    of a report belongs to exactly one action; actions are ranked, first thing first."""

    #: 1 for the first thing to do.
    rank: int
    #: Stable id of the kind of action (``durability-off``, ``unneeded-indexes``).
    id: str
    #: What to do, imperative.
    title: str
    #: The worst finding's severity, scaled to the size of what it affects.
    severity: Severity
    #: ``outage``, ``performance`` or ``hygiene``.
    impact_class: str
    #: What doing it gives.
    impact: str
    #: Why it matters.
    why: str
    #: Every object the action's findings name.
    objects: Tuple[ObjectRef, ...]
    #: Indices into :attr:`Report.findings`.
    finding_indices: Tuple[int, ...]
    #: ``high`` when any of its findings is sure.
    confidence: str
    #: The merged fix, when there is one.
    fix: Optional[ActionFix] = None

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Action":
        """Builds an action from its JSON form (the report format)."""
        fix = d.get("fix")
        return cls(
            rank=d["rank"],
            id=d["id"],
            title=d["title"],
            severity=Severity(d["severity"]),
            impact_class=d["class"],
            impact=d["impact"],
            why=d["why"],
            objects=tuple(_object_ref(o) for o in d.get("objects", [])),
            finding_indices=tuple(d.get("findings", [])),
            confidence=d["confidence"],
            fix=ActionFix.from_dict(fix) if fix else None,
        )


@dataclass(frozen=True)
class Summary:
    """Number of findings per severity."""

    critical: int
    warning: int
    info: int

    @property
    def total(self) -> int:
        """All findings."""
        return self.critical + self.warning + self.info

    def __str__(self) -> str:
        return f"{self.critical} critical, {self.warning} warning, {self.info} info"


@dataclass(frozen=True)
class Report:
    """The result of an audit: findings (worst first), summary, and what was skipped.

    Iterate over it or index it for :class:`Finding` objects; ``len(report)`` is the
    number of findings. In Jupyter it renders as the page ``pgsage audit --format html``
    writes (the ranked actions with their fixes, the findings, what could not be judged;
    with the charts when it comes from :func:`pgsage.audit`).
    """

    #: The findings, worst first.
    findings: Tuple[Finding, ...]
    #: Findings per severity.
    summary: Summary
    #: The audited server: ``server_version``, ``database``, ``collected_at``, ``source``.
    target: Dict[str, Any]
    #: What the collector could not see: ``[{"what", "why"}]``.
    gaps: List[Dict[str, Any]]
    #: Rules that did not run, and why: ``[{"rule", "reason"}]``. A rule skipped for a
    #: missing host fact also has ``"missing_fact"`` (``"ram"``, ``"cpus"`` or
    #: ``"storage"``); its reason names the fact (``host RAM unknown``), not a flag:
    #: give it with ``pgsage.audit(snapshot, ram="24GiB", cpus=8, storage="ssd")``.
    skipped: List[Dict[str, Any]]
    #: Findings hidden by suppressions: ``[{"rule", "object", "reason"}]``.
    suppressed: List[Dict[str, Any]]
    #: Host facts the rules used, with their sources.
    host: Dict[str, Any]
    #: Which counters usage-based rules used (``basis``, ``window_seconds``) and whether
    #: they cover enough time to judge (``since_reset_seconds``, ``long_enough_for_usage``,
    #: ``min_usage_seconds``, ``long_enough_for_rates``, ``min_rate_seconds``,
    #: ``min_interval_seconds``, ``usage_judged_in_seconds``; docs/report-format.md).
    counters: Dict[str, Any]
    #: What to do, first thing first: the findings grouped by root cause and ranked.
    actions: Tuple[Action, ...] = ()
    #: Each tenant database's share of a shared cluster (``statements_window``,
    #: ``database_window``, ``databases``, ``roles``, ``applications``; docs/tenants.md),
    #: or ``None`` when the cluster holds fewer than two tenant databases.
    tenants: Optional[Dict[str, Any]] = None
    _json: str = field(default="", repr=False, compare=False)
    # The audited snapshot (native), for the charts of the HTML page.
    _snapshot: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_json(cls, text: str, snapshot: Optional["Snapshot"] = None) -> "Report":
        """Builds a report from the library's JSON (the report format); ``snapshot``, the
        audited :class:`~pgsage.Snapshot`, adds its charts to the HTML rendering."""
        d = json.loads(text)
        return cls(
            findings=tuple(Finding.from_dict(f) for f in d["findings"]),
            summary=Summary(**d["summary"]),
            target=d["target"],
            gaps=d.get("gaps", []),
            skipped=d.get("skipped", []),
            suppressed=d.get("suppressed", []),
            host=d.get("host", {}),
            counters=d.get("counters", {}),
            actions=tuple(Action.from_dict(a) for a in d.get("actions", [])),
            tenants=d.get("tenants"),
            _json=text,
            _snapshot=None if snapshot is None else snapshot._native,
        )

    def __len__(self) -> int:
        return len(self.findings)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __getitem__(self, i: int) -> Finding:
        return self.findings[i]

    @property
    def worst(self) -> Optional[Severity]:
        """The worst severity among the findings, ``None`` when there are none."""
        return max((f.severity for f in self.findings), default=None)

    def findings_of(self, action: Action) -> Tuple[Finding, ...]:
        """The findings an action groups."""
        return tuple(self.findings[i] for i in action.finding_indices)

    def actions_to_records(self) -> List[Dict[str, Any]]:
        """One flat dict per action: rank, severity, class, title, impact, objects,
        findings, fix SQL, the provider's commands on a managed platform (``fix_commands``)
        and what applying it needs."""
        return [
            {
                "rank": a.rank,
                "severity": a.severity.value,
                "class": a.impact_class,
                "id": a.id,
                "title": a.title,
                "impact": a.impact,
                "objects": len(a.objects),
                "findings": len(a.finding_indices),
                "fix_sql": a.fix.sql if a.fix else None,
                "fix_commands": "\n".join(a.fix.commands) if a.fix and a.fix.commands else None,
                "fix_requires": a.fix.requires if a.fix else None,
            }
            for a in self.actions
        ]

    def to_json(self) -> str:
        """The report as JSON, byte-identical to ``pgsage audit --format json``."""
        return self._json

    def script(self) -> str:
        """The fixes as a SQL script, as ``pgsage audit --script`` writes it: online
        changes, then reloads, restarts and the maintenance window, each annotated with
        the lock it takes; destructive statements commented out. Run it with
        ``psql -v ON_ERROR_STOP=1 -f fixes.sql``."""
        from . import _native

        return _native.fix_script(self._json)

    def to_dict(self) -> Dict[str, Any]:
        """The report as nested dicts (parsed :meth:`to_json`)."""
        return json.loads(self._json)

    def to_records(self) -> List[Dict[str, Any]]:
        """One flat dict per finding (see :meth:`Finding.to_row`)."""
        return [f.to_row() for f in self.findings]

    def to_pandas(self) -> "pandas.DataFrame":
        """The findings as a pandas DataFrame, one row per finding. ``severity`` is an
        ordered categorical (info < warning < critical); ``evidence`` holds dicts.

        Raises:
            MissingDependencyError: pandas is not installed.
        """
        pd = require("pandas", "Report.to_pandas()")
        rows = self.to_records()
        df = pd.DataFrame(rows, columns=_ROW_COLUMNS)
        df["severity"] = pd.Categorical(
            df["severity"], categories=["info", "warning", "critical"], ordered=True
        )
        for c in ("rule", "pack", "title", "object_kind", "database", "object", "message",
                  "recommendation", "fix_sql", "fix_requires", "confidence"):
            df[c] = df[c].astype("string")
        return df

    def to_polars(self) -> "polars.DataFrame":
        """The findings as a polars DataFrame; ``evidence`` is JSON text there.

        Raises:
            MissingDependencyError: polars is not installed.
        """
        pl = require("polars", "Report.to_polars()")
        rows = []
        for r in self.to_records():
            r = dict(r)
            r["evidence"] = json.dumps(r["evidence"], sort_keys=True)
            rows.append(r)
        schema = {c: pl.Utf8 for c in _ROW_COLUMNS}
        df = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
        return df.with_columns(
            pl.col("severity").cast(pl.Enum(["info", "warning", "critical"]))
        )

    def __repr__(self) -> str:
        t = self.target
        if self.counters.get("basis") == "plan":
            return f"<pgsage.Report of a plan: {self.summary}>"
        if t.get("source") == "workload":
            return f"<pgsage.Report of a workload: {self.summary}>"
        return (
            f"<pgsage.Report PostgreSQL {t.get('server_version')} "
            f"database {t.get('database')!r}: {self.summary}>"
        )

    def _repr_html_(self) -> str:
        """The audit page's sections as ``pgsage audit --format html`` writes them (the
        same renderer), styled in place; every value from the server is escaped."""
        from . import _native

        return _native.report_html(self._json, self._snapshot)


_ROW_COLUMNS = [
    "severity",
    "rule",
    "pack",
    "title",
    "object_kind",
    "database",
    "object",
    "message",
    "recommendation",
    "fix_sql",
    "fix_requires",
    "confidence",
    "evidence",
]
