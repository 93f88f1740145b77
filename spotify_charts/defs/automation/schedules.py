"""Schedules: the daily safety net for yesterday's charts (ships stopped; turn it on in the UI),
and the weekly full rebuild of the incremental analytics models (ships running).

The daily schedule's time is read when the code location loads (Dagster needs it then): the cron
setting `settings.SCHEDULE_CRON` (UTC, default 23:00, after Spotify has published the day's charts).
"""

import datetime as dt

import dagster as dg

from spotify_charts import settings
from spotify_charts.defs.automation.jobs import full_rebuild_job, ingest_job
from spotify_charts.defs.automation.run_requests import chart_dates_request, loaded_or_in_flight


@dg.schedule(
    cron_schedule=settings.get(settings.SCHEDULE_CRON),
    job=ingest_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Safety net: yesterday's charts, unless the sensor has loaded them or is loading them.",
)
def daily_charts_schedule(context: dg.ScheduleEvaluationContext):
    yesterday = context.scheduled_execution_time.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    if yesterday in loaded_or_in_flight(context.instance):
        return dg.SkipReason(f"{yesterday} is already loaded or being loaded")
    return chart_dates_request(yesterday, yesterday, context.instance)


# Sunday 04:00 UTC: after Saturday's charts, away from the daily load at 23:00.
weekly_full_rebuild_schedule = dg.ScheduleDefinition(
    name="weekly_full_rebuild_schedule",
    cron_schedule="0 4 * * 0",
    job=full_rebuild_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Safety net of the incremental marts: once a week every analytics model is rebuilt "
    "from all history, so anything an incremental build could miss lasts a week at most.",
)
