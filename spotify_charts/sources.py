"""Chart sources: where chart payloads come from. The built-in sample source is here; the charts
service is in `api`, chart CSV downloads in `csv_exports`.

Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

import orjson

from spotify_charts.sample import sample_chart


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


class SampleSource:
    """Deterministic simulated charts (see `spotify_charts.sample`): no account, no network."""

    name = "sample"

    def fetch(self, alias: str, chart_date: dt.date) -> FetchedChart:
        chart = sample_chart(alias, chart_date)
        return FetchedChart(orjson.dumps(chart), len(chart["entries"]))

    def latest_date(self, alias: str) -> dt.date:
        """Like Spotify: a day's charts appear the next day, so the latest is yesterday (UTC)."""
        return utc_today() - dt.timedelta(days=1)


SOURCE_NAMES = ("sample", "api", "csv")


def make_source(name: str) -> ChartSource:
    """A source that needs no settings (the resource builds the API source, with its token, and the
    CSV source, with its folder)."""
    if name == "sample":
        return SampleSource()
    raise ValueError(f"SPOTIFY_CHARTS_SOURCE={name!r} is not a known source; valid: {', '.join(SOURCE_NAMES)}")
