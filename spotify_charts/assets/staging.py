"""Warehouse staging layer: the raw snapshots of a date range, flattened into two tables."""

import dagster as dg

from spotify_charts.assets.raw import raw_chart_snapshots
from spotify_charts.ingest import load_staging
from spotify_charts.partitions import chart_date_partitions, partition_dates
from spotify_charts.resources import ChartSourceResource, RawStoreResource, WarehouseResource

CHART_ENTRIES = dg.AssetKey(["staging", "chart_entries"])
CHART_ENTRY_ARTISTS = dg.AssetKey(["staging", "chart_entry_artists"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            CHART_ENTRIES,
            deps=[raw_chart_snapshots],
            description="One row per chart, chart date and rank: the entry as the chart listed it.",
            group_name="staging",
            kinds={"duckdb"},
        ),
        dg.AssetSpec(
            CHART_ENTRY_ARTISTS,
            deps=[raw_chart_snapshots],
            description="One row per chart, chart date, rank and credited artist, in credit order.",
            group_name="staging",
            kinds={"duckdb"},
        ),
    ],
    partitions_def=chart_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def staging_chart_tables(
    context: dg.AssetExecutionContext,
    chart_source: ChartSourceResource,
    raw_store: RawStoreResource,
    warehouse: WarehouseResource,
):
    """Replace the staging rows of the run's dates and charts with the stored raw snapshots."""
    aliases = chart_source.aliases()
    dates = partition_dates(context)
    report = load_staging(
        raw_store.get_store(), warehouse.get_warehouse(), aliases, dates, default_source=chart_source.source
    )
    context.log.info(
        f"loaded {report.entry_rows} chart entries from {report.snapshots} snapshots of {len(report.charts)} charts"
    )
    yield dg.MaterializeResult(
        asset_key=CHART_ENTRIES,
        metadata={
            "rows": report.entry_rows,
            "snapshots": report.snapshots,
            "charts": dg.MetadataValue.json(sorted(report.charts)),
            "first_date": dates[0].isoformat(),
            "last_date": dates[-1].isoformat(),
        },
    )
    yield dg.MaterializeResult(asset_key=CHART_ENTRY_ARTISTS, metadata={"rows": report.artist_rows})
