"""Schedules: a daily run of yesterday's charts (shipped stopped; turn it on in the UI)."""

import dagster as dg

from spotify_charts.partitions import chart_date_partitions

all_assets_job = dg.define_asset_job(
    "all_assets_job",
    selection=dg.AssetSelection.all(),
    partitions_def=chart_date_partitions,
    description="Every asset for a range of chart dates: raw snapshots, staging, dbt models.",
)

daily_charts_schedule = dg.build_schedule_from_partitioned_job(all_assets_job, hour_of_day=23, minute_of_hour=0)
