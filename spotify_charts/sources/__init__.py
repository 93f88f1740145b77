"""Chart sources: where chart payloads come from, behind one protocol. The built-in simulated
charts are in `sample`, the charts service in `api`, chart CSV downloads in `csv_export` (and the
sensor's view of their folder in `csv_folder`).

Plain package (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from spotify_charts import settings


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


def from_settings(values: settings.Values) -> ChartSource:
    """The source the settings name, built with its settings (`settings.load()` has checked them)."""
    name = values[settings.SOURCE]
    if name == "sample":
        from spotify_charts.sources.sample import SampleSource

        return SampleSource()
    if name == "csv":
        from spotify_charts.sources.csv_export import CsvExportSource

        return CsvExportSource(values[settings.CSV_DIR])
    from spotify_charts.sources.api import ChartsApiSource, RefreshingToken

    token = values[settings.TOKEN]
    tokens = token or RefreshingToken(
        values[settings.CLIENT_ID],
        values[settings.CLIENT_SECRET],
        values[settings.REFRESH_TOKEN],
        values[settings.ACCOUNTS_URL],
    )
    return ChartsApiSource(
        tokens,
        values[settings.API_URL],
        max_rps=values[settings.MAX_RPS],
        max_concurrency=values[settings.MAX_CONCURRENCY],
        attempts=values[settings.MAX_ATTEMPTS],
        backoff_seconds=values[settings.BACKOFF_SECONDS],
        max_retry_after_seconds=values[settings.MAX_RETRY_AFTER],
        timeout_seconds=values[settings.TIMEOUT_SECONDS],
    )
