"""Sensors: new chart dates (keeps the charts current; ships stopped), chart CSV downloads
(imports what lands in the CSV folder setting; running), the automation sensor (dbt models and
dashboard follow new data; running), run failures (log line and optional webhook; running), dead
runs (ends runs whose process is gone and frees their warehouse slot; running), and the song
signals webhook (each chart date's signals posted once; running, idle until its URL is set)."""

import datetime as dt
import json
import time

import dagster as dg

from spotify_charts import settings
from spotify_charts.defs.automation.alerts import failure_message, post_alert
from spotify_charts.defs.automation.catchup import missing_dates, ranges, window_start
from spotify_charts.defs.automation.dead_runs import prune_failed_runs, release_dead_runs
from spotify_charts.defs.automation.jobs import ingest_job
from spotify_charts.defs.automation.run_requests import chart_dates_request, loaded_or_in_flight
from spotify_charts.defs.automation.signal_messages import SignalsCursor, due_signals, signals_message
from spotify_charts.defs.resources import ChartSourceResource, WarehouseResource
from spotify_charts.defs.run_tags import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG, PARTITION_TAG
from spotify_charts.regions import daily_alias
from spotify_charts.sources import utc_today
from spotify_charts.sources.csv_folder import ReadyExport, run_key, scan_folder


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Asks the source for the latest published date of every chart and requests what is missing.",
)
def new_chart_dates(context: dg.SensorEvaluationContext, chart_source: ChartSourceResource):
    source = chart_source.get_source()
    latest_by_chart = {alias: source.latest_date(alias) for alias in chart_source.aliases()}
    unpublished = sorted(alias for alias, latest in latest_by_chart.items() if latest is None)
    if unpublished:
        return dg.SkipReason(f"no published chart yet for {', '.join(unpublished)}")
    latest = min(latest_by_chart.values())  # a date is complete when every chart has it
    start = window_start(latest, chart_source.settings_values()[settings.START_DATE])
    missing = missing_dates(start, latest, loaded_or_in_flight(context.instance))
    context.update_cursor(json.dumps({"requested_through": latest.isoformat()}))
    if not missing:
        return dg.SkipReason(f"charts are current through {latest}")
    return [chart_dates_request(first, last, context.instance) for first, last in ranges(missing)]


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Imports chart CSVs downloaded into {settings.CSV_DIR.name}: one run per range of their dates.",
)
def csv_exports(context: dg.SensorEvaluationContext, chart_source: ChartSourceResource):
    folder = chart_source.csv_folder()
    if folder is None:
        return dg.SkipReason(f"{settings.CSV_DIR.name} is not set")
    if not folder.is_dir():
        return dg.SkipReason(f"{settings.CSV_DIR.name} {folder} is not a folder")
    scan = scan_folder(folder, context.cursor, time.time_ns())
    for error in scan.malformed:
        context.log.error(f"not imported: {error}")
    configured = set(chart_source.aliases())
    for export in scan.ready:
        if export.alias not in configured:
            context.log.warning(
                f"{export.name}: stored as a raw snapshot, but its region is not in {settings.REGIONS.name}, "
                "so staging does not load it; add the region and materialise these dates again"
            )
    context.update_cursor(scan.cursor)
    requests = [csv_exports_request(group) for group in scan.date_ranges()]
    if requests:
        return requests
    if scan.malformed:
        return dg.SkipReason(f"{len(scan.malformed)} file(s) not imported; first: {scan.malformed[0]}")
    waiting = f" ({scan.unsettled} still being written)" if scan.unsettled else ""
    return dg.SkipReason(f"no new or changed chart CSV in {folder}{waiting}")


def csv_exports_request(exports: list[ReadyExport]) -> dg.RunRequest:
    """One ingest run for CSVs of consecutive dates: exactly those dates, importing exactly those files."""
    dates = chart_dates_request(exports[0].chart_date, exports[-1].chart_date)
    return dg.RunRequest(
        run_key=run_key(exports),
        tags=dates.tags,
        run_config={"ops": {"raw_chart_snapshots": {"config": {"csv_files": [e.name for e in exports]}}}},
    )


def requested_through(cursor: str | None) -> dt.date | None:
    """The latest chart date the sensor has requested, from its cursor."""
    return dt.date.fromisoformat(json.loads(cursor)["requested_through"]) if cursor else None


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING)
def log_run_failures(context: dg.RunFailureSensorContext) -> None:
    """Logs each failed run with its assets, partition and error; posts it to the alert webhook."""
    run = context.dagster_run
    partition = run.tags.get(PARTITION_TAG) or "..".join(
        filter(None, [run.tags.get(PARTITION_RANGE_START_TAG), run.tags.get(PARTITION_RANGE_END_TAG)])
    )
    # A step's own error, or its resources' (a bad setting fails a step as its resources start).
    failures = {dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RESOURCE_INIT_FAILURE}
    step_failures = context.instance.all_logs(run.run_id, of_type=failures)
    errors = [
        f"{entry.step_key}: {_root_cause(entry.dagster_event.event_specific_data.error)}"
        for entry in step_failures
        if entry.dagster_event and entry.dagster_event.event_specific_data.error
    ]
    assets = sorted(key.to_user_string() for key in (run.asset_selection or []))
    if not assets:  # a whole-job run: name the steps that failed
        assets = sorted({entry.step_key for entry in step_failures if entry.step_key})
    error = "; ".join(errors) or context.failure_event.message or "unknown error"
    message = failure_message(run.run_id, run.job_name, assets, partition or None, error)
    context.log.error(message["text"])
    # Read per failure, alone (a run that failed on another bad setting is still reported), never
    # logged: the URL may hold a token.
    try:
        webhook = settings.get(settings.ALERT_WEBHOOK)
    except settings.SettingError as exc:
        context.log.warning(f"no alert posted: {exc}")
        return
    if webhook:
        problem = post_alert(webhook, message)
        if problem:
            context.log.warning(f"{problem}; the failure is in the log line above")


def _root_cause(error) -> str:
    """The innermost error's message (Dagster wraps the asset's own exception)."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


# Dagster's own default automation sensor ships stopped; this one runs. It evaluates the
# conditions of the dbt models and the dashboard (eager: they follow new staging partitions and
# each other) and of the hourly freshness check.
automation_conditions = dg.AutomationConditionSensorDefinition(
    "automation_conditions",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Materialises dbt models and the dashboard when what they stand on changes; runs hourly checks.",
)


# How often the daemon looks for runs whose process is gone (run monitoring's own poll is as often).
DEAD_RUNS_INTERVAL_SECONDS = 30


@dg.sensor(
    minimum_interval_seconds=DEAD_RUNS_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks failed the runs whose process is gone (killed or crashed) and frees their warehouse slot.",
)
def dead_runs(context: dg.SensorEvaluationContext):
    released = release_dead_runs(context.instance)
    released += prune_failed_runs(context.instance, settings.get(settings.KEEP_FAILED_RUNS_DAYS))
    for line in released:
        context.log.warning(line)
    return dg.SkipReason("; ".join(released) if released else "every run in progress has its process")


SONG_SIGNALS = dg.AssetKey(["marts", "song_signals"])


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Posts each chart date's song signals to {settings.SIGNALS_WEBHOOK.name} once, after they are built.",
)
def song_signals_webhook(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    """Reads marts.song_signals after each new materialisation of it and POSTs every chart date
    within the horizon not posted yet, one message a date. The dates posted are kept in the
    cursor (a re-run, a backfill or a daemon restart posts nothing twice). A failed POST, or a
    warehouse busy with a run, leaves the materialisation unhandled: the next tick tries again.
    The URL may hold a token: it is never logged."""
    try:
        url = settings.get(settings.SIGNALS_WEBHOOK)
        regions = settings.get(settings.SIGNALS_REGIONS)
        horizon = settings.get(settings.SIGNALS_HORIZON_DAYS)
    except settings.SettingError as exc:
        context.log.warning(f"no signals posted: {exc}")
        return dg.SkipReason(f"no signals posted: {exc}")
    if not url:
        return dg.SkipReason(f"{settings.SIGNALS_WEBHOOK.name} is not set")
    built = next(iter(context.instance.fetch_materializations(SONG_SIGNALS, limit=1).records), None)
    if built is None:
        return dg.SkipReason("marts.song_signals has not been built yet")
    cursor = SignalsCursor.parse(context.cursor)
    if cursor.handled == built.storage_id:
        return dg.SkipReason("every date of the latest build of marts.song_signals is handled")
    oldest = utc_today() - dt.timedelta(days=horizon)  # the oldest date the webhook gets
    charts = None if regions is None else [daily_alias(code) for code in regions]
    try:
        due = due_signals(warehouse.get_warehouse().query, oldest, charts, cursor.posted)
    except Exception as exc:  # e.g. DuckDB's file held by a run: read it next tick
        context.log.warning(f"signals not read ({type(exc).__name__}: {exc}); the next tick tries again")
        return dg.SkipReason("the warehouse could not be read; the next tick tries again")
    for chart_date, rows in due.items():
        problem = post_alert(url, signals_message(chart_date, rows), "signals webhook")
        if problem:
            context.log.warning(f"signals of {chart_date} not posted: {problem}; the next tick tries again")
            context.update_cursor(cursor.dump(oldest))
            return dg.SkipReason(f"signals of {chart_date} not posted: {problem}")
        cursor.posted.add(chart_date)
        context.log.info(f"signals of {chart_date} posted ({len(rows)} rows)")
    cursor.handled = built.storage_id
    context.update_cursor(cursor.dump(oldest))
    posted = ", ".join(str(d) for d in due)
    return dg.SkipReason(f"posted the signals of {posted}" if due else f"no unposted signals since {oldest}")
