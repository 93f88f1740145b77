"""The one partitioning of the platform (a chart date: a UTC day from the first Spotify daily charts
on) and the one concurrency pool (the warehouse)."""

import datetime as dt

import dagster as dg

from spotify_charts.regions import FIRST_CHART_DATE

# Every step that opens the warehouse joins this pool; dagster.yaml limits it to one at a time,
# so overlapping runs queue for the warehouse instead of failing on DuckDB's file lock.
WAREHOUSE_POOL = "warehouse"

chart_date_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_CHART_DATE.isoformat(), timezone="UTC")


def partition_dates(context: dg.AssetExecutionContext) -> list[dt.date]:
    """Every chart date in the run's partition range (one date for a single partition)."""
    window = context.partition_time_window
    days = (window.end - window.start).days
    return [window.start.date() + dt.timedelta(days=i) for i in range(days)]
