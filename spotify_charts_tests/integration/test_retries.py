"""Retries where they belong: a step that meets a transient fault (S3 answering 503, the warehouse
dropping its connection) runs again and the run succeeds with every row once; a step that fails for
good (the warehouse refusing the password) fails once, without retries."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import dagster as dg
import psycopg2
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from spotify_charts.defs.assets.raw import raw_chart_snapshots
from spotify_charts.defs.assets.staging import staging_chart_tables
from spotify_charts.defs.resources import FileStoreResource, WarehouseResource
from spotify_charts.storage import FileStore, StoreError
from spotify_charts.warehouses.base import Warehouse
from spotify_charts_tests.support.helpers import table_rows

ALIASES = ["regional-global-daily", "regional-ee-daily"]
DAY = dt.date(2025, 6, 2)
TAGS = {ASSET_PARTITION_RANGE_START_TAG: DAY.isoformat(), ASSET_PARTITION_RANGE_END_TAG: DAY.isoformat()}

T = TypeVar("T")


def _failing_once(target: T, method: str, marker: str, error: Callable[..., Exception]) -> T:
    """`target`, whose `method` raises `error(*the call's arguments)` the first time only (the marker
    file remembers it across attempts)."""
    call = getattr(target, method)
    path = Path(marker)

    def once(*args, **kwargs):
        if not path.exists():
            path.write_text("failed once")
            raise error(*args, **kwargs)
        return call(*args, **kwargs)

    setattr(target, method, once)
    return target


class FlakyStoreResource(FileStoreResource):
    """The configured store, whose first write fails as S3 does when it is overloaded (a 503 SlowDown)."""

    marker: str

    def get_store(self) -> FileStore:
        def slow_down(key: str, data: bytes) -> StoreError:
            return StoreError(
                f"s3://charts/{key}: PUT failed: An error occurred (SlowDown) when calling the PutObject "
                "operation (reached max retries: 4): Please reduce your request rate."
            )

        return _failing_once(super().get_store(), "write", self.marker, slow_down)


class DroppingWarehouseResource(WarehouseResource):
    """The configured warehouse, whose first load loses its connection as a restarted PostgreSQL drops it."""

    marker: str

    def get_warehouse(self) -> Warehouse:
        def dropped(chart_ids, start, end, batches) -> psycopg2.OperationalError:
            return psycopg2.OperationalError(
                "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally"
            )

        return _failing_once(super().get_warehouse(), "replace_charts", self.marker, dropped)


def _events(result, event_type: str) -> list:
    return [e for e in result.all_events if e.event_type_value == event_type]


def _retried_steps(result) -> list[str]:
    return [e.step_key for e in _events(result, "STEP_UP_FOR_RETRY")]


def test_transient_store_and_warehouse_faults_are_retried_and_rows_land_once(
    pipeline_resources, pipeline_env, tmp_path
):
    resources = {
        **pipeline_resources,
        "file_store": FlakyStoreResource(marker=str(tmp_path / "store-failed")),
        "warehouse": DroppingWarehouseResource(marker=str(tmp_path / "warehouse-failed")),
    }
    result = dg.materialize([raw_chart_snapshots, staging_chart_tables], resources=resources, tags=TAGS)

    assert result.success
    assert sorted(_retried_steps(result)) == ["raw_chart_snapshots", "staging_chart_tables"]
    assert (tmp_path / "store-failed").exists() and (tmp_path / "warehouse-failed").exists()
    rows = table_rows(
        pipeline_env["SPOTIFY_CHARTS_DUCKDB_PATH"],
        "select chart_id, count(*), count(distinct rank) from staging.chart_entries group by 1 order by 1",
    )
    assert rows == [("regional-ee-daily", 50, 50), ("regional-global-daily", 200, 200)]


class RefusingWarehouseResource(WarehouseResource):
    """The configured warehouse, refusing its password: a fault no retry fixes."""

    def get_warehouse(self) -> Warehouse:
        warehouse = super().get_warehouse()

        def refuse(chart_ids, start, end, batches):
            raise ConnectionError(
                'cannot connect to PostgreSQL w@db:5432/charts: connection to server at "db", port 5432 failed: '
                'FATAL:  password authentication failed for user "w"'
            )

        warehouse.replace_charts = refuse
        return warehouse


def test_a_permanent_fault_fails_once_without_retries(pipeline_resources):
    resources = {**pipeline_resources, "warehouse": RefusingWarehouseResource()}
    result = dg.materialize(
        [raw_chart_snapshots, staging_chart_tables], resources=resources, tags=TAGS, raise_on_error=False
    )

    assert not result.success
    assert _retried_steps(result) == []
    failures = _events(result, "STEP_FAILURE")
    assert [e.step_key for e in failures] == ["staging_chart_tables"]
    message = failures[0].event_specific_data.error.message
    assert "not retried" in message and "password authentication failed" in message


def test_a_warehouse_that_refuses_connections_fails_once_with_one_clear_line(pipeline_env, monkeypatch):
    """Nothing listens on the PostgreSQL port (issue 23, finding 7): no minutes of retries, and an
    error of one line naming the address, not libpq's two."""
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**pipeline_env, "SPOTIFY_CHARTS_WAREHOUSE": "postgres", "SPOTIFY_CHARTS_PG_HOST": "127.0.0.1",
           "SPOTIFY_CHARTS_PG_PORT": str(port), "SPOTIFY_CHARTS_PG_PASSWORD": "s3cret-pw"}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from spotify_charts.defs.resources import build_resources

    result = dg.materialize(
        [raw_chart_snapshots, staging_chart_tables], resources=build_resources(), tags=TAGS, raise_on_error=False
    )

    assert not result.success
    assert _retried_steps(result) == []
    (failure,) = _events(result, "STEP_FAILURE")
    message = failure.event_specific_data.error.message.strip()
    assert f"no server accepts connections at 127.0.0.1:{port} (connection refused)" in message
    assert "\n" not in message and "s3cret-pw" not in message


def _small_disk(path: Path, size: str) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    return path


@pytest.fixture
def small_disks(tmp_path):
    """Real small file systems (tmpfs) that fill up; mounting needs root, as CI runs."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    mounts: list[Path] = []
    yield lambda name, size: mounts.append(_small_disk(tmp_path / name, size)) or mounts[-1]
    for mount in mounts:
        subprocess.run(["umount", str(mount)], check=True)


def _failure_message(result) -> str:
    """The step's error as the UI heads it, after Dagster's own `...Failure: `."""
    (failure,) = _events(result, "STEP_FAILURE")
    message = failure.event_specific_data.error.message.strip()
    return message.split("Failure: ", 1)[1]


def test_a_full_disk_under_the_raw_store_says_so_first_naming_the_file(pipeline_env, monkeypatch, small_disks):
    data = small_disks("data", "16k")
    env = {**pipeline_env, "SPOTIFY_CHARTS_DATA_DIR": str(data), "SPOTIFY_CHARTS_DUCKDB_PATH": str(data / "w.duckdb")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from spotify_charts.defs.resources import build_resources

    result = dg.materialize([raw_chart_snapshots], resources=build_resources(), tags=TAGS, raise_on_error=False)
    message = _failure_message(result)
    assert message.startswith(f"StoreError: no space left on device: cannot write {data}/raw/spotify-charts/")
    assert ".json.gz" in message.splitlines()[0] and _retried_steps(result) == []


def test_a_full_disk_under_the_duckdb_warehouse_says_so_first_not_a_rollback_error(
    pipeline_env, monkeypatch, small_disks
):
    warehouse = small_disks("warehouse", "64k")
    env = {**pipeline_env, "SPOTIFY_CHARTS_DUCKDB_PATH": str(warehouse / "w.duckdb")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from spotify_charts.defs.resources import build_resources

    result = dg.materialize(
        [raw_chart_snapshots, staging_chart_tables], resources=build_resources(), tags=TAGS, raise_on_error=False
    )
    message = _failure_message(result)
    assert message.startswith(
        f"NoSpaceError: no space left on device: cannot write the DuckDB warehouse {warehouse}/w.duckdb"
    )
    assert "cannot rollback" not in message and _retried_steps(result) == []
