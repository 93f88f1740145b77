"""A run killed with its process (kill -9, the OOM killer, a container restart) or interrupted
(Ctrl-C) never blocks the next one: it is ended, its `warehouse` slot freed, and its dates are
requested again. Real runs in subprocesses on a temporary Dagster instance with the project's
dagster.yaml; under the daemon, a real `dagster-daemon`."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import psutil
import pytest
import yaml

from spotify_charts.defs.automation.run_requests import chart_dates_request
from spotify_charts.defs.automation.schedules import daily_charts_schedule
from spotify_charts.defs.automation.sensors import new_chart_dates
from spotify_charts.defs.partitions import WAREHOUSE_POOL
from spotify_charts.defs.resources import ChartSourceResource
from spotify_charts.defs.run_tags import RUN_KEY_TAG, WORKER_LOST_TAG

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
YESTERDAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
# Step keys that hold the warehouse slot, by the phase of the run being killed.
PHASES = {"staging": "staging_chart_tables", "dbt": "daily_dbt_models"}
# Dates of the run that is killed: a month of two charts keeps each phase busy for long enough to
# be caught holding the warehouse slot (the wait polls every 50 ms).
WINDOW_DAYS = 30


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A Dagster instance of the test's own, configured by the project's dagster.yaml."""
    folder = tmp_path / "dagster_home"
    folder.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", folder / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(folder))
    return folder


@pytest.fixture
def env(home, tmp_path) -> dict[str, str]:
    data = tmp_path / "data"
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SPOTIFY_CHARTS_DATA_DIR": str(data),
        "SPOTIFY_CHARTS_DUCKDB_PATH": str(data / "warehouse.duckdb"),
        "SPOTIFY_CHARTS_REGIONS": "global,ee",
    }


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A command in a session of its own (so the test can signal its process group), output to `log`."""
    with log.open("w") as out:
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_as_from_a_terminal,
        )  # fmt: skip


def _as_from_a_terminal() -> None:
    """Ctrl-C reaches the command as it does in a terminal: a suite started in the background by a
    non-interactive shell has SIGINT ignored, and its children would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def demo(env: dict[str, str], first: dt.date, last: dt.date, log: Path) -> subprocess.Popen:
    """`make demo`'s command."""
    return start(
        [sys.executable, "-m", "spotify_charts.cli.demo", "demo", "--start", str(first), "--end", str(last)], env, log
    )


def slot_holder(instance: dg.DagsterInstance) -> tuple[str, str] | None:
    claimed = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots
    return (claimed[0].run_id, claimed[0].step_key) if claimed else None


def wait_for(condition, timeout: float, what: str, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            raise AssertionError(f"exited before {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout:.0f} s: {what}\n{log.read_text()[-3000:]}")


def finish(process: subprocess.Popen, log: Path, timeout: float) -> str:
    process.wait(timeout=timeout)
    return log.read_text()


def kill_tree(pid: int) -> None:
    """SIGKILL a process and everything it started, as a container restart would."""
    parent = psutil.Process(pid)
    for process in [*parent.children(recursive=True), parent]:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


def run_of(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRun:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    return run


@pytest.mark.parametrize("phase", sorted(PHASES))
def test_a_run_killed_holding_the_warehouse_does_not_block_the_next_demo(phase, home, env, tmp_path):
    instance = dg.DagsterInstance.get()
    log = tmp_path / "killed.log"
    killed = demo(env, YESTERDAY - dt.timedelta(days=WINDOW_DAYS - 1), YESTERDAY, log)
    run_id, _ = wait_for(
        lambda: (h := slot_holder(instance)) and PHASES[phase] in h[1] and h,
        600, f"{phase} holds the slot", killed, log,
    )  # fmt: skip
    os.killpg(killed.pid, signal.SIGKILL)  # the demo and its Dagster process, mid-step
    killed.wait()
    assert run_of(instance, run_id).status == dg.DagsterRunStatus.STARTED
    assert slot_holder(instance) == (run_id, slot_holder(instance)[1])  # what blocked every later run

    second = demo(env, YESTERDAY, YESTERDAY, tmp_path / "second.log")
    output = finish(second, tmp_path / "second.log", 900)
    assert second.returncode == 0, output[-3000:]
    assert f"note: run {run_id} (__ASSET_JOB) failed: its process (pid " in output
    dead = run_of(instance, run_id)
    assert dead.status == dg.DagsterRunStatus.FAILURE and "killed or crashed" in dead.tags[WORKER_LOST_TAG]
    assert slot_holder(instance) is None
    assert "Raw snapshots:" in output  # the second run's report: it completed


@pytest.mark.parametrize("moment", ["waiting for the slot", "holding the slot"])
def test_ctrl_c_ends_the_run_and_frees_the_slot(moment, home, env, tmp_path):
    instance = dg.DagsterInstance.get()
    storage = instance.event_log_storage
    if moment == "waiting for the slot":
        storage.set_concurrency_slots(WAREHOUSE_POOL, 0)  # as if another run held it
    log = tmp_path / "interrupted.log"
    interrupted = demo(env, YESTERDAY - dt.timedelta(days=WINDOW_DAYS - 1), YESTERDAY, log)

    def waiting():
        return storage.get_concurrency_info(WAREHOUSE_POOL).pending_steps or slot_holder(instance)

    wait_for(waiting, 600, f"a step {moment}", interrupted, log)
    os.killpg(interrupted.pid, signal.SIGINT)  # Ctrl-C in the terminal
    output = finish(interrupted, log, 120)
    assert interrupted.returncode != 0
    (record,) = instance.get_run_records()
    # Ended, not left STARTED. Usually CANCELED or FAILURE. Seen once in CI: the SIGINT reached the
    # demo and Dagster's helper processes, but Dagster (which records a SIGINT outside step code as
    # a flag) did not act on it, and the run finished its steps within the demo's grace: SUCCESS.
    ended = (dg.DagsterRunStatus.CANCELED, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS)
    assert record.dagster_run.status in ended, output[-3000:]
    assert "interrupted: ending the run" in output
    info = storage.get_concurrency_info(WAREHOUSE_POOL)
    assert info.claimed_slots == [] and info.pending_steps == []


def sensor_and_schedule_requests(instance: dg.DagsterInstance, first: dt.date, last: dt.date, monkeypatch):
    """What the new-dates sensor (window from `first`) and the schedule (for `last`) request now."""
    monkeypatch.setenv("SPOTIFY_CHARTS_START_DATE", first.isoformat())
    context = dg.build_sensor_context(
        instance=instance, resources={"chart_source": ChartSourceResource(regions="global,ee")}
    )
    sensor = new_chart_dates(context)
    when = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(23), tzinfo=dt.UTC)
    schedule = daily_charts_schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=when))
    return (sensor if isinstance(sensor, list) else []), schedule


def daemon_yaml(home: Path) -> None:
    """The project's dagster.yaml with run monitoring polling every second (seconds, not minutes)."""
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    config["run_monitoring"].update(poll_interval_seconds=1, free_slots_after_run_end_seconds=1)
    config["run_queue"] = {"dequeue_interval_seconds": 1}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))


def launch(env: dict[str, str], job: str, first: dt.date, last: dt.date) -> None:
    """Queue a run of `job` for the dates the way the new-dates sensor asks for it (its tags and run key)."""
    request = chart_dates_request(first, last)
    tags = {**request.tags, RUN_KEY_TAG: request.run_key}
    subprocess.run(
        [str(BIN / "dagster"), "job", "launch", "-w", "workspace.yaml", "-j", job, "--tags", json.dumps(tags)],
        cwd=REPO, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip


def worker_pid(instance: dg.DagsterInstance, run_id: str) -> int:
    (entry,) = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_START)
    return entry.dagster_event.pid


@pytest.mark.parametrize(("phase", "job"), [("staging", "ingest_chart_dates"), ("dbt", "all_assets_job")])
def test_under_the_daemon_a_killed_run_is_ended_and_its_dates_requested_again(
    phase, job, home, env, monkeypatch, tmp_path
):
    daemon_yaml(home)
    instance = dg.DagsterInstance.get()
    first, last = YESTERDAY - dt.timedelta(days=WINDOW_DAYS - 1), YESTERDAY - dt.timedelta(days=1)
    log = tmp_path / "daemon.log"
    daemon = start([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], env, log)
    try:
        launch(env, job, first, last)
        run_id, _ = wait_for(
            lambda: (h := slot_holder(instance)) and PHASES[phase] in h[1] and h,
            600, f"{phase} holds the slot", daemon, log,
        )  # fmt: skip
        kill_tree(worker_pid(instance, run_id))
        killed_at = time.monotonic()

        # the code server that started the run, or else the dead_runs sensor (every 30 s), fails
        # it; run monitoring gives back its slot: within seconds, not never
        def released() -> bool:
            ended = run_of(instance, run_id).status == dg.DagsterRunStatus.FAILURE
            return ended and (slot_holder(instance) or ("", ""))[0] != run_id

        wait_for(released, 600, "the killed run is failed and its slot freed", daemon, log)
        assert time.monotonic() - killed_at < 120

        launch(env, "ingest_chart_dates", YESTERDAY, YESTERDAY)
        key = chart_dates_request(YESTERDAY, YESTERDAY).run_key

        def next_run_succeeded() -> bool:
            runs = instance.get_runs(filters=dg.RunsFilter(tags={RUN_KEY_TAG: key}))
            return bool(runs) and runs[0].status == dg.DagsterRunStatus.SUCCESS

        wait_for(next_run_succeeded, 900, "the next run succeeds", daemon, log)
        if phase == "staging":  # its dates were never loaded: both ask for them again, under a new key
            sensor, schedule = sensor_and_schedule_requests(instance, first, last, monkeypatch)
            assert [(r.tags["spotify_charts/chart_dates"], r.run_key) for r in sensor] == [
                (f"{first}..{last}", f"chart-dates:{first}..{last}#retry-1")
            ]
            assert isinstance(schedule, dg.RunRequest)
            assert schedule.tags["spotify_charts/chart_dates"] == f"{last}..{last}"
    finally:
        daemon.send_signal(signal.SIGINT)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()


HANGING_RUN = """
import json, sys, time
import dagster as dg

@dg.op
def hang():
    time.sleep(600)

@dg.job(tags=json.loads(sys.argv[1]))
def ingest_chart_dates():
    hang()

ingest_chart_dates.execute_in_process(instance=dg.DagsterInstance.get())
"""


def test_the_sensor_and_schedule_request_a_killed_runs_dates_again(home, env, tmp_path, monkeypatch):
    """A run the sensor started for some dates is killed: they are no longer 'in flight' (before and
    after the run is marked failed), and the new request has a run key Dagster has not seen."""
    from spotify_charts import sources
    from spotify_charts.defs.automation.dead_runs import release_dead_runs

    instance = dg.DagsterInstance.get()
    first, last = YESTERDAY - dt.timedelta(days=2), YESTERDAY
    monkeypatch.setattr(sources, "utc_today", lambda: YESTERDAY + dt.timedelta(days=1))
    request = chart_dates_request(first, last)
    log = tmp_path / "run.log"
    tags = json.dumps({**request.tags, RUN_KEY_TAG: request.run_key})
    run = start([sys.executable, "-c", HANGING_RUN, tags], env, log)
    wait_for(lambda: instance.get_run_records(), 300, "the run starts", run, log)
    (record,) = instance.get_run_records()
    wait_for(lambda: instance.all_logs(record.dagster_run.run_id, of_type=dg.DagsterEventType.STEP_START), 300,
             "its step starts", run, log)  # fmt: skip
    assert sensor_and_schedule_requests(instance, first, last, monkeypatch)[0] == []  # alive: in flight

    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    for _ in ("before it is marked failed", "after"):
        sensor, schedule = sensor_and_schedule_requests(instance, first, last, monkeypatch)
        assert [(r.tags["spotify_charts/chart_dates"], r.run_key) for r in sensor] == [
            (f"{first}..{last}", f"chart-dates:{first}..{last}#retry-1")
        ]
        assert isinstance(schedule, dg.RunRequest) and schedule.tags["spotify_charts/chart_dates"] == f"{last}..{last}"
        release_dead_runs(instance)
    assert instance.get_run_by_id(record.dagster_run.run_id).status == dg.DagsterRunStatus.FAILURE
