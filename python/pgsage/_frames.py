"""Tables from the library (``pgsage::frames``) as pandas data frames with proper dtypes.

The library says what each column holds (from the Rust type, so an all-null column still
has its type). Mapping: ``int`` → ``int64`` (``Int64`` when nullable), ``float`` →
``float64``, ``bool`` → ``bool`` (``boolean`` when nullable), ``timestamp`` →
``datetime64[..., UTC]``, ``text`` → ``string``, lists and nested values → ``object``.
"""

from __future__ import annotations

from typing import Any, Dict, List

from ._deps import require


def _series(pd: Any, values: List[Any], kind: str, nullable: bool) -> Any:
    if kind == "int":
        return pd.Series(values, dtype="Int64" if nullable else "int64")
    if kind == "float":
        return pd.Series(
            [float("nan") if v is None else v for v in values], dtype="float64"
        )
    if kind == "bool":
        return pd.Series(values, dtype="boolean" if nullable else "bool")
    if kind == "timestamp":
        raw = pd.Series(values, dtype="object")
        try:
            parsed = pd.to_datetime(raw, utc=True, format="ISO8601")
        except (TypeError, ValueError):  # pandas < 2 has no format="ISO8601"
            return pd.to_datetime(raw, utc=True)
        # One resolution whatever the values look like (PostgreSQL keeps microseconds).
        return parsed.dt.as_unit("us") if hasattr(parsed.dt, "as_unit") else parsed
    if kind == "text":
        return pd.Series(values, dtype="string")
    return pd.Series(values, dtype="object")


def frame_to_pandas(frame: Dict[str, Any], purpose: str) -> Any:
    """A ``{"columns": [...], "rows": [...]}`` table as a pandas DataFrame."""
    pd = require("pandas", purpose)
    columns = frame["columns"]
    rows = frame["rows"]
    data = {
        c["name"]: _series(pd, [r[j] for r in rows], c["kind"], c["nullable"])
        for j, c in enumerate(columns)
    }
    return pd.DataFrame(data, columns=[c["name"] for c in columns])


def frame_to_records(frame: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A table as a list of dicts (no pandas needed)."""
    names = [c["name"] for c in frame["columns"]]
    return [dict(zip(names, row)) for row in frame["rows"]]
