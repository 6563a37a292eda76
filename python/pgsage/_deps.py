"""Optional dependencies, imported on first use with a clear error when missing."""

from __future__ import annotations

import importlib
from typing import Any

from .errors import MissingDependencyError


def require(module: str, purpose: str) -> Any:
    """Imports ``module`` or raises :class:`MissingDependencyError` naming ``purpose``."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingDependencyError(
            f"{purpose} needs {module}, which is not installed: pip install {module}"
        ) from e
