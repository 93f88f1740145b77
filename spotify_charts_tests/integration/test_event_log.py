"""The local instance (dagster.yaml: spotify_charts.defs.event_log): Dagster's SQLite storage in the
same files, with the event log's connections kept open. What it must keep: the data readable by
Dagster's own storage both ways, in the instance's own folder however it is opened, a watcher (the
UI following a run) told of every write, forked processes with connections of their own, and
nothing left open after dispose."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.sqlite import sqlite_event_log
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS

from spotify_charts.defs import event_log
from spotify_charts.defs.event_log import KEPT_RUN_DATABASES, PooledSqliteEventLogStorage, PooledSqliteInstance

REPO = Path(__file__).resolve().parents[2]
DEFAULT_YAML = "telemetry:\n  enabled: false\n"  # Dagster's default storage


def materialization(run_id: str, i: int) -> EventLogEntry:
    event = dg.AssetMaterialization(asset_key=dg.AssetKey(["a"]), partition=f"2025-01-{i % 28 + 1:02d}")
    return EventLogEntry(
        error_info=None, level="debug", user_message="", run_id=run_id, timestamp=time.time(), step_key="s",
        job_name="j", dagster_event=DagsterEvent(
            DagsterEventType.ASSET_MATERIALIZATION.value, "j", event_specific_data=StepMaterializationData(event)
        ),
    )  # fmt: skip


@dg.asset
def upstream() -> int:
    return 1


@dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="downstream")])
def downstream(upstream: int):
    yield dg.Output(upstream + 1)
    yield dg.AssetCheckResult(passed=True)


def run_in(home: Path) -> str:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = dg.materialize([upstream, downstream], instance=instance)
        assert result.success
        return result.run_id


def seen_by(instance: dg.DagsterInstance, run_id: str) -> tuple:
    """What the UI shows of a run: its events, the assets' latest materialisation, the check."""
    logs = [e.dagster_event_type for e in instance.all_logs(run_id) if e.dagster_event_type]
    latest = instance.get_latest_materialization_event(dg.AssetKey("downstream"))
    checks = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey("downstream"), "positive"), limit=10
    )
    return (
        logs.count(DagsterEventType.ASSET_MATERIALIZATION),
        DagsterEventType.RUN_SUCCESS in logs,
        latest is not None,
        sorted(c.run_id for c in checks),
    )


def test_the_projects_instance_and_dagsters_default_read_each_others_runs(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    # opened by its folder: another DAGSTER_HOME (as `make bench` has) must not change where it writes
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))
    (home / "dagster.yaml").write_text(DEFAULT_YAML)
    before = run_in(home)  # an instance from before this storage
    with dg.DagsterInstance.from_config(str(home)) as instance:
        default_event_log = instance.event_log_storage._base_dir

    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance) is PooledSqliteInstance
        assert type(instance.event_log_storage) is PooledSqliteEventLogStorage
        assert instance.event_log_storage._base_dir == default_event_log
        # a run worker gets the instance by reference: the same class and folder
        with dg.DagsterInstance.from_ref(instance.get_ref()) as worker:
            assert type(worker.event_log_storage) is PooledSqliteEventLogStorage
            assert worker.event_log_storage._base_dir == default_event_log
        assert seen_by(instance, before) == (1 + 1, True, True, [before])
    after = run_in(home)

    (home / "dagster.yaml").write_text(DEFAULT_YAML)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.event_log_storage) is SqliteEventLogStorage
        assert {r.dagster_run.run_id for r in instance.get_run_records()} == {before, after}
        assert seen_by(instance, after) == (2, True, True, sorted([before, after]))
    # runs and schedules stay in Dagster's default files, nothing is written elsewhere
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*.db")) == sorted(
        ["history/runs.db", "schedules/schedules.db", "history/runs/index.db"]
        + [f"history/runs/{run_id}.db" for run_id in (before, after)]
    )
    assert not (tmp_path / "elsewhere").exists()


def test_storing_events_opens_each_database_once(tmp_path, monkeypatch):
    opened = []
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: opened.append(a[0]) or connect(*a, **k))
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    opened.clear()
    for i in range(100):
        storage.store_event(materialization("run-1", i))
    assert len(storage.get_logs_for_run("run-1")) == 100
    # the run's database, the index, and one look for the tags table (Dagster's class: ~300)
    assert len(opened) <= 4, opened
    storage.dispose()


WRITER = """
import sys, time
from spotify_charts.defs.event_log import PooledSqliteEventLogStorage
from spotify_charts_tests.integration.test_event_log import materialization
storage = PooledSqliteEventLogStorage(sys.argv[1])
for i in range(int(sys.argv[2])):
    storage.store_event(materialization("watched", i))
    time.sleep(0.05)
time.sleep(2)  # still open: what the watcher sees cannot come from the connection's close
storage.dispose()
"""


def test_a_watcher_is_told_of_every_event_another_process_writes(tmp_path):
    """The UI follows a run by watching its database file: the writer keeps its connection open,
    and the watcher must still see each event as it is written, not when the run ends."""
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    received, events = [], 5
    storage.watch("watched", None, lambda entry, cursor: received.append(entry))
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(events)], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while len(received) < events and time.monotonic() < deadline and writer.poll() is None:
            time.sleep(0.05)
        assert writer.poll() is None, "the writer closed its connection before the watcher saw every event"
        assert len(received) == events
    finally:
        writer.wait(timeout=60)
        storage.dispose()
    assert writer.returncode == 0


OPENER = """
import os, sys, time
import dagster as dg
while not os.path.exists(sys.argv[2]):  # every process is ready: all of them open it at once
    time.sleep(0.001)
with dg.DagsterInstance.from_config(sys.argv[1]) as instance:
    instance.get_runs(limit=1)
"""


def test_processes_starting_together_on_a_fresh_folder_set_it_up_once(tmp_path):
    """`dg dev` starts three processes on a fresh instance folder. Each one creates and stamps the
    databases it finds missing; unguarded, two of them stamped one database and every later process
    failed on it ("more than one head present"; 3 tries out of 3 with six processes, before the lock)."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    go = tmp_path / "go"
    openers = [
        subprocess.Popen([sys.executable, "-c", OPENER, str(home), str(go)], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(6)
    ]  # fmt: skip
    time.sleep(5)  # each has imported Dagster
    go.touch()
    for opener in openers:
        output = opener.communicate(timeout=120)[0]
        assert opener.returncode == 0, output[-2000:]
    for database in ("history/runs.db", "history/runs/index.db", "schedules/schedules.db"):
        with sqlite3.connect(home / database) as con:
            assert con.execute("select count(*) from alembic_version").fetchone() == (1,), database
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_runs() == []


_forked: list[PooledSqliteEventLogStorage] = []  # the storage a forked child inherits


def _child_writes() -> None:
    (storage,) = _forked
    for i in range(5):
        storage.store_event(materialization("forked", i))


def test_a_forked_child_uses_connections_of_its_own(tmp_path):
    """A child forked while another thread was inside the storage (the watcher reading) gets a lock
    and connections of its own: with the parent's it would wait forever, or share its SQLite file."""
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    storage.store_event(materialization("forked", 100))  # the parent's connections are open
    held, release = threading.Event(), threading.Event()

    def reading():
        with storage.index_connection():
            held.set()
            release.wait(60)

    thread = threading.Thread(target=reading)
    thread.start()
    held.wait(10)
    _forked[:] = [storage]
    child = multiprocessing.get_context("fork").Process(target=_child_writes)
    child.start()
    child.join(30)
    release.set()
    thread.join()
    if child.exitcode is None:
        child.kill()
    assert child.exitcode == 0
    storage.store_event(materialization("forked", 101))  # the parent's own connection still works
    storage.dispose()
    assert len(SqliteEventLogStorage(str(tmp_path)).get_logs_for_run("forked")) == 7


def _open_databases(folder: Path) -> set[str]:
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)) and target.endswith(".db"):
            found.add(Path(target).name)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads /proc")
def test_a_bounded_number_of_databases_stays_open_and_dispose_closes_them(tmp_path):
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    runs = [f"run-{i}" for i in range(KEPT_RUN_DATABASES + 4)]
    for run_id in runs:
        storage.store_event(materialization(run_id, 0))
    assert _open_databases(tmp_path) == {"index.db"} | {f"{r}.db" for r in runs[-KEPT_RUN_DATABASES:]}
    storage.dispose()
    assert _open_databases(tmp_path) == set()
    assert list(tmp_path.glob("*.db-wal")) == []  # every database checkpointed on close
    assert all(len(SqliteEventLogStorage(str(tmp_path)).get_logs_for_run(r)) == 1 for r in runs)


def test_its_names_agree_with_dagsters():
    assert event_log.INDEX_SHARD_NAME == sqlite_event_log.INDEX_SHARD_NAME
    assert event_log.SQLITE_BUSY_TIMEOUT_SECONDS == SQLITE_BUSY_TIMEOUT_SECONDS
