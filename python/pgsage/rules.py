"""The rule catalogue: :func:`pgsage.rules`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from . import _native
from ._config import ConfigLike, config_kwargs
from ._deps import require

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["Param", "Rule", "rules", "rules_frame"]


@dataclass(frozen=True)
class Param:
    """A rule's tunable parameter (a threshold) with its configured value."""

    #: Key in the pack file and in ``[rules.ID.params]``.
    name: str
    #: The value in the effective configuration.
    value: Any
    #: What it means.
    doc: str
    #: Its unit: ``%``, ``ms``, ``s``, ``MB``, ``rows``, ….
    unit: str = ""


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue, with the effective configuration's settings."""

    #: Id, e.g. ``VAC001``.
    id: str
    #: Kebab-case name, e.g. ``dead-tuple-ratio``.
    name: str
    #: Pack, e.g. ``vacuum``.
    pack: str
    #: What it judges: ``snapshot``, ``workload`` or ``plan``.
    target: str
    #: One-line title.
    title: str
    #: Default severity of its findings.
    severity: str
    #: Whether it runs with this configuration.
    enabled: bool
    #: Lowest server major version it runs on.
    min_server_version: Optional[int]
    #: Its parameters.
    params: List[Param]
    #: Markdown documentation: what it detects, why it matters, how to fix, thresholds.
    doc: str

    @property
    def thresholds(self) -> Dict[str, Any]:
        """The parameters as ``{name: value}``."""
        return {p.name: p.value for p in self.params}

    def _repr_markdown_(self) -> str:
        return f"### {self.id} — {self.title}\n\n{self.doc}"


def rules(config: ConfigLike = None) -> List[Rule]:
    """The rule catalogue: every rule with its pack, severity, whether it is enabled,
    its thresholds and its documentation, as configured by ``config`` (a
    ``pgsage.toml`` path or a dict; default: ``./pgsage.toml`` if present, else the
    shipped packs).

    Raises:
        ConfigError: the configuration is invalid.
    """
    data = json.loads(_native.rules(**config_kwargs(config)))
    return [
        Rule(
            id=r["id"],
            name=r["name"],
            pack=r["pack"],
            target=r["target"],
            title=r["title"],
            severity=r["severity"],
            enabled=r["enabled"],
            min_server_version=r.get("min_server_version"),
            params=[Param(p["name"], p["value"], p["doc"], p["unit"]) for p in r["params"]],
            doc=r["doc"],
        )
        for r in data
    ]


def rules_frame(config: ConfigLike = None) -> "pandas.DataFrame":
    """:func:`rules` as a pandas DataFrame (``thresholds`` holds dicts)."""
    pd = require("pandas", "pgsage.rules_frame()")
    return pd.DataFrame(
        [
            {
                "id": r.id,
                "pack": r.pack,
                "target": r.target,
                "name": r.name,
                "title": r.title,
                "severity": r.severity,
                "enabled": r.enabled,
                "min_server_version": r.min_server_version,
                "thresholds": r.thresholds,
            }
            for r in rules(config)
        ]
    ).astype({"min_server_version": "Int64"})
