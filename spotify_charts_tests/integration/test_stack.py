"""The full stack, for real: the topology of compose.yaml as processes on 127.0.0.1.

PostgreSQL holds the Dagster instance (deploy/dagster.yaml, unchanged) and the `postgres`
warehouse; the code server serves the code location over gRPC; the webserver and the daemon load it
from there (deploy/workspace.yaml). Backfills are launched through the webserver's GraphQL API with
the mutation the UI's Materialize button sends, and the daemon runs them. Then the daemon and the
webserver are SIGKILLed in the middle of a backfill and started again: the backfill finishes, the
history of runs and the sensors' state survive, no run is started twice and no row is duplicated.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import uuid
from pathlib import Path

import pytest

from spotify_charts.dashboard.data import CONTRACT_TABLES
from spotify_charts_tests.support.stack import ProcessStack, stack_environment, wait_for

CHARTS = {"regional-global-daily": 200, "regional-ee-daily": 50}
CSV_SENSOR = "csv_exports"
REPOSITORY = {"repositoryLocationName": "spotify_charts", "repositoryName": "__repository__"}

RUNS = """
{ runsOrError(limit: 500) { ... on Runs { results { runId status tags { key value } assetSelection { path } } } } }"""
SENSOR = """
query Sensor($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    ... on Sensor {
      sensorState { status ticks(limit: 1) { status } typeSpecificData { ... on SensorData { lastCursor } } }
    }
  }
}"""
SET_CURSOR = """
mutation SetCursor($selector: SensorSelector!, $cursor: String) {
  setSensorCursor(sensorSelector: $selector, cursor: $cursor) { __typename }
}"""


@pytest.fixture(scope="module")
def stack(postgres_server, tmp_path_factory):
    """The three processes on a fresh instance database and a fresh warehouse database."""
    work = tmp_path_factory.mktemp("stack")
    suffix = uuid.uuid4().hex[:8]
    instance_db, warehouse_db = f"dagster_{suffix}", f"warehouse_{suffix}"
    postgres_server.create_database(instance_db)
    postgres_server.create_database(warehouse_db)
    server = dataclasses.replace(postgres_server, database=warehouse_db)
    env = stack_environment(server, instance_db, work / "data")
    processes = ProcessStack(work, env)
    try:
        processes.up()
        processes.warehouse = server.warehouse()
        # The dates this stack's backfills have loaded: each test checks all of them, so it holds
        # whichever test ran before it on this stack (pytest-xdist may set the stack up for each).
        processes.loaded_dates = []
        yield processes
    finally:
        processes.close()


def runs(stack: ProcessStack) -> list[dict]:
    found = stack.graphql(RUNS)["runsOrError"]["results"]
    for run in found:
        run["tags"] = {tag["key"]: tag["value"] for tag in run["tags"]}
    return found


def backfill_runs(stack: ProcessStack, backfill_id: str) -> list[dict]:
    return [run for run in runs(stack) if run["tags"].get("dagster/backfill") == backfill_id]


def run_signature(run: dict) -> tuple:
    """What a run does: its assets and its partition range (two runs with one signature are a duplicate)."""
    assets = tuple(sorted("/".join(a["path"]) for a in run["assetSelection"] or []))
    return (
        assets,
        run["tags"].get("dagster/asset_partition_range_start"),
        run["tags"].get("dagster/asset_partition_range_end"),
    )


def check_warehouse(stack: ProcessStack, dates: list[str]) -> None:
    """Every chart on every date, in staging and in the fact table, each rank once; the contract tables built."""
    warehouse = stack.warehouse
    for table in ("staging.chart_entries", "marts.fct_chart_entries"):
        rows = warehouse.query(
            f"select chart_id, cast(chart_date as varchar) as chart_date, count(*) as n, "
            f"count(distinct rank) as ranks from {table} group by 1, 2 order by 1, 2"
        )
        expected = [
            {"chart_id": chart, "chart_date": day, "n": size, "ranks": size}
            for chart, size in sorted(CHARTS.items())
            for day in dates
        ]
        assert rows == expected, f"{table}: {rows}"
    assert set(CONTRACT_TABLES) <= warehouse.table_names("marts")
    songs = warehouse.query("select chart_id, count(*) as n from marts.top_songs group by 1 order by 1")
    assert [row["chart_id"] for row in songs] == sorted(CHARTS)


def test_a_backfill_launched_through_the_webserver_is_run_by_the_daemon(stack):
    started = time.monotonic()
    backfill_id = stack.launch_backfill("2025-06-01", "2025-06-03")
    state = stack.wait_backfill_done(backfill_id)
    took = time.monotonic() - started

    done = backfill_runs(stack, backfill_id)
    assert done and all(run["status"] == "SUCCESS" for run in done), done
    # The partitioned assets' single-run backfill policy: the whole range in one run.
    ranged = [run for run in done if run["tags"].get("dagster/asset_partition_range_start")]
    assert [(r["tags"]["dagster/asset_partition_range_start"], r["tags"]["dagster/asset_partition_range_end"])
            for r in ranged] == [("2025-06-01", "2025-06-03")]  # fmt: skip
    assert {run["runId"] for run in state["runs"]} == {run["runId"] for run in done}
    stack.loaded_dates += ["2025-06-01", "2025-06-02", "2025-06-03"]
    check_warehouse(stack, stack.loaded_dates)
    _record_timings(stack, came_up_seconds=stack.came_up_seconds, backfill_3_dates_seconds=took)


def test_killing_the_daemon_and_webserver_mid_backfill_loses_nothing(stack):
    sensor = {**REPOSITORY, "sensorName": CSV_SENSOR}
    cursor = json.dumps({"changed_ns": 1748736000000000000, "names": ["regional-global-daily-2025-06-01.csv"]})
    stack.graphql(SET_CURSOR, {"selector": sensor, "cursor": cursor})
    assert _sensor_state(stack, sensor)["typeSpecificData"]["lastCursor"] == cursor

    backfill_id = stack.launch_backfill("2025-06-04", "2025-06-05")
    # Wait for a run of this backfill to be in flight: STARTED, its worker (a child of the code server)
    # has reported in. Not STARTING: a run the daemon was still launching when it died stays STARTING
    # until run monitoring fails it (start_timeout_seconds, deploy/dagster.yaml) and run retries
    # launch it again; that is Dagster's own recovery, not what this test is about.
    in_flight = wait_for(
        "a run of the second backfill to start",
        lambda: [r for r in backfill_runs(stack, backfill_id) if r["status"] == "STARTED"],
        stack.backfill_timeout,
        interval=2,
        log=stack.log("daemon"),
    )
    history = {run["runId"]: run for run in runs(stack)}

    stack.kill("daemon")
    stack.kill("webserver")
    stack.start("webserver")
    stack.start("daemon")
    stack.wait_webserver()
    stack.wait_daemon()

    stack.wait_backfill_done(backfill_id)
    after = {run["runId"]: run for run in runs(stack)}
    # The history of runs is intact: every run known before the kill is still there, finished ones unchanged.
    assert set(history) <= set(after)
    for run_id, run in history.items():
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            assert after[run_id]["status"] == run["status"], (run_id, run["status"], after[run_id]["status"])
    # The run in flight during the kill finished, and no second copy of it (or of any run) was started.
    for run in in_flight:
        assert after[run["runId"]]["status"] == "SUCCESS", after[run["runId"]]
    second = backfill_runs(stack, backfill_id)
    assert all(run["status"] == "SUCCESS" for run in second), second
    signatures = [run_signature(run) for run in second]
    assert len(signatures) == len(set(signatures)), f"a run was started twice: {signatures}"
    assert [s[1:] for s in signatures if s[1]] == [("2025-06-04", "2025-06-05")]
    # Sensors' state lives in the instance: still running, with the cursor it had.
    state = _sensor_state(stack, sensor)
    assert state["status"] == "RUNNING" and state["typeSpecificData"]["lastCursor"] == cursor
    stack.loaded_dates += ["2025-06-04", "2025-06-05"]
    check_warehouse(stack, sorted(stack.loaded_dates))


def _sensor_state(stack: ProcessStack, sensor: dict) -> dict:
    return stack.graphql(SENSOR, {"selector": sensor})["sensorOrError"]["sensorState"]


def _record_timings(stack: ProcessStack, **timings: float) -> None:
    """How long the stack took, for BENCHMARKS.md's notes (not asserted: the machine is shared)."""
    folder = Path(__file__).resolve().parents[2] / "test-artifacts"
    folder.mkdir(exist_ok=True)
    (folder / "stack-timings.json").write_text(json.dumps({k: round(v, 1) for k, v in timings.items()}) + "\n")


@pytest.mark.parametrize(
    ("wrong", "reason"),
    [
        ({"DAGSTER_PG_PASSWORD": "not-the-password-xyzzy"}, "password authentication failed"),
        ({"DAGSTER_PG_DB": "no_such_instance"}, 'database "no_such_instance" does not exist'),
    ],
    ids=["wrong password", "wrong database"],
)
def test_a_wrong_instance_database_stops_every_process_at_start(postgres_server, tmp_path, wrong, reason):
    env = {
        **os.environ,
        "DAGSTER_PG_HOST": postgres_server.host,
        "DAGSTER_PG_PORT": str(postgres_server.port),
        "DAGSTER_PG_USER": postgres_server.user,
        "DAGSTER_PG_PASSWORD": postgres_server.password,
        "DAGSTER_PG_DB": postgres_server.database,
        **wrong,
    }
    processes = ProcessStack(tmp_path, env)
    database = processes.env["DAGSTER_PG_DB"]
    for role in ("migrate", "code-server", "webserver", "daemon"):
        started = time.monotonic()
        result = processes.run_role(role, timeout=120)
        assert result.returncode == 3, (role, result.returncode, result.stdout[-2000:], result.stderr[-2000:])
        message = result.stderr.strip()
        assert len(message.splitlines()) == 1, message  # one line, not a traceback
        assert f"database {database!r} on {postgres_server.host}:{postgres_server.port}" in message, message
        assert reason in message, message
        assert "not-the-password-xyzzy" not in result.stdout + result.stderr
        assert postgres_server.password not in result.stdout + result.stderr
        assert time.monotonic() - started < 60, f"{role} took {time.monotonic() - started:.0f} s to stop"
