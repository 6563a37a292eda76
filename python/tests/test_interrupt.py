"""Long calls release the GIL and Ctrl-C interrupts a collection that hangs."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from typing import Iterator, List

import pytest

import pgsage


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


def test_ctrl_c_interrupts_a_hanging_collection(silent_server: int):
    dsn = f"host=127.0.0.1 port={silent_server} user=x dbname=x sslmode=disable"
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            pgsage.collect(dsn, connect_timeout=120)
    finally:
        timer.cancel()
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 3.0, elapsed


def test_collection_releases_the_gil(silent_server: int):
    dsn = f"host=127.0.0.1 port={silent_server} user=x dbname=x sslmode=disable"
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.01)

    t = threading.Thread(target=count)
    t.start()
    started = time.monotonic()
    try:
        with pytest.raises(pgsage.ConnectionError, match="no answer within 1 s"):
            pgsage.collect(dsn, connect_timeout=1)
    finally:
        done.set()
        t.join()
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 5.0, elapsed
    # The other thread ran all along (about 100 ticks a second).
    assert ticks > 40 * elapsed, (ticks, elapsed)
