"""Turns the ``config=`` argument into the native module's keyword arguments."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Mapping, Union

from .errors import ConfigError

#: A configuration: a ``pgsage.toml`` path, or a dict with the same shape.
ConfigLike = Union[str, "os.PathLike[str]", Mapping[str, Any], None]


def config_kwargs(config: ConfigLike) -> Dict[str, Any]:
    """``config_path`` for a path, ``config_json`` for a mapping, nothing for ``None``
    (then ``./pgsage.toml`` is used when it exists, as by the CLI)."""
    if config is None:
        return {}
    if isinstance(config, Mapping):
        try:
            return {"config_json": json.dumps(config)}
        except (TypeError, ValueError) as e:
            raise ConfigError(f"configuration (<dict>): {e}") from None
    if isinstance(config, (str, os.PathLike)):
        return {"config_path": os.fspath(config)}
    raise TypeError(
        f"config must be a path or a dict, not {type(config).__name__}"
    )
