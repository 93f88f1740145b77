"""Which failures the assets' retry policy runs again (spotify_charts.failures)."""

import psycopg2
import pytest

from spotify_charts.defs.failures import is_transient
from spotify_charts.snapshots import SnapshotError
from spotify_charts.storage import StoreError


def _raised_from(error: Exception, cause: Exception) -> Exception:
    try:
        raise error from cause
    except Exception as exc:  # noqa: BLE001
        return exc


@pytest.mark.parametrize(
    "error",
    [
        StoreError("s3://b/raw/x.json.gz: PUT failed: An error occurred (SlowDown) when calling the PutObject"),
        StoreError("s3://b/raw/x.json.gz: GET failed: An error occurred (InternalError) when calling the GetObject"),
        StoreError("s3://b/raw/x.json.gz: GET failed: Could not connect to the endpoint URL: \"http://s3\""),
        psycopg2.OperationalError("server closed the connection unexpectedly"),
        psycopg2.errors.LockNotAvailable("canceling statement due to lock timeout"),
        ConnectionError("cannot connect to PostgreSQL w@db:5432/charts: connection to server at \"db\", port 5432 "
                        "failed: timeout expired"),
        RuntimeError("Runtime Error: IO Error: Could not set lock on file \"warehouse.duckdb\""),
        _raised_from(RuntimeError("dbt build failed"), TimeoutError("timed out")),
    ],
    ids=lambda e: type(e).__name__,
)  # fmt: skip
def test_transient_faults_are_retried(error):
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        SnapshotError("raw/spotify-charts/regional-ee-daily/2025-06-02.json.gz", "not valid JSON"),
        ValueError("SPOTIFY_CHARTS_REGIONS: unknown region 'zz'"),
        StoreError("s3://b/raw/x.json.gz: PUT failed: access denied (check the credentials' IAM policy)"),
        ConnectionError("cannot connect to PostgreSQL w@db:5432/charts: connection to server at \"db\", port 5432 "
                        "failed: FATAL:  password authentication failed for user \"w\""),
        psycopg2.errors.UndefinedTable('relation "staging.chart_entries" does not exist'),
        RuntimeError("dbt build failed: 1 of 155 tests failed"),
    ],
    ids=lambda e: type(e).__name__,
)  # fmt: skip
def test_permanent_failures_are_not(error):
    assert not is_transient(error)
