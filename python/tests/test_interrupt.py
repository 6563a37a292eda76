"""Long calls release the GIL and Ctrl-C interrupts a collection that hangs."""

from __future__ import annotations

import threading
import time

import pytest

import pgsage


def test_ctrl_c_interrupts_a_hanging_collection(silent_server: int, assert_interrupts):
    dsn = f"host=127.0.0.1 port={silent_server} user=x dbname=x sslmode=disable"
    assert_interrupts(lambda: pgsage.collect(dsn, connect_timeout=120))


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
