"""Raw layer: chart payloads exactly as the source returned them, one file per chart and date."""

import dagster as dg

from spotify_charts.defs.partitions import chart_date_partitions, partition_dates
from spotify_charts.defs.resources import ChartSourceResource, FileStoreResource
from spotify_charts.defs.retries import TRANSIENT_RETRY_POLICY, permanent_failures_not_retried
from spotify_charts.ingest import fetch_snapshots, store_charts
from spotify_charts.sources.csv_export import CsvExportError, CsvExportSource, read_exports


class RawSnapshotsConfig(dg.Config):
    refresh: bool = False
    """Fetch charts again even when their snapshot is already stored."""
    csv_files: list[str] = []
    """Import exactly these chart CSVs from the CSV folder setting (file names; set by the
    `csv_exports` sensor) instead of fetching from the source; each replaces its chart's snapshot."""


@dg.asset(
    partitions_def=chart_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="raw",
    kinds={"python", "file"},
    retry_policy=TRANSIENT_RETRY_POLICY,
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
    file_store: FileStoreResource,
):
    """One gzipped JSON object per chart and chart date, exactly as the source returned it."""
    with permanent_failures_not_retried():  # a bad payload or CSV fails once; S3 5xx is retried
        aliases = chart_source.aliases()  # an unknown region fails here, before any fetch or write
        dates = partition_dates(context)
        store = file_store.get_store()
        if config.csv_files:
            source = CsvExportSource(chart_source.require_csv_folder())
            charts = read_exports(source.folder, config.csv_files)  # all checked before any is stored
            outside = [name for name, (_, day, _) in zip(config.csv_files, charts) if day not in dates]
            if outside:
                raise CsvExportError(outside[0], f"its chart date is not in this run's dates ({dates[0]}..{dates[-1]})")
            report = store_charts(store, source.name, charts)
        else:
            source = chart_source.get_source()
            report = fetch_snapshots(source, store, aliases, dates, refresh=config.refresh)
    context.log.info(
        f"{report.fetched} charts fetched, {report.reused} already stored, {len(report.missing)} not published"
    )
    if report.changed:
        context.log.warning(
            f"{len(report.changed)} chart(s) imported again: the source changed since they were stored (a CSV "
            f"rewritten): {', '.join(f'{alias}/{day}' for alias, day in report.changed[:10])}"
        )
    for healed in report.quarantined:
        context.log.warning(
            f"{healed['snapshot']} was corrupt ({healed['problem']}): fetched again; the corrupt file is kept at "
            f"{healed['kept_at']}"
        )
    yield dg.MaterializeResult(
        metadata={
            "charts": report.charts,
            "charts_fetched": report.fetched,
            "charts_reused": report.reused,
            "charts_missing": dg.MetadataValue.json(report.missing),
            "charts_healed": len(report.quarantined),
            "charts_changed_at_source": len(report.changed),
            "quarantined": dg.MetadataValue.json(report.quarantined),
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
