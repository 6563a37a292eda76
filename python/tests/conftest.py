"""Shared fixtures: the demo snapshot, and a real throwaway PostgreSQL server started by
the testkit's `pg_server` example (the same servers as the Rust tests)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "testdata" / "snapshots" / "demo.json"

#: Data planted in the live server's `app` database before the tests connect.
SETUP_SQL = """
CREATE TABLE orders (id int PRIMARY KEY, note text);
INSERT INTO orders SELECT g, 'note ' || g FROM generate_series(1, 2000) g;
DELETE FROM orders WHERE id <= 1500;
CREATE INDEX orders_note ON orders (note);
SELECT count(*) FROM orders WHERE note LIKE 'note 1%';
"""


def _strict() -> bool:
    """Under CI every live test must run: a missing server is a failure, not a skip."""
    return os.environ.get("CI", "").lower() == "true" or os.environ.get(
        "PGSAGE_REQUIRE_ALL_VERSIONS"
    ) == "1"


@pytest.fixture(scope="session")
def demo_path() -> Path:
    """The bundled demo snapshot."""
    return DEMO


@pytest.fixture(scope="session")
def demo_json() -> Dict[str, Any]:
    """The demo snapshot parsed independently of pgsage, to check against."""
    return json.loads(DEMO.read_text())


@pytest.fixture(scope="session")
def demo(demo_path: Path):
    """The demo snapshot loaded by pgsage."""
    import pgsage

    return pgsage.load_snapshot(demo_path)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Dict[str, Any]]:
    """A real PostgreSQL server (the newest version found, or PGSAGE_PY_TEST_MAJOR) with
    a database `app` holding SETUP_SQL's data and a `monitor` role (pg_monitor).
    Yields the JSON line the testkit's `pg_server` example prints."""
    cmd = ["cargo", "run", "-q", "--locked", "-p", "pgsage-testkit", "--example", "pg_server", "--"]
    major = os.environ.get("PGSAGE_PY_TEST_MAJOR")
    if major:
        cmd.append(major)
    env = dict(os.environ, PGSAGE_PG_SERVER_SQL=SETUP_SQL)
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            code = proc.wait(timeout=60)
            message = f"the testkit's pg_server example exited with {code} (see stderr)"
            if code == 3 and not _strict():
                pytest.skip("no PostgreSQL binaries: " + message)
            pytest.fail(message)
        yield json.loads(line)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `pgsage` CLI binary of this checkout (built if needed), to compare with."""
    subprocess.run(
        ["cargo", "build", "-q", "--locked", "-p", "pgsage-cli", "--bin", "pgsage"],
        cwd=REPO,
        check=True,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = target / "debug" / "pgsage"
    assert path.exists(), path
    return path


def run_cli(cli: Path, *args: str, cwd: Path = REPO) -> Any:
    """Runs the CLI with `--format json` and returns its parsed output."""
    out = subprocess.run(
        [str(cli), *args, "--format", "json"],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def run_cli_html(cli: Path, *args: str, cwd: Path = REPO) -> str:
    """Runs the CLI with `--format html` and returns its page."""
    out = subprocess.run(
        [str(cli), *args, "--format", "html"],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def html_text(value: str) -> str:
    """A value as the pages hold it: maud escapes ``&``, ``<``, ``>`` and ``"``."""
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def html_prose(value: str) -> str:
    """Prose as the pages hold it: escaped, with its `backticked` identifiers as code."""
    return "".join(
        f"<code>{html_text(part)}</code>" if i % 2 else html_text(part)
        for i, part in enumerate(value.split("`"))
    )


def page_sections(page: str) -> str:
    """The sections of a CLI page (inside ``<main>``) or of a notebook fragment (between
    its style and its script): what both renderings share."""
    if "<main>" in page:
        return page.split("<main>", 1)[1].split("</main>", 1)[0]
    return page.split("</style>", 1)[1].rsplit("<script>", 1)[0]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    held: List[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield listener.getsockname()[1]
    stop.set()
    t.join(5)
    for c in held:
        c.close()
    listener.close()


@pytest.fixture
def assert_interrupts() -> Callable[[Callable[[], Any]], None]:
    """Runs `call` while a timer sends this process SIGINT after 0.5 s, and asserts that
    `KeyboardInterrupt` reached the caller within 3 s (Ctrl-C in a notebook)."""

    def run(call: Callable[[], Any]) -> None:
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
        started = time.monotonic()
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                call()
        finally:
            timer.cancel()
        elapsed = time.monotonic() - started
        assert 0.4 < elapsed < 3.0, elapsed

    return run
