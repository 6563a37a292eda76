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
    platform: Optional[str] = None,
    tier: Optional[str] = None,
    probe_local_host: bool = True,
    redact: bool = False,
    all_databases: bool = False,
    databases: Optional[List[str]] = None,
    jobs: Optional[int] = None,
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
    platform: Optional[str] = None,
    tier: Optional[str] = None,
    odoo_conf: Optional[str] = None,
) -> str: ...
def fix_script(report_json: str) -> str: ...
def diff_snapshots(
    old: Snapshot,
    new: Snapshot,
    *,
    config_path: Optional[str] = None,
    config_json: Optional[str] = None,
    allow_different_servers: bool = False,
) -> str: ...
def diff_reports(old_json: str, new_json: str) -> str: ...
def report_html(report_json: str, snapshot: Optional[Snapshot] = None) -> str: ...
def tune_html(report_json: str) -> str: ...
def rules(*, config_path: Optional[str] = None, config_json: Optional[str] = None) -> str: ...
def tune(
    snapshot: Snapshot,
    *,
    profile: Optional[str] = None,
    config_path: Optional[str] = None,
    config_json: Optional[str] = None,
    ram: Optional[str] = None,
    cpus: Optional[float] = None,
    storage: Optional[str] = None,
    platform: Optional[str] = None,
    tier: Optional[str] = None,
    connections: Optional[int] = None,
) -> Tuple[str, str]: ...

class PlanAnalysis:
    """One EXPLAIN plan and the ``plans`` pack's report on it. Immutable."""

    def report_json(self) -> str: ...
    def plan_json(self) -> str: ...
    def tree(self, width: int = 100) -> str: ...
    def nodes_json(self) -> str: ...
    def html_fragment(self) -> str: ...
    @property
    def execution_time_ms(self) -> Optional[float]: ...
    @property
    def planning_time_ms(self) -> Optional[float]: ...
    @property
    def analyzed(self) -> bool: ...
    @property
    def node_count(self) -> int: ...
    @property
    def source_format(self) -> str: ...
    @property
    def query_text(self) -> Optional[str]: ...

def analyze_plans(
    text: str,
    *,
    config_path: Optional[str] = None,
    config_json: Optional[str] = None,
    min_severity: Optional[str] = None,
) -> List[PlanAnalysis]: ...
def explain(
    dsn: Optional[str],
    query: str,
    *,
    analyze: bool = True,
    analyze_writes: bool = False,
    timeout: Optional[float] = None,
    connect_timeout: Optional[float] = None,
    config_path: Optional[str] = None,
    config_json: Optional[str] = None,
    min_severity: Optional[str] = None,
) -> PlanAnalysis: ...

class Workload:
    """A captured workload (``workload.json``). Immutable."""

    @staticmethod
    def from_json(text: str) -> Workload: ...
    def to_json(self) -> str: ...
    def save(self, path: str) -> None: ...
    def queries_json(self) -> str: ...
    def log_stats_json(self) -> Optional[str]: ...
    def report_json(
        self,
        *,
        config_path: Optional[str] = None,
        config_json: Optional[str] = None,
        min_severity: Optional[str] = None,
    ) -> str: ...
    def html_fragment(
        self, *, config_path: Optional[str] = None, config_json: Optional[str] = None
    ) -> str: ...
    def __len__(self) -> int: ...

def workload_from_logs(
    paths: List[str],
    *,
    snapshot: Optional[Snapshot] = None,
    log_line_prefix: Optional[str] = None,
    log_format: Optional[str] = None,
    utc_offset_minutes: Optional[int] = None,
    threads: Optional[int] = None,
    bucket_seconds: int = 3600,
    platform: Optional[str] = None,
) -> Workload: ...
def workload_from_snapshot(snapshot: Snapshot) -> Workload: ...
def load_workload(path: str) -> Workload: ...

class IndexAdvice:
    """The index advisor's result. Immutable."""

    def to_json(self) -> str: ...
    def recommendations_json(self) -> str: ...
    def html_fragment(self) -> str: ...

def advise_indexes(
    *,
    snapshot: Optional[Snapshot] = None,
    dsn: Optional[str] = None,
    connect_timeout: Optional[float] = None,
    workload: Optional[Workload] = None,
    log_paths: List[str] = ...,
    log_line_prefix: Optional[str] = None,
    max_indexes: Optional[int] = None,
    max_size: Optional[str] = None,
    validate: bool = True,
    database: Optional[str] = None,
    config_path: Optional[str] = None,
    config_json: Optional[str] = None,
) -> IndexAdvice: ...
def _panic_for_tests() -> None: ...
