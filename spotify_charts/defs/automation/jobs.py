"""Jobs: the ingest job that loads a range of chart dates into staging (the dbt models and the
dashboard follow by their automation conditions), the job of every asset, and the weekly full
rebuild of the analytics models and the dashboard."""

import dagster as dg

from spotify_charts.defs.assets.dashboard import dashboard_page
from spotify_charts.defs.assets.dbt import analytics_dbt_models
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

full_rebuild_job = dg.define_asset_job(
    "full_analytics_rebuild",
    selection=dg.AssetSelection.assets(analytics_dbt_models, dashboard_page),
    config={"ops": {analytics_dbt_models.op.name: {"config": {"full_refresh": True}}}},
    description="The safety net of the incremental marts: every analytics model rebuilt from all "
    "history (dbt --full-refresh), then the dashboard.",
)
