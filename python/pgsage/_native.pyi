"""Type stubs for ``pgsage._native``, the Rust extension module. Use ``pgsage`` instead."""

from typing import List, Optional, Tuple

__version__: str

class Snapshot:
    """A snapshot held by the library. Immutable."""

    @staticmethod
    def from_json(text: str) -> Snapshot: ...
    def save(self, path: str) -> None: ...
    def to_json(self) -> str: ...
    @property
    def server_version(self) -> str: ...
    @property
    def server_version_num(self) -> int: ...
    @property
    def database(self) -> str: ...
    @property
    def collected_at(self) -> str: ...
    @property
    def redacted(self) -> bool: ...
    def redact(self) -> Snapshot: ...
    def section_json(self, name: str) -> str: ...
    @staticmethod
    def sections() -> List[str]: ...

def load_snapshot(path: str) -> Snapshot: ...
def collect(
    dsn: Optional[str] = None,
    *,
    interval: Optional[float] = None,
    connect_timeout: Optional[float] = None,
    statement_timeout: Optional[float] = None,
    lock_timeout: Optional[float] = None,
    application_name: Optional[str] = None,
    include_query_text: bool = False,
    query_text_max: Optional[int] = None,
    statements_top: Optional[int] = None,
    ram: Optional[str] = None,
    cpus: Optional[float] = None,
    storage: Optional[str] = None,
    probe_local_host: bool = True,
    redact: bool = False,
) -> Snapshot: ...
def audit(
    snapshot: Snapshot,
    *,
    config_path: Optional[str] = None,
    config_json: Optional[str] = None,
    packs: List[str] = ...,
    min_severity: Optional[str] = None,
    live: bool = False,
    ram: Optional[str] = None,
    cpus: Optional[float] = None,
    storage: Optional[str] = None,
) -> str: ...
def rules(*, config_path: Optional[str] = None, config_json: Optional[str] = None) -> str: ...
def tune(
    snapshot: Snapshot,
    *,
    profile: str = "mixed",
    config_path: Optional[str] = None,
    config_json: Optional[str] = None,
    ram: Optional[str] = None,
    cpus: Optional[float] = None,
    storage: Optional[str] = None,
    connections: Optional[int] = None,
) -> Tuple[str, str]: ...
def _panic_for_tests() -> None: ...
