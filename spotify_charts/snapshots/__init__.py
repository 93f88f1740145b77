"""Chart snapshots: one chart's payload for one date, as stored, and the errors that name them.

Plain package (no Dagster import): `files` (the stored gzip form), `rules` (the one rule set a
payload must pass), `arrow` (parsing many snapshots into the staging tables).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SOURCES = ("sample", "api", "csv", "history")  # `history`: the bulk import of a history CSV
TRACK_PREFIX = "spotify:track:"
ARTIST_PREFIX = "spotify:artist:"


class SnapshotError(ValueError):
    """A raw snapshot that cannot be loaded; the message names the snapshot and the problem."""

    def __init__(self, location: str, problem: str) -> None:
        super().__init__(f"{location}: {problem}")
        self.location = location
        self.problem = problem


@dataclass(frozen=True)
class Snapshot:
    """One stored payload: which chart and date it is, where it came from, and its gzipped bytes."""

    chart_id: str
    chart_date: dt.date
    source: str
    location: str  # the store's URI of the file, for error messages
    data: bytes
