"""The built-in sample source: deterministic simulated charts, no account, no network.

`catalog` is the simulated market, `simulation` each chart's day-by-day ranking, `history` the
chart-history fields, `payload` the API's JSON bytes.
Plain package (no Dagster import).
"""

from __future__ import annotations

import datetime as dt

from spotify_charts import sources
from spotify_charts.sources import FetchedChart
from spotify_charts.sources.sample.payload import sample_chart, sample_payload

__all__ = ["SampleSource", "sample_chart", "sample_payload"]


class SampleSource:
    """Deterministic simulated charts (see `spotify_charts.sources.sample.simulation`): no account, no network."""

    name = "sample"

    def fetch(self, alias: str, chart_date: dt.date) -> FetchedChart:
        body, entries = sample_payload(alias, chart_date)
        return FetchedChart(body, entries)

    def latest_date(self, alias: str) -> dt.date:
        """Like Spotify: a day's charts appear the next day, so the latest is yesterday (UTC)."""
        return sources.utc_today() - dt.timedelta(days=1)
