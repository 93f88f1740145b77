"""The history import job: a public chart history CSV into raw snapshots, run from the Dagster UI.

The file path is run config. The job stores the snapshots only; its output metadata gives the
date range and regions it stored, and loading them is the ordinary partitioned run of staging and
everything downstream for that range (README, "Bringing in years of history"): one single-run
backfill, so dbt runs once for the whole range.
"""

import dagster as dg

from spotify_charts import settings
from spotify_charts.defs.resources import ChartSourceResource, FileStoreResource
from spotify_charts.regions import region_of_alias
from spotify_charts.sources.history import WINDOW_ROWS, check_report, import_history


class HistoryImportConfig(dg.Config):
    path: str
    """The history CSV (plain or gzipped), as the code location's process sees it."""
    window_rows: int = WINDOW_ROWS
    """Rows of recent charts kept open in memory (rows of a chart further apart are merged at the end)."""
    fail_on_bad_rows: bool = True
    """Fail the run (after storing every good chart) when a row was bad, so that it shows."""


@dg.op(description="Store every top200 chart of a history CSV as a raw snapshot (source = history).")
def import_chart_history(
    context: dg.OpExecutionContext,
    config: HistoryImportConfig,
    file_store: FileStoreResource,
    chart_source: ChartSourceResource,
) -> dg.Output[None]:
    step = {"next": 0.0}

    def progress(done: int, total: int, rows: int) -> None:
        if total and done / total >= step["next"]:
            context.log.info(f"{100 * done / total:.0f}% of {config.path} read, {rows:,} rows")
            step["next"] = done / total + 0.1

    report = import_history(config.path, file_store.get_store(), progress=progress, window_rows=config.window_rows)
    context.log.info(report.summary())
    configured = {region_of_alias(alias) for alias in chart_source.aliases()}
    outside = sorted(report.regions - configured)
    if outside:
        context.log.warning(
            f"{len(outside)} imported region(s) are not in {settings.REGIONS.name}, so staging will not load them: "
            f"{', '.join(outside)}"
        )
    context.log.info(report.next_step())
    if config.fail_on_bad_rows:
        check_report(report)
    return dg.Output(
        None,
        metadata={
            "rows": report.rows,
            "charts_stored": report.charts_stored,
            "entries_stored": report.entries_stored,
            "bytes_stored": report.bytes_stored,
            "first_date": str(report.first_date),
            "last_date": str(report.last_date),
            "regions": ",".join(sorted(report.regions)),
            "viral50_rows_skipped": report.viral_rows,
            "unknown_regions": dg.MetadataValue.json(report.unknown_regions),
            "bad_rows": report.bad_row_count,
            "bad_row_examples": dg.MetadataValue.json([b.describe(report.path) for b in report.bad_rows[:20]]),
            "charts_not_stored": dg.MetadataValue.json(report.charts_rejected[:100]),
            "rows_per_second": round(report.rows / max(report.seconds, 1e-9)),
            "next_step": dg.MetadataValue.md(report.next_step()),
        },
    )


@dg.job(description="Import a public chart history CSV (run config: the file path) into the raw store.")
def import_history_job():
    import_chart_history()
