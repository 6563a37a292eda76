"""Reading what ``pgsage fleet`` wrote: the findings of every server as one data frame.

``pgsage fleet --inventory fleet.toml -o DIR`` writes ``DIR/findings.parquet``, one row
per finding of every audited server (run time, server, database, tags, rule, pack,
severity, title, object, message, evidence, action id), and ``DIR/summary.json``.
:func:`load_fleet` reads the Parquet file with pyarrow (or polars), so the frame has
the file's types: timestamps in UTC, ``tags`` as a dict per row, ``evidence`` as JSON text.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any, Dict, Union

from .errors import MissingDependencyError

PathLike = Union[str, "os.PathLike[str]"]

#: The file of the fleet directory that holds the findings.
FINDINGS_FILE = "findings.parquet"
#: The fleet summary (every server's status, counts and actions).
SUMMARY_FILE = "summary.json"


def _require(module: str, extra: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingDependencyError(
            f"load_fleet needs {module}, which is not installed: "
            f"pip install 'pgsage[{extra}]' (or pip install {module})"
        ) from e


def _findings_path(directory: PathLike) -> Path:
    path = Path(directory) / FINDINGS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: is {directory} a directory written by "
            "`pgsage fleet -o DIR`?"
        )
    return path


def load_fleet(directory: PathLike, *, engine: str = "pandas") -> Any:
    """The findings of a fleet run as one data frame, one row per finding.

    Args:
        directory: the directory ``pgsage fleet -o DIR`` wrote.
        engine: ``"pandas"`` (read with pyarrow; the ``fleet`` extra) or ``"polars"``
            (the ``polars`` extra).

    Returns:
        A pandas or polars DataFrame with the columns of ``findings.parquet``
        (docs/fleet.md); with pandas, ``tags`` holds a dict per row.

    Raises:
        MissingDependencyError: pyarrow and pandas (or polars) are not installed.
        FileNotFoundError: the directory holds no ``findings.parquet``.
        ValueError: an unknown engine.
    """
    if engine == "pandas":
        _require("pandas", "fleet")
        pq = _require("pyarrow.parquet", "fleet")
        frame = pq.read_table(_findings_path(directory)).to_pandas()
        # pyarrow gives a MAP as a list of (key, value) pairs: a dict reads better.
        frame["tags"] = [dict(pairs) if pairs is not None else {} for pairs in frame["tags"]]
        return frame
    if engine == "polars":
        pl = _require("polars", "polars")
        return pl.read_parquet(_findings_path(directory))
    raise ValueError(f"unknown engine {engine!r} (expected 'pandas' or 'polars')")


def load_fleet_summary(directory: PathLike) -> Dict[str, Any]:
    """``DIR/summary.json`` as a dict: every server's status, error, counts by severity
    and actions, the actions across the fleet and the totals by tag."""
    with open(Path(directory) / SUMMARY_FILE, encoding="utf-8") as f:
        data: Dict[str, Any] = json.load(f)
    return data
