"""Chart sources: where chart payloads come from, behind one protocol. The built-in simulated
charts are in `sample`, the charts service in `api`, chart CSV downloads in `csv_export` (and the
sensor's view of their folder in `csv_folder`).

Plain package (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class FetchedChart:
    """One chart payload exactly as the source sent it, and how many entries it has."""

    body: bytes
    entries: int


class ChartSource(Protocol):
    name: str  # recorded with each snapshot and in staging's `source` column

    def fetch(self, alias: str, chart_date: dt.date) -> FetchedChart | None:
        """The chart for that alias and date, or None when the source has no such chart."""
        ...

    def latest_date(self, alias: str) -> dt.date | None:
        """The latest chart date the source has published for the alias, or None."""
        ...


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


SOURCE_NAMES = ("sample", "api", "csv")


def make_source(name: str) -> ChartSource:
    """A source that needs no settings (the resource builds the API source, with its token, and the
    CSV source, with its folder)."""
    if name == "sample":
        from spotify_charts.sources.sample import SampleSource

        return SampleSource()
    raise ValueError(f"SPOTIFY_CHARTS_SOURCE={name!r} is not a known source; valid: {', '.join(SOURCE_NAMES)}")
