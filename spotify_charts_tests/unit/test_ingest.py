"""The loader's read-ahead: parsed chunks wait for the warehouse in a bounded queue, in order."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from spotify_charts.ingest import map_ahead


def test_results_come_in_order_and_never_more_than_ahead_wait_for_the_consumer():
    started: list[int] = []
    lock = threading.Lock()

    def work(item: int) -> int:
        with lock:
            started.append(item)
        return item * 10

    taken = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for result in map_ahead(pool, work, range(100), ahead=4):
            # When the consumer holds result n, at most n + 1 + 4 items have been handed to the pool.
            assert len(started) <= len(taken) + 1 + 4, (len(started), len(taken))
            taken.append(result)
    assert taken == [i * 10 for i in range(100)]


def test_a_failing_item_stops_the_map_and_what_has_not_started_never_starts():
    started: list[int] = []
    gate = threading.Event()

    def work(item: int) -> int:
        started.append(item)
        if item == 0:
            raise ValueError("chunk 0 is bad")
        gate.wait(5)
        return item

    with ThreadPoolExecutor(max_workers=1) as pool:
        with pytest.raises(ValueError, match="chunk 0 is bad"):
            for _ in map_ahead(pool, work, range(1000), ahead=3):
                pass
        gate.set()
    assert len(started) <= 2  # item 0, and at most the one item running when the error came out
