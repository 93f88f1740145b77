"""Run requests for ranges of chart dates, shared by the sensors and the schedule: one run per
range, keyed by the range, and which dates are already loaded or in a run that is under way."""

import datetime as dt

import dagster as dg

from spotify_charts.defs.assets.staging import CHART_ENTRIES
from spotify_charts.defs.automation.catchup import dates_of_tag, run_key
from spotify_charts.defs.automation.dead_runs import worker_gone
from spotify_charts.defs.run_tags import (
    CHART_DATES_TAG,
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    RUN_KEY_TAG,
    WORKER_LOST_TAG,
)

IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def chart_dates_request(first: dt.date, last: dt.date, instance: dg.DagsterInstance | None = None) -> dg.RunRequest:
    """One run for a range of chart dates, keyed by the range (the sensor and schedule share keys).

    Dagster never runs a sensor's run key twice, so a range whose earlier runs lost their process
    gets a key of its own per such run: the dates are requested again."""
    return dg.RunRequest(
        run_key=_fresh_key(run_key(first, last), instance),
        tags={
            PARTITION_RANGE_START_TAG: first.isoformat(),
            PARTITION_RANGE_END_TAG: last.isoformat(),
            CHART_DATES_TAG: f"{first.isoformat()}..{last.isoformat()}",
        },
    )


def lost(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    """Whether the run ended, or will, because its process was lost (killed, crashed, timed out)
    rather than because a step failed: marked so by dead_runs.py, its process gone, or failed by
    Dagster (the code server or run monitoring) without a step failure."""
    if WORKER_LOST_TAG in run.tags or worker_gone(instance, run):
        return True
    failed = run.status == dg.DagsterRunStatus.FAILURE
    return failed and not instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)


def _fresh_key(key: str, instance: dg.DagsterInstance | None) -> str:
    """The range's key, with `#retry-N` after N runs of it that lost their process (a run that
    failed in a step is not asked for again under a new key: the next day's range is)."""
    retry, candidate = 0, key
    while instance is not None:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={RUN_KEY_TAG: candidate}))
        if not any(lost(instance, run) for run in runs):
            break
        retry += 1
        candidate = f"{key}#retry-{retry}"
    return candidate


def loaded_or_in_flight(instance: dg.DagsterInstance) -> set[dt.date]:
    """Chart dates already in staging, or in a run that is queued or running (a run whose process
    is gone is not running, even before it is marked failed)."""
    done = {dt.date.fromisoformat(key) for key in instance.get_materialized_partitions(CHART_ENTRIES)}
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT)):
        if CHART_DATES_TAG in run.tags and not worker_gone(instance, run):
            done.update(dates_of_tag(run.tags[CHART_DATES_TAG]))
    return done
