"""Keeping current: the new-chart-dates sensor and the daily safety-net schedule."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import DagsterRun

from spotify_charts import sources
from spotify_charts.defs.assets.staging import CHART_ENTRIES
from spotify_charts.defs.automation import catchup
from spotify_charts.defs.automation.run_requests import CHART_DATES_TAG
from spotify_charts.defs.automation.schedules import daily_charts_schedule
from spotify_charts.defs.automation.sensors import new_chart_dates, requested_through
from spotify_charts.defs.resources import ChartSourceResource

TODAY = dt.date(2025, 6, 10)  # the sample source's latest published date is then 2025-06-09
D = dt.date.fromisoformat


@pytest.fixture
def today(monkeypatch):
    current = {"date": TODAY}
    monkeypatch.setattr(sources, "utc_today", lambda: current["date"])
    monkeypatch.delenv("SPOTIFY_CHARTS_START_DATE", raising=False)
    return current


def tick(instance, cursor=None):
    with pytest.MonkeyPatch.context() as env:  # the settings a tick reads when it starts
        env.setenv("SPOTIFY_CHARTS_REGIONS", "global,ee")
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"chart_source": ChartSourceResource()}
        )
        result = new_chart_dates(context)
    return (result if isinstance(result, list) else []), result, context.cursor


def loaded(instance, first: str, last: str) -> None:
    """Record staging materialisations for these dates, as a finished run would."""
    for i in range((D(last) - D(first)).days + 1):
        day = (D(first) + dt.timedelta(days=i)).isoformat()
        instance.report_runless_asset_event(dg.AssetMaterialization(CHART_ENTRIES, partition=day))


def test_a_fresh_install_requests_the_last_30_days_as_one_run(today):
    instance = dg.DagsterInstance.ephemeral()
    requests, _, cursor = tick(instance)
    assert len(requests) == 1
    assert requests[0].run_key == "chart-dates:2025-05-11..2025-06-09"
    assert requests[0].tags[CHART_DATES_TAG] == "2025-05-11..2025-06-09"
    assert requests[0].tags["dagster/asset_partition_range_start"] == "2025-05-11"
    assert requested_through(cursor) == D("2025-06-09")


def test_the_start_of_the_window_is_configurable(today, monkeypatch):
    monkeypatch.setenv("SPOTIFY_CHARTS_START_DATE", "2025-01-01")
    requests, _, _ = tick(dg.DagsterInstance.ephemeral())
    assert [r.run_key for r in requests] == ["chart-dates:2025-01-01..2025-06-09"]


def test_nothing_is_requested_when_current_and_each_new_day_once(today):
    instance = dg.DagsterInstance.ephemeral()
    first, _, cursor = tick(instance)
    loaded(instance, "2025-05-11", "2025-06-09")
    again, skipped, cursor = tick(instance, cursor)
    assert again == [] and isinstance(skipped, dg.SkipReason) and "current through 2025-06-09" in skipped.skip_message
    today["date"] = TODAY + dt.timedelta(days=1)
    next_day, _, cursor = tick(instance, cursor)
    assert [r.run_key for r in next_day] == ["chart-dates:2025-06-10..2025-06-10"]
    assert requested_through(cursor) == D("2025-06-10")
    keys = [r.run_key for r in first + next_day]
    assert len(keys) == len(set(keys))  # no run key twice across ticks


def test_gaps_are_requested_and_runs_in_flight_are_not_doubled(today):
    instance = dg.DagsterInstance.ephemeral()
    loaded(instance, "2025-05-11", "2025-05-19")
    loaded(instance, "2025-05-22", "2025-06-01")
    instance.add_run(
        DagsterRun(job_name="ingest_chart_dates", status=dg.DagsterRunStatus.STARTED,
                   tags={CHART_DATES_TAG: "2025-06-02..2025-06-05"})
    )  # fmt: skip
    requests, _, _ = tick(instance)
    assert [r.run_key for r in requests] == [
        "chart-dates:2025-05-20..2025-05-21",
        "chart-dates:2025-06-06..2025-06-09",
    ]


def schedule_at(instance, when: dt.datetime):
    return daily_charts_schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=when))


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:  # schedules need an instance with a reference
        yield instance


def test_the_schedule_requests_yesterday_with_the_sensors_run_key(instance):
    request = schedule_at(instance, dt.datetime(2025, 6, 10, 23, 0, tzinfo=dt.UTC))
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == catchup.run_key(D("2025-06-09"), D("2025-06-09"))
    assert request.tags["dagster/asset_partition_range_end"] == "2025-06-09"


def test_the_schedule_skips_a_date_the_sensor_loaded_or_is_loading(instance):
    instance.add_run(
        DagsterRun(job_name="ingest_chart_dates", status=dg.DagsterRunStatus.STARTING,
                   tags={CHART_DATES_TAG: "2025-06-09..2025-06-09"})
    )  # fmt: skip
    skipped = schedule_at(instance, dt.datetime(2025, 6, 10, 23, 0, tzinfo=dt.UTC))
    assert isinstance(skipped, dg.SkipReason) and "2025-06-09" in skipped.skip_message
    loaded(instance, "2025-06-10", "2025-06-10")
    assert isinstance(schedule_at(instance, dt.datetime(2025, 6, 11, 23, 0, tzinfo=dt.UTC)), dg.SkipReason)


def test_catchup_helpers():
    assert catchup.ranges([D("2025-01-03"), D("2025-01-01"), D("2025-01-02"), D("2025-01-05")]) == [
        (D("2025-01-01"), D("2025-01-03")),
        (D("2025-01-05"), D("2025-01-05")),
    ]
    assert catchup.dates_of_tag("2025-01-30..2025-02-01") == [D("2025-01-30"), D("2025-01-31"), D("2025-02-01")]
    assert catchup.missing_dates(D("2025-01-01"), D("2025-01-03"), [D("2025-01-02")]) == [
        D("2025-01-01"),
        D("2025-01-03"),
    ]
    assert requested_through(None) is None
    assert requested_through(json.dumps({"requested_through": "2025-01-01"})) == D("2025-01-01")


def test_new_staging_dates_flow_through_dbt_to_the_dashboard_by_automation():
    """Declarative automation, no chain of jobs: a loaded date requests the partitioned dbt models
    for that date; those request the marts and the dashboard; then all is quiet."""
    from spotify_charts.definitions import defs

    instance = dg.DagsterInstance.ephemeral()

    def tick(cursor):
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
        keys = {
            r.key.to_user_string(): r.true_subset.size
            for r in result.results
            if isinstance(r.key, dg.AssetKey) and r.true_subset.size
        }
        return result.cursor, keys

    cursor, first = tick(None)
    assert first == {"reference/regions": 1}  # reference data, once
    instance.report_runless_asset_event(dg.AssetMaterialization(["reference", "regions"]))
    cursor, quiet = tick(cursor)
    assert quiet == {}  # nothing else moves before charts are loaded

    for key in (["staging", "chart_entries"], ["staging", "chart_entry_artists"]):
        for day in ("2025-06-08", "2025-06-09"):  # a range, not only the latest date
            instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=day))
    cursor, daily = tick(cursor)
    assert daily == {
        "dbt_staging/stg_spotify__chart_entries": 2,
        "dbt_staging/stg_spotify__chart_entry_artists": 2,
        "marts/fct_chart_entries": 2,
        "marts/fct_chart_entry_artists": 2,
    }
    for key in daily:
        for day in ("2025-06-08", "2025-06-09"):
            instance.report_runless_asset_event(dg.AssetMaterialization(key.split("/"), partition=day))
    cursor, marts = tick(cursor)
    assert "dashboard" in marts and "marts/top_songs" in marts and "marts/dim_songs" in marts
    assert not any(key.startswith(("dbt_staging/", "staging/")) for key in marts)
    for key in marts:
        instance.report_runless_asset_event(dg.AssetMaterialization(key.split("/")))
    cursor, after = tick(cursor)
    assert after == {}
