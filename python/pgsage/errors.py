"""The exceptions pgsage raises.

Every error from the library is a :class:`pgsage.Error`; the subclass says what went
wrong and the message is the library's own (the same text the CLI prints). Where it
helps, a class also derives from the matching built-in exception, so
``except ConnectionError`` (the built-in) or ``except ValueError`` still work.
"""

from __future__ import annotations

import builtins
from typing import Optional

__all__ = [
    "Error",
    "ConnectionError",
    "QueryError",
    "SnapshotError",
    "ConfigError",
    "InvalidValueError",
    "PlanError",
    "IoError",
    "MissingDependencyError",
    "InternalError",
]


class Error(Exception):
    """Base class of every pgsage error.

    Attributes:
        message: the library's message.
        sqlstate: the server's SQLSTATE code (``28P01`` wrong password, ``3D000``
            unknown database, ...) when the error came from the server, else ``None``.
    """

    sqlstate: Optional[str] = None

    def __init__(self, message: str, sqlstate: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate

    def __str__(self) -> str:
        return self.message


class ConnectionError(Error, builtins.ConnectionError):
    """The server could not be reached, did not answer in time, refused the login, failed
    the TLS handshake, or the connection string was invalid."""


class QueryError(Error):
    """A query the collector cannot do without failed on the server."""


class SnapshotError(Error):
    """A snapshot file could not be read or written: missing, truncated, corrupt, or
    written by a newer pgsage."""


class ConfigError(Error):
    """A configuration (``pgsage.toml`` or the dict given as ``config=``) is invalid:
    unknown rule, pack or parameter, wrong type, missing suppression reason, ..."""


class InvalidValueError(Error, ValueError):
    """An argument has an invalid value: a size, a duration, a severity, a pack name, a
    section name, a profile; a statement ``explain`` refuses; a workload file that is not
    one; logs in which no statement with a duration was found; a snapshot without
    ``pg_stat_statements`` where a workload is needed."""


class PlanError(InvalidValueError):
    """EXPLAIN output could not be read: empty, invalid JSON (with line and column), JSON
    that is not ``EXPLAIN (FORMAT JSON)``, text that is not EXPLAIN output, or a plan
    nested deeper than pgsage accepts."""


class IoError(Error, builtins.OSError):
    """An operating-system error outside snapshot files."""


class MissingDependencyError(Error, ImportError):
    """An optional dependency (pandas, polars) is needed for this call but not installed."""


class InternalError(Error):
    """A bug in pgsage (a Rust panic caught at the boundary). Please report it."""
