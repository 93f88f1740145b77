"""Retries where they belong: a step that meets a transient fault (S3 answering 503, the warehouse
dropping its connection) runs again and the run succeeds with every row once; a step that fails for
good (a bad payload, a failed blocking check) fails once, without retries."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import dagster as dg
import psycopg2
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from spotify_charts.defs.assets.dbt import daily_dbt_models
from spotify_charts.defs.assets.raw import raw_chart_snapshots
from spotify_charts.defs.assets.staging import staging_chart_tables
from spotify_charts.defs.resources import DuckDBWarehouseResource, LocalFileStoreResource
from spotify_charts.ingest import fetch_snapshots
from spotify_charts.snapshots.files import encode_snapshot
from spotify_charts.sources.sample import SampleSource
from spotify_charts.storage import StoreError, snapshot_key
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.warehouses.duckdb import DuckDBWarehouse
from spotify_charts_tests.support.helpers import table_rows

ALIASES = ["regional-global-daily", "regional-ee-daily"]
DAY = dt.date(2025, 6, 2)
TAGS = {ASSET_PARTITION_RANGE_START_TAG: DAY.isoformat(), ASSET_PARTITION_RANGE_END_TAG: DAY.isoformat()}


def _fail_once(marker: str, error: Exception) -> None:
    """Raise `error` the first time only (the marker file remembers it across attempts)."""
    path = Path(marker)
    if not path.exists():
        path.write_text("failed once")
        raise error


class FlakyS3Store(LocalFileStore):
    """The local store, whose first write fails as S3 does when it is overloaded (a 503 SlowDown)."""

    marker = ""

    def write(self, key: str, data: bytes) -> None:
        _fail_once(
            self.marker,
            StoreError(
                f"s3://charts/{key}: PUT failed: An error occurred (SlowDown) when calling the PutObject "
                "operation (reached max retries: 4): Please reduce your request rate."
            ),
        )
        super().write(key, data)


class FlakyStoreResource(LocalFileStoreResource):
    marker: str

    def get_store(self) -> LocalFileStore:
        store = FlakyS3Store(self.data_dir)
        store.marker = self.marker
        return store


class DroppingWarehouse(DuckDBWarehouse):
    """DuckDB, whose first load loses its connection as a restarted PostgreSQL server drops it."""

    marker = ""

    def replace_charts(self, chart_ids, start, end, batches):
        _fail_once(
            self.marker,
            psycopg2.OperationalError(
                "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally"
            ),
        )
        return super().replace_charts(chart_ids, start, end, batches)


class DroppingWarehouseResource(DuckDBWarehouseResource):
    marker: str

    def get_warehouse(self) -> DuckDBWarehouse:
        warehouse = DroppingWarehouse(self.path)
        warehouse.marker = self.marker
        return warehouse


def _events(result, event_type: str) -> list:
    return [e for e in result.all_events if e.event_type_value == event_type]


def _retried_steps(result) -> list[str]:
    return [e.step_key for e in _events(result, "STEP_UP_FOR_RETRY")]


def test_transient_store_and_warehouse_faults_are_retried_and_rows_land_once(
    pipeline_resources, pipeline_env, tmp_path
):
    data = pipeline_env["SPOTIFY_CHARTS_DATA_DIR"]
    resources = {
        **pipeline_resources,
        "file_store": FlakyStoreResource(data_dir=data, marker=str(tmp_path / "store-failed")),
        "warehouse": DroppingWarehouseResource(
            path=pipeline_env["SPOTIFY_CHARTS_DUCKDB_PATH"], marker=str(tmp_path / "warehouse-failed")
        ),
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


def test_a_bad_payload_fails_once_without_retries(pipeline_resources, pipeline_env):
    store = LocalFileStore(pipeline_env["SPOTIFY_CHARTS_DATA_DIR"])
    fetch_snapshots(SampleSource(), store, ALIASES, [DAY])
    store.write(snapshot_key("regional-ee-daily", DAY), gzip.compress(b'{"entries": [{"chartEntryData": '))

    result = dg.materialize(
        [raw_chart_snapshots, staging_chart_tables], resources=pipeline_resources, tags=TAGS, raise_on_error=False
    )

    assert not result.success
    assert _retried_steps(result) == []
    failures = _events(result, "STEP_FAILURE")
    assert [e.step_key for e in failures] == ["staging_chart_tables"]
    message = failures[0].event_specific_data.error.message
    assert "not retried" in message and "regional-ee-daily" in message


def test_a_failed_blocking_check_is_not_retried(pipeline_resources, pipeline_env):
    store = LocalFileStore(pipeline_env["SPOTIFY_CHARTS_DATA_DIR"])
    fetch_snapshots(SampleSource(), store, ALIASES, [DAY])
    key = snapshot_key("regional-ee-daily", DAY)
    payload = json.loads(gzip.decompress(store.read(key)))
    payload["entries"][1]["trackMetadata"]["trackUri"] = payload["entries"][0]["trackMetadata"]["trackUri"]
    store.write(key, encode_snapshot(json.dumps(payload).encode(), "sample"))

    result = dg.materialize(
        [raw_chart_snapshots, staging_chart_tables, daily_dbt_models],
        resources=pipeline_resources,
        tags=TAGS,
        raise_on_error=False,
    )

    assert _retried_steps(result) == []
    checks = {
        e.event_specific_data.check_name: e.event_specific_data for e in _events(result, "ASSET_CHECK_EVALUATION")
    }
    assert not checks["no_track_twice"].passed
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert not any(key.startswith("marts/") for key in materialized)
