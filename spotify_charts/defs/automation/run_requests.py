"""Run requests for ranges of chart dates, shared by the sensors and the schedule: one run per
range, keyed by the range, and which dates are already loaded or in a run that is under way."""

import datetime as dt

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from spotify_charts.defs.assets.staging import CHART_ENTRIES
from spotify_charts.defs.automation.catchup import dates_of_tag, run_key

CHART_DATES_TAG = "spotify_charts/chart_dates"
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


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
