"""Jobs: the ingest job that loads a range of chart dates into staging (the dbt models and the
dashboard follow by their automation conditions), and the job of every asset."""

import dagster as dg

from spotify_charts.defs.assets.raw import raw_chart_snapshots
from spotify_charts.defs.assets.staging import staging_chart_tables
from spotify_charts.defs.partitions import chart_date_partitions

ingest_job = dg.define_asset_job(
    "ingest_chart_dates",
    selection=dg.AssetSelection.assets(raw_chart_snapshots, staging_chart_tables),
    partitions_def=chart_date_partitions,
    description="Raw snapshots and staging for a range of chart dates; dbt and the dashboard follow.",
)

all_assets_job = dg.define_asset_job(
    "all_assets_job",
    selection=dg.AssetSelection.all(),
    partitions_def=chart_date_partitions,
    description="Every asset for a range of chart dates: raw snapshots, staging, dbt models, dashboard.",
)
