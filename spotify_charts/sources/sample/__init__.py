"""The built-in sample source: deterministic simulated charts, no account, no network.

`catalog` is the simulated market, `simulation` each chart's day-by-day ranking.
Plain package (no Dagster import).
"""

from __future__ import annotations

import datetime as dt

import orjson

from spotify_charts import sources
from spotify_charts.sources import FetchedChart
from spotify_charts.sources.sample.simulation import sample_chart


class SampleSource:
    """Deterministic simulated charts (see `spotify_charts.sources.sample.simulation`): no account, no network."""

    name = "sample"

    def fetch(self, alias: str, chart_date: dt.date) -> FetchedChart:
        chart = sample_chart(alias, chart_date)
        return FetchedChart(orjson.dumps(chart), len(chart["entries"]))

    def latest_date(self, alias: str) -> dt.date:
        """Like Spotify: a day's charts appear the next day, so the latest is yesterday (UTC)."""
        return sources.utc_today() - dt.timedelta(days=1)
