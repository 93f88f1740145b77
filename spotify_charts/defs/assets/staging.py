"""Warehouse staging layer: the raw snapshots of a date range, flattened into two tables, with the
data-quality checks of the loaded charts and dates, and the freshness of the latest loaded date."""

import datetime as dt

import dagster as dg

from spotify_charts import quality
from spotify_charts.defs.assets.raw import raw_chart_snapshots
from spotify_charts.defs.partitions import WAREHOUSE_POOL, chart_date_partitions, partition_dates
from spotify_charts.defs.resources import ChartSourceResource, FileStoreResource, WarehouseResource
from spotify_charts.defs.retries import TRANSIENT_RETRY_POLICY, permanent_failures_not_retried
from spotify_charts.ingest import load_staging

CHART_ENTRIES = dg.AssetKey(["staging", "chart_entries"])
CHART_ENTRY_ARTISTS = dg.AssetKey(["staging", "chart_entry_artists"])

QUALITY_CHECKS = [
    dg.AssetCheckSpec(
        rule.__name__, asset=CHART_ENTRIES, blocking=rule in quality.BLOCKING_RULES, description=rule.__doc__
    )
    for rule in (*quality.BLOCKING_RULES, *quality.WARNING_RULES)
]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(key, deps=[raw_chart_snapshots], description=grain, group_name="staging", kinds={"duckdb"})
        for key, grain in (
            (CHART_ENTRIES, "One row per chart, chart date and rank: the entry as the chart listed it."),
            (CHART_ENTRY_ARTISTS, "One row per chart, chart date, rank and credited artist, in credit order."),
        )
    ],
    check_specs=QUALITY_CHECKS,
    partitions_def=chart_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
    retry_policy=TRANSIENT_RETRY_POLICY,
)
def staging_chart_tables(
    context: dg.AssetExecutionContext,
    chart_source: ChartSourceResource,
    file_store: FileStoreResource,
    warehouse: WarehouseResource,
):
    """Replace the staging rows of the run's dates and charts with the stored raw snapshots."""
    aliases = chart_source.aliases()
    dates = partition_dates(context)
    with permanent_failures_not_retried():  # a bad snapshot fails once; a dropped connection is retried
        report = load_staging(
            file_store.get_store(), warehouse.get_warehouse(), aliases, dates, default_source=chart_source.source_name()
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
    source = warehouse.get_warehouse().sharing_memory()  # (this process still holds the load's leftovers)
    for rule in (*quality.BLOCKING_RULES, *quality.WARNING_RULES):
        with permanent_failures_not_retried():
            result = rule(source.query, aliases, dates[0], dates[-1])
        yield dg.AssetCheckResult(
            asset_key=CHART_ENTRIES,
            check_name=result.name,
            passed=result.passed,
            severity=dg.AssetCheckSeverity.ERROR if rule in quality.BLOCKING_RULES else dg.AssetCheckSeverity.WARN,
            metadata={
                "rule": result.description,
                "offending": result.offending,
                "examples": dg.MetadataValue.json(result.examples),
            },
        )


@dg.asset_check(
    asset=CHART_ENTRIES,
    description="Warns when the latest loaded chart date is more than 2 days old (yesterday's chart is normal).",
    pool=WAREHOUSE_POOL,
    automation_condition=dg.AutomationCondition.cron_tick_passed("0 * * * *", "UTC"),
)
def latest_chart_date_is_recent(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    source = warehouse.get_warehouse()
    latest = quality.latest_chart_date(source.query) if "chart_entries" in source.table_names("staging") else None
    today = dt.datetime.now(dt.UTC).date()
    return dg.AssetCheckResult(
        passed=not quality.is_stale(latest, today),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "latest_chart_date": latest.isoformat() if latest else "none loaded",
            "days_behind": (today - latest).days if latest else -1,
        },
    )
