"""Raw layer: chart payloads exactly as the source returned them, one file per chart and date."""

import dagster as dg

from spotify_charts.ingest import fetch_snapshots
from spotify_charts.partitions import chart_date_partitions, partition_dates
from spotify_charts.resources import ChartSourceResource, RawStoreResource


class RawSnapshotsConfig(dg.Config):
    refresh: bool = False
    """Fetch charts again even when their snapshot is already stored."""


@dg.asset(
    partitions_def=chart_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="raw",
    kinds={"python", "file"},
    check_specs=[
        dg.AssetCheckSpec(
            "every_chart_stored",
            asset="raw_chart_snapshots",
            description="Every configured chart has a snapshot for every date of the run (warns otherwise).",
        )
    ],
)
def raw_chart_snapshots(
    context: dg.AssetExecutionContext,
    config: RawSnapshotsConfig,
    chart_source: ChartSourceResource,
    raw_store: RawStoreResource,
):
    """One gzipped JSON object per chart and chart date, exactly as the source returned it."""
    aliases = chart_source.aliases()  # an unknown region fails here, before any fetch or write
    dates = partition_dates(context)
    store = raw_store.get_store()
    source = chart_source.get_source()
    report = fetch_snapshots(source, store, aliases, dates, refresh=config.refresh)
    context.log.info(
        f"{report.fetched} charts fetched, {report.reused} already stored, {len(report.missing)} not published"
    )
    yield dg.MaterializeResult(
        metadata={
            "charts": report.charts,
            "charts_fetched": report.fetched,
            "charts_reused": report.reused,
            "charts_missing": dg.MetadataValue.json(report.missing),
            "entries": report.entries,
            "bytes": report.bytes,
            "source": source.name,
            "first_date": dates[0].isoformat(),
            "last_date": dates[-1].isoformat(),
        }
    )
    yield dg.AssetCheckResult(
        check_name="every_chart_stored",
        passed=not report.missing,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"missing": len(report.missing), "examples": dg.MetadataValue.json(report.missing[:5])},
    )
