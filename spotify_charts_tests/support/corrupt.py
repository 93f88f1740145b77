"""Corrupt snapshots as a disk, a person or a bug leaves them, and a chart source that counts its
fetches: shared by the store-level and the Dagster healing tests."""

from __future__ import annotations

import datetime as dt
import gzip

from spotify_charts.sources import FetchedChart
from spotify_charts_tests.support.helpers import SHARED_FIXTURES

# A real payload (12 entries), served for every chart and date: no simulation start-up in unit tests.
PAYLOAD = (SHARED_FIXTURES / "real-weekly-global-2023-01-26-top12.json").read_bytes()

# name -> (bytes of the stored file, the problem the error names)
CORRUPTIONS = {
    "empty": (b"", "empty file (0 bytes)"),
    "not gzip": (b'{"entries": []}', "not a gzip file"),
    "truncated gzip": (None, "not a gzip file"),  # the first half of a real snapshot
    "invalid JSON": (gzip.compress(b'{"entries": [}'), "not valid JSON"),
    "empty payload": (gzip.compress(b""), "empty payload"),
    "broken payload": (gzip.compress(b'{"entries": "oops"}'), "'entries'"),
}


def corrupt_bytes(kind: str, good: bytes) -> bytes:
    data, _ = CORRUPTIONS[kind]
    return good[: len(good) // 2] if data is None else data


class CountingSource:
    """A real payload for any chart, under the name `api`, counting fetches."""

    name = "api"
    max_concurrency = 2

    def __init__(self) -> None:
        self.fetched: list[tuple[str, dt.date]] = []

    def fetch(self, alias: str, chart_date: dt.date) -> FetchedChart | None:
        self.fetched.append((alias, chart_date))
        return FetchedChart(PAYLOAD, 12)

    def latest_date(self, alias: str) -> dt.date | None:
        return None
