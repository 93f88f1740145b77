"""Jobs and schedules: the ingest job that loads a range of chart dates into staging (the dbt
models and the dashboard follow by their automation conditions), the job of every asset, and a
daily safety-net schedule for yesterday's charts (ships stopped; turn it on in the UI).

The schedule's time is read when the code location loads: SPOTIFY_CHARTS_SCHEDULE_CRON (cron,
UTC, default 23:00, after Spotify has published the day's charts).
"""

import datetime as dt
import os

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from spotify_charts.assets.raw import raw_chart_snapshots
from spotify_charts.assets.staging import CHART_ENTRIES, staging_chart_tables
from spotify_charts.catchup import dates_of_tag, run_key
from spotify_charts.partitions import chart_date_partitions

CHART_DATES_TAG = "spotify_charts/chart_dates"
DEFAULT_SCHEDULE_CRON = "0 23 * * *"
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]

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


def chart_dates_request(first: dt.date, last: dt.date) -> dg.RunRequest:
    """One run for a range of chart dates, keyed by the range (the sensor and schedule share keys)."""
    return dg.RunRequest(
        run_key=run_key(first, last),
        tags={
            ASSET_PARTITION_RANGE_START_TAG: first.isoformat(),
            ASSET_PARTITION_RANGE_END_TAG: last.isoformat(),
            CHART_DATES_TAG: f"{first.isoformat()}..{last.isoformat()}",
        },
    )


def loaded_or_in_flight(instance: dg.DagsterInstance) -> set[dt.date]:
    """Chart dates already in staging, or in a run that is queued or running."""
    done = {dt.date.fromisoformat(key) for key in instance.get_materialized_partitions(CHART_ENTRIES)}
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT)):
        if CHART_DATES_TAG in run.tags:
            done.update(dates_of_tag(run.tags[CHART_DATES_TAG]))
    return done


@dg.schedule(
    cron_schedule=os.environ.get("SPOTIFY_CHARTS_SCHEDULE_CRON") or DEFAULT_SCHEDULE_CRON,
    job=ingest_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Safety net: yesterday's charts, unless the sensor has loaded them or is loading them.",
)
def daily_charts_schedule(context: dg.ScheduleEvaluationContext):
    yesterday = context.scheduled_execution_time.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    if yesterday in loaded_or_in_flight(context.instance):
        return dg.SkipReason(f"{yesterday} is already loaded or being loaded")
    return chart_dates_request(yesterday, yesterday)
